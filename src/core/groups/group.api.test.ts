import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildApiWorld, snapshotRegistry, type ApiWorld } from '../../../test/support/api-client.ts';
import { buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { newId } from '../../db/ids.ts';
import { API_COUNTED_UP_TO } from '../http/api-route.ts';
import { insertPeopleBatch, type NewPersonRows } from '../people/person-batch.repository.ts';
import { insertMemberships } from './group.repository.ts';

forEachDialect('Groups API', (dialect) => {
  const t = useTestApp(dialect);
  let w: ApiWorld;
  before(async () => {
    w = await buildApiWorld(t);
  });

  const groups = (coId: string) => `/api/v1/cos/${coId}/groups`;
  const systemGroup = async (coId: string, type: 'admins' | 'members') =>
    (await t.ctx.db.selectFrom('co_group').select('id').where('co_id', '=', coId).where('group_type', '=', type).executeTakeFirstOrThrow()).id;
  const newGroup = async (call: ApiWorld['adminA'], coId: string, name = `Group ${Math.random().toString(36).slice(2, 8)}`) => {
    const res = await call('POST', groups(coId), { name });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; name: string };
  };

  describe('CRUD', () => {
    it('creates, reads, lists, replaces and deletes a group', async () => {
      const created = await w.adminA('POST', groups(w.coA.id), { name: 'Wiki editors', description: 'Edit the wiki' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual({ ...created.body, id: undefined, createdAt: undefined }, {
        id: undefined,
        createdAt: undefined,
        coId: w.coA.id,
        name: 'Wiki editors',
        description: 'Edit the wiki',
        status: 'active',
        type: 'standard',
      });
      const row = await t.ctx.db.selectFrom('co_group').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
      assert.equal(row.co_id, w.coA.id);
      assert.equal(row.group_type, 'standard');

      const one = await w.readerA('GET', `${groups(w.coA.id)}/${created.body.id}`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, created.body);
      const list = await w.readerA('GET', groups(w.coA.id));
      assert.deepEqual(list.body.items.map((g: { name: string }) => g.name).sort(), ['CO:admins', 'CO:members:active', 'Wiki editors']);

      const replaced = await w.adminA('PUT', `${groups(w.coA.id)}/${created.body.id}`, { name: 'Wiki admins', status: 'suspended' });
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      assert.equal(replaced.body.name, 'Wiki admins');
      assert.equal(replaced.body.description, '', 'PUT replaces: an omitted description is empty');
      assert.equal(replaced.body.status, 'suspended');
      assert.deepEqual(
        await t.ctx.db.selectFrom('co_group').select(['name', 'status']).where('id', '=', created.body.id).executeTakeFirstOrThrow(),
        { name: 'Wiki admins', status: 'suspended' },
      );

      const del = await w.adminA('DELETE', `${groups(w.coA.id)}/${created.body.id}`);
      assert.equal(del.status, 204);
      assert.equal(await t.ctx.db.selectFrom('co_group').select('id').where('id', '=', created.body.id).executeTakeFirst(), undefined);
      const gone = await w.adminA('GET', `${groups(w.coA.id)}/${created.body.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.code, 'GROUP_NOT_FOUND');
    });

    it('adds, lists and removes memberships', async () => {
      const g = await newGroup(w.adminA, w.coA.id);
      const p = await buildPerson(t, w.coA.id);
      const added = await w.adminA('POST', `${groups(w.coA.id)}/${g.id}/members`, {
        personId: p.id,
        owner: true,
        validFrom: '2026-01-01T00:00:00Z',
        validThrough: '2027-01-01T00:00:00Z',
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      assert.deepEqual({ ...added.body, id: undefined }, {
        id: undefined,
        groupId: g.id,
        personId: p.id,
        member: true,
        owner: true,
        validFrom: '2026-01-01T00:00:00.000Z',
        validThrough: '2027-01-01T00:00:00.000Z',
      });
      const listed = await w.readerA('GET', `${groups(w.coA.id)}/${g.id}/members`);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.items, [added.body]);
      const history = await t.ctx.db.selectFrom('history_record').select('action').where('group_id', '=', g.id).where('person_id', '=', p.id).execute();
      assert.deepEqual(history.map((h) => h.action), ['GROUP_MEMBERSHIP_ADDED']);

      const dup = await w.adminA('POST', `${groups(w.coA.id)}/${g.id}/members`, { personId: p.id });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'MEMBERSHIP_EXISTS');
      assert.equal(dup.body.error.field, 'personId');

      const removed = await w.adminA('DELETE', `${groups(w.coA.id)}/${g.id}/members/${added.body.id}`);
      assert.equal(removed.status, 204);
      assert.equal(await t.ctx.db.selectFrom('co_group_member').select('id').where('id', '=', added.body.id).executeTakeFirst(), undefined);
      const again = await w.adminA('DELETE', `${groups(w.coA.id)}/${g.id}/members/${added.body.id}`);
      assert.equal(again.status, 404);
      assert.equal(again.body.error.code, 'MEMBERSHIP_NOT_FOUND');
    });

    it('lists memberships a page at a time, oldest first, with the total, and refuses a bad page (400)', async () => {
      const g = await newGroup(w.adminA, w.coA.id);
      const added: string[] = [];
      for (let i = 0; i < 5; i++) {
        const p = await buildPerson(t, w.coA.id);
        const res = await w.adminA('POST', `${groups(w.coA.id)}/${g.id}/members`, { personId: p.id });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        added.push(res.body.id as string);
        t.clock.advance(1000);
      }
      const first = await w.readerA('GET', `${groups(w.coA.id)}/${g.id}/members?pageSize=2`);
      const third = await w.readerA('GET', `${groups(w.coA.id)}/${g.id}/members?page=3&pageSize=2`);
      assert.equal(first.status, 200);
      assert.deepEqual({ ...first.body, items: first.body.items.map((m: { id: string }) => m.id) }, { items: added.slice(0, 2), total: 5, totalIsAtLeast: false, page: 1, pageSize: 2 });
      assert.deepEqual({ ...third.body, items: third.body.items.map((m: { id: string }) => m.id) }, { items: added.slice(4), total: 5, totalIsAtLeast: false, page: 3, pageSize: 2 });
      const all = await w.readerA('GET', `${groups(w.coA.id)}/${g.id}/members`);
      assert.deepEqual([all.body.items.length, all.body.total, all.body.page, all.body.pageSize], [5, 5, 1, 100], 'the default page');
      for (const bad of ['pageSize=0', 'pageSize=1001', 'page=0', 'page=x']) {
        const res = await w.readerA('GET', `${groups(w.coA.id)}/${g.id}/members?${bad}`);
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.error.code, 'VALIDATION_FAILED', bad);
      }
    });

    it('counts a list up to 10,000 and then says "at least" (memberships, the members group, people), paging on to the end', async () => {
      const co = await buildCo(t);
      const api = w.platformAdmin;
      const g = await api('POST', groups(co.id), { name: 'Everyone', description: '' });
      assert.equal(g.status, 201, JSON.stringify(g.body));
      const n = API_COUNTED_UP_TO + 1;
      const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
      const rows = Array.from({ length: n }, (_, i): NewPersonRows => {
        const personId = newId();
        return { person: { id: personId, co_id: co.id, status: 'active', created_at: at(i), updated_at: at(i) }, names: [], identifiers: [], emails: [] };
      });
      await t.ctx.db.transaction().execute(async (trx) => {
        await insertPeopleBatch(trx, rows);
        await insertMemberships(trx, rows.map((r, i) => ({ id: newId(), co_id: co.id, group_id: g.body.id, person_id: r.person.id, member: 1, owner: 0, valid_from: null, valid_through: null, created_at: at(i) })));
      });
      const members = await systemGroup(co.id, 'members');
      for (const path of [`${groups(co.id)}/${g.body.id}/members`, `${groups(co.id)}/${members}/members`, `/api/v1/cos/${co.id}/people`]) {
        const first = await api('GET', `${path}?pageSize=100`);
        assert.equal(first.status, 200, path);
        assert.deepEqual([first.body.total, first.body.totalIsAtLeast, first.body.items.length], [API_COUNTED_UP_TO, true, 100], path);
        const last = await api('GET', `${path}?page=101&pageSize=100`);
        assert.deepEqual([last.body.total, last.body.totalIsAtLeast, last.body.items.length], [API_COUNTED_UP_TO, true, 1], `${path}: the last page, beyond the count`);
      }
    });

    it('lists the automatic members group but refuses to edit it, and protects the system groups', async () => {
      const members = await systemGroup(w.coA.id, 'members');
      const admins = await systemGroup(w.coA.id, 'admins');
      const p = await buildPerson(t, w.coA.id);
      const listed = await w.readerA('GET', `${groups(w.coA.id)}/${members}/members`);
      assert.equal(listed.status, 200);
      assert.ok(listed.body.items.some((m: { personId: string }) => m.personId === p.id));

      const before = await snapshotRegistry(t);
      const add = await w.adminA('POST', `${groups(w.coA.id)}/${members}/members`, { personId: p.id });
      assert.equal(add.status, 422);
      assert.equal(add.body.error.code, 'GROUP_MEMBERSHIP_AUTOMATIC');
      const autoId = listed.body.items[0].id as string;
      const remove = await w.adminA('DELETE', `${groups(w.coA.id)}/${members}/members/${autoId}`);
      assert.equal(remove.status, 404);
      for (const id of [members, admins]) {
        const del = await w.adminA('DELETE', `${groups(w.coA.id)}/${id}`);
        assert.equal(del.status, 422);
        assert.equal(del.body.error.code, 'GROUP_SYSTEM_PROTECTED');
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });
  });

  describe('conflicts and validation', () => {
    it('refuses a duplicate group name (409 GROUP_NAME_TAKEN) within a CO but not across COs', async () => {
      await newGroup(w.adminA, w.coA.id, 'Mail users');
      const other = await newGroup(w.adminA, w.coA.id, 'Other');
      const before = await snapshotRegistry(t);
      const dup = await w.adminA('POST', groups(w.coA.id), { name: 'Mail users' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'GROUP_NAME_TAKEN');
      assert.equal(dup.body.error.field, 'name');
      const rename = await w.adminA('PUT', `${groups(w.coA.id)}/${other.id}`, { name: 'Mail users' });
      assert.equal(rename.status, 409);
      assert.equal(rename.body.error.code, 'GROUP_NAME_TAKEN');
      assert.deepEqual(await snapshotRegistry(t), before);
      await newGroup(w.adminB, w.coB.id, 'Mail users');
    });

    it('answers 400 naming the field for bad group and membership bodies', async () => {
      const g = await newGroup(w.adminA, w.coA.id);
      const p = await buildPerson(t, w.coA.id);
      const before = await snapshotRegistry(t);
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', groups(w.coA.id), {}, 'name'],
        ['POST', groups(w.coA.id), { name: 'CO:sneaky' }, 'name'],
        ['POST', groups(w.coA.id), { name: 12 }, 'name'],
        ['POST', groups(w.coA.id), { name: 'x', status: 'dormant' }, 'status'],
        ['POST', groups(w.coA.id), { name: 'x', description: 'd'.repeat(5000) }, 'description'],
        ['PUT', `${groups(w.coA.id)}/${g.id}`, { name: ['a', 'b'] }, 'name'],
        ['POST', `${groups(w.coA.id)}/${g.id}/members`, {}, 'personId'],
        ['POST', `${groups(w.coA.id)}/${g.id}/members`, { personId: 42 }, 'personId'],
        ['POST', `${groups(w.coA.id)}/${g.id}/members`, { personId: p.id, validFrom: 'yesterday' }, 'validFrom'],
        ['POST', `${groups(w.coA.id)}/${g.id}/members`, { personId: p.id, validFrom: '2027-01-01T00:00:00Z', validThrough: '2026-01-01T00:00:00Z' }, 'validThrough'],
      ];
      for (const [method, url, body, field] of cases) {
        const res = await w.adminA(method, url, body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
        assert.equal(res.body.error.field, field, JSON.stringify(body));
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });
  });

  describe('authorization', () => {
    it('lets an unprivileged API user read groups but not change them (403)', async () => {
      const g = await newGroup(w.adminA, w.coA.id);
      const p = await buildPerson(t, w.coA.id);
      const m = await w.adminA('POST', `${groups(w.coA.id)}/${g.id}/members`, { personId: p.id });
      assert.equal((await w.readerA('GET', `${groups(w.coA.id)}/${g.id}/members`)).status, 200);
      const before = await snapshotRegistry(t);
      for (const [method, url, body] of [
        ['POST', groups(w.coA.id), { name: 'Nope' }],
        ['PUT', `${groups(w.coA.id)}/${g.id}`, { name: 'Nope' }],
        ['DELETE', `${groups(w.coA.id)}/${g.id}`],
        ['POST', `${groups(w.coA.id)}/${g.id}/members`, { personId: (await buildPerson(t, w.coA.id)).id }],
        ['DELETE', `${groups(w.coA.id)}/${g.id}/members/${m.body.id}`],
      ] as Array<[string, string, unknown?]>) {
        const snapshot = await snapshotRegistry(t);
        const res = await w.readerA(method, url, body);
        assert.equal(res.status, 403, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'FORBIDDEN');
        assert.deepEqual(await snapshotRegistry(t), snapshot);
      }
      assert.equal((await snapshotRegistry(t)).co_group_member!.length, before.co_group_member!.length);
    });

    it('never lets CO A’s API user reach CO B’s groups, people or memberships through URLs or bodies', async () => {
      const gA = await newGroup(w.adminA, w.coA.id);
      const gB = await newGroup(w.adminB, w.coB.id);
      const pA = await buildPerson(t, w.coA.id);
      const pB = await buildPerson(t, w.coB.id);
      const mB = (await w.adminB('POST', `${groups(w.coB.id)}/${gB.id}/members`, { personId: pB.id })).body as { id: string };
      const adminsB = await systemGroup(w.coB.id, 'admins');
      const before = await snapshotRegistry(t);
      const attempts: Array<[string, string, unknown, string, string?]> = [
        // CO B in the URL.
        ['GET', groups(w.coB.id), undefined, 'CO_NOT_FOUND'],
        ['POST', groups(w.coB.id), { name: 'Intruders' }, 'CO_NOT_FOUND'],
        ['GET', `${groups(w.coB.id)}/${gB.id}`, undefined, 'CO_NOT_FOUND'],
        ['PUT', `${groups(w.coB.id)}/${gB.id}`, { name: 'Hijacked' }, 'CO_NOT_FOUND'],
        ['DELETE', `${groups(w.coB.id)}/${gB.id}`, undefined, 'CO_NOT_FOUND'],
        ['GET', `${groups(w.coB.id)}/${gB.id}/members`, undefined, 'CO_NOT_FOUND'],
        ['POST', `${groups(w.coB.id)}/${adminsB}/members`, { personId: pB.id }, 'CO_NOT_FOUND'],
        ['DELETE', `${groups(w.coB.id)}/${gB.id}/members/${mB.id}`, undefined, 'CO_NOT_FOUND'],
        // CO A's URL with CO B's group.
        ['GET', `${groups(w.coA.id)}/${gB.id}`, undefined, 'GROUP_NOT_FOUND'],
        ['PUT', `${groups(w.coA.id)}/${gB.id}`, { name: 'Hijacked' }, 'GROUP_NOT_FOUND'],
        ['DELETE', `${groups(w.coA.id)}/${gB.id}`, undefined, 'GROUP_NOT_FOUND'],
        ['GET', `${groups(w.coA.id)}/${gB.id}/members`, undefined, 'GROUP_NOT_FOUND'],
        ['POST', `${groups(w.coA.id)}/${adminsB}/members`, { personId: pA.id }, 'GROUP_NOT_FOUND'],
        ['DELETE', `${groups(w.coA.id)}/${gB.id}/members/${mB.id}`, undefined, 'GROUP_NOT_FOUND'],
        // CO A's group with CO B's person in the body, or CO B's membership in the URL.
        ['POST', `${groups(w.coA.id)}/${gA.id}/members`, { personId: pB.id }, 'PERSON_NOT_FOUND', 'personId'],
        ['DELETE', `${groups(w.coA.id)}/${gA.id}/members/${mB.id}`, undefined, 'MEMBERSHIP_NOT_FOUND'],
      ];
      for (const [method, url, body, code, field] of attempts) {
        const res = await w.adminA(method, url, body);
        assert.equal(res.status, 404, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, code, `${method} ${url}`);
        if (field) assert.equal(res.body.error.field, field);
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });

    it('lets a privileged platform API user manage groups in any CO', async () => {
      const g = await newGroup(w.platformAdmin, w.coB.id, 'Made by the platform');
      const p = await buildPerson(t, w.coB.id);
      const m = await w.platformAdmin('POST', `${groups(w.coB.id)}/${g.id}/members`, { personId: p.id });
      assert.equal(m.status, 201);
      const row = await t.ctx.db.selectFrom('co_group_member').select(['co_id', 'group_id', 'person_id']).where('id', '=', m.body.id).executeTakeFirstOrThrow();
      assert.deepEqual(row, { co_id: w.coB.id, group_id: g.id, person_id: p.id });
      assert.equal((await w.platformReader('GET', `${groups(w.coB.id)}/${g.id}/members`)).status, 200);
      assert.equal((await w.platformReader('DELETE', `${groups(w.coB.id)}/${g.id}/members/${m.body.id}`)).status, 403);
    });
  });
});
