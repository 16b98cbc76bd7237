import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Co } from '../cos/co.service.ts';
import type { TesseraPlugin } from '../plugins/plugin.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, type Browser, type BuiltPerson } from '../../../test/support/test-app.ts';
import { assertEscaped, fieldMessage, fieldValue, followRedirect, get, post, XSS } from '../../../test/support/web-pages.ts';

const personMenuPlugin: TesseraPlugin = {
  id: 'person-menu-test',
  description: 'Adds a person page link',
  setup: () => ({ menus: { personPage: ({ co, person }) => [{ label: 'Service tokens', href: `/cos/${co.id}/people/${person.id}/service-tokens` }] } }),
};

forEachDialect('CO Person pages', (dialect) => {
  const t = useTestApp(dialect, { plugins: [personMenuPlugin] });
  let coA: Co;
  let coB: Co;
  let admin: Browser;
  let adminPerson: BuiltPerson;
  let member: Browser;
  let memberPerson: BuiltPerson;
  let personB: BuiltPerson;
  let adminB: Browser;

  before(async () => {
    coA = await buildCo(t, 'Astronomy');
    coB = await buildCo(t, 'Biology');
    adminPerson = await buildPerson(t, coA.id, { admin: true, given: 'Alice', family: 'Admin' });
    admin = await signIn(t, adminPerson.username);
    memberPerson = await buildPerson(t, coA.id, { given: 'Mo', family: 'Member', email: 'mo@example.org' });
    member = await signIn(t, memberPerson.username);
    personB = await buildPerson(t, coB.id, { admin: true, given: 'Bea', family: 'Other' });
    adminB = await signIn(t, personB.username);
  });

  const people = (coId: string) => `/cos/${coId}/people`;
  const personUrl = (coId: string, personId: string) => `/cos/${coId}/people/${personId}`;

  async function statusOf(personId: string): Promise<string> {
    return (await t.ctx.db.selectFrom('co_person').select('status').where('id', '=', personId).executeTakeFirstOrThrow()).status;
  }

  it('lists people for admins; members get 403, other COs 404, anonymous 401', async () => {
    const res = await get(t, people(coA.id), admin);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Mo Member/);
    assert.match(res.body, /mo@example\.org/);
    assert.ok(res.body.includes(`href="${personUrl(coA.id, memberPerson.id)}"`));
    assert.doesNotMatch(res.body, /Bea Other/);
    assert.equal((await get(t, people(coA.id), member)).statusCode, 403);
    assert.equal((await get(t, people(coA.id), adminB)).statusCode, 404);
    assert.equal((await get(t, people(coA.id))).statusCode, 401);
    assert.equal((await get(t, `${people(coA.id)}/new`, member)).statusCode, 403);
  });

  it('searches by name, identifier and email, case-insensitively, and pages through the results', async () => {
    const co = await buildCo(t, 'Search CO');
    const coAdmin = await signIn(t, (await buildPerson(t, co.id, { admin: true, given: 'Zed', family: 'Admin' })).username);
    for (let i = 0; i < 30; i++) {
      t.clock.advance(1000);
      await buildPerson(t, co.id, { given: 'Galileo', family: `Number${String(i).padStart(2, '0')}`, username: `gal${i}`, email: `g${i}@pisa.example` });
    }
    await buildPerson(t, co.id, { given: 'Émilie', family: 'du Châtelet', username: 'emilie', email: 'emilie@cirey.example' });

    const first = await get(t, `/cos/${co.id}/people?q=galileo`, coAdmin);
    assert.equal(first.statusCode, 200);
    assert.equal((first.body.match(/Galileo Number/g) ?? []).length, 25);
    assert.match(first.body, /Showing 1–25 of 30/);
    assert.ok(first.body.includes(`href="/cos/${co.id}/people?q=galileo&amp;page=2"`), 'next link keeps the search');
    const second = await get(t, `/cos/${co.id}/people?q=galileo&page=2`, coAdmin);
    assert.equal((second.body.match(/Galileo Number/g) ?? []).length, 5);
    assert.match(second.body, /Showing 26–30 of 30/);
    // Newest first: the first page ends where the second begins.
    assert.match(first.body, /Number29/);
    assert.match(second.body, /Number00/);
    assert.doesNotMatch(second.body, /Number29/);

    const small = await get(t, `/cos/${co.id}/people?pageSize=10&page=3`, coAdmin);
    assert.match(small.body, /Showing 21–30 of 32/);

    for (const [q, expected] of [
      ['GAL17', 'Number17'],
      ['g3@pisa', 'Number03'],
      ['du châtelet', 'Émilie'],
      ['Châtelet', 'Émilie'],
    ] as const) {
      const res = await get(t, `/cos/${co.id}/people?q=${encodeURIComponent(q)}`, coAdmin);
      assert.equal(res.statusCode, 200, q);
      assert.match(res.body, new RegExp(expected), q);
      assert.match(res.body, /Showing 1–1 of 1/, q);
      assert.equal(fieldValue(res.body, 'people-q'), q);
    }
    const none = await get(t, `/cos/${co.id}/people?q=${encodeURIComponent('100%_\\')}`, coAdmin);
    assert.equal(none.statusCode, 200);
    assert.match(none.body, /No one matches “100%_\\”/);
    const nul = await get(t, `/cos/${co.id}/people?q=gal%00ileo&page=abc&pageSize=-1`, coAdmin);
    assert.equal(nul.statusCode, 200, 'a control character or a bad number in the query is not an error');
    assert.match(nul.body, /Showing 1–25 of 30/);
    const past = await get(t, `/cos/${co.id}/people?page=9`, coAdmin);
    assert.match(past.body, /past the end of the list/);
  });

  it('adds a person with a login identifier and an email', async () => {
    const form = await get(t, `${people(coA.id)}/new`, admin);
    assert.equal(form.statusCode, 200);
    assert.equal(fieldValue(form.body, 'f-identifierType'), 'uid');
    const res = await post(t, people(coA.id), admin, { given: 'Carl', middle: 'Friedrich', family: 'Gauss', status: 'active', identifier: 'cfgauss', identifierType: 'eppn', login: 'on', mail: 'gauss@example.org' });
    const page = await followRedirect(t, res, admin);
    assert.match(page.body, /Carl Friedrich Gauss added\./);
    const person = await t.ctx.db.selectFrom('name').select('person_id').where('co_id', '=', coA.id).where('given', '=', 'Carl').executeTakeFirstOrThrow();
    assert.equal(res.headers.location, personUrl(coA.id, person.person_id));
    const ident = await t.ctx.db.selectFrom('identifier').selectAll().where('person_id', '=', person.person_id).executeTakeFirstOrThrow();
    assert.deepEqual([ident.identifier, ident.type, ident.login], ['cfgauss', 'eppn', 1]);
    const email = await t.ctx.db.selectFrom('email_address').select('mail').where('person_id', '=', person.person_id).executeTakeFirstOrThrow();
    assert.equal(email.mail, 'gauss@example.org');
    assert.equal(await statusOf(person.person_id), 'active');
  });

  it('re-renders the add-person form with messages and the typed values', async () => {
    const before = (await t.ctx.db.selectFrom('co_person').select('id').where('co_id', '=', coA.id).execute()).length;
    const invalid = await post(t, people(coA.id), admin, { given: '', family: 'Nameless', status: 'active', identifier: 'nameless', identifierType: 'uid', mail: 'not-an-email' });
    assert.equal(invalid.statusCode, 400);
    assert.equal(fieldMessage(invalid.body, 'f-given'), 'Required');
    assert.equal(fieldMessage(invalid.body, 'f-mail'), 'Not an email address');
    assert.equal(fieldValue(invalid.body, 'f-family'), 'Nameless');
    assert.equal(fieldValue(invalid.body, 'f-mail'), 'not-an-email');
    assert.equal(fieldValue(invalid.body, 'f-identifier'), 'nameless');

    const duplicate = await post(t, people(coA.id), admin, { given: 'Twin', status: 'active', identifier: memberPerson.username, identifierType: 'uid', login: 'on' });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(fieldMessage(duplicate.body, 'f-identifier'), 'This identifier of this type exists already in the CO');
    assert.equal(fieldValue(duplicate.body, 'f-given'), 'Twin');

    const unknownType = await post(t, people(coA.id), admin, { given: 'Typo', status: 'active', identifier: 'typo', identifierType: 'nosuchtype' });
    assert.equal(unknownType.statusCode, 400);
    assert.match(fieldMessage(unknownType.body, 'f-identifierType') ?? '', /not defined in this CO/);

    const badStatus = await post(t, people(coA.id), admin, { given: 'Odd', status: 'emperor' });
    assert.equal(badStatus.statusCode, 400);
    assert.ok(fieldMessage(badStatus.body, 'f-status'));

    assert.equal((await t.ctx.db.selectFrom('co_person').select('id').where('co_id', '=', coA.id).execute()).length, before);
  });

  it('shows a person page to admins and to the person, with what plugins add', async () => {
    const res = await get(t, personUrl(coA.id, memberPerson.id), admin);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<h1>Mo Member<\/h1>/);
    assert.match(res.body, /mo@example\.org/);
    assert.ok(res.body.includes(memberPerson.username));
    assert.match(res.body, /PERSON_CREATED/);
    assert.ok(res.body.includes(`href="${personUrl(coA.id, memberPerson.id)}/service-tokens"`));
    assert.match(res.body, /Change status/);
    assert.match(res.body, /CO:members:active/);

    const own = await get(t, personUrl(coA.id, memberPerson.id), member);
    assert.equal(own.statusCode, 200);
    assert.match(own.body, /This is you\./);
    assert.ok(own.body.includes('/service-tokens"'));
    assert.doesNotMatch(own.body, /Change status|Add an identifier|method="post" action="\/cos/);
  });

  it('hides other people from members and from other COs (404), and admin actions from members (403)', async () => {
    assert.equal((await get(t, personUrl(coA.id, adminPerson.id), member)).statusCode, 404);
    assert.equal((await get(t, personUrl(coA.id, personB.id), admin)).statusCode, 404, 'a person of CO B under CO A');
    assert.equal((await get(t, personUrl(coB.id, personB.id), admin)).statusCode, 404, 'CO B itself');
    assert.equal((await get(t, personUrl(coA.id, 'not-an-id'), admin)).statusCode, 404);

    assert.equal((await post(t, `${personUrl(coA.id, memberPerson.id)}/status`, member, { status: 'suspended' })).statusCode, 403);
    assert.equal((await post(t, `${personUrl(coA.id, personB.id)}/status`, admin, { status: 'suspended' })).statusCode, 404);
    assert.equal((await post(t, `${personUrl(coA.id, personB.id)}/identifiers`, admin, { identifier: 'planted', type: 'uid' })).statusCode, 404);
    assert.equal((await post(t, `${personUrl(coA.id, personB.id)}/delete`, admin)).statusCode, 404);
    const bIdentifier = await t.ctx.db.selectFrom('identifier').select('id').where('person_id', '=', personB.id).executeTakeFirstOrThrow();
    // Another CO's identifier id, under one's own CO and person.
    assert.equal((await post(t, `${personUrl(coA.id, memberPerson.id)}/identifiers/${bIdentifier.id}/delete`, admin)).statusCode, 404);
    assert.equal(await statusOf(memberPerson.id), 'active');
    assert.equal(await statusOf(personB.id), 'active');
    assert.ok(await t.ctx.db.selectFrom('identifier').select('id').where('id', '=', bIdentifier.id).executeTakeFirst());
    assert.equal((await t.ctx.db.selectFrom('identifier').select('id').where('identifier', '=', 'planted').execute()).length, 0);
  });

  it('changes a person’s status and records it in history', async () => {
    const p = await buildPerson(t, coA.id, { given: 'Stat', family: 'Us' });
    const page = await followRedirect(t, await post(t, `${personUrl(coA.id, p.id)}/status`, admin, { status: 'suspended' }), admin);
    assert.match(page.body, /Status changed to suspended\./);
    assert.equal(await statusOf(p.id), 'suspended');
    assert.match(page.body, /Status changed from active to suspended/);

    const invalid = await post(t, `${personUrl(coA.id, p.id)}/status`, admin, { status: 'bogus' });
    assert.equal(invalid.statusCode, 400);
    assert.ok(fieldMessage(invalid.body, 'f-status-status'));
    assert.equal(await statusOf(p.id), 'suspended');
  });

  it('adds and removes identifiers, emails and names', async () => {
    const p = await buildPerson(t, coA.id, { given: 'Ed', family: 'It' });
    const url = personUrl(coA.id, p.id);

    await followRedirect(t, await post(t, `${url}/identifiers`, admin, { identifier: 'ed-orcid', type: 'orcid' }), admin);
    const ident = await t.ctx.db.selectFrom('identifier').selectAll().where('person_id', '=', p.id).where('type', '=', 'orcid').executeTakeFirstOrThrow();
    assert.deepEqual([ident.identifier, ident.login], ['ed-orcid', 0]);

    const dup = await post(t, `${url}/identifiers`, admin, { identifier: memberPerson.username, type: 'uid', login: 'on' });
    assert.equal(dup.statusCode, 409);
    assert.equal(fieldMessage(dup.body, 'f-identifier-identifier'), 'This identifier of this type exists already in the CO');
    assert.equal(fieldValue(dup.body, 'f-identifier-identifier'), memberPerson.username);
    assert.match(dup.body, /<details class="add-form" open>/);

    await followRedirect(t, await post(t, `${url}/emails`, admin, { mail: 'ed@example.org', type: 'personal', verified: 'on' }), admin);
    const email = await t.ctx.db.selectFrom('email_address').selectAll().where('person_id', '=', p.id).executeTakeFirstOrThrow();
    assert.deepEqual([email.mail, email.type, email.verified], ['ed@example.org', 'personal', 1]);
    const badEmail = await post(t, `${url}/emails`, admin, { mail: 'nope', type: 'official' });
    assert.equal(badEmail.statusCode, 400);
    assert.equal(fieldMessage(badEmail.body, 'f-email-mail'), 'Not an email address');
    assert.equal(fieldValue(badEmail.body, 'f-email-mail'), 'nope');

    await followRedirect(t, await post(t, `${url}/names`, admin, { given: 'Eddie', type: 'preferred', primary: 'on' }), admin);
    const shown = await get(t, url, admin);
    assert.match(shown.body, /<h1>Eddie<\/h1>/);
    const oldName = await t.ctx.db.selectFrom('name').select('id').where('person_id', '=', p.id).where('given', '=', 'Ed').executeTakeFirstOrThrow();

    const removed = await followRedirect(t, await post(t, `${url}/identifiers/${ident.id}/delete`, admin), admin);
    assert.match(removed.body, /Identifier removed\./);
    await followRedirect(t, await post(t, `${url}/emails/${email.id}/delete`, admin), admin);
    await followRedirect(t, await post(t, `${url}/names/${oldName.id}/delete`, admin), admin);
    assert.equal((await t.ctx.db.selectFrom('identifier').select('id').where('id', '=', ident.id).execute()).length, 0);
    assert.equal((await t.ctx.db.selectFrom('email_address').select('id').where('person_id', '=', p.id).execute()).length, 0);
    assert.deepEqual((await t.ctx.db.selectFrom('name').select('given').where('person_id', '=', p.id).execute()).map((n) => n.given), ['Eddie']);

    const primary = await t.ctx.db.selectFrom('name').select('id').where('person_id', '=', p.id).executeTakeFirstOrThrow();
    assert.equal((await post(t, `${url}/names/${primary.id}/delete`, admin)).statusCode, 400, 'the primary name stays');
    assert.equal((await post(t, `${url}/emails/not-an-id/delete`, admin)).statusCode, 404);
  });

  it('deletes a person after confirmation, keeping history', async () => {
    const p = await buildPerson(t, coA.id, { given: 'Gone', family: 'Soon' });
    const page = await get(t, personUrl(coA.id, p.id), admin);
    assert.match(page.body, /data-confirm="Delete Gone Soon for good\?"/);
    const res = await followRedirect(t, await post(t, `${personUrl(coA.id, p.id)}/delete`, admin), admin);
    assert.match(res.body, /Gone Soon deleted\./);
    assert.equal((await t.ctx.db.selectFrom('co_person').select('id').where('id', '=', p.id).execute()).length, 0);
    assert.ok(await t.ctx.db.selectFrom('history_record').select('id').where('action', '=', 'PERSON_DELETED').where('co_id', '=', coA.id).executeTakeFirst());
  });

  it('escapes names on the people list and the person page', async () => {
    const res = await post(t, people(coA.id), admin, { given: `Mallory ${XSS}`, family: XSS, status: 'active', identifier: 'mallory', identifierType: 'uid', login: 'on', mail: '' });
    const page = await followRedirect(t, res, admin);
    assertEscaped(page.body, 'person page');
    assertEscaped((await get(t, people(coA.id), admin)).body, 'people list');
    assertEscaped((await get(t, `/cos/${coA.id}/history`, admin)).body, 'history');
    const mallory = await signIn(t, 'mallory');
    assertEscaped((await get(t, '/cos', mallory)).body, 'COs list with the identity name');
  });
});

forEachDialect('Identifier type pages', (dialect) => {
  const t = useTestApp(dialect);
  let co: Co;
  let admin: Browser;
  let member: Browser;

  before(async () => {
    co = await buildCo(t, 'Types');
    admin = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
    member = await signIn(t, (await buildPerson(t, co.id)).username);
  });

  it('lists built-in types and adds the CO’s own, refusing duplicates and bad names', async () => {
    const url = `/cos/${co.id}/identifier-types`;
    const list = await get(t, url, admin);
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /orcid/);
    assert.match(list.body, /added no types of its own yet/);

    const added = await followRedirect(t, await post(t, url, admin, { name: 'github' }), admin);
    assert.match(added.body, /Identifier type github added\./);
    assert.ok(await t.ctx.db.selectFrom('co_identifier_type').select('id').where('co_id', '=', co.id).where('name', '=', 'github').executeTakeFirst());

    for (const name of ['github', 'eppn']) {
      const dup = await post(t, url, admin, { name });
      assert.equal(dup.statusCode, 409, name);
      assert.equal(fieldMessage(dup.body, 'f-name'), 'This identifier type exists already');
    }
    const bad = await post(t, url, admin, { name: 'Not Valid!' });
    assert.equal(bad.statusCode, 400);
    assert.match(fieldMessage(bad.body, 'f-name') ?? '', /Lowercase letters/);
    assert.equal(fieldValue(bad.body, 'f-name'), 'Not Valid!');

    assert.equal((await get(t, url, member)).statusCode, 403);
    assert.equal((await post(t, url, member, { name: 'sneaky' })).statusCode, 403);
    assert.equal((await t.ctx.db.selectFrom('co_identifier_type').select('id').where('co_id', '=', co.id).execute()).length, 1);
  });
});
