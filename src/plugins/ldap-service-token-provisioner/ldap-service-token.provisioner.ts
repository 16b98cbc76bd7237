import { Attribute, Change, NoSuchAttributeError, NoSuchObjectError, TypeOrValueExistsError } from 'ldapts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import type { Executor } from '../../db/database.ts';
import { keepsEntry } from '../../core/people/person.service.ts';
import type { ProvisionInput, ProvisionResult, Provisioner, Target } from '../../core/provisioning/provisioner.ts';
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import { findService } from '../../core/co-services/co-service.service.ts';
import type { LdapConfig } from '../ldap-provisioner/ldap-config.schema.ts';
import { ldapConnectionFor, ldapErrorOf, type LdapConnection } from '../ldap-provisioner/ldap-connection.ts';
import { LdapProvisioningError, valuesOf, type LdapEntrySeed } from '../ldap-provisioner/ldap-entry.ts';
import { entryGenerationOf, LDAP_PROVISIONER_TYPE, seededValuesOf } from '../ldap-provisioner/ldap.provisioner.ts';
import { SERVICE_TOKENS_PLUGIN_ID, type ServiceTokenProvisioningData } from '../service-tokens/service-tokens.plugin.ts';
import { tokenDb } from '../service-tokens/token-setting.service.ts';
import { LDAP_SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import { ldapServiceTokenConfigSchema, type LdapServiceTokenConfig } from './ldap-service-token-config.schema.ts';

export const LDAP_SERVICE_TOKEN_PROVISIONER_TYPE = 'ldap-service-token';

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

/** `userPassword`, or `voPersonApplicationPassword;app-<short label>` for per-service passwords. */
export function tokenAttributeName(attribute: LdapServiceTokenConfig['attribute'], shortLabel: string): string {
  return attribute === 'userPassword' ? 'userPassword' : `voPersonApplicationPassword;app-${shortLabel}`;
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

/**
 * Writes the hashes of the person's usable tokens for one service into their entry of an LDAP
 * target, reconciling only the values this target wrote: another service's token provisioner may
 * write the same attribute, and its values are left alone.
 *
 * LDAP operations per person: none when nothing changed (nor when the LDAP target just made the
 * entry with these values in it: see tokenSeeds); one modify when something changed (computed
 * from what this target recorded); a base search and a modify instead when the entry turns out not
 * to hold what was recorded, or when a value to withdraw may linger in an entry this target has
 * not written into before (the LDAP target took over an existing entry).
 */
async function provisionTokens(input: ProvisionInput<LdapServiceTokenConfig>): Promise<ProvisionResult> {
  const { target } = input;
  const config = target.config;
  const ldapTarget = input.targets.find((t) => t.id === config.ldapTargetId);
  if (!ldapTarget || ldapTarget.provisionerType !== LDAP_PROVISIONER_TYPE) {
    throw new LdapProvisioningError(`the LDAP target ${config.ldapTargetId} of token target "${target.description}" no longer exists`);
  }
  const tokens = input.intent === 'present' && input.data ? ((input.data.plugins[SERVICE_TOKENS_PLUGIN_ID] as ServiceTokenProvisioningData | undefined)?.tokens ?? []) : [];
  const mine = tokens.filter((t) => t.serviceId === config.serviceId);
  const desired = [...new Set(mine.map((t) => t.hash))];
  const ldapState = await input.stateOf(ldapTarget.id);
  const dn = ldapState && ldapState.status !== 'removed' ? ldapState.targetKey : null;
  const entry = entryGenerationOf(ldapState);
  let previous = detailOf(input.previous?.detail);
  // An entry the LDAP target made with our values in it (seeds): those are our record of it.
  const seeded = seededValuesOf(ldapState, target.id);
  if (entry !== undefined && previous.entry !== entry && seeded) previous = { attribute: seeded.attribute, values: seeded.values, entry };
  // The short label comes with the tokens; with none left, the values to remove are where we wrote them.
  const attribute = mine[0] ? tokenAttributeName(config.attribute, mine[0].serviceShortLabel) : (previous.attribute ?? (config.attribute === 'userPassword' ? 'userPassword' : undefined));
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
  // Nothing wanted and nothing of ours to withdraw (also: no attribute known yet).
  if (!attribute || (desired.length === 0 && previous.values.length === 0)) return done();

  const connection = () => ldapConnectionFor(input.session, ldapTarget.id, ldapTarget.config as LdapConfig);
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

/** Modes in which a registry change runs the target by itself (not manual, not disabled). */
const RUNNING_MODES = ['automatic', 'queue', 'queue_on_error'] as const;

/**
 * The values the person's token targets will write, offered to their LDAP targets as seeds for an
 * entry they create (see LdapEntrySeed), so that a new entry is one add instead of an add and a
 * modify. Only for targets that run by themselves and would provision the person: a seed is
 * exactly what the token target writes right after.
 */
export async function tokenSeeds(db: Executor, data: ProvisioningData): Promise<LdapEntrySeed[]> {
  const tokens = (data.plugins[SERVICE_TOKENS_PLUGIN_ID] as ServiceTokenProvisioningData | undefined)?.tokens ?? [];
  if (tokens.length === 0 || !keepsEntry(data.person.status)) return [];
  const rows = await db
    .selectFrom('provisioning_target')
    .select(['id', 'config', 'provision_group_id'])
    .where('co_id', '=', data.co.id)
    .where('provisioner_type', '=', LDAP_SERVICE_TOKEN_PROVISIONER_TYPE)
    .where('mode', 'in', [...RUNNING_MODES])
    .execute();
  const seeds: LdapEntrySeed[] = [];
  for (const row of rows) {
    if (row.provision_group_id && !data.groups.some((g) => g.id === row.provision_group_id)) continue;
    const parsed = ldapServiceTokenConfigSchema.safeParse(JSON.parse(row.config));
    if (!parsed.success) continue;
    const mine = tokens.filter((t) => t.serviceId === parsed.data.serviceId);
    if (!mine[0]) continue;
    seeds.push({ ldapTargetId: parsed.data.ldapTargetId, sourceTargetId: row.id, attribute: tokenAttributeName(parsed.data.attribute, mine[0].serviceShortLabel), values: [...new Set(mine.map((t) => t.hash))] });
  }
  return seeds;
}

async function validateTarget(db: Executor, target: Target<LdapServiceTokenConfig>, targets: Target[]): Promise<void> {
  const config = target.config;
  const ldapTarget = targets.find((t) => t.id === config.ldapTargetId && t.id !== target.id && t.coId === target.coId);
  if (!ldapTarget) {
    throw new AppError(LDAP_SERVICE_TOKEN_ERRORS.LDAP_TARGET_NOT_FOUND, {
      field: 'config.ldapTargetId',
      message: `Token target "${target.description}" needs an LDAP target of this CO, and the one it names does not exist here`,
    });
  }
  if (ldapTarget.provisionerType !== LDAP_PROVISIONER_TYPE) {
    throw new AppError(LDAP_SERVICE_TOKEN_ERRORS.NOT_AN_LDAP_TARGET, { field: 'config.ldapTargetId', message: `Token target "${target.description}" must name an LDAP target; "${ldapTarget.description}" is not one` });
  }
  if (!(await findService(db, target.coId, config.serviceId))) {
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
}

export const ldapServiceTokenProvisioner: Provisioner<typeof ldapServiceTokenConfigSchema> = {
  type: LDAP_SERVICE_TOKEN_PROVISIONER_TYPE,
  label: 'LDAP service tokens',
  configSchema: ldapServiceTokenConfigSchema,
  secretFields: [],
  validate: (db, _ctx, target, targets) => validateTarget(db, target, targets),
  async peopleAffectedByService(db, target, serviceId) {
    if (serviceId !== target.config.serviceId) return [];
    const rows = await tokenDb(db).selectFrom('service_token').select('person_id').distinct().where('co_id', '=', target.coId).where('service_id', '=', serviceId).execute();
    return rows.map((r) => r.person_id);
  },
  provision: provisionTokens,
};
