import type { MenuEntry } from '../plugins/plugin.ts';
import { EditForm, EmptyState, MenuGrid, Section, SelectField, StatusBadge, TextArea, TextField, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { DataTable } from '../web/table.views.tsx';
import type { Co } from './co.service.ts';

const CO_STATUSES = [
  { value: 'active', label: 'Active' },
  { value: 'suspended', label: 'Suspended' },
];

function CoFields(props: { form: FormState; withStatus: boolean }) {
  return (
    <>
      <TextField form={props.form} name="name" label="Name" required hint="Unique across Tessera." />
      <TextArea form={props.form} name="description" label="Description" />
      {props.withStatus && <SelectField form={props.form} name="status" label="Status" options={CO_STATUSES} hint="While suspended, its tokens, API users and CO admins stop working; people keep their data, and reactivation restores tokens not revoked or expired meanwhile." />}
    </>
  );
}

export function CoListPage(props: { page: PageContext; cos: Co[]; canCreate: boolean; form: FormState }) {
  const { page, cos } = props;
  return (
    <Layout page={page} title="Collaborative organizations" crumbs={[{ label: 'COs' }]}>
      {cos.length === 0 ? (
        <EmptyState>
          {props.canCreate ? (
            <p>No COs yet — create the first one below.</p>
          ) : (
            <p>You are not a person in any CO yet. Ask the administrator of your collaboration to add you.</p>
          )}
        </EmptyState>
      ) : (
        <DataTable
          rows={cos}
          columns={[
            {
              label: 'Name',
              cell: (co) => (
                <>
                  <a href={`/cos/${co.id}`}>{co.name}</a>
                  {co.isPlatform && <span class="badge"> platform</span>}
                </>
              ),
            },
            { label: 'Description', class: 'hide-narrow', cell: (co) => co.description },
            { label: 'Status', cell: (co) => <StatusBadge status={co.status} /> },
          ]}
        />
      )}
      {props.canCreate && (
        <Section id="new-co" title="New CO" class="card">
          <EditForm action="/cos" csrfToken={page.csrfToken} form={props.form} submit="Create CO">
            <CoFields form={props.form} withStatus={false} />
          </EditForm>
        </Section>
      )}
    </Layout>
  );
}

export interface DashboardEntry extends MenuEntry {
  description?: string;
}

export function CoDashboardPage(props: {
  page: PageContext;
  co: Co;
  admin: boolean;
  platformAdmin: boolean;
  myPersonId: string | undefined;
  configuration: DashboardEntry[];
  mine: MenuEntry[];
}) {
  const { page, co } = props;
  return (
    <Layout page={page} title={co.name} crumbs={coCrumbs(co)}>
      <p>
        <StatusBadge status={co.status} /> {co.description}
      </p>
      {props.platformAdmin && (
        <p class="actions">
          <a class="button secondary" href={`/cos/${co.id}/edit`}>Edit CO</a>
        </p>
      )}
      {(props.myPersonId || props.mine.length > 0) && (
        <Section id="mine" title="You in this CO">
          <MenuGrid
            entries={[
              ...(props.myPersonId ? [{ label: 'Your CO Person page', href: `/cos/${co.id}/people/${props.myPersonId}`, description: 'Your names, identifiers, groups and history' }] : []),
              ...props.mine,
            ]}
          />
        </Section>
      )}
      {props.admin && (
        <Section id="configuration" title="Configuration">
          <MenuGrid entries={props.configuration} />
        </Section>
      )}
    </Layout>
  );
}

export function CoEditPage(props: { page: PageContext; co: Co; form: FormState }) {
  const { page, co } = props;
  return (
    <Layout page={page} title={`Edit ${co.name}`} crumbs={coCrumbs(co, { label: 'Edit' })}>
      <EditForm action={`/cos/${co.id}/edit`} csrfToken={page.csrfToken} form={props.form} submit="Save" cancel={`/cos/${co.id}`}>
        <CoFields form={props.form} withStatus={!co.isPlatform} />
        {co.isPlatform && <p class="muted">The platform CO holds the platform administrators and cannot be suspended.</p>}
      </EditForm>
    </Layout>
  );
}
