import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildApiWorld, snapshotRegistry, type ApiWorld } from '../../../test/support/api-client.ts';
import { useTestApp, forEachDialect } from '../../../test/support/test-app.ts';

forEachDialect('COs API', (dialect) => {
  const t = useTestApp(dialect);
  let w: ApiWorld;
  before(async () => {
    w = await buildApiWorld(t);
  });

  describe('reading', () => {
    it('lists only the caller’s CO to a CO’s API user, and every CO to platform API users', async () => {
      const mine = await w.readerA('GET', '/api/v1/cos');
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body.items.map((c: { id: string }) => c.id), [w.coA.id]);
      assert.deepEqual(Object.keys(mine.body.items[0]).sort(), ['createdAt', 'description', 'id', 'isPlatform', 'name', 'status']);

      const all = (await t.ctx.db.selectFrom('co').select('id').execute()).map((c) => c.id).sort();
      for (const platform of [w.platformAdmin, w.platformReader]) {
        const res = await platform('GET', '/api/v1/cos');
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.items.map((c: { id: string }) => c.id).sort(), all);
        assert.equal(res.body.items[0].isPlatform, true, 'the platform CO comes first');
      }
    });

    it('reads a CO it reaches and answers 404 for one it does not, like a missing one', async () => {
      const own = await w.readerA('GET', `/api/v1/cos/${w.coA.id}`);
      assert.equal(own.status, 200);
      assert.deepEqual(own.body, { ...w.coA });
      const other = await w.readerA('GET', `/api/v1/cos/${w.coB.id}`);
      const missing = await w.readerA('GET', '/api/v1/cos/00000000-0000-4000-8000-000000000000');
      const malformed = await w.readerA('GET', '/api/v1/cos/not-an-id');
      for (const res of [other, missing, malformed]) {
        assert.equal(res.status, 404);
        assert.equal(res.body.error.code, 'CO_NOT_FOUND');
      }
      assert.equal(other.body.error.message, missing.body.error.message, 'nothing tells another CO from a missing one');
      assert.equal((await w.platformReader('GET', `/api/v1/cos/${w.coB.id}`)).status, 200);
    });
  });

  describe('writing', () => {
    it('lets a privileged platform API user create a CO with its system groups (201)', async () => {
      const res = await w.platformAdmin('POST', '/api/v1/cos', { name: 'Astronomy', description: 'Stars' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.name, 'Astronomy');
      assert.equal(res.body.description, 'Stars');
      assert.equal(res.body.status, 'active');
      assert.equal(res.body.isPlatform, false);
      const groups = await t.ctx.db.selectFrom('co_group').select('group_type').where('co_id', '=', res.body.id).orderBy('group_type').execute();
      assert.deepEqual(groups.map((g) => g.group_type), ['admins', 'members']);

      const dup = await w.platformAdmin('POST', '/api/v1/cos', { name: 'Astronomy' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'CO_NAME_TAKEN');
      assert.equal(dup.body.error.field, 'name');
    });

    it('refuses CO creation to everyone else (403) and changes nothing', async () => {
      const before = await snapshotRegistry(t);
      for (const call of [w.adminA, w.readerA, w.platformReader]) {
        const res = await call('POST', '/api/v1/cos', { name: 'Sneaky' });
        assert.equal(res.status, 403, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'FORBIDDEN');
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });

    it('patches only the fields sent', async () => {
      const co = (await w.platformAdmin('POST', '/api/v1/cos', { name: 'Biology', description: 'Cells' })).body;
      const renamed = await w.platformAdmin('PATCH', `/api/v1/cos/${co.id}`, { name: 'Life sciences' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.name, 'Life sciences');
      assert.equal(renamed.body.description, 'Cells', 'an omitted description is kept');
      const suspended = await w.platformAdmin('PATCH', `/api/v1/cos/${co.id}`, { status: 'suspended' });
      assert.equal(suspended.body.status, 'suspended');
      const row = await t.ctx.db.selectFrom('co').select(['name', 'description', 'status']).where('id', '=', co.id).executeTakeFirstOrThrow();
      assert.deepEqual(row, { name: 'Life sciences', description: 'Cells', status: 'suspended' });

      const taken = await w.platformAdmin('PATCH', `/api/v1/cos/${co.id}`, { name: w.coA.name });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.code, 'CO_NAME_TAKEN');
      const platform = await w.platformAdmin('PATCH', `/api/v1/cos/${w.platformCo.id}`, { status: 'suspended' });
      assert.equal(platform.status, 422);
      assert.equal(platform.body.error.code, 'PLATFORM_CO_PROTECTED');
    });

    it('refuses PATCH to a CO’s own API users (403) and hides other COs (404), changing nothing', async () => {
      const before = await snapshotRegistry(t);
      const own = await w.adminA('PATCH', `/api/v1/cos/${w.coA.id}`, { name: 'Mine now' });
      assert.equal(own.status, 403);
      const other = await w.adminA('PATCH', `/api/v1/cos/${w.coB.id}`, { name: 'Mine now' });
      assert.equal(other.status, 404);
      assert.equal(other.body.error.code, 'CO_NOT_FOUND');
      assert.equal((await w.platformReader('PATCH', `/api/v1/cos/${w.coB.id}`, { name: 'Mine now' })).status, 403);
      assert.deepEqual(await snapshotRegistry(t), before);
    });

    it('answers 400 naming the field for bad bodies', async () => {
      const before = await snapshotRegistry(t);
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/api/v1/cos', {}, 'name'],
        ['POST', '/api/v1/cos', { name: '' }, 'name'],
        ['POST', '/api/v1/cos', { name: 7 }, 'name'],
        ['POST', '/api/v1/cos', { name: 'n'.repeat(129) }, 'name'],
        ['POST', '/api/v1/cos', { name: 'ok', description: { nested: true } }, 'description'],
        ['PATCH', `/api/v1/cos/${w.coA.id}`, { status: 'archived' }, 'status'],
        ['PATCH', `/api/v1/cos/${w.coA.id}`, { name: null }, 'name'],
        ['PATCH', `/api/v1/cos/${w.coA.id}`, [], '(body)'],
      ];
      for (const [method, url, body, field] of cases) {
        const res = await w.platformAdmin(method, url, body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
        assert.equal(res.body.error.field, field);
      }
      const malformed = await w.platformAdmin('POST', '/api/v1/cos', undefined, { raw: '{name:' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'VALIDATION_FAILED');
      assert.deepEqual(await snapshotRegistry(t), before);
    });
  });
});
