import { ActionButton, PostForm, TextField, Time } from '../../../core/web/components.views.tsx';
import { coCrumbs, Layout } from '../../../core/web/layout.views.tsx';
import type { PageContext } from '../../../core/web/page-context.ts';
import type { Co } from '../../../core/cos/co.service.ts';
import type { CoService } from '../../../core/co-services/co-service.service.ts';
import type { VerifierKey } from './verification-key.repository.ts';

/** The verification keys section of a service's settings page: live keys and the form for a new one. */
export function VerificationKeys(props: { page: PageContext; co: Co; service: CoService; keys: VerifierKey[] }) {
  const base = `/cos/${props.co.id}/service-token-settings/${props.service.id}/verification-keys`;
  const live = props.keys.filter((k) => !k.revokedAt);
  return (
    <section aria-labelledby="verification-keys">
      <h2 id="verification-keys">Verification keys</h2>
      <p class="muted">
        A service that does not use LDAP checks tokens with <code>POST /api/v1/service-tokens/verify</code>, authenticated
        with one of these keys (<code>Authorization: Bearer …</code>). A key is shown once, when it is made.
      </p>
      {live.length === 0 ? (
        <p>No verification key yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead><tr><th>Label</th><th>Created</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {live.map((k) => (
                <tr>
                  <td>{k.label}</td>
                  <td><Time iso={k.createdAt} /> by {k.createdBy}</td>
                  <td><ActionButton action={`${base}/${k.id}/revoke`} csrfToken={props.page.csrfToken} label="Revoke" danger confirm={`Revoke the key "${k.label}"? The service using it can no longer verify tokens.`} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PostForm action={base} csrfToken={props.page.csrfToken} class="card">
        <TextField form={{ values: {}, issues: [] }} name="label" label="New key for" required hint="Which service installation uses it, e.g. “wiki production”" />
        <button type="submit">Create verification key</button>
      </PostForm>
    </section>
  );
}

/** Shows a new verification key, once. */
export function VerifierKeyShownOncePage(props: { page: PageContext; co: Co; service: CoService; label: string; keyValue: string }) {
  return (
    <Layout page={props.page} title="New verification key" crumbs={coCrumbs(props.co, { label: 'Service token settings', href: `/cos/${props.co.id}/service-token-settings` }, { label: props.service.name, href: `/cos/${props.co.id}/service-token-settings/${props.service.id}` })}>
      <p class="flash flash-success" role="status">Verification key “{props.label}” for {props.service.name} was created. Copy it now: it is shown only this once.</p>
      <div class="card">
        <p class="secret" id="token-secret">{props.keyValue}</p>
        <div class="actions">
          <button type="button" class="secondary" data-copy-target="token-secret" hidden>Copy to clipboard</button>
          <a class="button" href={`/cos/${props.co.id}/service-token-settings/${props.service.id}`}>Done</a>
        </div>
      </div>
    </Layout>
  );
}
