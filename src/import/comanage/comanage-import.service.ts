// `tessera import comanage`: a one-shot migration from a COmanage Registry v4 database. Each
// COmanage CO is imported in one transaction (a failure leaves that CO as it was), idempotently
// by COmanage ids (comanage_import_map), so a re-run changes only what changed at the source.
// Imported rows are Tessera's own: no source owns them afterwards.
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import { newId } from '../../db/ids.ts';
import { inTransaction } from '../../db/transaction.ts';
import type { ServiceTokenTables } from '../../plugins/service-tokens/service-token.table.ts';
import { findTokenType, storageRule } from '../../plugins/service-tokens/formats/token-types.ts';
import type { PasswordScheme } from '../../plugins/service-tokens/hashing/password-schemes.ts';
import { personStatusOf } from './comanage-codes.ts';
import { emailItems, groupItems, identifierItems, isoOf, membershipItems, nameItems, peopleItems, type Skipped } from './comanage-people.ts';
import type { ComanageReader, ComanageSnapshot } from './comanage-reader.ts';
import { hashTokens, IMPORT_ACTOR_LABEL, passwordItems, serviceItems, tokenItems, tokenSettingItems } from './comanage-services.ts';
import { ImportMap, type KindCounts } from './import-sync.ts';
import { writers } from './import-writers.ts';
import { ldapDnItems, ldapDnWriter, type LdapTargetLink } from './ldap-dn-seeding.ts';
import type { LdapProvisionerTables } from '../../plugins/ldap-provisioner/ldap-entry-claim.table.ts';

export interface ImportOptions {
  /** COmanage CO ids to import; all COs when empty. */
  coIds: readonly number[];
  /** The scheme legacy tokens are hashed in (must satisfy Tessera's storage rule for the legacy types). */
  tokenScheme: PasswordScheme;
  /** Short label (in COmanage) of the CO Service whose tokens the PasswordAuthenticator passwords become. */
  passwordsService?: string;
  /** COmanage LDAP targets whose DNs a Tessera LDAP target keeps (see ldap-dn-seeding.ts). */
  ldapTargets?: readonly LdapTargetLink[];
  dryRun: boolean;
}

/** What happened to one COmanage CO. */
export interface CoReport {
  cmCoId: number;
  name: string;
  /** The Tessera CO, once it exists. */
  coId?: string;
  counts: Record<string, KindCounts>;
  skipped: Skipped[];
  notes: string[];
  /** Set when the CO was not imported at all (nothing of it was written). */
  error?: string;
}

/** Refuses a token scheme Tessera's storage rule forbids for the legacy types (undefined when allowed). */
export function tokenSchemeProblem(scheme: PasswordScheme): string | undefined {
  if (scheme === 'PLAINTEXT') return 'plaintext is not an import scheme: imported tokens are always hashed';
  for (const id of ['legacy-plain-8', 'legacy-plain-15']) {
    if (storageRule(findTokenType(id)!, scheme)) {
      return `${scheme} is too fast for the legacy token types (under 80 bits of entropy once the display hint is known); Tessera stores them only with a slow scheme: use --token-scheme ARGON2ID`;
    }
  }
  return undefined;
}

/**
 * Imports the chosen COs (all, by default) of the COmanage database `reader` reads into `db`.
 * Returns a report per CO; a CO that fails (a database error, a clash with a CO Tessera has not
 * imported) is rolled back and reported with its error, and the next CO is imported.
 */
export async function importComanage(db: Kysely<CoreDatabase>, clock: Clock, reader: ComanageReader, options: ImportOptions, onProgress: (line: string) => void = () => {}): Promise<CoReport[]> {
  const cos = await reader.listCos();
  const wanted = options.coIds.length > 0 ? cos.filter((c) => options.coIds.includes(c.id)) : cos;
  const reports: CoReport[] = [];
  for (const id of options.coIds) if (!cos.some((c) => c.id === id)) reports.push({ cmCoId: id, name: '?', counts: {}, skipped: [], notes: [], error: `the COmanage database has no CO with id ${id}` });
  for (const co of wanted) {
    onProgress(`CO ${co.id} "${co.name}": reading`);
    const snapshot = await reader.readCo(co.id);
    const report: CoReport = { cmCoId: co.id, name: co.name, counts: {}, skipped: [], notes: [] };
    try {
      const plan = (target: Kysely<CoreDatabase> | null) => importCo(db, target, clock, reader.installation, snapshot, options, report);
      if (options.dryRun) await plan(null);
      else await inTransaction(db, (trx) => plan(trx), { attempts: 1 });
    } catch (error) {
      report.error = (error as Error).message;
    }
    onProgress(`CO ${co.id} "${co.name}": ${report.error ? `not imported: ${report.error}` : 'done'}`);
    reports.push(report);
  }
  return reports;
}

async function importCo(db: Kysely<CoreDatabase>, trx: Kysely<CoreDatabase> | null, clock: Clock, installation: string, s: ComanageSnapshot, options: ImportOptions, report: CoReport): Promise<void> {
  const now = clock.now().toISOString();
  const map = await ImportMap.load(trx ?? db, installation, s.co.id, now);
  const w = trx ? writers(trx.withTables<ServiceTokenTables>()) : null;
  const counts = report.counts;
  // The CO, with Tessera's admins and members groups standing for COmanage's CO-level ones.
  const known = map.idOf('co', s.co.id);
  const coValues = { name: s.co.name, description: s.co.description ?? '', status: s.co.status === 'A' ? ('active' as const) : ('suspended' as const) };
  if (!known) {
    const clash = await (trx ?? db).selectFrom('co').select('id').where('name', '=', s.co.name).executeTakeFirst();
    if (clash) throw new Error(`Tessera has a CO named "${s.co.name}" that was not imported from ${installation}; rename one of them first`);
  }
  const coId = known ?? newId();
  counts.co = await map.sync('co', coId, [{ cmId: String(s.co.id), values: coValues, id: coId }], w && { ...w.co, insert: async (rows) => w.co.insert(rows, now) });
  report.coId = coId;
  const systemGroups = w || counts.co.added === 0 ? await (trx ?? db).selectFrom('co_group').select(['id', 'group_type']).where('co_id', '=', coId).where('group_type', 'in', ['admins', 'members']).execute() : [];
  for (const g of s.groups.filter((x) => x.cou_id === null && (x.group_type === 'A' || x.group_type === 'M' || x.group_type === 'MA'))) {
    const id = systemGroups.find((r) => r.group_type === (g.group_type === 'A' ? 'admins' : 'members'))?.id ?? `new-${g.group_type}`;
    map.bind('group', String(g.id), coId, id, { system: g.group_type });
  }

  counts.group = await map.sync('group', coId, groupItems(s, coId, report.skipped), w?.group ?? null);
  counts.person = await map.sync('person', coId, peopleItems(s, coId, report.skipped), w?.person ?? null);
  w?.setGonePeople(map.goneIds('person'));
  counts.name = await map.sync('name', coId, nameItems(s, coId, map, report.skipped), w?.name ?? null);
  const identifiers = identifierItems(s, coId, map, report.skipped);
  if (w) await w.identifierTypes(coId, identifiers.map((i) => i.values.type));
  counts.identifier = await map.sync('identifier', coId, identifiers, w?.identifier ?? null);
  counts.email = await map.sync('email', coId, emailItems(s, coId, map, report.skipped), w?.email ?? null);
  counts.membership = await map.sync('membership', coId, membershipItems(s, coId, map, report.skipped), w?.membership ?? null);
  counts.service = await map.sync('service', coId, serviceItems(s, coId, map, report.notes), w?.service ?? null);

  const pwService = options.passwordsService === undefined ? undefined : s.services.find((x) => x.short_label?.toLowerCase() === options.passwordsService!.toLowerCase());
  if (options.passwordsService !== undefined && !pwService && s.passwords.length > 0) report.notes.push(`no CO Service with the short label "${options.passwordsService}" in this CO: its passwords were not imported`);
  counts['token-setting'] = await map.sync('token-setting', coId, tokenSettingItems(s, coId, map, options.tokenScheme, pwService?.id), w?.tokenSetting ?? null);
  const tokens = await tokenItems(s, coId, map, options.tokenScheme, report.skipped);
  counts.token = await map.sync('token', coId, tokens, w && { ...w.token, insert: async (rows) => { await hashTokens(rows, options.tokenScheme); await w.token.insert(rows); }, update: async (id, values) => { await hashTokens([{ values }], options.tokenScheme); await w.token.update(id, values); } });
  counts.password = await map.sync('password', coId, passwordItems(s, coId, map, pwService?.id, report.skipped), w?.token ?? null);

  if (options.ldapTargets && options.ldapTargets.length > 0) {
    const ldapDb = (trx ?? db).withTables<LdapProvisionerTables>();
    counts['ldap-dn'] = await map.sync('ldap-dn', coId, await ldapDnItems(ldapDb, s, coId, map, options.ldapTargets, report.skipped, report.notes), trx ? ldapDnWriter(ldapDb, coId, now) : null);
  }

  // History: added once, never changed (a digest of the record).
  const history = s.history.flatMap((h) => {
    const personId = map.idOf('person', h.co_person_id);
    return personId ? [{ cmId: String(h.id), values: { co_id: coId, person_id: personId, group_id: map.idOf('group', h.co_group_id) ?? null, service_id: map.idOf('service', h.co_service_id) ?? null, actor_person_id: map.idOf('person', h.actor_co_person_id) ?? null, actor_api_user_id: null, actor_label: `${h.actor_identifier ?? 'COmanage'} (COmanage)`, action: `COMANAGE_${h.action ?? ''}`, comment: h.comment ?? '', created_at: isoOf(h.created) ?? new Date(0).toISOString() } }] : [];
  });
  counts.history = await map.sync('history', coId, history, w?.history ?? null);

  for (const p of s.people) if (personStatusOf(p.status) === undefined) report.notes.push(`person ${p.id} skipped: everything of theirs is skipped too`);
  const changed = Object.values(counts).some((c) => c.added + c.changed + c.removed > 0);
  if (w && changed) {
    await w.history.insert([{ id: newId(), values: { co_id: coId, person_id: null, group_id: null, service_id: null, actor_person_id: null, actor_api_user_id: null, actor_label: IMPORT_ACTOR_LABEL, action: 'COMANAGE_IMPORTED', comment: summary(report), created_at: now } }]);
  }
  if (trx) await map.save(trx);
}

/** One line of counts, for history and the CLI. */
export function summary(report: CoReport): string {
  const parts = Object.entries(report.counts).filter(([, c]) => c.added + c.changed + c.removed > 0).map(([k, c]) => `${k} +${c.added} ~${c.changed} -${c.removed}`);
  return `Imported from COmanage Registry CO ${report.cmCoId}: ${parts.join(', ') || 'no change'}${report.skipped.length ? `; ${report.skipped.length} skipped` : ''}`;
}
