import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiAs, buildApiWorld, snapshotRegistry, type ApiWorld } from '../../../test/support/api-client.ts';
import { buildApiUser, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';

forEachDialect('People API', (dialect) => {
  const t = useTestApp(dialect);
  let w: ApiWorld;
  before(async () => {
    w = await buildApiWorld(t);
  });

  const people = (coId: string) => `/api/v1/cos/${coId}/people`;

  describe('CRUD', () => {
    it('creates a person with name, identifiers and emails, and records who did it', async () => {
      const res = await w.adminA('POST', people(w.coA.id), {
        name: { given: 'Ada', family: 'Lovelace' },
        identifiers: [{ identifier: 'ada', type: 'uid', login: true }, { identifier: 'ada@example.org', type: 'eppn' }],
        emails: [{ mail: 'ada@example.org', verified: true }],
        status: 'active',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const p = res.body;
      assert.equal(p.coId, w.coA.id);
      assert.equal(p.status, 'active');
      assert.equal(p.displayName, 'Ada Lovelace');
      assert.deepEqual(p.names.map((n: { given: string; family: string; primary: boolean }) => [n.given, n.family, n.primary]), [['Ada', 'Lovelace', true]]);
      assert.deepEqual(p.identifiers.map((i: { identifier: string; type: string; login: boolean }) => [i.identifier, i.type, i.login]).sort(), [['ada', 'uid', true], ['ada@example.org', 'eppn', false]]);
      assert.deepEqual(p.emails.map((e: { mail: string; type: string; verified: boolean }) => [e.mail, e.type, e.verified]), [['ada@example.org', 'official', true]]);

      const row = await t.ctx.db.selectFrom('co_person').selectAll().where('id', '=', p.id).executeTakeFirstOrThrow();
      assert.equal(row.co_id, w.coA.id);
      const idents = await t.ctx.db.selectFrom('identifier').select(['identifier', 'co_id']).where('person_id', '=', p.id).orderBy('identifier').execute();
      assert.deepEqual(idents, [{ identifier: 'ada', co_id: w.coA.id }, { identifier: 'ada@example.org', co_id: w.coA.id }]);
      const history = await t.ctx.db.selectFrom('history_record').select(['action', 'actor_api_user_id', 'actor_label']).where('person_id', '=', p.id).execute();
      assert.equal(history.length, 1);
      assert.equal(history[0]!.action, 'PERSON_CREATED');
      assert.ok(history[0]!.actor_api_user_id);
      assert.match(history[0]!.actor_label, /^API user /);
    });

    it('reads one person and lists, searches and pages the CO’s people', async () => {
      const mine = await buildPerson(t, w.coA.id, { given: 'Grace', family: 'Hopper', email: 'grace@navy.example' });
      await buildPerson(t, w.coB.id, { given: 'Grace', family: 'Elsewhere' });

      const one = await w.readerA('GET', `${people(w.coA.id)}/${mine.id}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.id, mine.id);
      assert.equal(one.body.displayName, 'Grace Hopper');
      assert.deepEqual(Object.keys(one.body).sort(), ['coId', 'createdAt', 'displayName', 'emails', 'id', 'identifiers', 'names', 'status', 'updatedAt']);

      const search = await w.readerA('GET', `${people(w.coA.id)}?q=grace`);
      assert.equal(search.status, 200);
      assert.deepEqual(search.body.items.map((p: { id: string }) => p.id), [mine.id], 'only CO A’s Grace');
      assert.equal(search.body.total, 1);

      const byMail = await w.readerA('GET', `${people(w.coA.id)}?q=NAVY.example`);
      assert.deepEqual(byMail.body.items.map((p: { id: string }) => p.id), [mine.id]);

      const total = await t.ctx.db.selectFrom('co_person').select((eb) => eb.fn.countAll<number>().as('n')).where('co_id', '=', w.coA.id).executeTakeFirstOrThrow();
      const page1 = await w.readerA('GET', `${people(w.coA.id)}?page=1&pageSize=1`);
      const page2 = await w.readerA('GET', `${people(w.coA.id)}?page=2&pageSize=1`);
      assert.equal(page1.body.total, Number(total.n));
      assert.equal(page1.body.pageSize, 1);
      assert.equal(page1.body.items.length, 1);
      assert.equal(page2.body.page, 2);
      assert.notEqual(page1.body.items[0].id, page2.body.items[0].id);
    });

    it('changes a person’s status and deletes a person (204), keeping history detached', async () => {
      const p = await buildPerson(t, w.coA.id);
      const status = await w.adminA('PUT', `${people(w.coA.id)}/${p.id}/status`, { status: 'suspended' });
      assert.equal(status.status, 200, JSON.stringify(status.body));
      assert.equal(status.body.status, 'suspended');
      assert.equal((await t.ctx.db.selectFrom('co_person').select('status').where('id', '=', p.id).executeTakeFirstOrThrow()).status, 'suspended');

      const del = await w.adminA('DELETE', `${people(w.coA.id)}/${p.id}`);
      assert.equal(del.status, 204);
      assert.equal(del.body, undefined);
      assert.equal(await t.ctx.db.selectFrom('co_person').select('id').where('id', '=', p.id).executeTakeFirst(), undefined);
      const withHeader = await buildPerson(t, w.coA.id);
      const declaredJson = await w.adminA('DELETE', `${people(w.coA.id)}/${withHeader.id}`, undefined, { headers: { 'content-type': 'application/json' } });
      assert.equal(declaredJson.status, 204, 'a DELETE declaring JSON without a body is still a DELETE');
      const gone = await w.adminA('GET', `${people(w.coA.id)}/${p.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.code, 'PERSON_NOT_FOUND');
      const deleted = await t.ctx.db.selectFrom('history_record').select('action').where('co_id', '=', w.coA.id).where('action', '=', 'PERSON_DELETED').where('comment', 'like', `%${p.id}%`).execute();
      assert.equal(deleted.length, 1);
    });

    it('adds and removes identifiers, names and email addresses', async () => {
      const p = await buildPerson(t, w.coA.id, { given: 'Alan' });
      const base = `${people(w.coA.id)}/${p.id}`;

      const ident = await w.adminA('POST', `${base}/identifiers`, { identifier: 'alan-orcid', type: 'orcid' });
      assert.equal(ident.status, 201, JSON.stringify(ident.body));
      assert.deepEqual({ ...ident.body, id: undefined }, { id: undefined, identifier: 'alan-orcid', type: 'orcid', login: false, status: 'active' });
      const name = await w.adminA('POST', `${base}/names`, { given: 'Al', family: 'Turing', type: 'preferred' });
      assert.equal(name.status, 201, JSON.stringify(name.body));
      assert.deepEqual({ ...name.body, id: undefined }, { id: undefined, given: 'Al', middle: null, family: 'Turing', suffix: null, type: 'preferred', primary: false });
      const email = await w.adminA('POST', `${base}/emails`, { mail: 'alan@example.org', type: 'personal' });
      assert.equal(email.status, 201, JSON.stringify(email.body));
      assert.deepEqual({ ...email.body, id: undefined }, { id: undefined, mail: 'alan@example.org', type: 'personal', verified: false });

      const now = (await w.adminA('GET', base)).body;
      assert.ok(now.identifiers.some((i: { id: string }) => i.id === ident.body.id));
      assert.ok(now.names.some((n: { id: string }) => n.id === name.body.id));
      assert.ok(now.emails.some((e: { id: string }) => e.id === email.body.id));

      assert.equal((await w.adminA('DELETE', `${base}/identifiers/${ident.body.id}`)).status, 204);
      assert.equal((await w.adminA('DELETE', `${base}/names/${name.body.id}`)).status, 204);
      assert.equal((await w.adminA('DELETE', `${base}/emails/${email.body.id}`)).status, 204);
      assert.equal(await t.ctx.db.selectFrom('identifier').select('id').where('id', '=', ident.body.id).executeTakeFirst(), undefined);
      assert.equal(await t.ctx.db.selectFrom('name').select('id').where('id', '=', name.body.id).executeTakeFirst(), undefined);
      assert.equal(await t.ctx.db.selectFrom('email_address').select('id').where('id', '=', email.body.id).executeTakeFirst(), undefined);

      const again = await w.adminA('DELETE', `${base}/identifiers/${ident.body.id}`);
      assert.equal(again.status, 404);
      assert.equal(again.body.error.code, 'IDENTIFIER_NOT_FOUND');
      assert.equal((await w.adminA('DELETE', `${base}/names/${name.body.id}`)).body.error.code, 'NAME_NOT_FOUND');
      assert.equal((await w.adminA('DELETE', `${base}/emails/${email.body.id}`)).body.error.code, 'EMAIL_NOT_FOUND');

      const primary = now.names.find((n: { primary: boolean }) => n.primary);
      const refused = await w.adminA('DELETE', `${base}/names/${primary.id}`);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'VALIDATION_FAILED');
    });

    it('lists identifier types and adds one the CO can then use', async () => {
      const list = await w.readerA('GET', `/api/v1/cos/${w.coA.id}/identifier-types`);
      assert.equal(list.status, 200);
      assert.ok(list.body.items.some((x: { name: string; builtIn: boolean }) => x.name === 'uid' && x.builtIn));

      const added = await w.adminA('POST', `/api/v1/cos/${w.coA.id}/identifier-types`, { name: 'studentid' });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      assert.deepEqual(added.body, { name: 'studentid', builtIn: false });
      const after = await w.readerA('GET', `/api/v1/cos/${w.coA.id}/identifier-types`);
      assert.ok(after.body.items.some((x: { name: string; builtIn: boolean }) => x.name === 'studentid' && !x.builtIn));
      const inB = await w.adminB('GET', `/api/v1/cos/${w.coB.id}/identifier-types`);
      assert.ok(!inB.body.items.some((x: { name: string }) => x.name === 'studentid'), 'types are per CO');

      const p = await buildPerson(t, w.coA.id);
      const ident = await w.adminA('POST', `${people(w.coA.id)}/${p.id}/identifiers`, { identifier: 's-1234', type: 'studentid' });
      assert.equal(ident.status, 201);
      const unknownInB = await w.adminB('POST', `${people(w.coB.id)}/${(await buildPerson(t, w.coB.id)).id}/identifiers`, { identifier: 's-1', type: 'studentid' });
      assert.equal(unknownInB.status, 400);
      assert.equal(unknownInB.body.error.code, 'IDENTIFIER_TYPE_UNKNOWN');
      assert.equal(unknownInB.body.error.field, 'type');

      for (const name of ['studentid', 'uid']) {
        const dup = await w.adminA('POST', `/api/v1/cos/${w.coA.id}/identifier-types`, { name });
        assert.equal(dup.status, 409);
        assert.equal(dup.body.error.code, 'IDENTIFIER_TYPE_TAKEN');
      }
      const bad = await w.adminA('POST', `/api/v1/cos/${w.coA.id}/identifier-types`, { name: 'Not Valid' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.field, 'name');
    });
  });

  describe('duplicates', () => {
    it('refuses an identifier of the same type twice in a CO (409 IDENTIFIER_TAKEN) but not across COs', async () => {
      await w.adminA('POST', people(w.coA.id), { name: { given: 'First' }, identifiers: [{ identifier: 'shared-id', type: 'uid' }] });
      const before = await snapshotRegistry(t);
      const dup = await w.adminA('POST', people(w.coA.id), { name: { given: 'Second' }, identifiers: [{ identifier: 'shared-id', type: 'uid' }] });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'IDENTIFIER_TAKEN');
      assert.equal(dup.body.error.field, 'identifiers.0.identifier');
      assert.deepEqual(await snapshotRegistry(t), before, 'the person was not half-created');

      const other = await buildPerson(t, w.coA.id);
      const dupAdd = await w.adminA('POST', `${people(w.coA.id)}/${other.id}/identifiers`, { identifier: 'shared-id', type: 'uid' });
      assert.equal(dupAdd.status, 409);
      assert.equal(dupAdd.body.error.code, 'IDENTIFIER_TAKEN');
      assert.equal(dupAdd.body.error.field, 'identifier');

      const sameTypeOtherValue = await w.adminA('POST', `${people(w.coA.id)}/${other.id}/identifiers`, { identifier: 'shared-id', type: 'eppn' });
      assert.equal(sameTypeOtherValue.status, 201);
      const inB = await w.adminB('POST', people(w.coB.id), { name: { given: 'Elsewhere' }, identifiers: [{ identifier: 'shared-id', type: 'uid' }] });
      assert.equal(inB.status, 201);
    });
  });

  describe('authorization', () => {
    it('lets an unprivileged API user read its CO but not write (403), changing nothing', async () => {
      const p = await buildPerson(t, w.coA.id);
      const base = `${people(w.coA.id)}/${p.id}`;
      assert.equal((await w.readerA('GET', people(w.coA.id))).status, 200);
      assert.equal((await w.readerA('GET', base)).status, 200);
      const ident = p.identifiers[0]!;
      const before = await snapshotRegistry(t);
      const attempts: Array<[string, string, unknown?]> = [
        ['POST', people(w.coA.id), { name: { given: 'Nope' } }],
        ['PUT', `${base}/status`, { status: 'suspended' }],
        ['DELETE', base],
        ['POST', `${base}/identifiers`, { identifier: 'x1', type: 'uid' }],
        ['DELETE', `${base}/identifiers/${ident.id}`],
        ['POST', `${base}/names`, { given: 'Nope' }],
        ['POST', `${base}/emails`, { mail: 'nope@example.org' }],
        ['POST', `/api/v1/cos/${w.coA.id}/identifier-types`, { name: 'nope' }],
      ];
      for (const [method, url, body] of attempts) {
        const res = await w.readerA(method, url, body);
        assert.equal(res.status, 403, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'FORBIDDEN');
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });

    it('hides CO B’s people from CO A’s API user, whichever id it changes in the URL (404), changing nothing', async () => {
      const pA = await buildPerson(t, w.coA.id);
      const pB = await buildPerson(t, w.coB.id);
      const identB = pB.identifiers[0]!;
      const nameB = pB.names[0]!;
      const before = await snapshotRegistry(t);
      const attempts: Array<[string, string, unknown?, string?]> = [
        // CO B's URL: the CO itself is out of reach.
        ['GET', people(w.coB.id), undefined, 'CO_NOT_FOUND'],
        ['POST', people(w.coB.id), { name: { given: 'Intruder' } }, 'CO_NOT_FOUND'],
        ['GET', `${people(w.coB.id)}/${pB.id}`, undefined, 'CO_NOT_FOUND'],
        ['DELETE', `${people(w.coB.id)}/${pB.id}`, undefined, 'CO_NOT_FOUND'],
        ['PUT', `${people(w.coB.id)}/${pB.id}/status`, { status: 'suspended' }, 'CO_NOT_FOUND'],
        ['POST', `${people(w.coB.id)}/${pB.id}/identifiers`, { identifier: 'x2', type: 'uid' }, 'CO_NOT_FOUND'],
        ['DELETE', `${people(w.coB.id)}/${pB.id}/identifiers/${identB.id}`, undefined, 'CO_NOT_FOUND'],
        ['GET', `/api/v1/cos/${w.coB.id}/identifier-types`, undefined, 'CO_NOT_FOUND'],
        ['POST', `/api/v1/cos/${w.coB.id}/identifier-types`, { name: 'intruder' }, 'CO_NOT_FOUND'],
        // CO A's URL with CO B's person: the person is not in CO A.
        ['GET', `${people(w.coA.id)}/${pB.id}`, undefined, 'PERSON_NOT_FOUND'],
        ['DELETE', `${people(w.coA.id)}/${pB.id}`, undefined, 'PERSON_NOT_FOUND'],
        ['PUT', `${people(w.coA.id)}/${pB.id}/status`, { status: 'suspended' }, 'PERSON_NOT_FOUND'],
        ['POST', `${people(w.coA.id)}/${pB.id}/identifiers`, { identifier: 'x3', type: 'uid' }, 'PERSON_NOT_FOUND'],
        ['POST', `${people(w.coA.id)}/${pB.id}/names`, { given: 'x' }, 'PERSON_NOT_FOUND'],
        ['POST', `${people(w.coA.id)}/${pB.id}/emails`, { mail: 'x@example.org' }, 'PERSON_NOT_FOUND'],
        ['DELETE', `${people(w.coA.id)}/${pB.id}/identifiers/${identB.id}`, undefined, 'PERSON_NOT_FOUND'],
        // CO A's own person with CO B's identifier or name ids.
        ['DELETE', `${people(w.coA.id)}/${pA.id}/identifiers/${identB.id}`, undefined, 'IDENTIFIER_NOT_FOUND'],
        ['DELETE', `${people(w.coA.id)}/${pA.id}/names/${nameB.id}`, undefined, 'NAME_NOT_FOUND'],
      ];
      for (const [method, url, body, code] of attempts) {
        const res = await w.adminA(method, url, body);
        assert.equal(res.status, 404, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, code, `${method} ${url}`);
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });

    it('lets platform API users reach every CO: privileged ones write, unprivileged ones only read', async () => {
      for (const co of [w.coA, w.coB]) {
        const created = await w.platformAdmin('POST', people(co.id), { name: { given: 'Platform', family: 'Made' } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.equal(created.body.coId, co.id);
        const read = await w.platformReader('GET', `${people(co.id)}/${created.body.id}`);
        assert.equal(read.status, 200);
        const refused = await w.platformReader('PUT', `${people(co.id)}/${created.body.id}/status`, { status: 'expired' });
        assert.equal(refused.status, 403);
      }
    });
  });

  describe('validation', () => {
    it('answers 400 VALIDATION_FAILED naming the field, with the request id', async () => {
      const cases: Array<[unknown, string]> = [
        [{}, 'name'],
        [{ name: {} }, 'name.given'],
        [{ name: { given: '' } }, 'name.given'],
        [{ name: { given: '   ' } }, 'name.given'],
        [{ name: { given: 42 } }, 'name.given'],
        [{ name: { given: ['a'] } }, 'name.given'],
        [{ name: { given: 'x'.repeat(100_000) } }, 'name.given'],
        [{ name: { given: 'Ok' }, status: 'zombie' }, 'status'],
        [{ name: { given: 'Ok' }, identifiers: 'uid' }, 'identifiers'],
        [{ name: { given: 'Ok' }, identifiers: [{ identifier: 'a', type: 'Bad Type' }] }, 'identifiers.0.type'],
        [{ name: { given: 'Ok' }, emails: [{ mail: 'not-an-address' }] }, 'emails.0.mail'],
        [{ name: { given: 'Ok' }, emails: [{ mail: 'a@example.org', type: 'carrier-pigeon' }] }, 'emails.0.type'],
        [{ name: { given: 'Nul\u0000byte' } }, 'name.given'],
        [[{ name: { given: 'Ok' } }], '(body)'],
        ['just a string', '(body)'],
        [17, '(body)'],
      ];
      const before = await snapshotRegistry(t);
      for (const [body, field] of cases) {
        const res = await w.adminA('POST', people(w.coA.id), body);
        assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
        assert.equal(res.body.error.field, field, JSON.stringify(body).slice(0, 80));
        assert.equal(res.body.error.requestId, res.headers['x-request-id']);
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });

    it('refuses malformed JSON, wrong content types and bad query parameters with 400', async () => {
      const malformed = await w.adminA('POST', people(w.coA.id), undefined, { raw: '{"name": {"given": "Ada"' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'VALIDATION_FAILED');
      assert.equal(malformed.body.error.field, '(body)');
      const empty = await w.adminA('POST', people(w.coA.id), undefined, { raw: '' });
      assert.equal(empty.status, 400);
      const xml = await w.adminA('POST', people(w.coA.id), undefined, { raw: '<person/>', headers: { 'content-type': 'application/xml' } });
      assert.ok(xml.status >= 400 && xml.status < 500, String(xml.status));
      assert.equal(xml.body.error.code, 'VALIDATION_FAILED');

      for (const [query, field] of [
        ['page=0', 'page'],
        ['page=abc', 'page'],
        ['pageSize=1000', 'pageSize'],
        ['pageSize=-1', 'pageSize'],
        ['q=a&q=b', 'q'],
        [`q=${'x'.repeat(300)}`, 'q'],
        ['q=%00', 'q'],
      ]) {
        const res = await w.readerA('GET', `${people(w.coA.id)}?${query}`);
        assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.field, field);
      }
      const status = await w.adminA('PUT', `${people(w.coA.id)}/${(await buildPerson(t, w.coA.id)).id}/status`, { status: 'hibernating' });
      assert.equal(status.status, 400);
      assert.equal(status.body.error.field, 'status');
    });

    it('answers 404 for ids that are not UUIDs, never 400 or 500', async () => {
      for (const id of ['123', 'not-a-uuid', "1' OR '1'='1", '00000000-0000-0000-0000-00000000000Z', 'ÄÖÜ']) {
        const res = await w.adminA('GET', `${people(w.coA.id)}/${encodeURIComponent(id)}`);
        assert.equal(res.status, 404, `${id}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'PERSON_NOT_FOUND');
        const co = await w.adminA('GET', `${people(encodeURIComponent(id))}`);
        assert.equal(co.status, 404);
        assert.equal(co.body.error.code, 'CO_NOT_FOUND');
      }
    });
  });

  it('requires API credentials (401 with a Basic challenge)', async () => {
    const res = await apiAs(t)('GET', people(w.coA.id));
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'AUTHENTICATION_REQUIRED');
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="Tessera API"/);
    const { authorization } = await buildApiUser(t, w.coA.id, false);
    const wrong = await apiAs(t, `${authorization.slice(0, -4)}AAAA`)('GET', people(w.coA.id));
    assert.equal(wrong.status, 401);
  });
});
