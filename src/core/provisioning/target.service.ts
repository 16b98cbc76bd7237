import type { Executor } from '../../db/database.ts';
import { isId, newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { CoreContext } from '../context.ts';
import { getCo } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { findGroup } from '../groups/group.repository.ts';
import { recordHistory } from '../history/history.service.ts';
import { issuesOf } from '../http/validation.ts';
import type { Provisioner, Target } from './provisioner.ts';
import type { ProvisioningTargetTable } from './provisioning.table.ts';
import { SecretBox } from './secret-box.ts';
import type { TargetInput } from './target.schema.ts';

export interface ProvisioningContext extends CoreContext {
  provisioners: readonly Provisioner[];
  secretBox: SecretBox;
}

export function provisionerOf(ctx: ProvisioningContext, type: string): Provisioner | undefined {
  return ctx.provisioners.find((p) => p.type === type);
}

/** A target with secrets decrypted, for provisioners only. */
export function toTarget(ctx: ProvisioningContext, r: ProvisioningTargetTable): Target {
  const config = JSON.parse(r.config) as Record<string, unknown>;
  const provisioner = provisionerOf(ctx, r.plugin);
  for (const field of provisioner?.secretFields ?? []) {
    if (SecretBox.isSealed(config[field])) config[field] = ctx.secretBox.open(config[field]);
  }
  return {
    id: r.id,
    coId: r.co_id,
    plugin: r.plugin,
    description: r.description,
    mode: r.mode,
    ordinal: r.ordinal,
    retryIntervalSeconds: r.retry_interval_seconds,
    maxRetries: r.max_retries,
    provisionGroupId: r.provision_group_id,
    config,
  };
}

/** What a set secret field shows instead of its value; sent back on update, it keeps the value. */
export const SECRET_MASK = '(set)';

/**
 * A target for display: secret fields masked. Any sealed value is masked too, so a target whose
 * provisioner is no longer enabled (and whose secret fields are unknown) shows no ciphertext.
 */
export function publicTarget(ctx: ProvisioningContext, r: ProvisioningTargetTable): Target {
  const config = JSON.parse(r.config) as Record<string, unknown>;
  const secretFields = provisionerOf(ctx, r.plugin)?.secretFields ?? [];
  for (const [field, value] of Object.entries(config)) {
    if ((secretFields.includes(field) && value) || SecretBox.isSealed(value)) config[field] = SECRET_MASK;
  }
  return { ...toTarget({ ...ctx, provisioners: [] }, r), config };
}

export async function targetRowsOf(db: Executor, coId: string): Promise<ProvisioningTargetTable[]> {
  return db.selectFrom('provisioning_target').selectAll().where('co_id', '=', coId).orderBy('ordinal').orderBy('created_at').execute();
}

export async function findTargetRow(db: Executor, coId: string, targetId: string): Promise<ProvisioningTargetTable | undefined> {
  if (!isId(targetId)) return undefined;
  return db.selectFrom('provisioning_target').selectAll().where('co_id', '=', coId).where('id', '=', targetId).executeTakeFirst();
}

export async function listTargets(ctx: ProvisioningContext, actor: Actor, coId: string): Promise<Target[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return (await targetRowsOf(ctx.db, coId)).map((r) => publicTarget(ctx, r));
}

export async function getTarget(ctx: ProvisioningContext, actor: Actor, coId: string, targetId: string): Promise<Target> {
  if (!isCoAdmin(actor, coId)) throw new AppError(CORE_ERRORS.FORBIDDEN);
  const row = await findTargetRow(ctx.db, coId, targetId);
  if (!row) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
  return publicTarget(ctx, row);
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
  const provisioner = provisionerOf(ctx, input.plugin);
  if (!provisioner) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { field: 'plugin', message: `No provisioner of type "${input.plugin}" is enabled` });
  return ctx.db.transaction().execute(async (trx) => {
    await getCo(trx, coId);
    const existing = targetId ? await findTargetRow(trx, coId, targetId) : undefined;
    if (targetId && !existing) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
    if (existing && existing.plugin !== input.plugin) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { field: 'plugin', message: 'The type of a target cannot change' });
    if (input.provisionGroupId && !(await findGroup(trx, coId, input.provisionGroupId))) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND, { field: 'provisionGroupId' });
    const previous = existing ? toTarget(ctx, existing).config : undefined;
    const { plain, stored } = prepareConfig(ctx, provisioner, input.config, previous);
    const id = targetId ?? newId();
    const target: Target = {
      id,
      coId,
      plugin: input.plugin,
      description: input.description,
      mode: input.mode,
      ordinal: input.ordinal,
      retryIntervalSeconds: input.retryIntervalSeconds,
      maxRetries: input.maxRetries,
      provisionGroupId: input.provisionGroupId ?? null,
      config: plain,
    };
    const others = (await targetRowsOf(trx, coId)).filter((r) => r.id !== id).map((r) => toTarget(ctx, r));
    await provisioner.validate?.(trx, ctx, target, others);
    // Targets that depend on this one check the change too: moving an LDAP target after its token
    // target is refused like the reverse. (A new target has no dependents yet.)
    for (const other of existing ? others : []) {
      await provisionerOf(ctx, other.plugin)?.validate?.(trx, ctx, other, [...others.filter((o) => o.id !== other.id), target]);
    }
    const now = ctx.clock.now().toISOString();
    const values = {
      plugin: input.plugin,
      description: input.description,
      mode: input.mode,
      ordinal: input.ordinal,
      retry_interval_seconds: input.retryIntervalSeconds,
      max_retries: input.maxRetries,
      provision_group_id: input.provisionGroupId ?? null,
      config: JSON.stringify(stored),
      updated_at: now,
    };
    if (existing) await trx.updateTable('provisioning_target').set(values).where('id', '=', id).where('co_id', '=', coId).execute();
    else await trx.insertInto('provisioning_target').values({ id, co_id: coId, created_at: now, ...values }).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, action: existing ? 'PROVISIONING_TARGET_UPDATED' : 'PROVISIONING_TARGET_CREATED', comment: `Provisioning target "${input.description}" (${provisioner.label}) ${existing ? 'updated' : 'created'}` });
    return publicTarget(ctx, (await findTargetRow(trx, coId, id))!);
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
  await ctx.db.transaction().execute(async (trx) => {
    const row = await findTargetRow(trx, coId, targetId);
    if (!row) throw new AppError(CORE_ERRORS.PROVISIONING_TARGET_NOT_FOUND);
    // A target another target depends on (e.g. the LDAP target of a token provisioner) stays.
    const others = (await targetRowsOf(trx, coId)).filter((r) => r.id !== targetId).map((r) => toTarget(ctx, r));
    for (const other of others) {
      const p = provisionerOf(ctx, other.plugin);
      if (p?.validate) await p.validate(trx, ctx, other, others);
    }
    await trx.deleteFrom('provisioning_target').where('id', '=', targetId).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'PROVISIONING_TARGET_DELETED', comment: `Provisioning target "${row.description}" deleted` });
  });
}
