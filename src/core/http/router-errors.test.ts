import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, it } from 'node:test';
import { buildApiUser, buildCo, forEachDialect, useTestApp } from '../../../test/support/test-app.ts';

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends the path byte for byte, as a client on the wire would (no URL normalisation on the way). */
function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'GET', path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Paths the router itself refuses: malformed percent-encodings and path parameters longer than any id. */
const BAD_ENCODINGS = ['%ZZ', '%FF', '%C0%80', '%E2%9C', '%', 'ok%2', '%ED%A0%80'];
const LONG_PARAM = 'a'.repeat(101);
const VERY_LONG_PARAM = 'x'.repeat(5000);

forEachDialect('Router errors', (dialect) => {
  const t = useTestApp(dialect);
  let port: number;
  let coId: string;
  let authorization: string;

  before(async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
    coId = (await buildCo(t)).id;
    authorization = (await buildApiUser(t, coId, true)).authorization;
  });

  /** Every answer, router errors included, carries the request id and the security headers. */
  const assertHeaders = (answer: RawAnswer, what: string) => {
    assert.match(String(answer.headers['x-request-id']), /^[0-9a-f-]{36}$/, `${what}: X-Request-Id`);
    assert.match(String(answer.headers['content-security-policy']), /default-src 'self'/, `${what}: CSP`);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
    assert.equal(answer.headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  };

  const assertApiError = (answer: RawAnswer, what: string, status: number, code: string) => {
    assert.equal(answer.status, status, `${what}: status (${answer.body.slice(0, 200)})`);
    assert.match(String(answer.headers['content-type']), /^application\/json/, `${what}: JSON`);
    const body = JSON.parse(answer.body) as { error?: { code?: string; message?: string; requestId?: string; field?: string } };
    assert.deepEqual(Object.keys(body), ['error'], `${what}: only the documented error object`);
    assert.equal(body.error?.code, code, `${what}: code`);
    assert.equal(typeof body.error?.message, 'string', `${what}: message`);
    assert.equal(body.error?.requestId, answer.headers['x-request-id'], `${what}: the request id of the answer`);
    assert.doesNotMatch(answer.body, /FST_ERR|statusCode/, `${what}: nothing of Fastify's own body`);
    assertHeaders(answer, what);
  };

  const assertPage = (answer: RawAnswer, what: string, status: number) => {
    assert.equal(answer.status, status, `${what}: status`);
    assert.match(String(answer.headers['content-type']), /^text\/html/, `${what}: a page`);
    assert.match(answer.body, /<!doctype html>/i, `${what}: HTML`);
    assert.ok(answer.body.includes(String(answer.headers['x-request-id'])), `${what}: the page names the request id`);
    assert.doesNotMatch(answer.body, /FST_ERR/, `${what}: nothing of Fastify's own body`);
    assertHeaders(answer, what);
  };

  it('answers a malformed percent-encoding under /api/ with the documented JSON error, 400 VALIDATION_FAILED on field (path)', async () => {
    for (const bad of BAD_ENCODINGS) {
      for (const path of [`/api/v1/cos/${bad}`, `/api/v1/cos/${coId}/people/${bad}`, `/api/v1/${bad}`]) {
        const anonymous = await rawGet(port, path);
        assertApiError(anonymous, `GET ${path}`, 400, 'VALIDATION_FAILED');
        assert.equal((JSON.parse(anonymous.body) as { error: { field?: string } }).error.field, '(path)');
        assertApiError(await rawGet(port, path, { authorization }), `GET ${path} (signed in)`, 400, 'VALIDATION_FAILED');
      }
    }
  });

  it('answers a path parameter longer than any id under /api/ with the documented JSON error, 404 NOT_FOUND', async () => {
    for (const param of [LONG_PARAM, VERY_LONG_PARAM]) {
      for (const path of [`/api/v1/cos/${param}`, `/api/v1/cos/${coId}/people/${param}`, `/api/v1/cos/${param}/people`]) {
        assertApiError(await rawGet(port, path, { authorization }), `GET ${path.slice(0, 60)}…`, 404, 'NOT_FOUND');
      }
    }
  });

  it('answers the same faults on web paths with an HTML page', async () => {
    for (const bad of BAD_ENCODINGS) assertPage(await rawGet(port, `/cos/${bad}`), `GET /cos/${bad}`, 400);
    assertPage(await rawGet(port, `/cos/${coId}/people/%ZZ`), 'GET /cos/…/people/%ZZ', 400);
    assertPage(await rawGet(port, `/cos/${LONG_PARAM}`), 'GET /cos/<101 characters>', 404);
    assertPage(await rawGet(port, `/cos/${coId}/people/${VERY_LONG_PARAM}`), 'GET /cos/…/people/<5000 characters>', 404);
  });

  it('still serves well-formed paths after router errors, and logs no 500', async () => {
    assertApiError(await rawGet(port, '/api/v1/cos/%ZZ'), 'bad', 400, 'VALIDATION_FAILED');
    const good = await rawGet(port, `/api/v1/cos/${coId}`, { authorization });
    assert.equal(good.status, 200);
    assert.equal((JSON.parse(good.body) as { id: string }).id, coId);
    assert.equal(t.logs.filter((l) => l.includes('unhandled error')).length, 0, 'no unhandled error was logged');
  });
});
