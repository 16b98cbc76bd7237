import { ActionButton, Checkbox, EditForm, EmptyState, Facts, NewLink, Section, SelectField, TextArea, TextField, type FormState } from '../../core/web/components.views.tsx';
import { Layout, type Crumb } from '../../core/web/layout.views.tsx';
import type { PageContext } from '../../core/web/page-context.ts';
import type { LdapServerView } from './ldap-server.service.ts';

export const SERVERS_HREF = '/platform/ldap-servers';
const serversCrumb: Crumb = { label: 'LDAP servers', href: SERVERS_HREF };

/** The platform's LDAP servers, for platform admins. */
export function LdapServersPage(props: { page: PageContext; servers: LdapServerView[]; coNames: Map<string, string> }) {
  return (
    <Layout page={props.page} title="LDAP servers" crumbs={[{ label: 'LDAP servers' }]}>
      <p>
        Directories Tessera writes to. Only platform admins see their address and credential; a CO admin picks an assigned server for an LDAP
        target and a base DN inside one of its subtrees.
      </p>
      <NewLink href={`${SERVERS_HREF}/new`} label="New LDAP server" />
      {props.servers.length === 0 ? (
        <EmptyState>
          <p>No LDAP servers yet.</p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">URL</th>
                <th scope="col">Subtrees</th>
                <th scope="col">COs</th>
              </tr>
            </thead>
            <tbody>
              {props.servers.map((s) => (
                <tr>
                  <td>
                    <a href={`${SERVERS_HREF}/${s.id}`}>{s.name}</a>
                  </td>
                  <td>
                    <code>{s.url}</code>
                  </td>
                  <td>{s.subtrees.join('; ')}</td>
                  <td>{s.coIds.map((id) => props.coNames.get(id) ?? id).join(', ') || <span class="muted">none</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}

/** The fields of a server, for the new and edit forms. */
function ServerFields(props: { form: FormState; editing: boolean }) {
  const { form } = props;
  return (
    <>
      <TextField form={form} name="name" label="Name" required autocomplete="off" hint="What CO admins see when they choose a server." />
      <TextField form={form} name="url" label="Server URL" required autocomplete="off" hint="ldap://host:389 or ldaps://host:636." />
      <Checkbox form={form} name="startTls" label="StartTLS" hint="Upgrade an ldap:// connection to TLS before binding." />
      <TextArea form={form} name="tlsCaCertificates" label="CA certificates (PEM)" hint="The CA certificates the directory’s certificate must chain to. Empty: the system’s trusted CAs." />
      <Checkbox form={form} name="tlsVerifyHostname" label="Verify the host name" hint="The certificate must be issued for the host in the URL." />
      <TextField form={form} name="bindDn" label="Bind DN" required autocomplete="off" hint="The entry Tessera binds as; it needs write access under the subtrees." />
      <TextField
        form={form}
        name="bindPassword"
        label="Bind password"
        type="password"
        autocomplete="new-password"
        required={!props.editing}
        hint={props.editing ? 'Stored encrypted and never shown. Leave empty to keep it (a changed URL or TLS setting needs it again).' : 'Stored encrypted and never shown again.'}
      />
      <TextArea form={form} name="subtrees" label="Subtrees" hint="The DNs under which Tessera may write through this server, one a line. A target’s base DN must lie inside one of them." />
    </>
  );
}

/** A new server. */
export function LdapServerNewPage(props: { page: PageContext; form: FormState }) {
  return (
    <Layout page={props.page} title="New LDAP server" crumbs={[serversCrumb, { label: 'New' }]}>
      <EditForm action={SERVERS_HREF} csrfToken={props.page.csrfToken} form={props.form} submit="Create server" cancel={SERVERS_HREF}>
        <ServerFields form={props.form} editing={false} />
      </EditForm>
    </Layout>
  );
}

/** An LDAP target using the server, with its adopt switch. */
export interface ServerTargetRow {
  coId: string;
  coName: string;
  targetId: string;
  description: string;
  adopting: { setBy: string; setAt: string } | undefined;
}

/** A server: its settings to edit, the COs it is assigned to, and the targets using it with their adopt switches. */
export function LdapServerPage(props: {
  page: PageContext;
  server: LdapServerView;
  form: FormState;
  cos: Array<{ value: string; label: string }>;
  targets: ServerTargetRow[];
}) {
  const { page, server } = props;
  const base = `${SERVERS_HREF}/${server.id}`;
  const assigned = props.cos.filter((c) => server.coIds.includes(c.value));
  const unassigned = props.cos.filter((c) => !server.coIds.includes(c.value));
  return (
    <Layout page={page} title={server.name} crumbs={[serversCrumb, { label: server.name }]}>
      {server.warnings.map((w) => (
        <p class="flash flash-error" role="note">
          <strong>Warning:</strong> {w}
        </p>
      ))}
      <Section id="cos" title="Assigned to">
        {assigned.length === 0 ? <p class="muted">No CO may use this server yet.</p> : null}
        <ul>
          {assigned.map((c) => (
            <li>
              {c.label} <ActionButton action={`${base}/cos/${c.value}/unassign`} csrfToken={page.csrfToken} label="Take away" />
            </li>
          ))}
        </ul>
        {unassigned.length > 0 && (
          <EditForm action={`${base}/cos`} csrfToken={page.csrfToken} form={{ values: {}, issues: [], idPrefix: 'assign' }} submit="Assign" class="inline">
            <SelectField form={{ values: {}, issues: [], idPrefix: 'assign' }} name="coId" label="CO" options={unassigned} />
          </EditForm>
        )}
      </Section>
      <Section id="targets" title="LDAP targets using it">
        <p>
          <em>Adopt existing entries</em> lets a target take over entries Tessera did not create (for migrations, e.g. from COmanage); each
          adoption is recorded in the CO’s history. Off, an add that meets such an entry fails and nothing is written.
        </p>
        {props.targets.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul>
            {props.targets.map((t) => (
              <li>
                {t.coName}: <a href={`/cos/${t.coId}/provisioning-targets/${t.targetId}`}>{t.description}</a> — adopt existing entries:{' '}
                {t.adopting ? `on (set by ${t.adopting.setBy}, ${t.adopting.setAt})` : 'off'}{' '}
                <ActionButton
                  action={`/platform/ldap-targets/${t.coId}/${t.targetId}/adopt`}
                  csrfToken={page.csrfToken}
                  label={t.adopting ? 'Switch off' : 'Switch on'}
                  hidden={{ adoptExistingEntries: t.adopting ? 'false' : 'true', back: base }}
                />
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section id="settings" title="Settings">
        <Facts facts={[['Bind password', 'set (hidden)']]} />
        <EditForm action={base} csrfToken={page.csrfToken} form={props.form} submit="Save">
          <ServerFields form={props.form} editing={true} />
        </EditForm>
        <ActionButton action={`${base}/delete`} csrfToken={page.csrfToken} label="Delete server" danger confirm="Delete this LDAP server?" />
      </Section>
    </Layout>
  );
}
