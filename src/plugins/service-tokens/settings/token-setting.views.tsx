import { ActionButton, Checkbox, EmptyState, FormErrors, PostForm, SelectField, StatusBadge, TextField, type FormState } from '../../../core/web/components.views.tsx';
import { coCrumbs, Layout } from '../../../core/web/layout.views.tsx';
import type { PageContext } from '../../../core/web/page-context.ts';
import type { Co } from '../../../core/cos/co.service.ts';
import type { CoService } from '../../../core/co-services/co-service.service.ts';
import { TOKEN_TYPES } from '../formats/token-types.ts';
import { SCHEMES } from '../hashing/password-schemes.ts';
import type { VerifierKey } from '../verification/verification-key.repository.ts';
import { VerificationKeys } from '../verification/verification-key.views.tsx';
import type { TokenSetting } from './token-setting.repository.ts';

/** The CO's services with their token settings (CO admins). */
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

/** One service's token settings form, its revoke-all button and its verification keys (CO admins). */
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
        <TextField
          form={form}
          name="revokeUnusedAfterDays"
          label="Revoke tokens unused for (days)"
          type="number"
          hint="Last use: a check through the verification API, or a bind at the person’s LDAP service entry. The person is told a week before (half the period when shorter). Empty: never."
        />
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
