import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { buildApiWorld, type ApiWorld } from '../../../test/support/api-client.ts';
import { useTestApp, forEachDialect } from '../../../test/support/test-app.ts';

forEachDialect('History API', (dialect) => {
  const t = useTestApp(dialect);
  let w: ApiWorld;
  let personId: string;
  let serviceId: string;
  before(async () => {
    w = await buildApiWorld(t);
    // History is ordered by time; the test clock stands still unless moved.
    t.clock.advance(1000);
    personId = (await w.adminA('POST', `/api/v1/cos/${w.coA.id}/people`, { name: { given: 'Hedy', family: 'Lamarr' } })).body.id;
    t.clock.advance(1000);
    await w.adminA('PUT', `/api/v1/cos/${w.coA.id}/people/${personId}/status`, { status: 'suspended' });
    t.clock.advance(1000);
    serviceId = (await w.adminA('POST', `/api/v1/cos/${w.coA.id}/services`, { name: 'Radio', shortLabel: 'radio' })).body.id;
    await w.adminB('POST', `/api/v1/cos/${w.coB.id}/people`, { name: { given: 'Elsewhere' } });
  });

  const history = (coId: string, query = '') => `/api/v1/cos/${coId}/history${query}`;

  it('lists the CO’s history newest first, naming the API user that acted', async () => {
    const res = await w.adminA('GET', history(w.coA.id));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const actions = res.body.items.map((h: { action: string }) => h.action);
    assert.deepEqual(actions.slice(0, 3), ['SERVICE_CREATED', 'PERSON_STATUS_CHANGED', 'PERSON_CREATED']);
    assert.ok(res.body.items.every((h: { coId: string }) => h.coId === w.coA.id), 'only CO A’s history');
    const created = res.body.items.find((h: { action: string }) => h.action === 'PERSON_CREATED');
    assert.equal(created.personId, personId);
    assert.match(created.actorLabel, /^API user api-/);
    assert.ok(created.actorApiUserId);
    assert.equal(created.actorPersonId, null);
  });

  it('filters by person and by service, and pages', async () => {
    const byPerson = await w.adminA('GET', history(w.coA.id, `?personId=${personId}`));
    assert.deepEqual(byPerson.body.items.map((h: { action: string }) => h.action), ['PERSON_STATUS_CHANGED', 'PERSON_CREATED']);
    const byService = await w.adminA('GET', history(w.coA.id, `?serviceId=${serviceId}`));
    assert.deepEqual(byService.body.items.map((h: { action: string }) => h.action), ['SERVICE_CREATED']);
    const none = await w.adminA('GET', history(w.coA.id, '?personId=not-a-person'));
    assert.deepEqual(none.body.items, []);
    const page2 = await w.adminA('GET', history(w.coA.id, `?personId=${personId}&page=2&pageSize=1`));
    assert.deepEqual(page2.body.items.map((h: { action: string }) => h.action), ['PERSON_CREATED']);
    assert.equal(page2.body.page, 2);
    assert.equal(page2.body.pageSize, 1);
  });

  it('is for privileged API users: unprivileged ones get 403, other COs 404', async () => {
    const reader = await w.readerA('GET', history(w.coA.id));
    assert.equal(reader.status, 403);
    assert.equal(reader.body.error.code, 'FORBIDDEN');
    const other = await w.adminA('GET', history(w.coB.id));
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, 'CO_NOT_FOUND');
    const crossFilter = await w.adminB('GET', history(w.coB.id, `?personId=${personId}`));
    assert.equal(crossFilter.status, 200);
    assert.deepEqual(crossFilter.body.items, [], 'CO A’s person id does not reach CO A’s history through CO B');
    assert.equal((await w.platformAdmin('GET', history(w.coB.id))).status, 200);
    assert.equal((await w.platformReader('GET', history(w.coB.id))).status, 403);
  });

  it('answers 400 for bad query parameters', async () => {
    for (const [query, field] of [['?page=0', 'page'], ['?pageSize=500', 'pageSize'], ['?personId=a&personId=b', 'personId'], [`?serviceId=${'x'.repeat(100)}`, 'serviceId']]) {
      const res = await w.adminA('GET', history(w.coA.id, query));
      assert.equal(res.status, 400, query);
      assert.equal(res.body.error.field, field);
    }
  });
});
