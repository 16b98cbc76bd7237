import { ActionButton, EmptyState, FormErrors, PostForm, SelectField, StatusBadge, TextField, Time, type FormState } from '../../../core/web/components.views.tsx';
import { coCrumbs, Layout, type Crumb } from '../../../core/web/layout.views.tsx';
import type { PageContext } from '../../../core/web/page-context.ts';
import type { Co } from '../../../core/cos/co.service.ts';
import type { Person } from '../../../core/people/person.repository.ts';
import type { CoService } from '../../../core/co-services/co-service.service.ts';
import type { TokenSetting } from '../settings/token-setting.repository.ts';
import type { PersonTokenService, ServiceToken } from './service-token.service.ts';

const base = (co: Co, person: Person) => `/cos/${co.id}/people/${person.id}/service-tokens`;

function lifetimeOptions(setting: TokenSetting): Array<{ value: string; label: string }> {
  const max = setting.maxLifetimeDays;
  const choices = [7, 30, 90, 180, 365].filter((d) => !max || d < max);
  return [
    { value: '', label: max ? `${max} days (the maximum)` : 'Never expires' },
    ...choices.map((d) => ({ value: String(d), label: `${d} days` })),
  ];
}

/** When a token stops working; a token without an expiry says so instead of showing a dash. */
function Expiry(props: { iso: string | null }) {
  return props.iso ? <Time iso={props.iso} /> : <span class="muted">never</span>;
}

/** A generate form that failed, and the service whose form shows the messages. */
export interface GenerateFormError {
  serviceId: string;
  form: FormState;
}

function TokenRow(props: { token: ServiceToken; co: Co; person: Person; csrfToken: string }) {
  const t = props.token;
  return (
    <tr>
      <td>
        <strong>{t.label}</strong>
        <div class="muted"><code>{t.displayHint}</code></div>
      </td>
      <td><StatusBadge status={t.state} /></td>
      <td class="hide-narrow"><Time iso={t.createdAt} /><div class="muted">by {t.createdBy}</div></td>
      <td><Expiry iso={t.expiresAt} /></td>
      <td class="hide-narrow">
        <Time iso={t.lastUsedAt} />
        {t.lastUsedAddress && <div class="muted">from {t.lastUsedAddress}</div>}
      </td>
      <td>
        {t.state === 'revoked' ? (
          <span class="muted">Revoked <Time iso={t.revokedAt} /> by {t.revokedBy}{t.revokedReason ? ` (${t.revokedReason})` : ''}</span>
        ) : (
          <ActionButton
            action={`${base(props.co, props.person)}/${t.id}/revoke`}
            csrfToken={props.csrfToken}
            label="Revoke"
            danger
            confirm={`Revoke the token "${t.label}"? Clients using it stop working at once.`}
          />
        )}
      </td>
    </tr>
  );
}

function GenerateForm(props: { entry: PersonTokenService; co: Co; person: Person; csrfToken: string; nonce: string; error?: GenerateFormError | undefined }) {
  const { entry } = props;
  const form: FormState = props.error?.serviceId === entry.service.id ? props.error.form : { values: {}, issues: [] };
  const live = entry.tokens.filter((t) => t.state === 'active' || t.state === 'suspended');
  const full = live.length >= entry.setting.maxTokensPerPerson;
  return (
    <PostForm action={`${base(props.co, props.person)}/generate`} csrfToken={props.csrfToken} class="card" confirm={full ? 'The token you chose to replace stops working at once. Continue?' : undefined}>
      <h3>Generate a token for {entry.service.name}</h3>
      <FormErrors form={form} />
      <input type="hidden" name="serviceId" value={entry.service.id} />
      <input type="hidden" name="nonce" value={props.nonce} />
      <TextField form={form} name="label" label="Label" required hint="What the token is for, e.g. “laptop mail client”" />
      <SelectField form={form} name="lifetimeDays" label="Expires after" options={lifetimeOptions(entry.setting)} />
      {full && (
        <SelectField
          form={form}
          name="replaceTokenId"
          label={`You have the maximum of ${entry.setting.maxTokensPerPerson}. Replace`}
          options={live.map((t) => ({ value: t.id, label: `${t.label} (${t.displayHint})` }))}
          hint="The token you replace stops working when the new one is made."
        />
      )}
      <button type="submit">{full ? 'Replace and generate' : 'Generate'}</button>
    </PostForm>
  );
}

/** A person's Service Tokens page: per service, the tokens, their states and the generate form. */
export function PersonTokensPage(props: {
  page: PageContext;
  co: Co;
  person: Person;
  services: PersonTokenService[];
  isSelf: boolean;
  admin: boolean;
  nonce: string;
  error?: GenerateFormError | undefined;
}) {
  const { co, person, page } = props;
  const crumbs: Crumb[] = props.admin
    ? coCrumbs(co, { label: 'CO People', href: `/cos/${co.id}/people` }, { label: person.displayName, href: `/cos/${co.id}/people/${person.id}` }, { label: 'Service tokens' })
    : coCrumbs(co, { label: 'Service tokens' });
  const anyLive = props.services.some((s) => s.tokens.some((t) => t.state !== 'revoked'));
  // A message for a form this page does not show (e.g. a service not of this CO) goes on top.
  const strayError = props.error && !props.services.some((s) => s.mayGenerate && s.service.id === props.error?.serviceId) ? props.error.form : undefined;
  return (
    <Layout page={page} title={props.isSelf ? `Your service tokens in ${co.name}` : `Service tokens of ${person.displayName}`} crumbs={crumbs}>
      <p class="muted">
        A service token is a password for one service, for use in a mail client, a git client or a phone app. It is shown
        once when it is made; keep it in the client, not on paper. Revoke a token when a device is lost.
      </p>
      {strayError && <FormErrors form={strayError} />}
      {props.services.length === 0 && (
        <EmptyState>
          No service of {co.name} accepts tokens {props.isSelf ? 'from you' : 'from this person'} yet.
          {props.admin ? ' Enable tokens for a service under Service token settings.' : ' Ask an administrator of the CO if you expected one.'}
        </EmptyState>
      )}
      {props.services.map((entry) => (
        <section aria-labelledby={`svc-${entry.service.id}`}>
          <h2 id={`svc-${entry.service.id}`}>
            {entry.service.name} {!entry.available && <StatusBadge status="suspended" />}
          </h2>
          {entry.service.description && <p class="muted">{entry.service.description}</p>}
          {entry.tokens.length === 0 ? (
            <p>No token yet{entry.mayGenerate ? ' — generate one below.' : '.'}</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr><th>Token</th><th>State</th><th class="hide-narrow">Created</th><th>Expires</th><th class="hide-narrow">Last used</th><th><span class="visually-hidden">Actions</span></th></tr>
                </thead>
                <tbody>
                  {entry.tokens.map((t) => <TokenRow token={t} co={co} person={person} csrfToken={page.csrfToken} />)}
                </tbody>
              </table>
            </div>
          )}
          {entry.lastUsedViaLdap && (
            <p class="muted">
              Last used via LDAP (a bind at this person’s service entry, any of their tokens): <Time iso={entry.lastUsedViaLdap} />
            </p>
          )}
          {!entry.available && <p class="muted">Tokens for this service do not work now (the service, its token settings or this person’s access changed). They work again when that is undone, unless revoked or expired.</p>}
          {entry.mayGenerate && <GenerateForm entry={entry} co={co} person={person} csrfToken={page.csrfToken} nonce={props.nonce} error={props.error} />}
          {!entry.mayGenerate && entry.available && <p class="muted">Only administrators generate tokens for this service.</p>}
        </section>
      ))}
      {anyLive && (
        <div class="actions">
          <ActionButton action={`${base(co, person)}/revoke-all`} csrfToken={page.csrfToken} label="Revoke all tokens" danger confirm="Revoke every token listed here? Every client using them stops working." />
        </div>
      )}
    </Layout>
  );
}

/** Shows a new token's secret, once (with a QR code for phones and the username to sign in with). */
export function TokenShownOncePage(props: { page: PageContext; co: Co; person: Person; service: CoService; token: ServiceToken; secret: string; qrDataUrl: string; username: string | undefined; isSelf: boolean }) {
  const { co, person, service, token } = props;
  return (
    <Layout page={props.page} title={props.isSelf ? 'Your new token' : `New token for ${person.displayName}`} crumbs={coCrumbs(co, { label: 'Service tokens', href: base(co, person) }, { label: token.label })}>
      <p class="flash flash-success" role="status">
        Token “{token.label}” for {service.name} was created{props.isSelf ? '' : ` for ${person.displayName}`}. Copy it now: it is shown only this once.
      </p>
      <div class="card">
        <p class="secret" id="token-secret">{props.secret}</p>
        <div class="actions">
          <button type="button" class="secondary" data-copy-target="token-secret" hidden>Copy to clipboard</button>
          <a class="button" href={base(co, person)}>Done</a>
        </div>
        {props.username && (
          <p>
            Sign in to {service.name} with the username <code>{props.username}</code> and this token as the password.
          </p>
        )}
        <p class="muted">Expires: <Expiry iso={token.expiresAt} /></p>
      </div>
      <details class="card qr">
        <summary>Show as QR code (for a phone)</summary>
        <img src={props.qrDataUrl} alt="QR code of the token" width={200} height={200} />
      </details>
    </Layout>
  );
}
