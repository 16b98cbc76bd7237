// Last use through LDAP: slapd's lastbind overlay writes the operational attribute authTimestamp
// on an entry at each successful bind (at most once per `lastbind-precision` seconds). A periodic
// task reads it from the service entries, one paged one-level search per token target, and reports
// it to the service tokens plugin per person and service (its `recordExternalUse` export).
//
// Precision and lag: a bind shows in Tessera at most `lastbind-precision` seconds late (the
// overlay keeps the older time within that window) plus the period of the task (LAST_BIND_READ_MS).
import { Client } from 'ldapts';
import type { Kysely } from 'kysely';
import type { Target } from '../../core/provisioning/provisioner.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import { CONNECT_TIMEOUT_MS, OPERATION_TIMEOUT_MS, tlsOptionsFor, describeLdapError } from '../ldap-provisioner/ldap-connection.ts';
import type { LdapConfig } from '../ldap-provisioner/ldap-config.schema.ts';
import { serviceSubtreeAllowed } from './service-entry.ts';
import { dnKey } from '../ldap-provisioner/ldap-entry-claims.ts';
import { ldapTargetOf } from '../ldap-provisioner/ldap-extension.ts';
import type { ExternalUse } from '../service-tokens/service-tokens.plugin.ts';
import { LDAP_SERVICE_TOKEN_PROVISIONER_TYPE, ldapServiceTokenConfigSchema } from './ldap-service-token-config.schema.ts';

/** How often the service entries' authTimestamp is read: every five minutes. */
export const LAST_BIND_READ_MS = 5 * 60_000;

/** An LDAP GeneralizedTime (RFC 4517 §3.3.13) in UTC, e.g. `20261202103000Z`, as ISO; undefined when not one. */
export function generalizedTimeToIso(value: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d{1,3})\d*)?Z$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '0'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0')));
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * The authTimestamp of every entry directly under `baseDn` that has one: DN key → ISO time. One
 * paged search (1000 entries a page), requesting the operational attribute by name.
 */
export async function lastBindsUnder(settings: LdapConfig, baseDn: string): Promise<Map<string, string>> {
  const client = new Client({ url: settings.url, connectTimeout: CONNECT_TIMEOUT_MS, timeout: OPERATION_TIMEOUT_MS, ...(/^ldaps:/i.test(settings.url) ? { tlsOptions: tlsOptionsFor(settings) } : {}) });
  try {
    if (settings.startTls) await client.startTLS(tlsOptionsFor(settings));
    await client.bind(settings.bindDn, settings.bindPassword);
    const { searchEntries } = await client.search(baseDn, { scope: 'one', filter: '(authTimestamp=*)', attributes: ['authTimestamp'], paged: { pageSize: 1000 } });
    const out = new Map<string, string>();
    for (const e of searchEntries) {
      const raw = Object.entries(e).find(([k]) => k.toLowerCase() === 'authtimestamp')?.[1];
      const at = generalizedTimeToIso(String(Array.isArray(raw) ? raw[0] : raw));
      if (at) out.set(dnKey(e.dn), at);
    }
    return out;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** What one round read: targets read, uses reported, and the targets that failed (with why). */
export interface LastBindRound {
  targets: number;
  uses: number;
  failures: Array<{ targetId: string; error: string }>;
}

/**
 * Reads the last binds at the service entries of every service-entry token target (all COs) and
 * reports them through `record`. A service entry is matched to its person by the DN the target
 * recorded for them (provisioning_state.target_key). A directory that cannot be read is reported
 * in `failures` and skipped; the others are read. `unsealed` gives a CO's targets with their bind passwords.
 */
export async function readLastBinds(db: Kysely<CoreDatabase>, unsealed: (coId: string) => Promise<Target[]>, record: (uses: ExternalUse[]) => Promise<number>): Promise<LastBindRound> {
  const cos = await db.selectFrom('provisioning_target').select('co_id').distinct().where('provisioner_type', '=', LDAP_SERVICE_TOKEN_PROVISIONER_TYPE).execute();
  const round: LastBindRound = { targets: 0, uses: 0, failures: [] };
  for (const { co_id } of cos) {
    const targets = await unsealed(co_id);
    const uses: ExternalUse[] = [];
    for (const target of targets) {
      if (target.provisionerType !== LDAP_SERVICE_TOKEN_PROVISIONER_TYPE) continue;
      const parsed = ldapServiceTokenConfigSchema.safeParse(target.config);
      if (!parsed.success || parsed.data.attribute !== 'serviceEntries' || !parsed.data.serviceBaseDn) continue;
      const config = parsed.data;
      try {
        const ldapTarget = ldapTargetOf(targets, config.ldapTargetId);
        if (!ldapTarget) continue;
        if (!serviceSubtreeAllowed(config, ldapTarget.config)) {
          round.failures.push({ targetId: target.id, error: `the service subtree ${config.serviceBaseDn} lies outside the subtrees its LDAP server may read; not read` });
          continue;
        }
        const binds = await lastBindsUnder(ldapTarget.config, config.serviceBaseDn!);
        round.targets++;
        if (binds.size === 0) continue;
        const states = await db.selectFrom('provisioning_state').select(['person_id', 'target_key']).where('co_id', '=', co_id).where('target_id', '=', target.id).where('target_key', 'is not', null).execute();
        for (const s of states) {
          const at = binds.get(dnKey(s.target_key!));
          if (at) uses.push({ coId: co_id, personId: s.person_id, serviceId: config.serviceId, source: 'ldap', at });
        }
      } catch (error) {
        round.failures.push({ targetId: target.id, error: describeLdapError(error) });
      }
    }
    if (uses.length > 0) round.uses += await record(uses);
  }
  return round;
}
