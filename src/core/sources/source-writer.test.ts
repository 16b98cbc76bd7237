import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newId } from '../../db/ids.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import type { AppError } from '../errors/app-error.ts';
import { addMembership, listGroups, removeMembership, updateGroup } from '../groups/group.service.ts';
import { addIdentifier, getPerson, removeIdentifier, setPersonStatus, deletePerson } from '../people/person.service.ts';
import { buildCo, buildPerson, everyRow, forEachDialect, useTestApp } from '../../../test/support/test-app.ts';
import { findSource, insertSource, type Source } from './source.repository.ts';
import { searchPeople } from '../people/person-search.repository.ts';
import { setSourceGroupMembers, upsertSourceGroup, removeSourceGroupMembers } from './source-group.writer.ts';
import { detachSourcePerson, suspendSourcePerson, upsertSourcePerson } from './source-person.writer.ts';
import { applyReconcile, planReconcile } from './source-reconcile.ts';
import type { SourcePersonRecord, SourceSnapshot } from './source-records.ts';
import { finaliseSource, terminateSource } from './source-lifecycle.service.ts';

const isError = (code: string, status: number) => (e: AppError) => {
  assert.equal(e.code, code);
  assert.equal(e.status, status);
  return true;
};

const person = (externalId: string, uid: string, extra: Partial<SourcePersonRecord> = {}): SourcePersonRecord => ({
  externalId,
  status: 'active',
  names: [{ given: 'Zoë', family: 'Ångström-Łukasiewicz', type: 'official', primary: true }],
  identifiers: [{ identifier: uid, type: 'uid', login: true }, { identifier: `${uid}+cn=x,o=y@example.org`, type: 'eppn' }],
  emails: [{ mail: `${uid}@example.org`, type: 'official', verified: true }],
  ...extra,
});

forEachDialect('Source writer', (dialect) => {
  const t = useTestApp(dialect);

  async function buildSource(coId: string, name = `src-${newId().slice(0, 6)}`): Promise<Source> {
    const id = newId();
    const now = t.clock.now().toISOString();
    await insertSource(t.ctx.db, {
      id, co_id: coId, kind: 'test', name, settings_encrypted: t.ctx.secretBox.seal('{}'), status: 'active',
      last_run_at: null, last_full_run_at: null, last_run_counts: null, last_error: null, watermark: null, progress: null, created_at: now, updated_at: now,
    });
    return (await findSource(t.ctx.db, coId, id))!;
  }

  const historyOf = (personId: string) => t.db.selectFrom('history_record').select(['action', 'actor_label', 'comment']).where('person_id', '=', personId).orderBy('created_at').execute();

  it('adds a person with source-owned rows, changes nothing on an identical update, and keeps local rows on every update', async () => {
    const co = await buildCo(t);
    const source = await buildSource(co.id);
    const first = await upsertSourcePerson(t.ctx, source, person('101', 'zoe'));
    assert.equal(first.outcome, 'added');
    const again = await upsertSourcePerson(t.ctx, source, person('101', 'zoe'));
    assert.deepEqual(again, { personId: first.personId, outcome: 'unchanged' });
    const history = await historyOf(first.personId);
    assert.equal(history.length, 1, 'an unchanged update writes no history');
    assert.equal(history[0]!.action, 'SOURCE_PERSON_ADDED');
    assert.equal(history[0]!.actor_label, `source ${source.name}`);

    const localId = await addIdentifier(t.ctx, SYSTEM_ACTOR, co.id, first.personId, { identifier: 'zoe-local', type: 'network', login: false });
    const changed = await upsertSourcePerson(t.ctx, source, person('101', 'zoe', { emails: [{ mail: 'zoe@new.example.org', type: 'official', verified: true }] }));
    assert.equal(changed.outcome, 'changed');
    const p = await getPerson(t.ctx, SYSTEM_ACTOR, co.id, first.personId);
    assert.deepEqual(p.emails.map((e) => [e.mail, e.sourceId]), [['zoe@new.example.org', source.id]]);
    assert.ok(p.identifiers.some((i) => i.id === localId && i.sourceId === undefined), 'the local identifier survives the update');
    assert.deepEqual(p.source, { id: source.id, name: source.name, externalId: '101' });
    assert.equal(p.displayName, 'Zoë Ångström-Łukasiewicz');

    const sourceIdent = p.identifiers.find((i) => i.type === 'uid')!;
    await assert.rejects(removeIdentifier(t.ctx, SYSTEM_ACTOR, co.id, p.id, sourceIdent.id), (e: AppError) => isError('SOURCE_OWNED', 409)(e) && e.message.includes(source.name));
    await assert.rejects(setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, p.id, 'suspended'), isError('SOURCE_OWNED', 409));
    await assert.rejects(deletePerson(t.ctx, SYSTEM_ACTOR, co.id, p.id), isError('SOURCE_OWNED', 409));
    await removeIdentifier(t.ctx, SYSTEM_ACTOR, co.id, p.id, localId);
  });

  it('refuses an identifier another person holds, leaving the person as it was', async () => {
    const co = await buildCo(t);
    const source = await buildSource(co.id);
    await buildPerson(t, co.id, { username: 'taken' });
    await assert.rejects(upsertSourcePerson(t.ctx, source, person('7', 'taken')), isError('IDENTIFIER_TAKEN', 409));
    assert.equal((await t.db.selectFrom('co_person').select('id').where('source_id', '=', source.id).execute()).length, 0);
  });

  it('suspends a person removed at the source and makes them active again when they come back', async () => {
    const co = await buildCo(t);
    const source = await buildSource(co.id);
    const { personId } = await upsertSourcePerson(t.ctx, source, person('1', 'ann'));
    assert.equal(await suspendSourcePerson(t.ctx, source, '1'), 'changed');
    assert.equal(await suspendSourcePerson(t.ctx, source, '1'), 'unchanged');
    assert.equal((await getPerson(t.ctx, SYSTEM_ACTOR, co.id, personId)).status, 'suspended');
    assert.equal((await upsertSourcePerson(t.ctx, source, person('1', 'ann'))).outcome, 'changed');
    assert.equal((await getPerson(t.ctx, SYSTEM_ACTOR, co.id, personId)).status, 'active');
    assert.deepEqual((await historyOf(personId)).map((h) => h.action), ['SOURCE_PERSON_ADDED', 'SOURCE_PERSON_STATUS_CHANGED', 'SOURCE_PERSON_UPDATED']);
  });

  it('keeps source and local memberships of one group side by side', async () => {
    const co = await buildCo(t);
    const source = await buildSource(co.id);
    const { personId } = await upsertSourcePerson(t.ctx, source, person('1', 'bob'));
    const { groupId } = await upsertSourceGroup(t.ctx, source, { externalId: 'g1', name: 'Physicists', description: 'Φ' });
    const later = new Date(t.clock.now().getTime() + 86_400_000).toISOString();
    const set = await setSourceGroupMembers(t.ctx, source, { externalId: 'g1' }, [{ personExternalId: '1', validThrough: later }, { personExternalId: 'nobody' }]);
    assert.deepEqual(set, { added: 1, changed: 0, removed: 0, unknownPeople: ['nobody'] });
    const local = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, groupId!, { personId, member: true, owner: false });
    const rows = await t.db.selectFrom('co_group_member').select(['id', 'source_id', 'valid_through']).where('group_id', '=', groupId!).orderBy('source_id').execute();
    assert.equal(rows.length, 2);
    const sourceRow = rows.find((r) => r.source_id === source.id)!;
    assert.equal(sourceRow.valid_through, later);
    await assert.rejects(removeMembership(t.ctx, SYSTEM_ACTOR, co.id, groupId!, sourceRow.id), isError('SOURCE_OWNED', 409));
    await assert.rejects(updateGroup(t.ctx, SYSTEM_ACTOR, co.id, groupId!, { name: 'Renamed', description: '', status: 'active' }), isError('SOURCE_OWNED', 409));
    assert.deepEqual(await removeSourceGroupMembers(t.ctx, source, { externalId: 'g1' }, ['1']), { added: 0, changed: 0, removed: 1, unknownPeople: [] });
    const left = await t.db.selectFrom('co_group_member').select('id').where('group_id', '=', groupId!).execute();
    assert.deepEqual(left.map((r) => r.id), [local.id], 'the local membership stays');
    // The admins group maps to the CO's own.
    await setSourceGroupMembers(t.ctx, source, { externalId: 'admins', kind: 'admins' }, [{ personExternalId: '1' }]);
    const admins = (await listGroups(t.ctx, SYSTEM_ACTOR, co.id)).find((g) => g.type === 'admins')!;
    assert.equal((await t.db.selectFrom('co_group_member').select('id').where('group_id', '=', admins.id).where('source_id', '=', source.id).execute()).length, 1);
  });

  it('plans a snapshot without writing, applies it, then finds nothing to change; absent people are suspended', async () => {
    const co = await buildCo(t);
    const source = await buildSource(co.id);
    const snapshot: SourceSnapshot = {
      complete: true,
      people: [person('1', 'p1'), person('2', 'p2'), person('3', 'p3', { status: 'grace_period' })],
      groups: [
        { externalId: '10', name: 'Wiki editors', members: [{ personExternalId: '1' }, { personExternalId: '2', validFrom: '2030-01-01T00:00:00.000Z' }] },
        { externalId: '11', name: 'CO:members:active', kind: 'members', members: [{ personExternalId: '1' }] },
      ],
    };
    const before = await everyRow(t.db);
    const plan = await planReconcile(t.ctx, source, snapshot);
    assert.deepEqual(await everyRow(t.db), before, 'planning writes nothing');
    assert.equal(plan.diff.people.added.length, 3);
    assert.equal(plan.diff.groups.added.length, 1);
    assert.equal(plan.diff.memberships.added.length, 2);
    assert.deepEqual(await applyReconcile(t.ctx, source, plan, async () => {}), []);
    const again = await planReconcile(t.ctx, source, snapshot);
    assert.deepEqual({ ...again.diff, people: { ...again.diff.people }, memberships: { ...again.diff.memberships } }, {
      people: { added: [], changed: [], suspended: [], unchanged: 3 },
      groups: { added: [], changed: [], removed: [], unchanged: 1 },
      memberships: { added: [], changed: [], removed: [], unchanged: 2 },
    });
    const without2: SourceSnapshot = { ...snapshot, people: snapshot.people.filter((p) => p.externalId !== '2'), groups: [{ ...snapshot.groups[0]!, members: [{ personExternalId: '1' }] }] };
    const plan3 = await planReconcile(t.ctx, source, without2);
    assert.deepEqual(plan3.diff.people.suspended.map((p) => p.externalId), ['2']);
    assert.deepEqual(plan3.diff.memberships.removed.map((m) => m.externalId), ['2']);
    await applyReconcile(t.ctx, source, plan3, async () => {});
    const two = await t.db.selectFrom('co_person').select('status').where('source_id', '=', source.id).where('external_id', '=', '2').executeTakeFirstOrThrow();
    assert.equal(two.status, 'suspended');
  });

  it('keeps the People search in step with what the source writes: new names and identifiers are found, replaced ones no longer', async () => {
    const co = await buildCo(t);
    const source = await buildSource(co.id);
    const found = async (q: string) => (await searchPeople(t.db, co.id, { q, limit: 10, offset: 0 })).people.map((p) => p.id);
    const { personId } = await upsertSourcePerson(t.ctx, source, person('1', 'quill'));
    assert.deepEqual(await found('Ångström'), [personId]);
    assert.deepEqual(await found('quill'), [personId]);
    assert.deepEqual(await found('quill@example.org'), [personId]);
    await upsertSourcePerson(t.ctx, source, person('1', 'quenby', {
      names: [{ given: 'Rosalind', family: 'Franklin', type: 'official', primary: true }],
      emails: [{ mail: 'rf@kings.example', type: 'official', verified: true }],
    }));
    assert.deepEqual(await found('Franklin'), [personId]);
    assert.deepEqual(await found('quenby'), [personId]);
    assert.deepEqual(await found('kings.example'), [personId]);
    assert.deepEqual(await found('Ångström'), [], 'the replaced name is no longer found');
    assert.deepEqual(await found('quill'), [], 'the removed identifier and email are no longer found');
  });

  it('detach and finalise keep the local membership where the person has one of the same group beside the source\'s', async () => {
    const co = await buildCo(t);
    const source = await buildSource(co.id);
    const { personId: ada } = await upsertSourcePerson(t.ctx, source, person('1', 'ada'));
    const { personId: lin } = await upsertSourcePerson(t.ctx, source, person('2', 'lin'));
    const { groupId } = await upsertSourceGroup(t.ctx, source, { externalId: 'g', name: 'Both kinds' });
    await setSourceGroupMembers(t.ctx, source, { externalId: 'g' }, [{ personExternalId: '1' }, { personExternalId: '2' }]);
    const adaLocal = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, groupId!, { personId: ada, member: true, owner: false });
    const linLocal = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, groupId!, { personId: lin, member: true, owner: false });
    const membershipsOf = (personId: string) => t.db.selectFrom('co_group_member').select(['id', 'source_id']).where('group_id', '=', groupId!).where('person_id', '=', personId).execute();

    assert.equal(await detachSourcePerson(t.ctx, source, '1'), true);
    assert.deepEqual(await membershipsOf(ada), [{ id: adaLocal.id, source_id: null }]);
    assert.equal((await membershipsOf(lin)).length, 2, 'the other person is untouched');

    const counts = await finaliseSource(t.ctx, SYSTEM_ACTOR, co.id, source.id);
    assert.deepEqual(await membershipsOf(lin), [{ id: linLocal.id, source_id: null }]);
    assert.equal(counts.co_person, 1);
    assert.equal(counts.co_group_member, 0);
  });

  it('finalise hands everything to Tessera; terminate removes what the source brought in', async () => {
    const co = await buildCo(t);
    const kept = await buildSource(co.id);
    const { personId } = await upsertSourcePerson(t.ctx, kept, person('1', 'fin'));
    await upsertSourceGroup(t.ctx, kept, { externalId: 'g', name: 'Final group' });
    await setSourceGroupMembers(t.ctx, kept, { externalId: 'g' }, [{ personExternalId: '1' }]);
    const counts = await finaliseSource(t.ctx, SYSTEM_ACTOR, co.id, kept.id);
    assert.equal(counts.co_person, 1);
    assert.equal(counts.co_group_member, 1);
    const p = await getPerson(t.ctx, SYSTEM_ACTOR, co.id, personId);
    assert.equal(p.source, undefined);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, personId, 'suspended');
    await assert.rejects(upsertSourcePerson(t.ctx, { ...kept, status: 'finalised' }, person('1', 'fin')), isError('SOURCE_NOT_ACTIVE', 422));

    const gone = await buildSource(co.id);
    const local = await buildPerson(t, co.id, { username: 'stays' });
    const { personId: goneId } = await upsertSourcePerson(t.ctx, gone, person('9', 'gone'));
    await setSourceGroupMembers(t.ctx, gone, { externalId: 'a', kind: 'admins' }, [{ personExternalId: '9' }]);
    const result = await terminateSource(t.ctx, SYSTEM_ACTOR, co.id, gone.id);
    assert.deepEqual(result, { people: 1, groups: 0, memberships: 1, keptGroups: [] });
    assert.equal(await t.db.selectFrom('co_person').select('id').where('id', '=', goneId).executeTakeFirst(), undefined);
    assert.ok(await t.db.selectFrom('co_person').select('id').where('id', '=', local.id).executeTakeFirst());
    const actions = await t.db.selectFrom('history_record').select('action').where('co_id', '=', co.id).where('action', 'in', ['SOURCE_FINALISED', 'SOURCE_TERMINATED']).execute();
    assert.equal(actions.length, 2);
    assert.equal(await detachSourcePerson(t.ctx, gone, '9'), false);
  });
});
