// CO Services, the CoServiceToken plugin's settings and tokens, and PasswordAuthenticator
// passwords, in Tessera's terms. Plaintext tokens are hashed here, in the scheme the operator
// chose; the plaintext is never stored, logged or digested.
import type { CoServiceTable } from '../../core/co-services/co-service.table.ts';
import { hashSecret, type PasswordScheme } from '../../plugins/service-tokens/hashing/password-schemes.ts';
import { definitionOf, displayHint, findTokenType } from '../../plugins/service-tokens/formats/token-types.ts';
import type { ServiceTokenSettingTable, ServiceTokenTable } from '../../plugins/service-tokens/service-token.table.ts';
import { legacyTokenTypeOf, passwordValueOf, suspendableOf, visibilityOf } from './comanage-codes.ts';
import { flag, isoOf, type Skipped } from './comanage-people.ts';
import type { ComanageSnapshot } from './comanage-reader.ts';
import { digestOf, type ImportMap, type Item } from './import-sync.ts';

type Without<T> = Omit<T, 'id'>;

/** Who Tessera says made what the import brought in. */
export const IMPORT_ACTOR_LABEL = 'COmanage Registry import';

/**
 * Services. A short label (Tessera's LDAP attribute option `app-<label>`) is required: a missing
 * or non-alphanumeric one is made from the name (letters and digits, at most 32), reported in `notes`.
 */
export function serviceItems(s: ComanageSnapshot, coId: string, map: ImportMap, notes: string[]): Array<Item<Without<CoServiceTable>>> {
  const out: Array<Item<Without<CoServiceTable>>> = [];
  const labels = new Set<string>();
  for (const svc of s.services) {
    let label = (svc.short_label ?? '').trim();
    if (!/^[A-Za-z0-9]{1,32}$/.test(label)) {
      const made = (svc.name.normalize('NFKD').replace(/[^A-Za-z0-9]/g, '').slice(0, 32) || `service${svc.id}`);
      notes.push(`service ${svc.id} "${svc.name}": short label "${label}" is not 1-32 letters and digits; imported as "${made}"`);
      label = made;
    }
    let unique = label;
    for (let n = 2; labels.has(unique.toLowerCase()); n++) unique = `${label.slice(0, 30)}${n}`;
    if (unique !== label) notes.push(`service ${svc.id} "${svc.name}": short label "${label}" is taken in the CO; imported as "${unique}"`);
    labels.add(unique.toLowerCase());
    const created = isoOf(svc.created) ?? new Date(0).toISOString();
    out.push({
      cmId: String(svc.id),
      values: {
        co_id: coId, name: svc.name, description: svc.description ?? '', short_label: unique, co_group_id: map.idOf('group', svc.co_group_id) ?? null,
        service_url: svc.service_url || null, contact_email: svc.contact_email || null, logo_url: svc.logo_url || null, entitlement_uri: svc.entitlement_uri || null,
        visibility: visibilityOf(svc.visibility), identifier_type: svc.identifier_type || 'uid', status: suspendableOf(svc.status), created_at: created, updated_at: isoOf(svc.modified) ?? created,
      },
    });
  }
  return out;
}

/**
 * The CO Services (COmanage ids) whose tokens a password becomes: those that use its password
 * authenticator (cm_co_services.authenticator_id, as LdapProvisioner maps them), else the one the
 * operator named (`--passwords-service`).
 */
export function passwordServicesOf(s: Pick<ComanageSnapshot, 'passwordServices'>, passwordAuthenticatorId: number | null, fallback: number | undefined): number[] {
  const linked = s.passwordServices.filter((l) => l.password_authenticator_id === passwordAuthenticatorId).map((l) => l.co_service_id);
  return linked.length > 0 ? linked : fallback === undefined ? [] : [fallback];
}

/** The token settings of services that had CoServiceToken settings, and of the services passwords go to. */
export function tokenSettingItems(s: ComanageSnapshot, coId: string, map: ImportMap, scheme: PasswordScheme, passwordsServiceCmId: number | undefined): Array<Item<Without<ServiceTokenSettingTable>>> {
  const out: Array<Item<Without<ServiceTokenSettingTable>>> = [];
  const base = { co_id: coId, custom_type: null, storage_scheme: scheme, max_lifetime_days: null, max_tokens_per_person: 5, generation: 'self_and_admins' as const, plaintext_acknowledged: 0, expiry_warning_days: '30,7,1', notices_off: '', revoke_unused_after_days: null };
  for (const t of s.tokenSettings) {
    const serviceId = map.idOf('service', t.co_service_id);
    const type = legacyTokenTypeOf(t.token_type) ?? 'legacy-plain-15';
    const at = isoOf(t.modified) ?? isoOf(t.created) ?? new Date(0).toISOString();
    if (serviceId) out.push({ cmId: String(t.id), values: { ...base, service_id: serviceId, enabled: flag(t.enabled), token_type: type, created_at: isoOf(t.created) ?? at, updated_at: at } });
  }
  const pwServices = new Set(s.passwords.flatMap((p) => passwordServicesOf(s, p.password_authenticator_id, passwordsServiceCmId)));
  for (const cmService of pwServices) {
    const pwService = map.idOf('service', cmService);
    if (pwService && !out.some((o) => o.values.service_id === pwService)) {
      out.push({ cmId: `passwords:${cmService}`, values: { ...base, service_id: pwService, enabled: 1, token_type: 'base62-prefixed', storage_scheme: 'SSHA512', created_at: new Date(0).toISOString(), updated_at: new Date(0).toISOString() } });
    }
  }
  return out;
}

/** What is digested of a token: when and for whom it was set, never its plaintext. */
type TokenValues = Without<ServiceTokenTable>;

/**
 * Legacy tokens, hashed in `scheme`. A token whose plaintext changed at the source has a new
 * `modified`, so a re-run re-hashes only those. Malformed tokens are skipped with their reason.
 */
export async function tokenItems(s: ComanageSnapshot, coId: string, map: ImportMap, scheme: PasswordScheme, skipped: Skipped[]): Promise<Array<Item<TokenValues>>> {
  const out: Array<Item<TokenValues>> = [];
  for (const t of s.tokens) {
    const personId = map.idOf('person', t.co_person_id);
    const serviceId = map.idOf('service', t.co_service_id);
    if (!personId || !serviceId) continue;
    const typeId = legacyTokenTypeOf(t.token_type);
    const type = typeId ? findTokenType(typeId) : undefined;
    if (!type || !t.token) {
      skipped.push({ kind: 'token', cmId: t.id, reason: `token type "${t.token_type ?? ''}" is not 08 or 15, or the token is empty` });
      continue;
    }
    let hint: string;
    try {
      hint = displayHint(type, t.token);
    } catch {
      skipped.push({ kind: 'token', cmId: t.id, reason: `the token is not ${type.length} letters and digits as type ${t.token_type} makes them` });
      continue;
    }
    const created = isoOf(t.created) ?? new Date(0).toISOString();
    const stamp = digestOf({ id: t.id, modified: isoOf(t.modified), created, personId, serviceId, type: type.id, scheme });
    out.push({ cmId: String(t.id), values: tokenRow(coId, personId, serviceId, stamp, { hash: '', token_type: type.id, token_type_def: definitionOf(type), storage_scheme: scheme, display_hint: hint }, created) });
    // The hash is made only when the row is written (see `hashTokens`): unchanged tokens cost nothing.
    pendingSecrets.set(out[out.length - 1]!.values, t.token);
  }
  return out;
}

const pendingSecrets = new WeakMap<object, string>();

/** Hashes the tokens about to be written; the digest stays that of the source row, not of the hash. */
export async function hashTokens(items: ReadonlyArray<{ values: TokenValues }>, scheme: PasswordScheme): Promise<void> {
  for (const item of items) {
    const secret = pendingSecrets.get(item.values);
    if (secret !== undefined) item.values.hash = await hashSecret(secret, scheme);
  }
}

/** PasswordAuthenticator passwords as tokens of their services (`passwordServicesOf`), their hashes unchanged ({SSHA}, {CRYPT}). */
export function passwordItems(s: ComanageSnapshot, coId: string, map: ImportMap, serviceCmId: number | undefined, skipped: Skipped[]): Array<Item<TokenValues>> {
  const out: Array<Item<TokenValues>> = [];
  for (const p of s.passwords) {
    const personId = map.idOf('person', p.co_person_id);
    if (!personId) continue;
    const serviceIds = passwordServicesOf(s, p.password_authenticator_id, serviceCmId).flatMap((cm) => { const id = map.idOf('service', cm); return id ? [{ cm, id }] : []; });
    if (serviceIds.length === 0) {
      skipped.push({ kind: 'password', cmId: p.id, reason: 'no CO Service uses its password authenticator, and no --passwords-service names one of this CO' });
      continue;
    }
    const v = passwordValueOf(p.password_type, p.password);
    if ('skip' in v) {
      skipped.push({ kind: 'password', cmId: p.id, reason: v.skip });
      continue;
    }
    const created = isoOf(p.created) ?? new Date(0).toISOString();
    const def = JSON.stringify({ id: 'comanage-password', label: 'Password imported from COmanage Registry' });
    for (const { cm, id: serviceId } of serviceIds) {
      out.push({ cmId: `${p.id}@${cm}`, values: tokenRow(coId, personId, serviceId, digestOf({ id: p.id, value: v.value }), { hash: v.value, token_type: 'comanage-password', token_type_def: def, storage_scheme: v.scheme, display_hint: `COmanage password (${v.scheme})` }, created) });
    }
  }
  return out;
}

function tokenRow(coId: string, personId: string, serviceId: string, stamp: string, t: Pick<TokenValues, 'hash' | 'token_type' | 'token_type_def' | 'storage_scheme' | 'display_hint'>, created: string): TokenValues {
  return {
    co_id: coId, person_id: personId, service_id: serviceId, label: 'Imported from COmanage Registry', ...t,
    request_nonce: `import:${stamp}`, created_by_label: IMPORT_ACTOR_LABEL, created_by_person_id: null, created_by_api_user_id: null, created_at: created,
    expires_at: null, last_used_at: null, last_used_address: null, revoked_at: null, revoked_by_label: null, revoked_reason: null, expiry_handled_at: null,
  };
}
