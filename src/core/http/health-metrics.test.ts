import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { buildApiWorld, type ApiWorld } from '../../../test/support/api-client.ts';
import { useTestApp, forEachDialect } from '../../../test/support/test-app.ts';

/** The value of one sample line of the Prometheus text, or 0 when absent. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

forEachDialect('Health and metrics', (dialect) => {
  const t = useTestApp(dialect);
  let w: ApiWorld;
  before(async () => {
    w = await buildApiWorld(t);
  });

  const metrics = async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return res.body;
  };

  it('reports health with a database check', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok', database: dialect });
  });

  it('counts requests by method, route pattern and status', async () => {
    const people = `/api/v1/cos/${w.coA.id}/people`;
    const route = 'method="GET",route="/api/v1/cos/:coId/people"';
    const before = await metrics();
    assert.equal((await w.readerA('GET', people)).status, 200);
    assert.equal((await w.readerA('GET', `${people}?q=x`)).status, 200);
    assert.equal((await w.anonymous('GET', people)).status, 401);
    assert.equal((await w.readerA('POST', people, { name: { given: 'x' } })).status, 403);
    assert.equal((await w.readerA('GET', '/api/v1/no-such-thing')).status, 404);
    const after = await metrics();

    const delta = (labels: string) => sample(after, 'tessera_http_requests_total', labels) - sample(before, 'tessera_http_requests_total', labels);
    assert.equal(delta(`${route},status="200"`), 2, 'both URLs count under one route pattern');
    assert.equal(delta(`${route},status="401"`), 1);
    assert.equal(delta('method="POST",route="/api/v1/cos/:coId/people",status="403"'), 1);
    assert.equal(delta('method="GET",route="unmatched",status="404"'), 1);
    assert.ok(!after.includes(w.coA.id), 'no ids in labels');

    const count = sample(after, 'tessera_http_request_duration_seconds_count', route) - sample(before, 'tessera_http_request_duration_seconds_count', route);
    assert.equal(count, 3);
    assert.ok(sample(after, 'tessera_http_request_duration_seconds_bucket', `${route},le="+Inf"`) >= 3);
    assert.match(after, /^# TYPE tessera_http_requests_total counter$/m);
    assert.match(after, /^# TYPE tessera_http_request_duration_seconds histogram$/m);
    assert.match(after, /^process_resident_memory_bytes \d+$/m);
    for (const line of after.trim().split('\n')) {
      assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-+0-9.eInf]+)$/, `a Prometheus text line: ${line}`);
    }
  });

  it('answers 503 while the database cannot be read, and recovers', async () => {
    await sql`ALTER TABLE co RENAME TO co_offline`.execute(t.ctx.db);
    try {
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { status: 'unavailable', database: dialect });
    } finally {
      await sql`ALTER TABLE co_offline RENAME TO co`.execute(t.ctx.db);
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });
});
