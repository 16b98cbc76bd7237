// What Tessera knows of a token target's directory: the last scheme probe (kept per LDAP target),
// and what follows for the target's service: a scheme the directory cannot check, or values too
// long for voPersonApplicationPassword. Used when a token target is saved (refusals), on the
// target's page (notices), and by the periodic probe.
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { TargetNotice, Target } from '../../core/provisioning/provisioner.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { LdapConfig } from '../ldap-provisioner/ldap-config.schema.ts';
import { isPasswordScheme, type PasswordScheme } from '../service-tokens/hashing/password-schemes.ts';
import { probeSchemes, schemePrefix, schemeRemedy, schemeValueOctets, VO_PERSON_APPLICATION_PASSWORD_MAX_OCTETS, type SchemeProbe } from './scheme-probe.ts';
import type { SchemeProbeTables } from './scheme-probe.table.ts';

export type ProbeDb = Kysely<CoreDatabase & SchemeProbeTables> | Transaction<CoreDatabase & SchemeProbeTables>;

/** How long a probe answers for its directory when a target is saved; the periodic probe renews it. */
export const PROBE_FRESH_MS = 10 * 60_000;

function settingsKey(config: Pick<LdapConfig, 'url' | 'startTls' | 'bindDn' | 'baseDn'>): string {
  return createHash('sha256').update(JSON.stringify([config.url, config.startTls, config.bindDn, config.baseDn])).digest('base64url');
}

/** The last probe of the LDAP target's directory, with the settings it was made with; undefined before the first. */
export async function lastProbe(db: ProbeDb, coId: string, ldapTargetId: string): Promise<(SchemeProbe & { settings: string }) | undefined> {
  const row = await db.selectFrom('ldap_scheme_probe').selectAll().where('co_id', '=', coId).where('ldap_target_id', '=', ldapTargetId).executeTakeFirst();
  if (!row) return undefined;
  return { checkedAt: row.checked_at, verified: row.verified.split(',').filter(isPasswordScheme), error: row.error, settings: row.settings };
}

/**
 * The probe of the LDAP target's directory: the stored one when it is younger than `freshMs` and
 * was made with the target's present settings, otherwise a new probe (stored).
 */
export async function probeOf(db: ProbeDb, ldapTarget: Target<LdapConfig>, now: Date, freshMs = PROBE_FRESH_MS): Promise<SchemeProbe> {
  const settings = settingsKey(ldapTarget.config);
  const stored = await lastProbe(db, ldapTarget.coId, ldapTarget.id);
  if (stored && stored.settings === settings && now.getTime() - Date.parse(stored.checkedAt) < freshMs) return stored;
  const probe = await probeSchemes(ldapTarget.config, now);
  await db.deleteFrom('ldap_scheme_probe').where('co_id', '=', ldapTarget.coId).where('ldap_target_id', '=', ldapTarget.id).execute();
  await db.insertInto('ldap_scheme_probe').values({ ldap_target_id: ldapTarget.id, co_id: ldapTarget.coId, settings, checked_at: probe.checkedAt, verified: probe.verified.join(','), error: probe.error }).execute();
  return probe;
}

/** A problem with a token target's scheme, and the code a refusal carries. */
export interface SchemeProblem {
  code: 'SCHEME_NOT_VERIFIED_BY_DIRECTORY' | 'SCHEME_VALUES_TOO_LONG';
  field: string;
  message: string;
}

/**
 * The problems of writing values of `scheme` to `attribute` of a directory with this probe: a
 * scheme it was found not to verify (binds would fail), a value over voPersonApplicationPassword's
 * 128 octets. None when the probe could not ask the directory (that is a notice, not a refusal).
 */
export async function schemeProblems(scheme: PasswordScheme, attribute: string, serviceName: string, directory: string, probe: SchemeProbe | undefined): Promise<SchemeProblem[]> {
  const problems: SchemeProblem[] = [];
  if (probe && probe.error === null && !probe.verified.includes(scheme)) {
    const verified = probe.verified.map(schemePrefix).join(', ') || 'none';
    problems.push({
      code: 'SCHEME_NOT_VERIFIED_BY_DIRECTORY',
      field: 'config.serviceId',
      message: `The directory at ${directory} cannot check ${schemePrefix(scheme)} values, which service "${serviceName}" stores: every bind with its tokens would fail (it checks: ${verified}). Choose another storage scheme for the service, or ${schemeRemedy(scheme)}`,
    });
  }
  if (attribute === 'voPersonApplicationPassword') {
    const octets = await schemeValueOctets(scheme);
    if (octets > VO_PERSON_APPLICATION_PASSWORD_MAX_OCTETS) {
      problems.push({
        code: 'SCHEME_VALUES_TOO_LONG',
        field: 'config.attribute',
        message: `${schemePrefix(scheme)} values (${octets} octets) are longer than voPersonApplicationPassword allows (${VO_PERSON_APPLICATION_PASSWORD_MAX_OCTETS} octets in the voPerson schema; OpenLDAP ignores the bound, other directories refuse the value): choose another storage scheme for service "${serviceName}", or write userPassword`,
      });
    }
  }
  return problems;
}

/** The probe as notices for the target's page: what the directory checks, and every problem. */
export function probeNotices(probe: SchemeProbe | undefined, problems: readonly SchemeProblem[]): TargetNotice[] {
  const notices: TargetNotice[] = problems.map((p) => ({ level: 'warning', text: p.message }));
  if (!probe) notices.push({ level: 'warning', text: 'The directory has not been probed yet: which password schemes it checks is unknown.' });
  else if (probe.error) notices.push({ level: 'warning', text: `The directory could not be probed at ${probe.checkedAt}: ${probe.error}. Which password schemes it checks is unknown.` });
  else notices.push({ level: problems.length > 0 ? 'warning' : 'ok', text: `Probed at ${probe.checkedAt}: the directory checks ${probe.verified.map(schemePrefix).join(', ') || 'no scheme'}.` });
  return notices;
}
