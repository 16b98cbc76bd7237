import type { Co } from '../cos/co.service.ts';
import { ActionButton, Checkbox, EmptyState, FormErrors, PostForm, StatusBadge, TextField, Time, YesNo, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { ApiUser } from './api-user.service.ts';

const apiUsersCrumb = (co: Co) => ({ label: 'API users', href: `/cos/${co.id}/api-users` });

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
          <p class="actions">
            <a class="button" href={`/cos/${co.id}/api-users/new`}>New API user</a>
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Privileged</th>
                  <th scope="col" class="hide-narrow">Valid</th>
                  <th scope="col" class="hide-narrow">Allowed addresses</th>
                  <th scope="col">Status</th>
                  <th scope="col"><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {apiUsers.map((u) => (
                  <tr>
                    <td>
                      <code>{u.username}</code>
                    </td>
                    <td>
                      <YesNo value={u.privileged} />
                    </td>
                    <td class="hide-narrow">
                      <Time iso={u.validFrom} /> – <Time iso={u.validThrough} />
                    </td>
                    <td class="hide-narrow">{u.allowedAddresses || <span class="muted">any</span>}</td>
                    <td>
                      <StatusBadge status={u.status} />
                    </td>
                    <td>
                      {u.status === 'active' ? (
                        <ActionButton action={`/cos/${co.id}/api-users/${u.id}/suspend`} csrfToken={page.csrfToken} label="Suspend" danger confirm={`Suspend ${u.username}? Its calls fail until it is reactivated.`} />
                      ) : (
                        <ActionButton action={`/cos/${co.id}/api-users/${u.id}/reactivate`} csrfToken={page.csrfToken} label="Reactivate" />
                      )}
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

export function ApiUserNewPage(props: { page: PageContext; co: Co; form: FormState }) {
  const { page, co, form } = props;
  return (
    <Layout page={page} title="New API user" crumbs={coCrumbs(co, apiUsersCrumb(co), { label: 'New API user' })}>
      <PostForm action={`/cos/${co.id}/api-users`} csrfToken={page.csrfToken}>
        <FormErrors form={form} />
        <TextField form={form} name="username" label="Username" required autocomplete="off" hint='3 to 64 letters, digits, ".", "_" or "-"; unique across Tessera.' />
        <Checkbox form={form} name="privileged" label="Privileged: may change the CO (people, groups, services, tokens)" />
        <TextField form={form} name="validFrom" label="Valid from (UTC)" type="datetime-local" hint="Empty: from now." />
        <TextField form={form} name="validThrough" label="Valid through (UTC)" type="datetime-local" hint="Empty: no end." />
        <TextField form={form} name="allowedAddresses" label="Allowed client addresses" autocomplete="off" hint="Comma-separated IP addresses or CIDR ranges, e.g. 192.0.2.10, 2001:db8::/32. Empty: any address." />
        <div class="actions">
          <button type="submit">Create API user</button>
          <a href={`/cos/${co.id}/api-users`}>Cancel</a>
        </div>
      </PostForm>
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
        <dl class="facts">
          <dt>Username</dt>
          <dd>
            <code>{apiUser.username}</code>
          </dd>
          <dt>Key</dt>
          <dd>
            <div class="secret" id="api-key">
              {props.apiKey}
            </div>
            <button type="button" class="secondary" data-copy-target="api-key" hidden>
              Copy key
            </button>
          </dd>
        </dl>
        <p class="muted">Clients send both with HTTP Basic authentication.</p>
      </div>
      <p>
        <a href={`/cos/${co.id}/api-users`}>Back to API users</a>
      </p>
    </Layout>
  );
}
