import type { Co } from '../cos/co.service.ts';
import type { Group } from '../groups/group.service.ts';
import type { HistoryEntry } from '../history/history.service.ts';
import { HistoryTable } from '../history/history.views.tsx';
import { ActionButton, EmptyState, FormErrors, PostForm, SelectField, StatusBadge, TextArea, TextField, Time, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { CoService } from './co-service.service.ts';
import type { ServiceVisibility } from './co-service.table.ts';

export const VISIBILITY_LABELS: Record<ServiceVisibility, string> = {
  co_admin: 'CO administrators only',
  co_group_member: 'Members of the service’s group',
  co_member: 'Every member of the CO',
  unauthenticated: 'Anyone, without signing in',
};

const servicesCrumb = (co: Co) => ({ label: 'CO Services', href: `/cos/${co.id}/services` });

export function ServicesListPage(props: { page: PageContext; co: Co; services: CoService[]; groups: Group[] }) {
  const { page, co, services } = props;
  const groupName = new Map(props.groups.map((g) => [g.id, g.name]));
  return (
    <Layout page={page} title="CO Services" crumbs={coCrumbs(co, { label: 'CO Services' })}>
      {services.length === 0 ? (
        <EmptyState>
          <p>
            No services yet — <a href={`/cos/${co.id}/services/new`}>create the first one</a>.
          </p>
        </EmptyState>
      ) : (
        <>
          <p class="actions">
            <a class="button" href={`/cos/${co.id}/services/new`}>New service</a>
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Short label</th>
                  <th scope="col" class="hide-narrow">Who sees it</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {services.map((s) => (
                  <tr>
                    <td>
                      <a href={`/cos/${co.id}/services/${s.id}`}>{s.name}</a>
                      {s.description && (
                        <>
                          <br />
                          <small>{s.description}</small>
                        </>
                      )}
                    </td>
                    <td>
                      <code>{s.shortLabel}</code>
                    </td>
                    <td class="hide-narrow">
                      {VISIBILITY_LABELS[s.visibility]}
                      {s.coGroupId && (
                        <>
                          <br />
                          <small>Group: {groupName.get(s.coGroupId) ?? '—'}</small>
                        </>
                      )}
                    </td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Layout>
  );
}

export function ServiceFormPage(props: { page: PageContext; co: Co; service: CoService | undefined; form: FormState; groups: Group[]; identifierTypes: string[] }) {
  const { page, co, service, form } = props;
  const title = service ? `Edit ${service.name}` : 'New service';
  const crumbs = service
    ? coCrumbs(co, servicesCrumb(co), { label: service.name, href: `/cos/${co.id}/services/${service.id}` }, { label: 'Edit' })
    : coCrumbs(co, servicesCrumb(co), { label: 'New service' });
  const cancel = service ? `/cos/${co.id}/services/${service.id}` : `/cos/${co.id}/services`;
  return (
    <Layout page={page} title={title} crumbs={crumbs}>
      <PostForm action={service ? `/cos/${co.id}/services/${service.id}/edit` : `/cos/${co.id}/services`} csrfToken={page.csrfToken}>
        <FormErrors form={form} />
        <TextField form={form} name="name" label="Name" required autocomplete="off" />
        <TextArea form={form} name="description" label="Description" hint="Shown to people next to the service." />
        <TextField
          form={form}
          name="shortLabel"
          label="Short label"
          required
          autocomplete="off"
          hint="Letters and digits, unique in the CO ignoring case; the LDAP attribute option is app-<short label>."
        />
        <SelectField form={form} name="visibility" label="Who sees it" options={Object.entries(VISIBILITY_LABELS).map(([value, label]) => ({ value, label }))} />
        <SelectField
          form={form}
          name="coGroupId"
          label="Group"
          options={[{ value: '', label: 'No group: every member who may see it' }, ...props.groups.map((g) => ({ value: g.id, label: g.name }))]}
          hint="When set, only the group’s members may use the service."
        />
        <SelectField
          form={form}
          name="identifierType"
          label="Identifier type"
          options={props.identifierTypes.map((t) => ({ value: t, label: t }))}
          hint="The identifier the service knows people by."
        />
        <TextField form={form} name="serviceUrl" label="Service URL" type="url" placeholder="https://" />
        <TextField form={form} name="contactEmail" label="Contact email" type="email" />
        <TextField form={form} name="logoUrl" label="Logo URL" type="url" placeholder="https://" />
        <TextField form={form} name="entitlementUri" label="Entitlement URI" hint="The eduPersonEntitlement value that grants access, if the service uses one." />
        <SelectField
          form={form}
          name="status"
          label="Status"
          options={[
            { value: 'active', label: 'Active' },
            { value: 'suspended', label: 'Suspended' },
          ]}
          hint="A suspended service is hidden from people and accepts no tokens."
        />
        <div class="actions">
          <button type="submit">{service ? 'Save' : 'Create service'}</button>
          <a href={cancel}>Cancel</a>
        </div>
      </PostForm>
    </Layout>
  );
}

function Link(props: { href: string | null }) {
  return props.href ? <a href={props.href} rel="noopener noreferrer">{props.href}</a> : <span class="muted">—</span>;
}

export function ServicePage(props: { page: PageContext; co: Co; service: CoService; group: Group | undefined; history: HistoryEntry[] }) {
  const { page, co, service } = props;
  const base = `/cos/${co.id}/services/${service.id}`;
  return (
    <Layout page={page} title={service.name} crumbs={coCrumbs(co, servicesCrumb(co), { label: service.name })}>
      <p>
        <StatusBadge status={service.status} /> {service.description}
      </p>
      <div class="actions">
        <a class="button secondary" href={`${base}/edit`}>Edit</a>
        {service.status === 'active' ? (
          <ActionButton action={`${base}/suspend`} csrfToken={page.csrfToken} label="Suspend" confirm={`Suspend ${service.name}? Its tokens stop working until it is reactivated.`} />
        ) : (
          <ActionButton action={`${base}/reactivate`} csrfToken={page.csrfToken} label="Reactivate" />
        )}
        <ActionButton action={`${base}/delete`} csrfToken={page.csrfToken} label="Delete" danger confirm={`Delete ${service.name} for good? Its tokens and settings go with it.`} />
      </div>
      <dl class="facts">
        <dt>Short label</dt>
        <dd>
          <code>{service.shortLabel}</code>
        </dd>
        <dt>Who sees it</dt>
        <dd>{VISIBILITY_LABELS[service.visibility]}</dd>
        <dt>Group</dt>
        <dd>{props.group ? <a href={`/cos/${co.id}/groups/${props.group.id}`}>{props.group.name}</a> : <span class="muted">—</span>}</dd>
        <dt>Identifier type</dt>
        <dd>{service.identifierType}</dd>
        <dt>Service URL</dt>
        <dd>
          <Link href={service.serviceUrl} />
        </dd>
        <dt>Contact email</dt>
        <dd>{service.contactEmail ? <a href={`mailto:${service.contactEmail}`}>{service.contactEmail}</a> : <span class="muted">—</span>}</dd>
        <dt>Logo URL</dt>
        <dd>
          <Link href={service.logoUrl} />
        </dd>
        <dt>Entitlement URI</dt>
        <dd>{service.entitlementUri ?? <span class="muted">—</span>}</dd>
        <dt>Created</dt>
        <dd>
          <Time iso={service.createdAt} />
        </dd>
        <dt>Changed</dt>
        <dd>
          <Time iso={service.updatedAt} />
        </dd>
      </dl>
      <section aria-labelledby="service-history">
        <h2 id="service-history">History</h2>
        <HistoryTable entries={props.history} coId={co.id} linkPeople />
      </section>
    </Layout>
  );
}
