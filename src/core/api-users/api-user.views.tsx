import type { Co } from '../cos/co.service.ts';
import { ActionButton, Checkbox, EditForm, EmptyState, Facts, NewLink, StatusBadge, TextField, Time, YesNo, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { actionsColumn, DataTable } from '../web/table.views.tsx';
import type { ApiUser } from './api-user.service.ts';

const apiUsersCrumb = (co: Co) => ({ label: 'API users', href: `/cos/${co.id}/api-users` });

/** The CO's API users, each with suspend or reactivate. */
export function ApiUsersPage(props: { page: PageContext; co: Co; apiUsers: ApiUser[] }) {
  const { page, co, apiUsers } = props;
  return (
    <Layout page={page} title="API users" crumbs={coCrumbs(co, { label: 'API users' })}>
      <p class="muted">
        API users call the REST API under <code>/api/v1</code> with HTTP Basic authentication. Privileged ones may change the CO; the others only read it.
      </p>
      {apiUsers.length === 0 ? (
        <EmptyState>
          <p>
            No API users yet — <a href={`/cos/${co.id}/api-users/new`}>create one</a> for each system that calls the API.
          </p>
        </EmptyState>
      ) : (
        <>
          <NewLink href={`/cos/${co.id}/api-users/new`} label="New API user" />
          <DataTable
            rows={apiUsers}
            columns={[
              { label: 'Username', cell: (u) => <code>{u.username}</code> },
              { label: 'Privileged', cell: (u) => <YesNo value={u.privileged} /> },
              {
                label: 'Valid',
                class: 'hide-narrow',
                cell: (u) => (
                  <>
                    <Time iso={u.validFrom} /> – <Time iso={u.validThrough} />
                  </>
                ),
              },
              { label: 'Allowed addresses', class: 'hide-narrow', cell: (u) => u.allowedAddresses || <span class="muted">any</span> },
              { label: 'Status', cell: (u) => <StatusBadge status={u.status} /> },
              actionsColumn((u: ApiUser) =>
                u.status === 'active' ? (
                  <ActionButton action={`/cos/${co.id}/api-users/${u.id}/suspend`} csrfToken={page.csrfToken} label="Suspend" danger confirm={`Suspend ${u.username}? Its calls fail until it is reactivated.`} />
                ) : (
                  <ActionButton action={`/cos/${co.id}/api-users/${u.id}/reactivate`} csrfToken={page.csrfToken} label="Reactivate" />
                ),
              ),
            ]}
          />
        </>
      )}
    </Layout>
  );
}

/** New API user: username, privilege, validity window, allowed client addresses. */
export function ApiUserNewPage(props: { page: PageContext; co: Co; form: FormState }) {
  const { page, co, form } = props;
  return (
    <Layout page={page} title="New API user" crumbs={coCrumbs(co, apiUsersCrumb(co), { label: 'New API user' })}>
      <EditForm action={`/cos/${co.id}/api-users`} csrfToken={page.csrfToken} form={form} submit="Create API user" cancel={`/cos/${co.id}/api-users`}>
        <TextField form={form} name="username" label="Username" required autocomplete="off" hint='3 to 64 letters, digits, ".", "_" or "-"; unique across Tessera.' />
        <Checkbox form={form} name="privileged" label="Privileged: may change the CO (people, groups, services, tokens)" />
        <TextField form={form} name="validFrom" label="Valid from (UTC)" type="datetime-local" hint="Empty: from now." />
        <TextField form={form} name="validThrough" label="Valid through (UTC)" type="datetime-local" hint="Empty: no end." />
        <TextField form={form} name="allowedAddresses" label="Allowed client addresses" autocomplete="off" hint="Comma-separated IP addresses or CIDR ranges, e.g. 192.0.2.10, 2001:db8::/32. Empty: any address." />
      </EditForm>
    </Layout>
  );
}

/** The one page that ever shows an API key; it is sent with Cache-Control: no-store. */
export function ApiUserKeyPage(props: { page: PageContext; co: Co; apiUser: ApiUser; apiKey: string }) {
  const { page, co, apiUser } = props;
  return (
    <Layout page={page} title={`API user ${apiUser.username} created`} crumbs={coCrumbs(co, apiUsersCrumb(co), { label: apiUser.username })}>
      <p class="flash flash-info" role="status">
        Copy the key now: Tessera keeps only a hash of it and <strong>will not show it again</strong>. If it is lost, create another API user.
      </p>
      <div class="card">
        <Facts
          facts={[
            ['Username', <code>{apiUser.username}</code>],
            [
              'Key',
              <>
                <div class="secret" id="api-key">
                  {props.apiKey}
                </div>
                <button type="button" class="secondary" data-copy-target="api-key" hidden>
                  Copy key
                </button>
              </>,
            ],
          ]}
        />
        <p class="muted">Clients send both with HTTP Basic authentication.</p>
      </div>
      <p>
        <a href={`/cos/${co.id}/api-users`}>Back to API users</a>
      </p>
    </Layout>
  );
}
