import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { CoreContext } from '../context.ts';
import { lockCo } from '../cos/co.repository.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { findGroup } from '../groups/group.repository.ts';
import { recordHistory } from '../history/history.service.ts';
import { issuesOf } from '../http/validation.ts';
import type { Provisioner, Target } from './provisioner.ts';
import { deleteStoredTarget, findStoredTarget, insertStoredTarget, targetsOfCo, updateStoredTarget, type StoredTarget } from './provisioning-target.repository.ts';
import { SecretBox } from './secret-box.ts';
import type { TargetInput } from './target.schema.ts';
import { inTransaction } from '../../db/transaction.ts';

/** What the provisioning services need: the core, the enabled provisioners and the secret box. */
export interface ProvisioningContext extends CoreContext {
  provisioners: readonly Provisioner[];
  secretBox: SecretBox;
}

/** The enabled provisioner of a type, if any. */
export function provisionerOf(ctx: ProvisioningContext, type: string): Provisioner | undefined {
  return ctx.provisioners.find((p) => p.type === type);
}

/**
 * A stored target with its secret settings decrypted, for provisioners only (never shown or logged):
 * the fields its provisioner declares secret are opened with the secret box.
 */
export function unsealTarget(ctx: ProvisioningContext, stored: StoredTarget): Target {
  const config = { ...stored.config };
  for (const field of provisionerOf(ctx, stored.provisionerType)?.secretFields ?? []) {
    if (SecretBox.isSealed(config[field])) config[field] = ctx.secretBox.open(config[field]);
  }
  return { ...stored, config };
}

/** What a set secret field shows instead of its value; sent back on update, it keeps the value. */
export const SECRET_MASK = '(set)';

/**
 * A target for display: secret fields masked. Any sealed value is masked too, so a target whose
 * provisioner is no longer enabled (and whose secret fields are unknown) shows no ciphertext.
 */
export function publicTarget(ctx: ProvisioningContext, stored: StoredTarget): Target {
  const config = { ...stored.config };
  const secretFields = provisionerOf(ctx, stored.provisionerType)?.secretFields ?? [];
  for (const [field, value] of Object.entries(config)) {
    if ((secretFields.includes(field) && value) || SecretBox.isSealed(value)) config[field] = SECRET_MASK;
  }
  return { ...stored, config };
}

/** The target with what its provisioner draws from elsewhere merged in (`Provisioner.expandConfig`); for provisioners only. */
export async function expandTarget(ctx: ProvisioningContext, db: Executor, target: Target): Promise<Target> {
  const expand = provisionerOf(ctx, target.provisionerType)?.expandConfig;
  return expand ? { ...target, config: { ...target.config, ...(await expand(db, target)) } } : target;
}

/** Every target of the CO with secrets decrypted and settings expanded, in their order; for provisioners only. */
export async function unsealedTargetsOf(ctx: ProvisioningContext, db: Executor, coId: string): Promise<Target[]> {
  return Promise.all((await targetsOfCo(db, coId)).map((t) => expandTarget(ctx, db, unsealTarget(ctx, t))));
}

export async function listTargets(ctx: ProvisioningContext, actor: Actor, coId: string): Promise<Target[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return (await targetsOfCo(ctx.db, coId)).map((t) => publicTarget(ctx, t));
}

export async function getTarget(ctx: ProvisioningContext, actor: Actor, coId: string, targetId: string): Promise<Target> {
  if (!isCoAdmin(actor, coId)) throw new AppError(CORE_ERRORS.FORBIDDEN);
  const stored = await findStoredTarget(ctx.db, coId, targetId);
  if (!stored) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
  return publicTarget(ctx, stored);
}

/**
 * Validates the provisioner's settings with its schema. A secret field left empty, omitted, or sent
 * back as the mask it is shown as keeps the stored value, so forms never need to show a password
 * back and an API client can PUT what it read without replacing the password with the mask.
 */
function prepareConfig(ctx: ProvisioningContext, provisioner: Provisioner, input: Record<string, unknown>, previous: Record<string, unknown> | undefined): { plain: Record<string, unknown>; stored: Record<string, unknown> } {
  const merged = { ...input };
  const kept: string[] = [];
  for (const field of provisioner.secretFields) {
    if (merged[field] !== undefined && merged[field] !== '' && merged[field] !== SECRET_MASK) continue;
    if (previous && previous[field] !== undefined) {
      merged[field] = previous[field];
      if (typeof previous[field] === 'string' && previous[field] !== '') kept.push(field);
    } else if (merged[field] === SECRET_MASK) merged[field] = '';
  }
  const parsed = provisioner.configSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error).map((i) => ({ ...i, field: `config.${i.field}` }));
    throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: `${issues[0]?.field}: ${issues[0]?.message}`, issues });
  }
  const plain = parsed.data as Record<string, unknown>;
  const moved = kept.length > 0 && previous ? movedSetting(provisioner, previous, plain) : undefined;
  if (moved) {
    const issues = kept.map((field) => ({ field: `config.${field}`, message: `Enter it again: ${moved} changed, and a stored secret is only sent where it was given for` }));
    throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: `${issues[0]!.field}: ${issues[0]!.message}`, field: issues[0]!.field, issues });
  }
  const stored = { ...plain };
  for (const field of provisioner.secretFields) if (typeof stored[field] === 'string' && stored[field] !== '') stored[field] = ctx.secretBox.seal(stored[field]);
  return { plain, stored };
}

/** The first setting that says where the secrets go (see `secretsBoundTo`) and differs between two configs. */
function movedSetting(provisioner: Provisioner, before: Record<string, unknown>, after: Record<string, unknown>): string | undefined {
  const fields = provisioner.secretsBoundTo ?? [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => !provisioner.secretFields.includes(f));
  return fields.find((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
}

async function saveTarget(ctx: ProvisioningContext, actor: Actor, coId: string, targetId: string | undefined, input: TargetInput): Promise<Target> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const provisioner = provisionerOf(ctx, input.provisionerType);
  if (!provisioner) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { field: 'provisionerType', message: `No provisioner of type "${input.provisionerType}" is enabled` });
  return inTransaction(ctx.db, async (trx) => {
    // A target reaches every person of the CO: alone in it (lock order in src/db/transaction.ts),
    // so a target deleted meanwhile is not found rather than half-written.
    await lockCo(trx, coId, 'exclusive');
    await getCo(trx, coId);
    const existing = targetId ? await findStoredTarget(trx, coId, targetId) : undefined;
    if (targetId && !existing) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
    if (existing && existing.provisionerType !== input.provisionerType) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { field: 'provisionerType', message: 'The type of a target cannot change' });
    if (input.provisionGroupId && !(await findGroup(trx, coId, input.provisionGroupId))) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND, { field: 'provisionGroupId' });
    const previous = existing ? unsealTarget(ctx, existing).config : undefined;
    const { plain, stored } = prepareConfig(ctx, provisioner, input.config, previous);
    const id = targetId ?? newId();
    const target: Target = {
      id,
      coId,
      provisionerType: input.provisionerType,
      description: input.description,
      mode: input.mode,
      ordinal: input.ordinal,
      retryIntervalSeconds: input.retryIntervalSeconds,
      maxRetries: input.maxRetries,
      provisionGroupId: input.provisionGroupId ?? null,
      config: plain,
    };
    const others = (await unsealedTargetsOf(ctx, trx, coId)).filter((t) => t.id !== id);
    await provisioner.validate?.(trx, ctx, target, others);
    // Targets that depend on this one check the change too: moving an LDAP target after its token
    // target is refused like the reverse. (A new target has no dependents yet.)
    const expanded = existing && others.length > 0 ? await expandTarget(ctx, trx, target) : target;
    for (const other of existing ? others : []) {
      await provisionerOf(ctx, other.provisionerType)?.validate?.(trx, ctx, other, [...others.filter((o) => o.id !== other.id), expanded]);
    }
    const now = ctx.clock.now().toISOString();
    if (existing) await updateStoredTarget(trx, { ...target, config: stored }, now);
    else await insertStoredTarget(trx, { ...target, config: stored }, now);
    await recordHistory(trx, ctx.clock, actor, { coId, action: existing ? 'PROVISIONING_TARGET_UPDATED' : 'PROVISIONING_TARGET_CREATED', comment: `Provisioning target "${input.description}" (${provisioner.label}) ${existing ? 'updated' : 'created'}` });
    const saved = await findStoredTarget(trx, coId, id);
    if (!saved) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
    return publicTarget(ctx, saved);
  });
}

export function createTarget(ctx: ProvisioningContext, actor: Actor, coId: string, input: TargetInput): Promise<Target> {
  return saveTarget(ctx, actor, coId, undefined, input);
}

export function updateTarget(ctx: ProvisioningContext, actor: Actor, coId: string, targetId: string, input: TargetInput): Promise<Target> {
  return saveTarget(ctx, actor, coId, targetId, input);
}

export async function deleteTarget(ctx: ProvisioningContext, actor: Actor, coId: string, targetId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'exclusive');
    const existing = await findStoredTarget(trx, coId, targetId);
    if (!existing) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
    // A target another target depends on (e.g. the LDAP target of a token provisioner) stays.
    const others = (await unsealedTargetsOf(ctx, trx, coId)).filter((t) => t.id !== targetId);
    for (const other of others) {
      const p = provisionerOf(ctx, other.provisionerType);
      if (p?.validate) await p.validate(trx, ctx, other, others);
    }
    await deleteStoredTarget(trx, coId, targetId);
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'PROVISIONING_TARGET_DELETED', comment: `Provisioning target "${existing.description}" deleted` });
  });
}
