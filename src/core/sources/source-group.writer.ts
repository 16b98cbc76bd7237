import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { inTransaction } from '../../db/transaction.ts';
import { serviceNamesRestrictedTo } from '../co-services/co-service.repository.ts';
import { publishChange, type CoreContext } from '../context.ts';
import { lockCo } from '../cos/co.repository.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { findSystemGroup, insertGroups, updateGroupRow } from '../groups/group.repository.ts';
import { recordHistory } from '../history/history.service.ts';
import type { Source } from './source.repository.ts';
import type { SourceGroupRecord, SourceGroupRef, SourceMemberRecord } from './source-records.ts';
import { assertActiveSource, sourceActor, type WriteOutcome } from './source-person.writer.ts';

/*
 * The source writer, groups half (see source-person.writer.ts for the rules every operation keeps).
 * A change that reaches many people locks the CO alone (src/db/transaction.ts). A source's
 * memberships carry its source_id and coexist with local memberships of the same person in the
 * same group (unique index co_group_member_uq on group, person and source); the source never
 * touches a local membership.
 */

/** A source group as the CO holds it. */
export interface ResolvedGroup {
  id: string;
  name: string;
  kind: 'standard' | 'admins';
}

/**
 * The CO's group a source group maps to: the CO's own admins group for `admins`; the source's
 * group with this external id for `standard`; undefined for `members` (the members group follows
 * people's status: a source's members list is not stored) and for an unknown group.
 */
export async function resolveSourceGroup(db: Executor, source: Source, ref: SourceGroupRef): Promise<ResolvedGroup | undefined> {
  if (ref.kind === 'members') return undefined;
  if (ref.kind === 'admins') {
    const admins = await findSystemGroup(db, source.coId, 'admins');
    return admins && { id: admins.id, name: admins.name, kind: 'admins' };
  }
  const row = await db.selectFrom('co_group').select(['id', 'name']).where('co_id', '=', source.coId).where('source_id', '=', source.id).where('external_id', '=', ref.externalId).executeTakeFirst();
  return row && { id: row.id, name: row.name, kind: 'standard' };
}

/**
 * Creates or updates the source's group `record.externalId` (name, description, status). Admins
 * and members groups are the CO's own and are not written ('unchanged'). Errors: SOURCE_NOT_ACTIVE;
 * GROUP_NAME_TAKEN (409) when a group of the CO made elsewhere has the name.
 */
export async function upsertSourceGroup(ctx: CoreContext, source: Source, record: SourceGroupRecord): Promise<{ groupId: string | null; outcome: WriteOutcome }> {
  assertActiveSource(source);
  const kind = record.kind ?? 'standard';
  if (kind !== 'standard') return { groupId: (await resolveSourceGroup(ctx.db, source, { externalId: record.externalId, kind }))?.id ?? null, outcome: 'unchanged' };
  const wanted = { name: record.name.normalize('NFC'), description: record.description ?? '', status: record.status ?? 'active' };
  return inTransaction(ctx.db, async (trx) => {
    const existing = await trx.selectFrom('co_group').selectAll().where('co_id', '=', source.coId).where('source_id', '=', source.id).where('external_id', '=', record.externalId).executeTakeFirst();
    // A new group reaches nobody yet (shared lock); a change reaches every member (alone in the CO).
    await lockCo(trx, source.coId, existing ? 'exclusive' : 'shared');
    const actor = sourceActor(source);
    if (!existing) {
      const id = newId();
      await insertGroups(trx, [{ id, co_id: source.coId, ...wanted, group_type: 'standard', created_at: ctx.clock.now().toISOString(), source_id: source.id, external_id: record.externalId }]);
      await recordHistory(trx, ctx.clock, actor, { coId: source.coId, groupId: id, action: 'SOURCE_GROUP_ADDED', comment: `Group ${wanted.name} added by source ${source.name} (id ${record.externalId})` });
      return { groupId: id, outcome: 'added' as const };
    }
    if (existing.name === wanted.name && existing.description === wanted.description && existing.status === wanted.status) return { groupId: existing.id, outcome: 'unchanged' as const };
    await updateGroupRow(trx, source.coId, existing.id, wanted);
    await recordHistory(trx, ctx.clock, actor, { coId: source.coId, groupId: existing.id, action: 'SOURCE_GROUP_UPDATED', comment: `Group ${wanted.name} updated by source ${source.name}` });
    await publishChange(ctx, trx, { kind: 'group', coId: source.coId, groupId: existing.id, reason: `source ${source.name}` });
    return { groupId: existing.id, outcome: 'changed' as const };
  });
}

/**
 * Deletes the source's group and its memberships (local ones too: the group is gone). Refused
 * with GROUP_IN_USE while CO Services are restricted to it (deleting would open them to every
 * member). False when the source has no such group.
 */
export async function deleteSourceGroup(ctx: CoreContext, source: Source, externalId: string): Promise<boolean> {
  assertActiveSource(source);
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, source.coId, 'exclusive');
    const group = await resolveSourceGroup(trx, source, { externalId });
    if (!group) return false;
    const services = await serviceNamesRestrictedTo(trx, source.coId, group.id);
    if (services.length > 0) throw new AppError(CORE_ERRORS.GROUP_IN_USE, { message: `Group ${group.name} is gone at source ${source.name}, but CO Services are restricted to it: ${services.join(', ')}` });
    const members = await trx.selectFrom('co_group_member').select('person_id').distinct().where('co_id', '=', source.coId).where('group_id', '=', group.id).execute();
    await publishChange(ctx, trx, { kind: 'group', coId: source.coId, groupId: group.id, reason: `source ${source.name}` });
    await trx.deleteFrom('co_group').where('co_id', '=', source.coId).where('id', '=', group.id).execute();
    await recordHistory(trx, ctx.clock, sourceActor(source), { coId: source.coId, action: 'SOURCE_GROUP_REMOVED', comment: `Group ${group.name} removed by source ${source.name} (id ${externalId})` });
    for (const m of members) await publishChange(ctx, trx, { kind: 'person', coId: source.coId, personId: m.person_id, reason: `source ${source.name}` });
    return true;
  });
}

/** The outcome of a membership operation: counts, and members naming a person the source did not bring in. */
export interface MembershipWriteResult {
  added: number;
  changed: number;
  removed: number;
  unknownPeople: string[];
}

interface MemberRow {
  id: string;
  person_id: string;
  owner: number;
  valid_from: string | null;
  valid_through: string | null;
}

const windowOf = (m: SourceMemberRecord) => ({ owner: m.owner ? 1 : 0, valid_from: m.validFrom ?? null, valid_through: m.validThrough ?? null });
const sameWindow = (a: ReturnType<typeof windowOf>, b: MemberRow) => a.owner === b.owner && a.valid_from === b.valid_from && a.valid_through === b.valid_through;

/**
 * Applies membership changes of one source group in one transaction (the CO locked alone): `set`
 * replaces the source's memberships of the group with `members`; `add` adds or updates them;
 * `remove` removes those listed. Each person changed gets history and a change event.
 */
async function writeMembers(ctx: CoreContext, source: Source, ref: SourceGroupRef, members: SourceMemberRecord[], mode: 'set' | 'add' | 'remove'): Promise<MembershipWriteResult> {
  assertActiveSource(source);
  const result: MembershipWriteResult = { added: 0, changed: 0, removed: 0, unknownPeople: [] };
  if (ref.kind === 'members') return result;
  return inTransaction(ctx.db, async (trx) => {
    await lockCo(trx, source.coId, 'exclusive');
    const group = await resolveSourceGroup(trx, source, ref);
    if (!group) throw new AppError(CORE_ERRORS.GROUP_NOT_FOUND, { message: `Source ${source.name} has no group ${ref.externalId}` });
    const personIds = new Map<string, string>();
    const externals = [...new Set(members.map((m) => m.personExternalId))];
    for (let i = 0; i < externals.length; i += 500) {
      const rows = await trx.selectFrom('co_person').select(['id', 'external_id']).where('co_id', '=', source.coId).where('source_id', '=', source.id).where('external_id', 'in', externals.slice(i, i + 500)).execute();
      for (const r of rows) personIds.set(r.external_id ?? '', r.id);
    }
    const current = new Map<string, MemberRow>();
    const rows = await trx.selectFrom('co_group_member').select(['id', 'person_id', 'owner', 'valid_from', 'valid_through']).where('co_id', '=', source.coId).where('group_id', '=', group.id).where('source_id', '=', source.id).execute();
    for (const r of rows) current.set(r.person_id, r);
    const touched = new Map<string, string>();
    const listed = new Set<string>();
    const now = ctx.clock.now().toISOString();
    for (const m of members) {
      const personId = personIds.get(m.personExternalId);
      if (!personId) {
        result.unknownPeople.push(m.personExternalId);
        continue;
      }
      listed.add(personId);
      const row = current.get(personId);
      if (mode === 'remove') {
        if (!row) continue;
        await trx.deleteFrom('co_group_member').where('co_id', '=', source.coId).where('id', '=', row.id).execute();
        result.removed++;
        touched.set(personId, `Removed from group ${group.name} by source ${source.name}`);
        continue;
      }
      const w = windowOf(m);
      if (!row) {
        await trx.insertInto('co_group_member').values({ id: newId(), co_id: source.coId, group_id: group.id, person_id: personId, member: 1, ...w, created_at: now, source_id: source.id, external_id: m.personExternalId }).execute();
        current.set(personId, { id: '', person_id: personId, ...w });
        result.added++;
        touched.set(personId, `Added to group ${group.name} by source ${source.name}${w.valid_from || w.valid_through ? ` (valid ${w.valid_from ?? '…'} to ${w.valid_through ?? '…'})` : ''}`);
      } else if (!sameWindow(w, row)) {
        await trx.updateTable('co_group_member').set(w).where('co_id', '=', source.coId).where('id', '=', row.id).execute();
        result.changed++;
        touched.set(personId, `Membership of group ${group.name} changed by source ${source.name} (valid ${w.valid_from ?? '…'} to ${w.valid_through ?? '…'})`);
      }
    }
    if (mode === 'set') {
      for (const [personId, row] of current) {
        if (listed.has(personId) || row.id === '') continue;
        await trx.deleteFrom('co_group_member').where('co_id', '=', source.coId).where('id', '=', row.id).execute();
        result.removed++;
        touched.set(personId, `Removed from group ${group.name} by source ${source.name}`);
      }
    }
    for (const [personId, comment] of touched) {
      await recordHistory(trx, ctx.clock, sourceActor(source), { coId: source.coId, personId, groupId: group.id, action: 'SOURCE_MEMBERSHIP_CHANGED', comment });
      await publishChange(ctx, trx, { kind: 'person', coId: source.coId, personId, reason: `source ${source.name}` });
    }
    return result;
  });
}

/**
 * Makes the source's memberships of the group exactly `members` (with their windows and owner
 * flags); local memberships of the group are left alone. Members naming a person the source did
 * not bring in are returned in `unknownPeople`, not written. GROUP_NOT_FOUND for an unknown group.
 */
export function setSourceGroupMembers(ctx: CoreContext, source: Source, group: SourceGroupRef, members: SourceMemberRecord[]): Promise<MembershipWriteResult> {
  return writeMembers(ctx, source, group, members, 'set');
}

/** Adds (or updates the windows of) these source memberships of the group; see setSourceGroupMembers. */
export function addSourceGroupMembers(ctx: CoreContext, source: Source, group: SourceGroupRef, members: SourceMemberRecord[]): Promise<MembershipWriteResult> {
  return writeMembers(ctx, source, group, members, 'add');
}

/** Removes these people's source memberships of the group; local memberships stay. */
export function removeSourceGroupMembers(ctx: CoreContext, source: Source, group: SourceGroupRef, personExternalIds: string[]): Promise<MembershipWriteResult> {
  return writeMembers(ctx, source, group, personExternalIds.map((personExternalId) => ({ personExternalId })), 'remove');
}
