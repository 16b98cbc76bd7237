import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { apiAs, buildApiWorld, type ApiCall, type ApiResponse, type ApiWorld } from '../../../test/support/api-client.ts';
import { buildApiUser, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';

type Json = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  op: Json;
}

/** Wrong values of every kind a client might send for one field. */
const JUNK: unknown[] = [
  null,
  0,
  -1,
  1e308,
  true,
  [],
  ['a', 'b'],
  {},
  { nested: { deeper: [1] } },
  '',
  ' ',
  'zzz-not-an-enum-value',
  'x'.repeat(70_000),
  'ünïcødé ✓ 🙂',
  "'; DROP TABLE co; --",
  '\u0000',
  '\ud800',
  '2026-13-45T99:99:99Z',
  '../../etc/passwd',
];

/** Wrong values for an id in a URL (already URL-encoded). */
const JUNK_IDS = ['0', 'not-a-uuid', '00000000-0000-0000-0000-000000000000', encodeURIComponent("1' OR '1'='1"), '%E2%9C%93', '%00', 'a'.repeat(90), '..%2F..', '%20'];

/** Malformed or mistyped raw bodies. */
const RAW_BODIES: Array<[string, string]> = [
  ['application/json', '{'],
  ['application/json', '{"name": }'],
  ['application/json', '[1, 2'],
  ['application/json', 'nul'],
  ['application/json', '{"a": 1} trailing'],
  ['application/json', '"\\ud800"'],
  ['application/json', `${'['.repeat(5000)}${']'.repeat(5000)}`],
  ['application/json', `{"name": "${'x'.repeat(300_000)}"}`],
  ['application/json', '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}'],
  ['text/plain', 'just text'],
  ['application/x-www-form-urlencoded', 'name=form&description=post'],
  ['application/xml', '<co/>'],
  ['application/json; charset=latin1', '{"name": "x"}'],
];

forEachDialect('API robustness', (dialect) => {
  const t = useTestApp(dialect);
  let w: ApiWorld;
  let operations: Operation[];
  let ids: Record<string, string>;
  before(async () => {
    w = await buildApiWorld(t);
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as Json;
    operations = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op: op as Json })));

    const co = w.coA.id;
    const person = (await w.adminA('POST', `/api/v1/cos/${co}/people`, { name: { given: 'Fuzz' }, identifiers: [{ identifier: 'fuzz', type: 'uid' }], emails: [{ mail: 'fuzz@example.org' }] })).body;
    const name = (await w.adminA('POST', `/api/v1/cos/${co}/people/${person.id}/names`, { given: 'Second' })).body;
    const group = (await w.adminA('POST', `/api/v1/cos/${co}/groups`, { name: 'Fuzzers' })).body;
    const membership = (await w.adminA('POST', `/api/v1/cos/${co}/groups/${group.id}/members`, { personId: person.id })).body;
    const service = (await w.adminA('POST', `/api/v1/cos/${co}/services`, { name: 'Fuzz', shortLabel: 'fuzz' })).body;
    ids = {
      coId: co,
      personId: person.id,
      identifierId: person.identifiers[0].id,
      nameId: name.id,
      emailId: person.emails[0].id,
      groupId: group.id,
      membershipId: membership.id,
      serviceId: service.id,
    };
    for (const [k, v] of Object.entries(ids)) assert.ok(v, k);
  });

  // Ids this test did not create (routes other modules add) are filled with an id that exists nowhere.
  const urlOf = (path: string, override: Record<string, string> = {}) =>
    path.replace(/\{(\w+)\}/g, (_m, name: string) => override[name] ?? ids[name] ?? '00000000-0000-4000-8000-000000000000');

  /** Never a 5xx, and every error is the JSON error shape with a stable code and the request id. */
  const assertHandled = (res: ApiResponse, what: string) => {
    assert.ok(res.status < 500, `${what} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
    if (res.status >= 400) {
      assert.match(String(res.body?.error?.code), /^[A-Z][A-Z_]+$/, `${what}: error code (${JSON.stringify(res.body)?.slice(0, 200)})`);
      assert.equal(typeof res.body.error.message, 'string', what);
      assert.equal(res.body.error.requestId, res.headers['x-request-id'], what);
      assert.ok(!JSON.stringify(res.body).includes('    at '), `${what}: no stack trace`);
    }
  };

  it('answers every documented operation with wrong types in every body field, never 500', async () => {
    let calls = 0;
    for (const { method, path, op } of operations) {
      const schema = op.requestBody?.content['application/json'].schema as Json | undefined;
      if (!schema) continue;
      const url = urlOf(path);
      for (const body of [null, 0, 'text', [], [{}], true, {}]) {
        assertHandled(await w.platformAdmin(method, url, body), `${method} ${path} body ${JSON.stringify(body)}`);
        calls++;
      }
      const fields = Object.keys(schema.properties ?? {});
      for (const field of fields) {
        for (const value of JUNK) {
          assertHandled(await w.platformAdmin(method, url, { [field]: value }), `${method} ${path} ${field}=${JSON.stringify(value).slice(0, 40)}`);
          calls++;
        }
      }
      // Nested objects (a person's name) and arrays of objects (identifiers, emails) get junk inside too.
      for (const field of fields) {
        const prop = schema.properties[field] as Json;
        const inner = (prop.type === 'array' ? prop.items?.properties : prop.properties) as Json | undefined;
        if (!inner) continue;
        for (const key of Object.keys(inner)) {
          for (const value of JUNK) {
            const wrapped = { ...(prop.type === 'array' ? { [field]: [{ [key]: value }] } : { [field]: { [key]: value } }), name: { given: 'Fuzz' } };
            assertHandled(await w.platformAdmin(method, url, wrapped), `${method} ${path} ${field}.${key}=${JSON.stringify(value).slice(0, 40)}`);
            calls++;
          }
        }
      }
    }
    assert.ok(calls > 500, `${calls} calls`);
  });

  it('answers malformed bodies and wrong content types with 4xx, never 500', async () => {
    for (const { method, path, op } of operations) {
      if (!op.requestBody) continue;
      for (const [contentType, raw] of RAW_BODIES) {
        const res = await w.platformAdmin(method, urlOf(path), undefined, { raw, headers: { 'content-type': contentType } });
        assertHandled(res, `${method} ${path} ${contentType} ${raw.slice(0, 30)}`);
        if (contentType.startsWith('application/json') && !raw.startsWith('{"__proto__"') && !contentType.includes('charset')) {
          assert.equal(res.status, 400, `${method} ${path} ${raw.slice(0, 30)}`);
          assert.equal(res.body.error.code, 'VALIDATION_FAILED');
        }
      }
    }
    assert.equal(Object.getPrototypeOf({}).admin, undefined, 'no prototype pollution');
  });

  it('answers junk ids in every path parameter with 4xx, never 500', async () => {
    for (const { method, path } of operations) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      for (const param of params) {
        for (const junk of JUNK_IDS) {
          const res = await w.platformAdmin(method, urlOf(path, { [param]: junk }), method === 'GET' || method === 'DELETE' ? undefined : {});
          assertHandled(res, `${method} ${path} ${param}=${junk}`);
          // Ids of the registry core must be found; what another module answers for its own ids is its call.
          if (param in ids) assert.ok([400, 404].includes(res.status), `${method} ${path} ${param}=${junk} → ${res.status}`);
        }
      }
    }
  });

  it('answers junk query parameters with 4xx, never 500', async () => {
    for (const { method, path, op } of operations) {
      const query = (op.parameters as Json[]).filter((p) => p.in === 'query');
      for (const p of query) {
        for (const junk of ['', '-1', '0', '1e400', 'NaN', 'abc', '%00', encodeURIComponent('x'.repeat(5000)), '1&' + p.name + '=2', '%5B%5D']) {
          assertHandled(await w.platformAdmin(method, `${urlOf(path)}?${p.name}=${junk}`), `${method} ${path}?${p.name}=${junk.slice(0, 30)}`);
        }
        assertHandled(await w.platformAdmin(method, `${urlOf(path)}?${p.name}[a]=1&${p.name}[b]=2`), `${method} ${path} ${p.name}[a]`);
      }
    }
  });

  it('answers concurrent duplicate creations with one 201 and 409s, never 500', async () => {
    const co = w.coA.id;
    const person = (await w.adminA('POST', `/api/v1/cos/${co}/people`, { name: { given: 'Racer' } })).body;
    const group = (await w.adminA('POST', `/api/v1/cos/${co}/groups`, { name: 'Race group' })).body;
    const races: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/cos', { name: 'Race CO' }],
      ['POST', `/api/v1/cos/${co}/identifier-types`, { name: 'racetype' }],
      ['POST', `/api/v1/cos/${co}/groups`, { name: 'Race twins' }],
      ['POST', `/api/v1/cos/${co}/services`, { name: 'Race', shortLabel: 'race' }],
      ['POST', `/api/v1/cos/${co}/groups/${group.id}/members`, { personId: person.id }],
      ['POST', `/api/v1/cos/${co}/people`, { name: { given: 'Twin' }, identifiers: [{ identifier: 'race-twin', type: 'uid' }] }],
      ['POST', `/api/v1/cos/${co}/people/${person.id}/identifiers`, { identifier: 'race-id', type: 'eppn' }],
    ];
    for (const [method, url, body] of races) {
      const answers = await Promise.all(Array.from({ length: 6 }, () => w.platformAdmin(method, url, body)));
      for (const res of answers) assertHandled(res, `${method} ${url}`);
      assert.deepEqual(answers.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409], `${method} ${url}`);
    }
  });

  it('answers every operation 401 without credentials and 404 for a CO out of reach, before touching anything', async () => {
    const outsider: ApiCall = apiAs(t, (await buildApiUser(t, w.coB.id, true)).authorization);
    for (const { method, path, op } of operations) {
      const body = op.requestBody ? {} : undefined;
      const anonymous = await w.anonymous(method, urlOf(path), body);
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      assert.equal(anonymous.body.error.code, 'AUTHENTICATION_REQUIRED');
      if (!path.includes('{coId}')) continue;
      const res = await outsider(method, urlOf(path), body);
      assertHandled(res, `${method} ${path} from CO B`);
      // A body that fails validation may answer 400 first; it reveals nothing about CO A.
      assert.ok([400, 404].includes(res.status), `${method} ${path} from CO B → ${res.status}`);
      if (res.status === 404) assert.equal(res.body.error.code, 'CO_NOT_FOUND');
    }
  });
});
