import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import type { AppError } from '../errors/app-error.ts';
import { actorFor, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import {
  addEmail,
  addIdentifier,
  addIdentifierType,
  addName,
  allIdentifierTypes,
  createPerson,
  deletePerson,
  getPerson,
  listPeople,
  removeEmail,
  removeIdentifier,
  removeName,
  setPersonStatus,
} from './person.service.ts';

const isError = (code: string, status: number, field?: string) => (e: AppError) => {
  assert.equal(e.code, code);
  assert.equal(e.status, status);
  if (field !== undefined) assert.equal(e.field, field);
  return true;
};

forEachDialect('People', (dialect) => {
  const t = useTestApp(dialect);

  it('creates a person with a name, identifiers and email addresses, and records it', async () => {
    const co = await buildCo(t);
    const person = await createPerson(t.ctx, SYSTEM_ACTOR, co.id, {
      status: 'active',
      name: { given: 'Ada', middle: 'King', family: 'Lovelace', suffix: null },
      identifiers: [
        { identifier: 'ada', type: 'uid', login: true },
        { identifier: 'ada@example.org', type: 'eppn', login: false },
      ],
      emails: [{ mail: 'ada@example.org', type: 'official', verified: true }],
    });
    assert.equal(person.coId, co.id);
    assert.equal(person.status, 'active');
    assert.equal(person.displayName, 'Ada King Lovelace');
    assert.deepEqual(
      person.names.map(({ id: _id, ...n }) => n),
      [{ given: 'Ada', middle: 'King', family: 'Lovelace', suffix: null, type: 'official', primary: true }],
    );
    assert.deepEqual(
      person.identifiers.map(({ id: _id, ...i }) => i),
      [
        { identifier: 'ada@example.org', type: 'eppn', login: false, status: 'active' },
        { identifier: 'ada', type: 'uid', login: true, status: 'active' },
      ],
    );
    assert.deepEqual(person.emails.map(({ id: _id, ...e }) => e), [{ mail: 'ada@example.org', type: 'official', verified: true }]);

    const rows = await t.ctx.db.selectFrom('identifier').select(['identifier', 'type', 'login', 'co_id']).where('person_id', '=', person.id).orderBy('type').execute();
    assert.deepEqual(rows, [
      { identifier: 'ada@example.org', type: 'eppn', login: 0, co_id: co.id },
      { identifier: 'ada', type: 'uid', login: 1, co_id: co.id },
    ]);
    const history = await t.ctx.db.selectFrom('history_record').select(['action', 'actor_label', 'comment']).where('person_id', '=', person.id).execute();
    assert.deepEqual(history, [{ action: 'PERSON_CREATED', actor_label: 'system', comment: 'CO Person Ada King Lovelace created with status active' }]);
  });

  it('keeps (identifier, type) unique within a CO, but not across COs or types', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const first = await buildPerson(t, co.id, { username: 'shared-name' });
    const second = await buildPerson(t, co.id);

    await assert.rejects(
      createPerson(t.ctx, SYSTEM_ACTOR, co.id, { status: 'active', name: { given: 'Dup' }, identifiers: [{ identifier: 'shared-name', type: 'uid', login: false }], emails: [] }),
      isError('IDENTIFIER_TAKEN', 409, 'identifiers.0.identifier'),
    );
    await assert.rejects(addIdentifier(t.ctx, SYSTEM_ACTOR, co.id, second.id, { identifier: 'shared-name', type: 'uid', login: false }), isError('IDENTIFIER_TAKEN', 409, 'identifier'));
    // The failed creation rolled back entirely: no half-made person with the name "Dup".
    const dups = await t.ctx.db.selectFrom('name').select('id').where('co_id', '=', co.id).where('given', '=', 'Dup').execute();
    assert.deepEqual(dups, []);

    // Same value, another type, same CO: fine.
    await addIdentifier(t.ctx, SYSTEM_ACTOR, co.id, second.id, { identifier: 'shared-name', type: 'eppn', login: false });
    // Same value and type, another CO: fine.
    const elsewhere = await buildPerson(t, other.id, { username: 'shared-name' });
    assert.equal(elsewhere.identifiers[0]!.identifier, 'shared-name');

    const count = await t.ctx.db.selectFrom('identifier').select('person_id').where('identifier', '=', 'shared-name').execute();
    assert.deepEqual(new Set(count.map((r) => r.person_id)), new Set([first.id, second.id, elsewhere.id]));
  });

  it('rejects an unknown identifier type; CO-defined types extend the built-in list in that CO only', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const person = await buildPerson(t, co.id);
    await assert.rejects(addIdentifier(t.ctx, SYSTEM_ACTOR, co.id, person.id, { identifier: 'x-1', type: 'badge', login: false }), isError('IDENTIFIER_TYPE_UNKNOWN', 400, 'type'));
    await assert.rejects(
      createPerson(t.ctx, SYSTEM_ACTOR, co.id, { status: 'active', name: { given: 'Nope' }, identifiers: [{ identifier: 'x', type: 'badge', login: false }], emails: [] }),
      isError('IDENTIFIER_TYPE_UNKNOWN', 400, 'type'),
    );

    await addIdentifierType(t.ctx, SYSTEM_ACTOR, co.id, 'badge');
    assert.ok((await allIdentifierTypes(t.ctx.db, co.id)).includes('badge'));
    assert.ok((await allIdentifierTypes(t.ctx.db, co.id)).includes('uid'));
    assert.ok(!(await allIdentifierTypes(t.ctx.db, other.id)).includes('badge'));
    await assert.rejects(addIdentifierType(t.ctx, SYSTEM_ACTOR, co.id, 'badge'), isError('IDENTIFIER_TYPE_TAKEN', 409, 'name'));
    await assert.rejects(addIdentifierType(t.ctx, SYSTEM_ACTOR, co.id, 'eppn'), isError('IDENTIFIER_TYPE_TAKEN', 409, 'name'));

    const id = await addIdentifier(t.ctx, SYSTEM_ACTOR, co.id, person.id, { identifier: 'B-42', type: 'badge', login: false });
    const row = await t.ctx.db.selectFrom('identifier').select(['identifier', 'type']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { identifier: 'B-42', type: 'badge' });

    const otherPerson = await buildPerson(t, other.id);
    await assert.rejects(addIdentifier(t.ctx, SYSTEM_ACTOR, other.id, otherPerson.id, { identifier: 'B-42', type: 'badge', login: false }), isError('IDENTIFIER_TYPE_UNKNOWN', 400));
  });

  it('records status changes in history with the actor who made them', async () => {
    const co = await buildCo(t);
    const admin = await buildPerson(t, co.id, { admin: true, username: `admin-${co.id.slice(0, 6)}` });
    const person = await buildPerson(t, co.id);
    const actor = await actorFor(t, admin.username);
    t.clock.advance(1000);
    await setPersonStatus(t.ctx, actor, co.id, person.id, 'suspended');

    const row = await t.ctx.db.selectFrom('co_person').select(['status', 'updated_at']).where('id', '=', person.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'suspended');
    assert.equal(row.updated_at, t.clock.now().toISOString());
    const history = await t.ctx.db
      .selectFrom('history_record')
      .select(['action', 'actor_label', 'actor_person_id', 'comment', 'person_id', 'co_id'])
      .where('person_id', '=', person.id)
      .where('action', '=', 'PERSON_STATUS_CHANGED')
      .execute();
    assert.deepEqual(history, [
      { action: 'PERSON_STATUS_CHANGED', actor_label: admin.username, actor_person_id: admin.id, comment: 'Status changed from active to suspended', person_id: person.id, co_id: co.id },
    ]);
  });

  it('searches the starts of names, identifiers and emails case-insensitively, with % and _ taken literally, and pages with totals', async () => {
    const co = await buildCo(t);
    const grace = await buildPerson(t, co.id, { given: 'Grace', family: 'Hopper', username: 'ghopper', email: 'Grace.Hopper@Navy.example' });
    t.clock.advance(1);
    const alan = await buildPerson(t, co.id, { given: 'Alan', family: 'Turing', username: 'aturing', email: 'alan@bletchley.example' });
    t.clock.advance(1);
    const percent = await buildPerson(t, co.id, { given: 'Hundred', family: '100%', username: 'under_score' });
    t.clock.advance(1);
    const plain = await buildPerson(t, co.id, { given: 'Under', family: 'Xscore', username: 'underxscore' });
    // Another CO's person matching everything must never appear.
    const other = await buildCo(t);
    await buildPerson(t, other.id, { given: 'Grace', family: 'Hopper', username: 'ghopper' });

    const ids = async (q: string) => (await listPeople(t.ctx, SYSTEM_ACTOR, co.id, { q, page: 1, pageSize: 25 })).people.map((p) => p.id);
    assert.deepEqual(await ids('GRACE hop'), [grace.id]);
    assert.deepEqual(await ids('TURING'), [alan.id]);
    assert.deepEqual(await ids('AtUr'), [alan.id]);
    assert.deepEqual(await ids('navy.EXAMPLE'), [grace.id]);
    assert.deepEqual(await ids('100%'), [percent.id]);
    assert.deepEqual(await ids('hundred 100%'), [percent.id]);
    assert.deepEqual(await ids('10%'), [], '% is a character, not a wildcard');
    assert.deepEqual(await ids('under_'), [percent.id], '_ is a character: underxscore does not match');
    assert.deepEqual(await ids('under_score'), [percent.id]);
    assert.deepEqual(await ids('nobody-like-this'), []);

    const all = await listPeople(t.ctx, SYSTEM_ACTOR, co.id, { page: 1, pageSize: 3 });
    assert.equal(all.total, 4);
    assert.deepEqual(all.people.map((p) => p.id), [plain.id, percent.id, alan.id]);
    const page2 = await listPeople(t.ctx, SYSTEM_ACTOR, co.id, { page: 2, pageSize: 3 });
    assert.equal(page2.total, 4);
    assert.equal(page2.page, 2);
    assert.deepEqual(page2.people.map((p) => p.id), [grace.id]);
    // "under" starts under_score (Hundred 100%) and both "Under Xscore" and underxscore (one person).
    const filtered = await listPeople(t.ctx, SYSTEM_ACTOR, co.id, { q: 'under', page: 1, pageSize: 1 });
    assert.equal(filtered.total, 2);
    assert.equal(filtered.people.length, 1);
  });

  it('finds names with non-ASCII letters, typed as stored and (where the database folds them) in any case', async () => {
    const co = await buildCo(t);
    const emile = await buildPerson(t, co.id, { given: 'Émile', family: 'Öztürk', username: 'eozturk' });
    const ids = async (q: string) => (await listPeople(t.ctx, SYSTEM_ACTOR, co.id, { q, page: 1, pageSize: 25 })).people.map((p) => p.id);
    assert.deepEqual(await ids('Émile'), [emile.id]);
    assert.deepEqual(await ids('Öztürk'), [emile.id]);
    assert.deepEqual(await ids('ÉMILE'), [emile.id], 'the ASCII letters still fold');
    // SQLite folds every letter (Tessera gives it a Unicode lower()); PostgreSQL folds by its
    // locale, and the test cluster runs with --locale=C, which folds ASCII only.
    if (dialect === 'sqlite') {
      assert.deepEqual(await ids('émile'), [emile.id]);
      assert.deepEqual(await ids('ÖZTÜRK'), [emile.id]);
    }
  });

  it('lets a person read themselves but not others, and not list people', async () => {
    const co = await buildCo(t);
    const me = await buildPerson(t, co.id);
    const someone = await buildPerson(t, co.id);
    const actor = await actorFor(t, me.username);
    assert.equal((await getPerson(t.ctx, actor, co.id, me.id)).id, me.id);
    await assert.rejects(getPerson(t.ctx, actor, co.id, someone.id), isError('PERSON_NOT_FOUND', 404));
    await assert.rejects(listPeople(t.ctx, actor, co.id, { page: 1, pageSize: 10 }), isError('FORBIDDEN', 403));
    await assert.rejects(setPersonStatus(t.ctx, actor, co.id, me.id, 'active'), isError('FORBIDDEN', 403));
  });

  it("keeps an admin of CO A away from CO B's people, even with B's ids", async () => {
    const a = await buildCo(t);
    const b = await buildCo(t);
    const adminA = await buildPerson(t, a.id, { admin: true });
    const victim = await buildPerson(t, b.id, { given: 'Bea', email: 'bea@b.example' });
    const actor = await actorFor(t, adminA.username);
    const before = await snapshot(victim.id);

    // Through B's own CO id: not an admin there.
    await assert.rejects(getPerson(t.ctx, actor, b.id, victim.id), isError('PERSON_NOT_FOUND', 404));
    await assert.rejects(listPeople(t.ctx, actor, b.id, { page: 1, pageSize: 10 }), isError('FORBIDDEN', 403));
    await assert.rejects(setPersonStatus(t.ctx, actor, b.id, victim.id, 'suspended'), isError('FORBIDDEN', 403));
    await assert.rejects(addName(t.ctx, actor, b.id, victim.id, { given: 'Evil', type: 'official', primary: true }), isError('FORBIDDEN', 403));
    await assert.rejects(deletePerson(t.ctx, actor, b.id, victim.id), isError('FORBIDDEN', 403));
    // Through A's CO id with B's person id: the person is not found in A.
    await assert.rejects(getPerson(t.ctx, actor, a.id, victim.id), isError('PERSON_NOT_FOUND', 404));
    await assert.rejects(setPersonStatus(t.ctx, actor, a.id, victim.id, 'suspended'), isError('PERSON_NOT_FOUND', 404));
    await assert.rejects(addIdentifier(t.ctx, actor, a.id, victim.id, { identifier: 'hijack', type: 'uid', login: true }), isError('PERSON_NOT_FOUND', 404));
    await assert.rejects(addEmail(t.ctx, actor, a.id, victim.id, { mail: 'x@a.example', type: 'official', verified: true }), isError('PERSON_NOT_FOUND', 404));
    await assert.rejects(removeIdentifier(t.ctx, actor, a.id, victim.id, victim.identifiers[0]!.id), isError('PERSON_NOT_FOUND', 404));
    await assert.rejects(removeEmail(t.ctx, actor, a.id, victim.id, victim.emails[0]!.id), isError('PERSON_NOT_FOUND', 404));
    await assert.rejects(deletePerson(t.ctx, actor, a.id, victim.id), isError('PERSON_NOT_FOUND', 404));
    // With A's own person, but B's identifier and email ids.
    const mine = await buildPerson(t, a.id);
    await assert.rejects(removeIdentifier(t.ctx, actor, a.id, mine.id, victim.identifiers[0]!.id), isError('IDENTIFIER_NOT_FOUND', 404));
    await assert.rejects(removeEmail(t.ctx, actor, a.id, mine.id, victim.emails[0]!.id), isError('EMAIL_NOT_FOUND', 404));
    await assert.rejects(removeName(t.ctx, actor, a.id, mine.id, victim.names[0]!.id), isError('NAME_NOT_FOUND', 404));

    assert.deepEqual(await snapshot(victim.id), before);
  });

  it('adds and removes names and emails, never the primary name', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id, { given: 'Marie', family: 'Curie' });
    const primaryId = person.names[0]!.id;
    await assert.rejects(removeName(t.ctx, SYSTEM_ACTOR, co.id, person.id, primaryId), isError('VALIDATION_FAILED', 400, 'name'));

    const altId = await addName(t.ctx, SYSTEM_ACTOR, co.id, person.id, { given: 'Maria', family: 'Skłodowska', type: 'alternate', primary: false });
    let loaded = await getPerson(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.equal(loaded.displayName, 'Marie Curie');
    assert.deepEqual(loaded.names.map((n) => [n.id, n.primary]).sort(), [[primaryId, true], [altId, false]].sort());
    await removeName(t.ctx, SYSTEM_ACTOR, co.id, person.id, altId);

    // A new primary name demotes the old one, which then can be removed.
    const newPrimary = await addName(t.ctx, SYSTEM_ACTOR, co.id, person.id, { given: 'Marie', family: 'Skłodowska-Curie', type: 'preferred', primary: true });
    loaded = await getPerson(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.equal(loaded.displayName, 'Marie Skłodowska-Curie');
    assert.equal(loaded.names.filter((n) => n.primary).length, 1);
    await assert.rejects(removeName(t.ctx, SYSTEM_ACTOR, co.id, person.id, newPrimary), isError('VALIDATION_FAILED', 400));
    await removeName(t.ctx, SYSTEM_ACTOR, co.id, person.id, primaryId);
    const names = await t.ctx.db.selectFrom('name').select(['id', 'primary_name']).where('person_id', '=', person.id).execute();
    assert.deepEqual(names, [{ id: newPrimary, primary_name: 1 }]);

    const emailId = await addEmail(t.ctx, SYSTEM_ACTOR, co.id, person.id, { mail: 'marie@example.org', type: 'personal', verified: false });
    assert.deepEqual(await t.ctx.db.selectFrom('email_address').select(['mail', 'type', 'verified']).where('id', '=', emailId).execute(), [{ mail: 'marie@example.org', type: 'personal', verified: 0 }]);
    await removeEmail(t.ctx, SYSTEM_ACTOR, co.id, person.id, emailId);
    assert.deepEqual(await t.ctx.db.selectFrom('email_address').select('id').where('person_id', '=', person.id).execute(), []);

    const actions = await t.ctx.db.selectFrom('history_record').select('action').where('person_id', '=', person.id).orderBy('created_at').orderBy('action').execute();
    assert.deepEqual(new Set(actions.map((a) => a.action)), new Set(['PERSON_CREATED', 'NAME_ADDED', 'NAME_REMOVED', 'EMAIL_ADDED', 'EMAIL_REMOVED']));
  });

  it('deletes a person with everything hanging off them, and keeps the history', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id, { given: 'Gone', family: 'Soon', email: 'gone@example.org' });
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'expired');
    const before = await t.ctx.db.selectFrom('history_record').select('id').where('person_id', '=', person.id).execute();
    assert.equal(before.length, 2);

    await deletePerson(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.equal((await snapshot(person.id)).person, undefined);
    for (const table of ['identifier', 'name', 'email_address', 'co_group_member'] as const) {
      assert.deepEqual(await t.ctx.db.selectFrom(table).select('id').where('person_id', '=', person.id).execute(), [], table);
    }
    // The earlier records are still there (detached from the deleted row), plus the deletion.
    const kept = await t.ctx.db.selectFrom('history_record').select(['id', 'action', 'comment']).where('id', 'in', before.map((r) => r.id)).execute();
    assert.equal(kept.length, 2);
    const deletion = await t.ctx.db.selectFrom('history_record').select(['comment']).where('co_id', '=', co.id).where('action', '=', 'PERSON_DELETED').execute();
    assert.deepEqual(deletion, [{ comment: `CO Person Gone Soon (${person.id}) deleted` }]);
    await assert.rejects(getPerson(t.ctx, SYSTEM_ACTOR, co.id, person.id), isError('PERSON_NOT_FOUND', 404));
  });

  async function snapshot(personId: string) {
    const db = t.ctx.db;
    return {
      person: await db.selectFrom('co_person').selectAll().where('id', '=', personId).executeTakeFirst(),
      names: await db.selectFrom('name').selectAll().where('person_id', '=', personId).orderBy('id').execute(),
      identifiers: await db.selectFrom('identifier').selectAll().where('person_id', '=', personId).orderBy('id').execute(),
      emails: await db.selectFrom('email_address').selectAll().where('person_id', '=', personId).orderBy('id').execute(),
      history: await db.selectFrom('history_record').selectAll().where('person_id', '=', personId).orderBy('id').execute(),
    };
  }
});
