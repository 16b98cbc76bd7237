import type { MenuEntry } from '../plugins/plugin.ts';
import { EmptyState, FormErrors, MenuGrid, PostForm, SelectField, StatusBadge, TextArea, TextField, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
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
      {props.withStatus && <SelectField form={props.form} name="status" label="Status" options={CO_STATUSES} hint="People of a suspended CO keep their data." />}
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
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="hide-narrow">Description</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {cos.map((co) => (
                <tr>
                  <td>
                    <a href={`/cos/${co.id}`}>{co.name}</a>
                    {co.isPlatform && <span class="badge"> platform</span>}
                  </td>
                  <td class="hide-narrow">{co.description}</td>
                  <td>
                    <StatusBadge status={co.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.canCreate && (
        <section class="card" aria-labelledby="new-co">
          <h2 id="new-co">New CO</h2>
          <PostForm action="/cos" csrfToken={page.csrfToken}>
            <FormErrors form={props.form} />
            <CoFields form={props.form} withStatus={false} />
            <button type="submit">Create CO</button>
          </PostForm>
        </section>
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
        <section aria-labelledby="mine">
          <h2 id="mine">You in this CO</h2>
          <MenuGrid
            entries={[
              ...(props.myPersonId ? [{ label: 'Your CO Person page', href: `/cos/${co.id}/people/${props.myPersonId}`, description: 'Your names, identifiers, groups and history' }] : []),
              ...props.mine,
            ]}
          />
        </section>
      )}
      {props.admin && (
        <section aria-labelledby="configuration">
          <h2 id="configuration">Configuration</h2>
          <MenuGrid entries={props.configuration} />
        </section>
      )}
    </Layout>
  );
}

export function CoEditPage(props: { page: PageContext; co: Co; form: FormState }) {
  const { page, co } = props;
  return (
    <Layout page={page} title={`Edit ${co.name}`} crumbs={coCrumbs(co, { label: 'Edit' })}>
      <PostForm action={`/cos/${co.id}/edit`} csrfToken={page.csrfToken}>
        <FormErrors form={props.form} />
        <CoFields form={props.form} withStatus={!co.isPlatform} />
        {co.isPlatform && <p class="muted">The platform CO holds the platform administrators and cannot be suspended.</p>}
        <div class="actions">
          <button type="submit">Save</button>
          <a href={`/cos/${co.id}`}>Cancel</a>
        </div>
      </PostForm>
    </Layout>
  );
}
