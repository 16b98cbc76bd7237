import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newId } from '../../db/ids.ts';
import { AppError } from '../errors/app-error.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { insertPeopleBatch, type NewPersonRows } from './person-batch.repository.ts';
import { SEARCH_GATHER_LIMIT, searchPeople } from './person-search.repository.ts';
import { deletePersonPart } from './person.repository.ts';

forEachDialect('People search', (dialect) => {
  const t = useTestApp(dialect);
  const ids = async (coId: string, q: string) => (await searchPeople(t.ctx.db, coId, { q, limit: 50, offset: 0 })).people.map((p) => p.id);

  /** Rows of a person made for bulk loading: one name, a uid, an email. */
  const rowsOf = (coId: string, i: number, createdAt: string, given = 'Many', handle = 'many'): NewPersonRows => {
    const personId = newId();
    return {
      person: { id: personId, co_id: coId, status: 'active', created_at: createdAt, updated_at: createdAt },
      names: [{ id: newId(), co_id: coId, person_id: personId, given, middle: null, family: `Person${i}`, suffix: null, type: 'official', primary_name: 1 }],
      identifiers: [{ id: newId(), co_id: coId, person_id: personId, identifier: `${handle}${i}`, type: 'uid', login: 1, status: 'active', created_at: createdAt }],
      emails: [{ id: newId(), co_id: coId, person_id: personId, mail: `${handle}${i}@bulk.example`, type: 'official', verified: 1 }],
    };
  };

  it('finds a name from the start of any of its words, an identifier or an email address from its start, and an email by its domain; exact values too', async () => {
    const co = await buildCo(t);
    const ada = await buildPerson(t, co.id, { given: 'Ada', family: 'King Lovelace', username: 'aking', email: 'Ada.Lovelace@Analytical.example' });
    const other = await buildPerson(t, co.id, { given: 'Charles', family: 'Babbage', username: 'cbabbage', email: 'charles@engine.example' });
    for (const q of ['ada', 'ADA KING', 'Ada King Lovelace', 'king lov', 'king', 'lovelace', 'LOVE', 'aking', 'aKi', 'ada.lovelace@', 'ada.lovelace@analytical.example', 'analytical.EX', 'analytical.example']) {
      assert.deepEqual(await ids(co.id, q), [ada.id], q);
    }
    // Not from the middle of a word, an identifier or an address.
    for (const q of ['velace', 'king ada', 'ytical', 'ing', 'lovelace@']) assert.deepEqual(await ids(co.id, q), [], q);
    assert.deepEqual(await ids(co.id, 'cbabbage'), [other.id]);
    assert.deepEqual(await ids(co.id, 'engine.example'), [other.id]);
  });

  it('forgets what a removed name, identifier or email address found', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id, { given: 'Grace', family: 'Hopper', username: 'ghopper', email: 'grace@navy.example' });
    assert.deepEqual(await ids(co.id, 'navy.example'), [person.id]);
    await deletePersonPart(t.ctx.db, 'email_address', co.id, person.emails[0]!.id);
    assert.deepEqual(await ids(co.id, 'navy.example'), []);
    assert.deepEqual(await ids(co.id, 'grace@'), []);
    await deletePersonPart(t.ctx.db, 'identifier', co.id, person.identifiers[0]!.id);
    assert.deepEqual(await ids(co.id, 'ghopper'), []);
    assert.deepEqual(await ids(co.id, 'hopper'), [person.id], 'the name still finds them');
    // Another CO's id removes nothing.
    const elsewhere = await buildCo(t);
    await deletePersonPart(t.ctx.db, 'name', elsewhere.id, person.names[0]!.id);
    assert.deepEqual(await ids(co.id, 'hopper'), [person.id]);
  });

  it('forgets the terms of a row however it is deleted: by condition, in bulk, or by SQL that knows nothing of search terms', async () => {
    const co = await buildCo(t);
    const a = await buildPerson(t, co.id, { given: 'Katherine', family: 'Johnson', username: 'kjohnson', email: 'katherine@nasa.example' });
    const b = await buildPerson(t, co.id, { given: 'Dorothy', family: 'Vaughan', username: 'dvaughan', email: 'dorothy@nasa.example' });
    const terms = async (personId: string) => (await t.ctx.db.selectFrom('person_search_term').select('part_id').where('person_id', '=', personId).execute()).length;
    assert.ok((await terms(a.id)) > 0 && (await terms(b.id)) > 0);
    await t.ctx.db.deleteFrom('email_address').where('co_id', '=', co.id).where('mail', 'like', '%@nasa.example').execute();
    assert.deepEqual(await ids(co.id, 'nasa.example'), []);
    await t.ctx.db.deleteFrom('identifier').where('person_id', 'in', [a.id, b.id]).execute();
    assert.deepEqual(await ids(co.id, 'kjohnson'), []);
    assert.deepEqual(await ids(co.id, 'dvaughan'), []);
    assert.deepEqual(await ids(co.id, 'johnson'), [a.id], 'the name still finds them');
    await t.ctx.db.deleteFrom('name').where('id', '=', a.names[0]!.id).execute();
    assert.deepEqual(await ids(co.id, 'johnson'), []);
    assert.equal(await terms(a.id), 0, 'no term outlives its row');
    assert.deepEqual(await ids(co.id, 'vaughan'), [b.id], 'another person’s name is untouched');
  });

  it('pages a common term newest first across both plans, with exact totals or totals counted up to a limit', async () => {
    const co = await buildCo(t);
    const count = SEARCH_GATHER_LIMIT + 30;
    const base = Date.parse('2026-01-01T00:00:00Z');
    const people = Array.from({ length: count }, (_, i) => rowsOf(co.id, i, new Date(base + i * 1000).toISOString()));
    await t.ctx.db.transaction().execute((trx) => insertPeopleBatch(trx, people));
    const newest = [...people].reverse().map((p) => p.person.id);

    // More matches than are gathered: the CO is walked newest first.
    const page1 = await searchPeople(t.ctx.db, co.id, { q: 'many', limit: 25, offset: 0 });
    assert.deepEqual(page1.people.map((p) => p.id), newest.slice(0, 25));
    assert.deepEqual([page1.total, page1.totalIsAtLeast], [count, false]);
    const page3 = await searchPeople(t.ctx.db, co.id, { q: 'MANY', limit: 25, offset: 50, countUpTo: 1000 });
    assert.deepEqual(page3.people.map((p) => p.id), newest.slice(50, 75));
    assert.deepEqual([page3.total, page3.totalIsAtLeast], [1000, true]);

    // Fewer: gathered from the index and sorted (many1… starts many1, many10–19, many100–199, many1000–1999).
    const fewer = await searchPeople(t.ctx.db, co.id, { q: 'many1', limit: 25, offset: 0 });
    const expected = people.filter((p) => p.identifiers[0]!.identifier.startsWith('many1')).reverse().map((p) => p.person.id);
    assert.equal(fewer.total, expected.length);
    assert.deepEqual(fewer.people.map((p) => p.id), expected.slice(0, 25));
    const capped = await searchPeople(t.ctx.db, co.id, { q: 'many1', limit: 25, offset: 0, countUpTo: 100 });
    assert.deepEqual([capped.total, capped.totalIsAtLeast], [100, true]);
    // More people than SEARCH_GATHER_LIMIT, one term each ("personI"): every match is known from the
    // terms read and sorted here; the page and the exact count are those of any other plan.
    const single = await searchPeople(t.ctx.db, co.id, { q: 'person', limit: 25, offset: 25 });
    assert.deepEqual(single.people.map((p) => p.id), newest.slice(25, 50));
    assert.deepEqual([single.total, single.totalIsAtLeast], [count, false]);
    assert.deepEqual(await ids(co.id, 'many2021'), [people[2021]!.person.id]);
    assert.deepEqual(await ids(co.id, 'person2021'), [people[2021]!.person.id]);
    assert.deepEqual(await ids(co.id, 'many2021@bulk.example'), [people[2021]!.person.id]);

    // Old matches behind many newer people who do not match: after walking `walkLimit` people the
    // matches are sorted in full instead, with the same page.
    const newer = Array.from({ length: 1500 }, (_, i) => rowsOf(co.id, 100000 + i, new Date(base + (count + i) * 1000).toISOString(), 'Newer', 'newer'));
    await t.ctx.db.transaction().execute((trx) => insertPeopleBatch(trx, newer));
    for (const walkLimit of [1000, 100_000]) {
      const old = await searchPeople(t.ctx.db, co.id, { q: 'Many', limit: 25, offset: 25, walkLimit });
      assert.deepEqual(old.people.map((p) => p.id), newest.slice(25, 50), `walk limit ${walkLimit}`);
      assert.equal(old.total, count);
    }
    const newestAll = [...newer].reverse().map((p) => p.person.id).concat(newest);

    // No search: the CO newest first, counted exactly or up to a limit.
    const all = await searchPeople(t.ctx.db, co.id, { limit: 10, offset: 0, countUpTo: 100 });
    assert.deepEqual(all.people.map((p) => p.id), newestAll.slice(0, 10));
    assert.deepEqual([all.total, all.totalIsAtLeast], [100, true]);
    assert.equal((await searchPeople(t.ctx.db, co.id, { limit: 10, offset: 0 })).total, count + newer.length);
  });

  it('loads people in bulk under the same identifier rules as one at a time', async () => {
    const co = await buildCo(t);
    const existing = await buildPerson(t, co.id, { username: 'adaq' });
    const clash = rowsOf(co.id, 1, new Date().toISOString());
    clash.identifiers[0]!.identifier = 'AdaQ';
    await assert.rejects(
      t.ctx.db.transaction().execute((trx) => insertPeopleBatch(trx, [rowsOf(co.id, 0, new Date().toISOString()), clash])),
      (e: unknown) => e instanceof AppError && e.code === 'IDENTIFIER_TAKEN',
    );
    assert.deepEqual(await ids(co.id, 'many'), [], 'the batch was rolled back whole');
    assert.deepEqual(await ids(co.id, 'adaq'), [existing.id]);
  });
});
