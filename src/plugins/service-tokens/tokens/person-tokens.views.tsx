import { ActionButton, Checkbox, EmptyState, FormErrors, PostForm, SelectField, StatusBadge, TextField, Time, type FormState } from '../../core/web/components.views.tsx';
import { coCrumbs, Layout, type Crumb } from '../../core/web/layout.views.tsx';
import type { PageContext } from '../../core/web/page-context.ts';
import type { Co } from '../../core/cos/co.service.ts';
import type { Person } from '../../core/people/person.repository.ts';
import type { CoService } from '../../core/co-services/co-service.service.ts';
import { SCHEMES } from './crypto/password-schemes.ts';
import { TOKEN_TYPES } from './crypto/token-types.ts';
import type { PersonTokenService, ServiceToken } from './service-token.service.ts';
import type { TokenSetting } from './token-setting.service.ts';
import type { VerifierKey } from './verifier.service.ts';

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
  return (
    <Layout page={page} title={props.isSelf ? `Your service tokens in ${co.name}` : `Service tokens of ${person.displayName}`} crumbs={crumbs}>
      <p class="muted">
        A service token is a password for one service, for use in a mail client, a git client or a phone app. It is shown
        once when it is made; keep it in the client, not on paper. Revoke a token when a device is lost.
      </p>
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

export function SettingsListPage(props: { page: PageContext; co: Co; rows: Array<{ service: CoService; setting: TokenSetting }> }) {
  const { co } = props;
  return (
    <Layout page={props.page} title="Service token settings" crumbs={coCrumbs(co, { label: 'Service token settings' })}>
      {props.rows.length === 0 ? (
        <EmptyState>
          {co.name} has no CO Services yet. <a href={`/cos/${co.id}/services`}>Create a service</a>, then enable tokens for it here.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <thead><tr><th>Service</th><th>Tokens</th><th>Type</th><th class="hide-narrow">Storage</th><th class="hide-narrow">Max. lifetime</th><th class="hide-narrow">Per person</th><th class="hide-narrow">Who generates</th></tr></thead>
            <tbody>
              {props.rows.map(({ service, setting }) => (
                <tr>
                  <td><a href={`/cos/${co.id}/service-token-settings/${service.id}`}>{service.name}</a> {service.status !== 'active' && <StatusBadge status={service.status} />}</td>
                  <td>{setting.enabled ? <StatusBadge status="active" /> : <span class="muted">off</span>}</td>
                  <td>{TOKEN_TYPES.find((t) => t.id === setting.tokenType)?.label ?? setting.tokenType}</td>
                  <td class="hide-narrow">{SCHEMES[setting.storageScheme]?.label ?? setting.storageScheme}</td>
                  <td class="hide-narrow">{setting.maxLifetimeDays ? `${setting.maxLifetimeDays} days` : 'none'}</td>
                  <td class="hide-narrow">{setting.maxTokensPerPerson}</td>
                  <td class="hide-narrow">{setting.generation === 'admins_only' ? 'admins only' : 'the person and admins'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}

function VerificationKeys(props: { page: PageContext; co: Co; service: CoService; keys: VerifierKey[] }) {
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

export function SettingFormPage(props: { page: PageContext; co: Co; service: CoService; form: FormState; activeTokens: number; keys: VerifierKey[] }) {
  const { co, service, form } = props;
  return (
    <Layout page={props.page} title={`Service tokens for ${service.name}`} crumbs={coCrumbs(co, { label: 'Service token settings', href: `/cos/${co.id}/service-token-settings` }, { label: service.name })}>
      <PostForm action={`/cos/${co.id}/service-token-settings/${service.id}`} csrfToken={props.page.csrfToken}>
        <FormErrors form={form} />
        <Checkbox form={form} name="enabled" label="People may have tokens for this service" />
        <SelectField
          form={form}
          name="tokenType"
          label="Token type"
          options={[
            ...TOKEN_TYPES.map((t) => ({ value: t.id, label: `${t.label}${t.legacy ? ' (legacy)' : ''}` })),
            { value: 'custom', label: 'Custom (defined below)' },
          ]}
        />
        <fieldset class="field" data-shown-when="tokenType=custom">
          <legend>Custom token type (when “Custom” is chosen)</legend>
          <TextField form={form} name="customType.alphabet" label="Alphabet" hint="The characters tokens are made of, each once, at least 10 (no space or dash)" />
          <TextField form={form} name="customType.length" label="Random characters" type="number" hint="8 to 128; the entropy is length × log2(alphabet size)" />
          <TextField form={form} name="customType.groupSize" label="Group size" type="number" hint="Dashes every N characters, for typing on a phone; empty for none" />
          <TextField form={form} name="customType.prefix" label="Prefix" hint="Up to 12 lowercase letters, digits and _, e.g. wiki_, so leaked tokens are recognisable" />
          <Checkbox form={form} name="customType.checksum" label="Add a CRC-32 checksum (recognises leaked tokens offline)" />
        </fieldset>
        <SelectField
          form={form}
          name="storageScheme"
          label="Stored as"
          options={Object.values(SCHEMES).map((s) => ({ value: s.id, label: s.label }))}
          hint="Tokens are stored only as a salted hash that OpenLDAP verifies. Types under 80 bits need argon2id."
        />
        <Checkbox
          form={form}
          name="acknowledgePlaintext"
          label="I accept that legacy plaintext tokens are stored readable by anyone with database or directory access"
          hint="Only needed for the legacy plaintext storage, kept for compatibility with old clients."
        />
        <TextField form={form} name="maxLifetimeDays" label="Maximum lifetime (days)" type="number" hint="Empty: tokens may live until revoked." />
        <TextField form={form} name="maxTokensPerPerson" label="Maximum tokens per person" type="number" required />
        <TextField form={form} name="expiryWarningDays" label="Warn people this many days before a token expires" hint="Comma-separated, e.g. 30, 7, 1. Each warning is sent once. Empty: no warnings." />
        <fieldset class="field">
          <legend>Notices people get for this service</legend>
          {[
            ['created', 'A token was created (by them or on their behalf)'],
            ['revoked', 'A token was revoked'],
            ['expiring', 'A token is about to expire'],
          ].map(([kind, label]) => (
            <label>
              <input type="checkbox" name="notices" value={kind} checked={((form.values.notices as string[] | undefined) ?? []).includes(kind!)} /> {label}
            </label>
          ))}
        </fieldset>
        <SelectField
          form={form}
          name="generation"
          label="Who may generate"
          options={[
            { value: 'self_and_admins', label: 'The person and CO administrators' },
            { value: 'admins_only', label: 'CO administrators only' },
          ]}
        />
        <button type="submit">Save settings</button>
      </PostForm>
      <h2>Revoke</h2>
      <p>{props.activeTokens} unrevoked token(s) exist for this service.</p>
      {props.activeTokens > 0 && (
        <ActionButton
          action={`/cos/${co.id}/service-token-settings/${service.id}/revoke-all`}
          csrfToken={props.page.csrfToken}
          label={`Revoke all tokens of ${service.name}`}
          danger
          confirm={`Revoke every token of ${service.name}, for everyone? This cannot be undone.`}
        />
      )}
      <VerificationKeys page={props.page} co={co} service={service} keys={props.keys} />
    </Layout>
  );
}
