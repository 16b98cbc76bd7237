import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildApiWorld, snapshotRegistry, type ApiWorld } from '../../../test/support/api-client.ts';
import { useTestApp, forEachDialect } from '../../../test/support/test-app.ts';

forEachDialect('Services API', (dialect) => {
  const t = useTestApp(dialect);
  let w: ApiWorld;
  before(async () => {
    w = await buildApiWorld(t);
  });

  const services = (coId: string) => `/api/v1/cos/${coId}/services`;
  let labels = 0;
  const label = () => `svc${++labels}`;
  const newGroup = async (call: ApiWorld['adminA'], coId: string) =>
    (await call('POST', `/api/v1/cos/${coId}/groups`, { name: `Group ${label()}` })).body as { id: string };
  const newService = async (call: ApiWorld['adminA'], coId: string, extra: Record<string, unknown> = {}) => {
    const res = await call('POST', services(coId), { name: 'Mail', shortLabel: label(), ...extra });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string; shortLabel: string };
  };

  describe('CRUD', () => {
    it('creates a service with every field and stores it in the CO', async () => {
      const group = await newGroup(w.adminA, w.coA.id);
      const res = await w.adminA('POST', services(w.coA.id), {
        name: 'Wiki',
        description: 'The project wiki',
        shortLabel: 'Wiki1',
        coGroupId: group.id,
        serviceUrl: 'https://wiki.example.org',
        contactEmail: 'wiki@example.org',
        logoUrl: 'https://wiki.example.org/logo.png',
        entitlementUri: 'urn:example:wiki',
        visibility: 'co_group_member',
        identifierType: 'eppn',
        status: 'active',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const { id, createdAt, updatedAt, ...rest } = res.body;
      assert.ok(id && createdAt && updatedAt);
      assert.deepEqual(rest, {
        coId: w.coA.id,
        name: 'Wiki',
        description: 'The project wiki',
        shortLabel: 'Wiki1',
        coGroupId: group.id,
        serviceUrl: 'https://wiki.example.org',
        contactEmail: 'wiki@example.org',
        logoUrl: 'https://wiki.example.org/logo.png',
        entitlementUri: 'urn:example:wiki',
        visibility: 'co_group_member',
        identifierType: 'eppn',
        status: 'active',
      });
      const row = await t.ctx.db.selectFrom('co_service').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.co_id, w.coA.id);
      assert.equal(row.co_group_id, group.id);
      assert.equal(row.short_label, 'Wiki1');
      const history = await t.ctx.db.selectFrom('history_record').select('action').where('service_id', '=', id).execute();
      assert.deepEqual(history.map((h) => h.action), ['SERVICE_CREATED']);
    });

    it('reads, lists, replaces and deletes a service', async () => {
      const s = await newService(w.adminA, w.coA.id, { description: 'Old' });
      const one = await w.readerA('GET', `${services(w.coA.id)}/${s.id}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.description, 'Old');
      const list = await w.readerA('GET', services(w.coA.id));
      assert.ok(list.body.items.some((x: { id: string }) => x.id === s.id));
      assert.ok(list.body.items.every((x: { coId: string }) => x.coId === w.coA.id));

      const put = await w.adminA('PUT', `${services(w.coA.id)}/${s.id}`, { name: 'Mail 2', shortLabel: s.shortLabel, status: 'suspended', serviceUrl: '' });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.name, 'Mail 2');
      assert.equal(put.body.status, 'suspended');
      assert.equal(put.body.description, '', 'PUT replaces the whole service');
      assert.equal(put.body.serviceUrl, null);
      const row = await t.ctx.db.selectFrom('co_service').select(['name', 'status']).where('id', '=', s.id).executeTakeFirstOrThrow();
      assert.deepEqual(row, { name: 'Mail 2', status: 'suspended' });

      const del = await w.adminA('DELETE', `${services(w.coA.id)}/${s.id}`);
      assert.equal(del.status, 204);
      assert.equal(await t.ctx.db.selectFrom('co_service').select('id').where('id', '=', s.id).executeTakeFirst(), undefined);
      const gone = await w.adminA('GET', `${services(w.coA.id)}/${s.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.code, 'SERVICE_NOT_FOUND');
    });
  });

  describe('conflicts and validation', () => {
    it('refuses a short label taken in the CO, ignoring case (409), but not in another CO', async () => {
      const s = await newService(w.adminA, w.coA.id, { shortLabel: 'GitLab' });
      const other = await newService(w.adminA, w.coA.id);
      const before = await snapshotRegistry(t);
      const dup = await w.adminA('POST', services(w.coA.id), { name: 'Git', shortLabel: 'gitlab' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'SERVICE_SHORT_LABEL_TAKEN');
      assert.equal(dup.body.error.field, 'shortLabel');
      const rename = await w.adminA('PUT', `${services(w.coA.id)}/${other.id}`, { name: 'Other', shortLabel: 'GITLAB' });
      assert.equal(rename.status, 409);
      assert.deepEqual(await snapshotRegistry(t), before);
      assert.equal((await w.adminB('POST', services(w.coB.id), { name: 'Git', shortLabel: 'GitLab' })).status, 201);
      assert.ok(s.id);
    });

    it('answers 400 naming the field for bad bodies', async () => {
      const s = await newService(w.adminA, w.coA.id);
      const before = await snapshotRegistry(t);
      const cases: Array<[unknown, string]> = [
        [{ shortLabel: 'ok' }, 'name'],
        [{ name: 'x' }, 'shortLabel'],
        [{ name: 'x', shortLabel: 'has space' }, 'shortLabel'],
        [{ name: 'x', shortLabel: 'a'.repeat(65) }, 'shortLabel'],
        [{ name: 'x', shortLabel: 'ok', serviceUrl: 'javascript:alert(1)' }, 'serviceUrl'],
        [{ name: 'x', shortLabel: 'ok', serviceUrl: 42 }, 'serviceUrl'],
        [{ name: 'x', shortLabel: 'ok', contactEmail: 'nobody' }, 'contactEmail'],
        [{ name: 'x', shortLabel: 'ok', visibility: 'everyone' }, 'visibility'],
        [{ name: 'x', shortLabel: 'ok', status: true }, 'status'],
        [{ name: 'x', shortLabel: 'ok', identifierType: 'NOT VALID' }, 'identifierType'],
        [{ name: 'x', shortLabel: 'ok', identifierType: 'neverdefined' }, 'identifierType'],
        [{ name: 'x', shortLabel: 'ok', visibility: 'co_group_member' }, 'coGroupId'],
      ];
      for (const [body, field] of cases) {
        for (const [method, url] of [['POST', services(w.coA.id)], ['PUT', `${services(w.coA.id)}/${s.id}`]] as const) {
          const res = await w.adminA(method, url, body);
          assert.equal(res.status, 400, `${method} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.field, field, `${method} ${JSON.stringify(body)}`);
        }
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });
  });

  describe('authorization', () => {
    it('lets an unprivileged API user read services but not change them (403)', async () => {
      const s = await newService(w.adminA, w.coA.id);
      assert.equal((await w.readerA('GET', services(w.coA.id))).status, 200);
      assert.equal((await w.readerA('GET', `${services(w.coA.id)}/${s.id}`)).status, 200);
      const before = await snapshotRegistry(t);
      for (const [method, url, body] of [
        ['POST', services(w.coA.id), { name: 'Nope', shortLabel: 'nope' }],
        ['PUT', `${services(w.coA.id)}/${s.id}`, { name: 'Nope', shortLabel: 'nope' }],
        ['DELETE', `${services(w.coA.id)}/${s.id}`],
      ] as Array<[string, string, unknown?]>) {
        const res = await w.readerA(method, url, body);
        assert.equal(res.status, 403, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'FORBIDDEN');
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });

    it('never lets CO A’s API user reach CO B’s services, or tie its services to CO B’s groups', async () => {
      const sA = await newService(w.adminA, w.coA.id);
      const sB = await newService(w.adminB, w.coB.id);
      const gB = await newGroup(w.adminB, w.coB.id);
      const before = await snapshotRegistry(t);
      const attempts: Array<[string, string, unknown, string, string?]> = [
        ['GET', services(w.coB.id), undefined, 'CO_NOT_FOUND'],
        ['POST', services(w.coB.id), { name: 'Intruder', shortLabel: 'intruder' }, 'CO_NOT_FOUND'],
        ['GET', `${services(w.coB.id)}/${sB.id}`, undefined, 'CO_NOT_FOUND'],
        ['PUT', `${services(w.coB.id)}/${sB.id}`, { name: 'Hijacked', shortLabel: sB.shortLabel }, 'CO_NOT_FOUND'],
        ['DELETE', `${services(w.coB.id)}/${sB.id}`, undefined, 'CO_NOT_FOUND'],
        ['GET', `${services(w.coA.id)}/${sB.id}`, undefined, 'SERVICE_NOT_FOUND'],
        ['PUT', `${services(w.coA.id)}/${sB.id}`, { name: 'Hijacked', shortLabel: sB.shortLabel }, 'SERVICE_NOT_FOUND'],
        ['DELETE', `${services(w.coA.id)}/${sB.id}`, undefined, 'SERVICE_NOT_FOUND'],
        // CO B's group named in the body of a CO A service.
        ['POST', services(w.coA.id), { name: 'Leaky', shortLabel: 'leaky', coGroupId: gB.id }, 'GROUP_NOT_FOUND', 'coGroupId'],
        ['PUT', `${services(w.coA.id)}/${sA.id}`, { name: 'Mail', shortLabel: sA.shortLabel, coGroupId: gB.id }, 'GROUP_NOT_FOUND', 'coGroupId'],
      ];
      for (const [method, url, body, code, field] of attempts) {
        const res = await w.adminA(method, url, body);
        assert.equal(res.status, 404, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, code, `${method} ${url}`);
        if (field) assert.equal(res.body.error.field, field);
      }
      assert.deepEqual(await snapshotRegistry(t), before);
    });

    it('lets a privileged platform API user manage services in any CO', async () => {
      const s = await newService(w.platformAdmin, w.coB.id);
      assert.equal((await w.platformReader('GET', `${services(w.coB.id)}/${s.id}`)).status, 200);
      assert.equal((await w.platformReader('DELETE', `${services(w.coB.id)}/${s.id}`)).status, 403);
      assert.equal((await w.platformAdmin('DELETE', `${services(w.coB.id)}/${s.id}`)).status, 204);
    });
  });
});
