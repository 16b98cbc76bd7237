import type { CoreContext } from '../context.ts';
import { isMemberStatus } from '../people/person.service.ts';
import type { Source, SourceRunCounts } from './source.repository.ts';
import type { SourceGroupKind, SourceGroupRecord, SourceMemberRecord, SourcePersonRecord, SourceSnapshot } from './source-records.ts';
import { fingerprint, loadSourcePeople, personValueOf, type PersonValue } from './source-state.ts';
import { deleteSourceGroup, setSourceGroupMembers, upsertSourceGroup } from './source-group.writer.ts';
import { suspendSourcePerson, upsertSourcePerson } from './source-person.writer.ts';

/*
 * The snapshot reconciler: given what a source holds (a complete snapshot, or the changed part of
 * one), it computes what would change in the CO — per kind, added / changed / suspended / removed —
 * from two bulk reads (the snapshot, and every row the source owns in Tessera), without writing.
 * A dry run returns that diff; a run applies it through the source writer, one object per
 * transaction, so a failure of one object (an identifier another person holds) is reported and
 * skipped, and everything else is written. Nothing is written before the whole snapshot was read:
 * a source that cannot be read leaves the CO as it was.
 */

/** One object in a diff: its id at the source, a label for people, and what changes. */
export interface DiffItem {
  externalId: string;
  label: string;
  detail?: string;
}

/** What a run would change (dry run) or changed. */
export interface SourceDiff {
  people: { added: DiffItem[]; changed: DiffItem[]; suspended: DiffItem[]; unchanged: number };
  groups: { added: DiffItem[]; changed: DiffItem[]; removed: DiffItem[]; unchanged: number };
  /** Per group: memberships added, with changed windows, removed. */
  memberships: { added: DiffItem[]; changed: DiffItem[]; removed: DiffItem[]; unchanged: number };
}

/** An object a run could not write, and why. */
export interface SkippedItem {
  kind: 'person' | 'group' | 'membership';
  externalId: string;
  reason: string;
}

interface GroupPlan {
  record: SourceGroupRecord & { members: SourceMemberRecord[] };
  kind: SourceGroupKind;
  membersChange: boolean;
}

/** A computed diff with what applying it needs. */
export interface ReconcilePlan {
  diff: SourceDiff;
  people: SourcePersonRecord[];
  suspend: DiffItem[];
  groups: GroupPlan[];
  removeGroups: DiffItem[];
}

const labelOf = (v: PersonValue, externalId: string): string => {
  const n = v.names.find((x) => x.primary) ?? v.names[0];
  return n ? [n.given, n.family].filter(Boolean).join(' ') : externalId;
};

function describeChange(before: PersonValue, after: PersonValue): string {
  const parts: string[] = [];
  if (before.status !== after.status) parts.push(`status ${before.status} → ${after.status}`);
  if (JSON.stringify(before.names) !== JSON.stringify(after.names)) parts.push('names');
  if (JSON.stringify(before.identifiers) !== JSON.stringify(after.identifiers)) parts.push('identifiers');
  if (JSON.stringify(before.emails) !== JSON.stringify(after.emails)) parts.push('email addresses');
  return parts.join(', ');
}

const windowKey = (m: { owner?: boolean | number; validFrom?: string | null; validThrough?: string | null }) => JSON.stringify([m.owner ? 1 : 0, m.validFrom ?? null, m.validThrough ?? null]);

/**
 * Compares a snapshot with what the source owns in the CO and returns the plan: the diff, and
 * the objects to write. Reads only. For an incomplete snapshot (incremental run) nothing absent
 * from it counts as removed.
 */
export async function planReconcile(ctx: CoreContext, source: Source, snapshot: SourceSnapshot): Promise<ReconcilePlan> {
  const db = ctx.db;
  const diff: SourceDiff = {
    people: { added: [], changed: [], suspended: [], unchanged: 0 },
    groups: { added: [], changed: [], removed: [], unchanged: 0 },
    memberships: { added: [], changed: [], removed: [], unchanged: 0 },
  };
  const stored = await loadSourcePeople(db, source.coId, source.id);
  const people: SourcePersonRecord[] = [];
  const seen = new Set<string>();
  for (const record of snapshot.people) {
    if (seen.has(record.externalId)) continue;
    seen.add(record.externalId);
    const wanted = personValueOf(record);
    const before = stored.get(record.externalId);
    const item = { externalId: record.externalId, label: labelOf(wanted, record.externalId) };
    if (!before) {
      diff.people.added.push({ ...item, detail: `status ${wanted.status}` });
      people.push(record);
    } else if (fingerprint(before.value) !== fingerprint(wanted)) {
      const detail = describeChange(before.value, wanted);
      if (isMemberStatus(before.value.status) && !isMemberStatus(wanted.status)) diff.people.suspended.push({ ...item, detail });
      else diff.people.changed.push({ ...item, detail });
      people.push(record);
    } else diff.people.unchanged++;
  }
  const suspend: DiffItem[] = [];
  if (snapshot.complete) {
    for (const [externalId, before] of stored) {
      if (seen.has(externalId) || before.value.status === 'suspended') continue;
      const item = { externalId, label: labelOf(before.value, externalId), detail: 'no longer at the source' };
      diff.people.suspended.push(item);
      suspend.push(item);
    }
  }

  const groupRows = await db.selectFrom('co_group').select(['id', 'external_id', 'name', 'description', 'status']).where('co_id', '=', source.coId).where('source_id', '=', source.id).execute();
  const groupsByExternal = new Map(groupRows.map((g) => [g.external_id ?? '', g]));
  const admins = await db.selectFrom('co_group').select('id').where('co_id', '=', source.coId).where('group_type', '=', 'admins').executeTakeFirst();
  const memberRows = await db
    .selectFrom('co_group_member as m')
    .innerJoin('co_person as p', 'p.id', 'm.person_id')
    .select(['m.group_id', 'p.external_id', 'm.owner', 'm.valid_from', 'm.valid_through'])
    .where('m.co_id', '=', source.coId)
    .where('m.source_id', '=', source.id)
    .execute();
  const membersByGroup = new Map<string, Map<string, string>>();
  for (const m of memberRows) {
    const byPerson = membersByGroup.get(m.group_id) ?? new Map<string, string>();
    byPerson.set(m.external_id ?? '', windowKey({ owner: m.owner, validFrom: m.valid_from, validThrough: m.valid_through }));
    membersByGroup.set(m.group_id, byPerson);
  }

  const groups: GroupPlan[] = [];
  const seenGroups = new Set<string>();
  for (const record of snapshot.groups) {
    const kind = record.kind ?? 'standard';
    if (kind === 'members' || seenGroups.has(record.externalId)) continue;
    seenGroups.add(record.externalId);
    const row = kind === 'admins' ? undefined : groupsByExternal.get(record.externalId);
    const item = { externalId: record.externalId, label: record.name };
    if (kind === 'standard') {
      if (!row) diff.groups.added.push(item);
      else if (row.name !== record.name.normalize('NFC') || row.description !== (record.description ?? '') || row.status !== (record.status ?? 'active')) diff.groups.changed.push(item);
      else diff.groups.unchanged++;
    }
    const groupId = kind === 'admins' ? admins?.id : row?.id;
    const current = new Map(groupId ? (membersByGroup.get(groupId) ?? []) : []);
    let membersChange = false;
    const listed = new Set<string>();
    for (const m of record.members) {
      if (listed.has(m.personExternalId)) continue;
      listed.add(m.personExternalId);
      const was = current.get(m.personExternalId);
      const detail = `${record.name}: ${m.personExternalId}`;
      if (was === undefined) {
        diff.memberships.added.push({ externalId: m.personExternalId, label: record.name, detail });
        membersChange = true;
      } else if (was !== windowKey(m)) {
        diff.memberships.changed.push({ externalId: m.personExternalId, label: record.name, detail });
        membersChange = true;
      } else diff.memberships.unchanged++;
    }
    for (const externalId of current.keys()) {
      if (listed.has(externalId)) continue;
      diff.memberships.removed.push({ externalId, label: record.name, detail: `${record.name}: ${externalId}` });
      membersChange = true;
    }
    groups.push({ record, kind, membersChange });
  }
  const removeGroups: DiffItem[] = [];
  if (snapshot.complete) {
    for (const [externalId, row] of groupsByExternal) {
      if (seenGroups.has(externalId)) continue;
      const item = { externalId, label: row.name, detail: 'no longer at the source' };
      diff.groups.removed.push(item);
      removeGroups.push(item);
    }
  }
  return { diff, people, suspend, groups, removeGroups };
}

/** Counts of a diff, as stored in `last_run_counts`. */
export function countsOf(diff: SourceDiff, extra: { mode: 'full' | 'incremental'; dryRun: boolean; skipped: number; ms: number }): SourceRunCounts {
  return {
    ...extra,
    people: { added: diff.people.added.length, changed: diff.people.changed.length, suspended: diff.people.suspended.length, unchanged: diff.people.unchanged },
    groups: { added: diff.groups.added.length, changed: diff.groups.changed.length, removed: diff.groups.removed.length, unchanged: diff.groups.unchanged },
    memberships: { added: diff.memberships.added.length, changed: diff.memberships.changed.length, removed: diff.memberships.removed.length, unchanged: diff.memberships.unchanged },
  };
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Applies a plan through the source writer: people (added, changed), groups, the memberships of
 * groups whose members changed, then removals (groups gone, people suspended). Each object is its
 * own transaction; one that fails is skipped with its reason. `progress` is called after each
 * object with (phase, done, total).
 */
export async function applyReconcile(ctx: CoreContext, source: Source, plan: ReconcilePlan, progress: (phase: string, done: number, total: number) => Promise<void>): Promise<SkippedItem[]> {
  const skipped: SkippedItem[] = [];
  const step = async <T>(kind: SkippedItem['kind'], externalId: string, work: () => Promise<T>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      skipped.push({ kind, externalId, reason: reasonOf(error) });
    }
  };
  const every = <T>(items: T[], phase: string, work: (item: T) => Promise<void>) => async () => {
    for (const [i, item] of items.entries()) {
      await work(item);
      if (i % 100 === 99 || i === items.length - 1) await progress(phase, i + 1, items.length);
    }
  };
  await every(plan.people, 'people', (r) => step('person', r.externalId, () => upsertSourcePerson(ctx, source, r)))();
  await every(plan.groups, 'groups', async (g) => {
    if (g.kind === 'standard') await step('group', g.record.externalId, () => upsertSourceGroup(ctx, source, g.record));
    if (!g.membersChange) return;
    await step('membership', g.record.externalId, async () => {
      const result = await setSourceGroupMembers(ctx, source, { externalId: g.record.externalId, kind: g.kind }, g.record.members);
      for (const p of result.unknownPeople) skipped.push({ kind: 'membership', externalId: `${g.record.externalId}/${p}`, reason: `person ${p} is not brought in by the source` });
    });
  })();
  await every(plan.removeGroups, 'removed groups', (g) => step('group', g.externalId, () => deleteSourceGroup(ctx, source, g.externalId)))();
  await every(plan.suspend, 'suspensions', (p) => step('person', p.externalId, () => suspendSourcePerson(ctx, source, p.externalId)))();
  return skipped;
}
