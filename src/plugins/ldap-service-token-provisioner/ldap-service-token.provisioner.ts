import type { Kysely, Transaction } from 'kysely';
import { Attribute, Change, NoSuchAttributeError, NoSuchObjectError, TypeOrValueExistsError } from 'ldapts';
import { findService } from '../../core/co-services/co-service.repository.ts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import type { ProvisionInput, ProvisionResult, Provisioner, Target, TargetNotice } from '../../core/provisioning/provisioner.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { Executor } from '../../db/database.ts';
import { ldapConnectionFor, ldapErrorOf, probeDirectory, valuesOf, type LdapConnection } from '../ldap-provisioner/ldap-connection.ts';
import { asLdapTarget, ldapEntryOf, LdapProvisioningError, ldapTargetOf } from '../ldap-provisioner/ldap-extension.ts';
import type { ServiceTokenTables } from '../service-tokens/service-token.table.ts';
import { findSetting } from '../service-tokens/settings/token-setting.repository.ts';
import { lastProbe, probeNotices, probeOf, schemeProblems } from './scheme-check.ts';
import type { SchemeProbeTables } from './scheme-probe.table.ts';
import { personIdsWithTokensFor } from '../service-tokens/tokens/service-token.repository.ts';
import { LDAP_SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import { LDAP_SERVICE_TOKEN_PROVISIONER_TYPE, ldapServiceTokenConfigSchema, type LdapServiceTokenConfig } from './ldap-service-token-config.schema.ts';
import { tokensOf, wantedValues } from './provisioned-tokens.ts';
import { provisionServiceEntry, type ServiceEntryScope } from './service-entry.provisioner.ts';
import { isWithinSubtree, normalizeDn } from '../ldap-provisioner/ldap-dn.ts';

/**
 * What a token target records per person: the attribute it writes, the values it wrote there
 * (token hashes, never secrets), and the generation of the LDAP entry it wrote them into.
 */
export interface TokenDetail {
  attribute?: string;
  values: string[];
  entry?: string;
}

function detailOf(detail: Record<string, unknown> | undefined): TokenDetail {
  const values = Array.isArray(detail?.values) ? detail.values.filter((v): v is string => typeof v === 'string') : [];
  return {
    values,
    ...(typeof detail?.attribute === 'string' ? { attribute: detail.attribute } : {}),
    ...(typeof detail?.entry === 'string' ? { entry: detail.entry } : {}),
  };
}

interface Plan {
  /** Per attribute, values to delete. */
  remove: Map<string, string[]>;
  add: string[];
}

function isEmpty(plan: Plan): boolean {
  return plan.add.length === 0 && [...plan.remove.values()].every((v) => v.length === 0);
}

/** Values we wrote and no longer want go; wanted values go in. `has` says what the entry holds. */
function planChanges(previous: TokenDetail, attribute: string, desired: string[], has: (attribute: string, value: string) => boolean): Plan {
  const remove = new Map<string, string[]>();
  const previousAttribute = previous.attribute ?? attribute;
  const sameAttribute = previousAttribute.toLowerCase() === attribute.toLowerCase();
  const stale = previous.values.filter((v) => !(sameAttribute && desired.includes(v)) && has(previousAttribute, v));
  if (stale.length > 0) remove.set(previousAttribute, stale);
  return { remove, add: desired.filter((v) => !has(attribute, v)) };
}

function changesOf(plan: Plan, attribute: string): Change[] {
  const changes: Change[] = [];
  for (const [name, values] of plan.remove) {
    if (values.length > 0) changes.push(new Change({ operation: 'delete', modification: new Attribute({ type: name, values }) }));
  }
  if (plan.add.length > 0) changes.push(new Change({ operation: 'add', modification: new Attribute({ type: attribute, values: plan.add }) }));
  return changes;
}

/** Reads the entry and reconciles from what it holds; undefined when the entry does not exist. */
async function readAndReconcile(ldap: LdapConnection, dn: string, previous: TokenDetail, attribute: string, desired: string[]): Promise<boolean> {
  const names = [...new Set([attribute, previous.attribute ?? attribute])];
  const current = await ldap.read(dn, names);
  if (!current) return false;
  const values = valuesOf(current);
  const plan = planChanges(previous, attribute, desired, (name, v) => (values.get(name.toLowerCase()) ?? []).includes(v));
  if (!isEmpty(plan)) await ldap.modify(dn, changesOf(plan, attribute));
  return true;
}

/** Is this Buffer a UTF-8 string (what Tessera writes), and which? */
function utf8Of(value: Buffer): string | undefined {
  const text = value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(value) ? text : undefined;
}

/**
 * An entry the LDAP target took over: its values in `attribute` are read as octets, and every value
 * that is not a hash Tessera means to be there (this target's wanted values, or another token
 * target's recorded ones) goes, a non-UTF-8 value too; wanted values missing are added. Returns
 * what was removed, for the record; undefined when the entry does not exist.
 */
async function clearAdoptedEntry(ldap: LdapConnection, dn: string, attribute: string, desired: string[], others: ReadonlySet<string>): Promise<number | undefined> {
  const current = await ldap.read(dn, [attribute], [attribute]);
  if (!current) return undefined;
  const held = Object.entries(current)
    .filter(([k]) => k.toLowerCase() === attribute.toLowerCase())
    .flatMap(([, v]) => (Array.isArray(v) ? v : [v]))
    .map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8')));
  const foreign = held.filter((v) => {
    const text = utf8Of(v);
    return text === undefined || !(desired.includes(text) || others.has(text));
  });
  const have = new Set(held.map(utf8Of).filter((v): v is string => v !== undefined));
  const add = desired.filter((v) => !have.has(v));
  const changes: Change[] = [];
  if (foreign.length > 0) changes.push(new Change({ operation: 'delete', modification: new Attribute({ type: attribute, values: foreign }) }));
  if (add.length > 0) changes.push(new Change({ operation: 'add', modification: new Attribute({ type: attribute, values: add }) }));
  if (changes.length > 0) await ldap.modify(dn, changes);
  return foreign.length;
}

/** The values other token targets writing into the same LDAP target recorded: Tessera's too. */
async function othersValues(input: ProvisionInput<LdapServiceTokenConfig>, ldapTargetId: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const t of input.targets) {
    if (t.id === input.target.id || t.provisionerType !== LDAP_SERVICE_TOKEN_PROVISIONER_TYPE || t.config.ldapTargetId !== ldapTargetId || t.config.attribute === 'serviceEntries') continue;
    for (const v of detailOf((await input.stateOf(t.id))?.detail).values) out.add(v);
  }
  return out;
}

/**
 * Writes the hashes of the person's usable tokens for one service into their entry of an LDAP
 * target, reconciling only the values this target wrote: another service's token provisioner may
 * write the same attribute, and its values are left alone.
 *
 * LDAP operations per person: none when nothing changed (nor when the LDAP target just made the
 * entry with these values in it: see tokenContributions); one modify when something changed
 * (computed from what this target recorded); a base search and a modify instead when the entry
 * turns out not to hold what was recorded, or when a value to withdraw may linger in an entry
 * this target has not written into before (the LDAP target took over an existing entry).
 */
async function provisionTokens(input: ProvisionInput<LdapServiceTokenConfig>): Promise<ProvisionResult> {
  const { target } = input;
  const config = target.config;
  const ldapTarget = ldapTargetOf(input.targets, config.ldapTargetId);
  if (!ldapTarget) {
    throw new LdapProvisioningError(`the LDAP target ${config.ldapTargetId} of token target "${target.description}" no longer exists`);
  }
  const wanted = wantedValues(config, input.intent === 'present' ? tokensOf(input.data) : []);
  const desired = wanted.values;
  const { dn, generation: entry, contributed, adopted } = ldapEntryOf(await input.stateOf(ldapTarget.id));
  let previous = detailOf(input.previous?.detail);
  // An entry the LDAP target made with our values in it (contributed): those are our record of it.
  const seeded = contributed[target.id];
  if (entry !== undefined && previous.entry !== entry && seeded) previous = { attribute: seeded.attribute, values: seeded.values, entry };
  // The short label comes with the tokens; with none left, the values to remove are where we wrote them.
  const attribute = wanted.attribute ?? previous.attribute ?? (config.attribute === 'userPassword' ? 'userPassword' : undefined);
  // `provisioned`: the person's entry holds exactly their usable tokens (perhaps none, e.g. while
  // suspended); `removed`: the target holds nothing for them and should not.
  const done = (targetKey: string | null = dn): ProvisionResult => ({
    status: input.intent === 'present' && targetKey ? 'provisioned' : 'removed',
    targetKey,
    detail: { ...(attribute ? { attribute } : {}), values: desired, ...(entry ? { entry } : {}) } satisfies TokenDetail,
  });
  const missingEntry = (): ProvisionResult => {
    if (desired.length === 0) return done(null);
    // Retried with back-off: the LDAP target makes the entry, then the tokens follow.
    throw new LdapProvisioningError(`the person has no entry in LDAP target "${ldapTarget.description}" yet, so their ${desired.length} token(s) cannot be written`);
  };
  if (!dn) return missingEntry();
  const connection = () => ldapConnectionFor(input.session, ldapTarget.id, ldapTarget.config);
  // An entry the LDAP target took over, new to this target: it holds exactly Tessera's values
  // once this run is done, unless the administrator chose to keep the others.
  if (adopted && entry !== undefined && previous.entry !== entry && attribute && !config.keepOtherValues) {
    const cleared = await clearAdoptedEntry(await connection(), dn, attribute, desired, await othersValues(input, ldapTarget.id));
    return cleared === undefined ? missingEntry() : done();
  }
  // Nothing wanted and nothing of ours to withdraw (also: no attribute known yet).
  if (!attribute || (desired.length === 0 && previous.values.length === 0)) return done();

  const previousAttribute = previous.attribute ?? attribute;
  const sameAttribute = previousAttribute.toLowerCase() === attribute.toLowerCase();
  const withdrawn = previous.values.filter((v) => !(sameAttribute && desired.includes(v)));
  let plan: Plan | undefined;
  if (previous.entry !== undefined && previous.entry === entry) {
    // Our record describes this very entry: it holds the values we wrote.
    plan = planChanges(previous, attribute, desired, (name, v) => name.toLowerCase() === previousAttribute.toLowerCase() && previous.values.includes(v));
  } else if (withdrawn.length === 0) {
    // An entry we have not written into (new, or made anew by the LDAP target): add what we want;
    // a value already there makes the modify fail, and then we read.
    plan = { remove: new Map(), add: desired };
  }
  if (plan) {
    if (isEmpty(plan)) return done();
    try {
      await (await connection()).modify(dn, changesOf(plan, attribute));
      return done();
    } catch (error) {
      const cause = ldapErrorOf(error);
      if (cause instanceof NoSuchObjectError) return missingEntry();
      // The entry does not hold what we thought: read what is there and reconcile from it.
      if (!(cause instanceof TypeOrValueExistsError || cause instanceof NoSuchAttributeError)) throw error;
    }
  }
  return (await readAndReconcile(await connection(), dn, previous, attribute, desired)) ? done() : missingEntry();
}

/** The attribute the hashes go to: service entries hold them in userPassword. */
function storedAttribute(attribute: LdapServiceTokenConfig['attribute']): string {
  return attribute === 'serviceEntries' ? 'userPassword' : attribute;
}

/** Is `dn` the base DN or below it? */
function isWithin(dn: string, base: string): boolean {
  const d = normalizeDn(dn);
  const b = normalizeDn(base);
  return d === b || d.endsWith(`,${b}`);
}

async function validateTarget(db: Executor, tables: TokenTables, now: Date, target: Target<LdapServiceTokenConfig>, targets: Target[]): Promise<void> {
  const config = target.config;
  const named = targets.find((t) => t.id === config.ldapTargetId && t.id !== target.id && t.coId === target.coId);
  if (!named) {
    throw new AppError(LDAP_SERVICE_TOKEN_ERRORS.LDAP_TARGET_NOT_FOUND, {
      field: 'config.ldapTargetId',
      message: `Token target "${target.description}" needs an LDAP target of this CO, and the one it names does not exist here`,
    });
  }
  const ldapTarget = asLdapTarget(named);
  if (!ldapTarget) {
    throw new AppError(LDAP_SERVICE_TOKEN_ERRORS.NOT_AN_LDAP_TARGET, { field: 'config.ldapTargetId', message: `Token target "${target.description}" must name an LDAP target; "${named.description}" is not one` });
  }
  const service = await findService(db, target.coId, config.serviceId);
  if (!service) {
    throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND, { field: 'config.serviceId', message: `Token target "${target.description}" names a service that is not in this CO` });
  }
  if (target.ordinal <= ldapTarget.ordinal) {
    throw new AppError(LDAP_SERVICE_TOKEN_ERRORS.ORDERED_BEFORE_LDAP_TARGET, {
      field: 'ordinal',
      message: `Token target "${target.description}" (order ${target.ordinal}) must run after its LDAP target "${ldapTarget.description}" (order ${ldapTarget.ordinal}), or that target would erase its values: give it an order greater than ${ldapTarget.ordinal}`,
    });
  }
  if (config.attribute === 'voPersonApplicationPassword' && ldapTarget.config.voPerson !== true) {
    throw new AppError(LDAP_SERVICE_TOKEN_ERRORS.LDAP_TARGET_WITHOUT_VOPERSON, {
      field: 'config.attribute',
      message: `Token target "${target.description}" writes voPersonApplicationPassword, which needs the voPerson object class: turn it on in LDAP target "${ldapTarget.description}", or write userPassword`,
    });
  }
  // What the directory can check: probed now (or within the last minutes). A directory that cannot
  // be reached is no reason to refuse; the target's page says the schemes are unknown.
  // The platform gives each CO subtrees of a server (ldap-server.service.ts); a CO admin must not
  // write, or make services bind, anywhere else — another CO's service entries least of all.
  if (config.attribute === 'serviceEntries' && config.serviceBaseDn && !ldapTarget.config.subtrees.some((subtree) => isWithinSubtree(config.serviceBaseDn!, subtree))) {
    throw new AppError(LDAP_SERVICE_TOKEN_ERRORS.SERVICE_SUBTREE_OUTSIDE_SUBTREES, {
      field: 'config.serviceBaseDn',
      message: `Token target "${target.description}": the service subtree ${config.serviceBaseDn} lies outside the subtrees the LDAP server of "${ldapTarget.description}" may write for this CO (${ldapTarget.config.subtrees.join('; ') || 'none'}); choose a subtree inside one of them`,
    });
  }
  if (config.attribute === 'serviceEntries' && config.serviceBaseDn && isWithin(config.serviceBaseDn, ldapTarget.config.baseDn)) {
    throw new AppError(LDAP_SERVICE_TOKEN_ERRORS.SERVICE_SUBTREE_IN_PEOPLE, {
      field: 'config.serviceBaseDn',
      message: `Token target "${target.description}": the service subtree ${config.serviceBaseDn} lies within the people subtree ${ldapTarget.config.baseDn} of LDAP target "${ldapTarget.description}"; a service searching there would find the people's entries, which every token opens: choose a subtree beside it (e.g. ou=${service.shortLabel},ou=services,…)`,
    });
  }
  const { storageScheme } = await findSetting(tables(db), target.coId, service.id);
  const probe = await probeOf(tables(db), ldapTarget, now);
  const [problem] = await schemeProblems(storageScheme, storedAttribute(config.attribute), service.name, ldapTarget.config.url, probe);
  if (problem) throw new AppError(LDAP_SERVICE_TOKEN_ERRORS[problem.code], { field: problem.field, message: `Token target "${target.description}": ${problem.message}` });
}

/** The target page's account of the directory: the last probe, and the problems it shows for the service's scheme. */
async function noticesOf(db: Executor, tables: TokenTables, target: Target<LdapServiceTokenConfig>): Promise<TargetNotice[]> {
  const service = await findService(db, target.coId, target.config.serviceId);
  const ldap = await db.selectFrom('provisioning_target').select(['config', 'description']).where('co_id', '=', target.coId).where('id', '=', target.config.ldapTargetId).executeTakeFirst();
  if (!service || !ldap) return [];
  const probe = await lastProbe(tables(db), target.coId, target.config.ldapTargetId);
  const { storageScheme } = await findSetting(tables(db), target.coId, service.id);
  // The server's address is the platform's (LDAP servers); CO admins read the target's name.
  const url = `LDAP target "${ldap.description}"`;
  return probeNotices(probe, await schemeProblems(storageScheme, storedAttribute(target.config.attribute), service.name, url, probe));
}

/**
 * Probes the directory of every token target's LDAP target, each directory once per round, so a
 * module unloaded or a scheme changed later shows on the target's page. `unsealed` gives a CO's
 * targets with their bind passwords.
 */
export async function probeAllDirectories(db: Kysely<CoreDatabase & ServiceTokenTables & SchemeProbeTables>, unsealed: (coId: string) => Promise<Target[]>, now: Date): Promise<number> {
  const rows = await db.selectFrom('provisioning_target').select('co_id').distinct().where('provisioner_type', '=', LDAP_SERVICE_TOKEN_PROVISIONER_TYPE).execute();
  let probed = 0;
  for (const { co_id } of rows) {
    const targets = await unsealed(co_id);
    const ldapIds = new Set(targets.filter((t) => t.provisionerType === LDAP_SERVICE_TOKEN_PROVISIONER_TYPE).map((t) => String(t.config.ldapTargetId)));
    for (const id of ldapIds) {
      const ldapTarget = ldapTargetOf(targets, id);
      if (!ldapTarget) continue;
      await probeOf(db, ldapTarget, now, 0);
      probed++;
    }
  }
  return probed;
}

/** The service tokens plugin's tables seen through an executor (the plugin host's `withTables`). */
export type TokenTables = (db: Executor) => Kysely<CoreDatabase & ServiceTokenTables & SchemeProbeTables> | Transaction<CoreDatabase & ServiceTokenTables & SchemeProbeTables>;

/**
 * The `ldap-service-token` provisioner type: a CO Service's token hashes in the entries of an
 * LDAP target. `tables` reads the service tokens plugin's tables (who holds tokens of a service).
 */
export function ldapServiceTokenProvisioner(tables: TokenTables, scope?: ServiceEntryScope): Provisioner<typeof ldapServiceTokenConfigSchema> {
  return {
    type: LDAP_SERVICE_TOKEN_PROVISIONER_TYPE,
    label: 'LDAP service tokens',
    configSchema: ldapServiceTokenConfigSchema,
    secretFields: [],
    validate: (db, ctx, target, targets) => validateTarget(db, tables, ctx.clock.now(), target, targets),
    notices: (db, target) => noticesOf(db, tables, target),
    async peopleAffectedByService(db, target, serviceId) {
      if (serviceId !== target.config.serviceId) return [];
      const holders = await personIdsWithTokensFor(tables(db), target.coId, serviceId);
      if (target.config.attribute !== 'serviceEntries') return holders;
      // Service entries may exist without tokens (mayUseService): their people too.
      const entries = await db.selectFrom('provisioning_state').select('person_id').where('co_id', '=', target.coId).where('target_id', '=', target.id).where('target_key', 'is not', null).execute();
      return [...new Set([...holders, ...entries.map((r) => r.person_id)])];
    },
    provision: (input) => {
      if (input.target.config.attribute !== 'serviceEntries') return provisionTokens(input);
      if (!scope) throw new Error('service entries need the plugin’s database (ldapServiceTokenProvisioner(tables, scope))');
      return provisionServiceEntry(input, scope);
    },
    // Held jobs (the directory was down) go again as soon as the LDAP target's directory answers.
    probe: async (target, targets) => {
      const ldapTarget = ldapTargetOf(targets, target.config.ldapTargetId);
      if (!ldapTarget) throw new LdapProvisioningError(`the LDAP target ${target.config.ldapTargetId} of token target "${target.description}" no longer exists`);
      await probeDirectory(ldapTarget.id, ldapTarget.config);
    },
    // Taking tokens out of an entry never waits behind a failing job of its LDAP target: a
    // revocation or suspension fails closed (trust boundaries, "delayed token removal").
    onlyWithdraws: ({ target, intent, data, previous }) => {
      if (intent === 'absent') return true;
      if (target.config.attribute === 'serviceEntries') return false;
      const had = new Set(detailOf(previous?.detail).values);
      return wantedValues(target.config, tokensOf(data)).values.every((value) => had.has(value));
    },
  };
}
