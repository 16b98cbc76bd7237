import { inTransaction } from '../../db/transaction.ts';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import { serviceNamesRestrictedTo } from '../co-services/co-service.repository.ts';
import { publishChange } from '../context.ts';
import { lockCo } from '../cos/co.repository.ts';
import { assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { recordHistory } from '../history/history.service.ts';
import { deletePersonRow, lockPerson } from '../people/person.repository.ts';
import type { ProvisioningContext } from '../provisioning/target.service.ts';
import { getSource } from './source.service.ts';
import { updateSourceRow } from './source.repository.ts';
import { SOURCE_OWNED_TABLES } from './source.table.ts';
import { dropSourceMembershipsShadowedByLocal } from './source-ownership.ts';

/**
 * Finalises a source (CO admins): Tessera becomes the owner of everything it brought in. Every
 * row keeps its values and loses its source_id and external_id, so it can be edited locally; the
 * source is `finalised` and can no longer run. This is how a migration ends. Returns how many rows
 * changed owner, per table.
 */
export async function finaliseSource(ctx: ProvisioningContext, actor: Actor, coId: string, sourceId: string): Promise<Record<string, number>> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const source = await getSource(ctx, actor, coId, sourceId);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'exclusive');
    const counts: Record<string, number> = {};
    await dropSourceMembershipsShadowedByLocal(trx, coId, source.id);
    for (const table of SOURCE_OWNED_TABLES) {
      const result = await trx.updateTable(table).set({ source_id: null, external_id: null }).where('co_id', '=', coId).where('source_id', '=', source.id).executeTakeFirst();
      counts[table] = Number(result.numUpdatedRows);
    }
    const now = ctx.clock.now().toISOString();
    await updateSourceRow(trx, coId, source.id, { status: 'finalised', progress: null, updated_at: now });
    await recordHistory(trx, ctx.clock, actor, { coId, action: 'SOURCE_FINALISED', comment: `Source ${source.name} finalised: Tessera now owns ${counts.co_person} people, ${counts.co_group} groups and ${counts.co_group_member} memberships it brought in` });
    return counts;
  });
}

/** What a termination removed, and the groups it kept (with why). */
export interface TerminateResult {
  people: number;
  groups: number;
  memberships: number;
  keptGroups: Array<{ name: string; reason: string }>;
}

/**
 * Terminates a source (CO admins; the UI asks for confirmation, the CLI for `--yes`): removes what
 * it brought in — its people (with their tokens; history stays, detached), its groups and its
 * memberships of local groups — and marks it `terminated`, so it never runs again. Each person is
 * removed in a transaction of their own, with history and a change event (their directory
 * entries are removed by provisioning); a group that CO Services are restricted to is kept, as a
 * local group, since removing it would open those services to every member. Running it again
 * finishes a termination that was interrupted.
 */
export async function terminateSource(ctx: ProvisioningContext, actor: Actor, coId: string, sourceId: string): Promise<TerminateResult> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const source = await getSource(ctx, actor, coId, sourceId);
  const now = () => ctx.clock.now().toISOString();
  await updateSourceRow(ctx.db, coId, source.id, { status: 'terminated', progress: null, updated_at: now() });
  const result: TerminateResult = { people: 0, groups: 0, memberships: 0, keptGroups: [] };

  const memberships = await inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, coId, 'exclusive');
    const rows = await trx.selectFrom('co_group_member').select('person_id').distinct().where('co_id', '=', coId).where('source_id', '=', source.id).execute();
    const deleted = await trx.deleteFrom('co_group_member').where('co_id', '=', coId).where('source_id', '=', source.id).executeTakeFirst();
    for (const r of rows) await publishChange(ctx, trx, { kind: 'person', coId, personId: r.person_id, reason: `source ${source.name} terminated` });
    return Number(deleted.numDeletedRows);
  });
  result.memberships = memberships;

  const people = await ctx.db.selectFrom('co_person').select(['id', 'external_id']).where('co_id', '=', coId).where('source_id', '=', source.id).execute();
  for (const p of people) {
    const removed = await inTransaction(ctx.db, async (trx) => {
      await lockCo(trx, coId, 'shared');
      if (!(await lockPerson(trx, coId, p.id, 'delete'))) return false;
      await publishChange(ctx, trx, { kind: 'person-deleted', coId, personId: p.id, reason: `source ${source.name} terminated` });
      await recordHistory(trx, ctx.clock, actor, { coId, action: 'PERSON_DELETED', comment: `CO Person ${p.id} (id ${p.external_id} at source ${source.name}) removed: source terminated` });
      await deletePersonRow(trx, coId, p.id);
      return true;
    });
    if (removed) result.people++;
  }

  const groups = await ctx.db.selectFrom('co_group').select(['id', 'name']).where('co_id', '=', coId).where('source_id', '=', source.id).execute();
  for (const g of groups) {
    await inTransaction(ctx.db, async (trx) => {
      await lockCo(trx, coId, 'exclusive');
      const services = await serviceNamesRestrictedTo(trx, coId, g.id);
      if (services.length > 0) {
        await trx.updateTable('co_group').set({ source_id: null, external_id: null }).where('co_id', '=', coId).where('id', '=', g.id).execute();
        result.keptGroups.push({ name: g.name, reason: `CO Services are restricted to it: ${services.join(', ')}` });
        return;
      }
      const members = await trx.selectFrom('co_group_member').select('person_id').distinct().where('co_id', '=', coId).where('group_id', '=', g.id).execute();
      await publishChange(ctx, trx, { kind: 'group', coId, groupId: g.id, reason: `source ${source.name} terminated` });
      await trx.deleteFrom('co_group').where('co_id', '=', coId).where('id', '=', g.id).execute();
      for (const m of members) await publishChange(ctx, trx, { kind: 'person', coId, personId: m.person_id, reason: 'group deleted' });
      result.groups++;
    });
  }
  // Rows of this source left on local people (none unless written outside the writer) go too.
  for (const table of ['name', 'identifier', 'email_address'] as const) await ctx.db.deleteFrom(table).where('co_id', '=', coId).where('source_id', '=', source.id).execute();

  await recordHistory(ctx.db, ctx.clock, actor, {
    coId,
    action: 'SOURCE_TERMINATED',
    comment: `Source ${source.name} terminated: ${result.people} people, ${result.groups} groups and ${result.memberships} memberships removed${result.keptGroups.length ? `; kept as local groups: ${result.keptGroups.map((k) => `${k.name} (${k.reason})`).join('; ')}` : ''}`,
  });
  return result;
}
