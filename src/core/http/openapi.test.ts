import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { z } from 'zod';
import { useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { OpenApiRegistry } from './openapi.ts';

type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Every [path, value] pair of a JSON document, depth first. */
function* walk(value: unknown, path: string[] = []): Generator<[string[], unknown]> {
  yield [path, value];
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* walk(v, [...path, k]);
}

function resolvePointer(doc: unknown, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `local reference: ${ref}`);
  let node: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** The core API as issue "Registry core" item 6 lists it. */
const EXPECTED_ROUTES = [
  'GET /api/v1/cos',
  'POST /api/v1/cos',
  'GET /api/v1/cos/{coId}',
  'PATCH /api/v1/cos/{coId}',
  'GET /api/v1/cos/{coId}/people',
  'POST /api/v1/cos/{coId}/people',
  'GET /api/v1/cos/{coId}/people/{personId}',
  'DELETE /api/v1/cos/{coId}/people/{personId}',
  'PUT /api/v1/cos/{coId}/people/{personId}/status',
  'POST /api/v1/cos/{coId}/people/{personId}/identifiers',
  'DELETE /api/v1/cos/{coId}/people/{personId}/identifiers/{identifierId}',
  'POST /api/v1/cos/{coId}/people/{personId}/names',
  'DELETE /api/v1/cos/{coId}/people/{personId}/names/{nameId}',
  'POST /api/v1/cos/{coId}/people/{personId}/emails',
  'DELETE /api/v1/cos/{coId}/people/{personId}/emails/{emailId}',
  'GET /api/v1/cos/{coId}/groups',
  'POST /api/v1/cos/{coId}/groups',
  'GET /api/v1/cos/{coId}/groups/{groupId}',
  'PUT /api/v1/cos/{coId}/groups/{groupId}',
  'DELETE /api/v1/cos/{coId}/groups/{groupId}',
  'GET /api/v1/cos/{coId}/groups/{groupId}/members',
  'POST /api/v1/cos/{coId}/groups/{groupId}/members',
  'DELETE /api/v1/cos/{coId}/groups/{groupId}/members/{membershipId}',
  'GET /api/v1/cos/{coId}/services',
  'POST /api/v1/cos/{coId}/services',
  'GET /api/v1/cos/{coId}/services/{serviceId}',
  'PUT /api/v1/cos/{coId}/services/{serviceId}',
  'DELETE /api/v1/cos/{coId}/services/{serviceId}',
  'GET /api/v1/cos/{coId}/history',
  'GET /api/v1/cos/{coId}/identifier-types',
  'POST /api/v1/cos/{coId}/identifier-types',
  'GET /api/v1/me',
];

forEachDialect('OpenAPI document', (dialect) => {
  const t = useTestApp(dialect);
  let doc: Json;
  before(async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = res.json();
  });

  const operations = () =>
    Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m] as Json })),
    );

  it('is an OpenAPI 3.1 document with HTTP Basic security', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(doc.components.securitySchemes.apiUser, { type: 'http', scheme: 'basic' });
    assert.deepEqual(doc.security, [{ apiUser: [] }]);
  });

  it('lists every route of the core API', () => {
    const listed = operations().map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    for (const route of EXPECTED_ROUTES) assert.ok(listed.includes(route), `${route} is documented`);
  });

  it('documents only routes that exist, each path with at least one operation', () => {
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      assert.ok(METHODS.some((m) => item[m]), `${path} has operations`);
      assert.deepEqual(Object.keys(item).filter((k) => !(METHODS as readonly string[]).includes(k)), [], `${path} holds only operations`);
    }
    for (const { method, path } of operations()) {
      assert.ok(t.app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path} is served`);
    }
  });

  it('gives every operation a unique id, a summary, a tag, its path parameters and its responses', () => {
    const ids = new Set<string>();
    for (const { method, path, op } of operations()) {
      const where = `${method} ${path}`;
      assert.match(op.operationId, /^[a-z][A-Za-z0-9]+$/, where);
      assert.ok(!ids.has(op.operationId), `${where}: operationId ${op.operationId} is unique`);
      ids.add(op.operationId);
      assert.ok(op.summary?.length > 0, where);
      assert.equal(op.tags?.length, 1, where);

      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.parameters as Json[]).filter((p) => p.in === 'path');
      assert.deepEqual(declared.map((p) => p.name).sort(), inPath, `${where}: path parameters`);
      for (const p of declared) assert.equal(p.required, true, `${where}: ${p.name} is required`);
      for (const p of op.parameters as Json[]) {
        assert.ok(['path', 'query'].includes(p.in), where);
        assert.equal(typeof p.schema, 'object', `${where}: ${p.name} has a schema`);
      }

      const statuses = Object.keys(op.responses);
      const success = statuses.filter((s) => s.startsWith('2'));
      assert.equal(success.length, 1, `${where}: one success status`);
      if (method === 'delete') assert.deepEqual(success, ['204'], where);
      else if (method !== 'post') assert.deepEqual(success, ['200'], where);
      // Creations answer 201; other POSTs (actions such as a retry) may answer 200 or 202.
      if (method === 'post' && EXPECTED_ROUTES.includes(`POST ${path}`)) assert.deepEqual(success, ['201'], where);
      if (success[0] !== '204') assert.equal(op.responses[success[0]!].content['application/json'].schema.type, 'object', `${where}: JSON object response`);
      for (const s of ['400', '401', '403', '404']) {
        assert.equal(op.responses[s]?.content['application/json'].schema.$ref, '#/components/schemas/Error', `${where}: ${s}`);
      }
      if (op.requestBody) {
        assert.ok(['post', 'put', 'patch'].includes(method), `${where}: only POST, PUT and PATCH take bodies`);
        assert.equal(op.requestBody.content['application/json'].schema.type, 'object', `${where}: JSON object body`);
      } else {
        // An action (a retry) may take no body; the core's writes all do.
        assert.ok(!EXPECTED_ROUTES.includes(`${method.toUpperCase()} ${path}`) || !['post', 'put', 'patch'].includes(method), `${where}: has a body`);
      }
    }
  });

  it('documents conflicts (409) where duplicates are refused', () => {
    const ops = Object.fromEntries(operations().map(({ op }) => [op.operationId, op]));
    for (const id of ['createCo', 'updateCo', 'createPerson', 'addIdentifier', 'createGroup', 'updateGroup', 'addMembership', 'createService', 'updateService', 'addIdentifierType']) {
      assert.ok(ops[id]?.responses['409'], `${id} documents 409`);
    }
  });

  it('is one clean document: no per-schema $schema or $defs, and every $ref resolves', () => {
    let refs = 0;
    for (const [path, value] of walk(doc)) {
      const key = path[path.length - 1];
      assert.notEqual(key, '$schema', `no $schema at ${path.join('.')}`);
      assert.notEqual(key, '$defs', `no $defs at ${path.join('.')}`);
      if (key === '$ref') {
        refs++;
        assert.equal(typeof value, 'string');
        assert.notEqual(resolvePointer(doc, value as string), undefined, `${value} resolves (at ${path.join('.')})`);
      }
    }
    assert.ok(refs > 0);
    assert.deepEqual(Object.keys(doc.components.schemas.Error.properties), ['error']);
    assert.deepEqual(doc.components.schemas.Error.properties.error.required.sort(), ['code', 'message']);
  });

  it('describes inputs as clients send them: defaults, enums, formats, limits', () => {
    const ops = Object.fromEntries(operations().map(({ op }) => [op.operationId, op]));
    const body = ops.createPerson.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['name']);
    assert.deepEqual(body.properties.name.required, ['given']);
    assert.equal(body.properties.status.default, 'active');
    assert.ok(body.properties.status.enum.includes('grace_period'));
    const page = (ops.listPeople.parameters as Json[]).find((p) => p.name === 'page')!;
    assert.equal(page.in, 'query');
    assert.equal(page.required, false);
    assert.equal(page.schema.type, 'integer');
    const coId = (ops.getCo.parameters as Json[]).find((p) => p.name === 'coId')!;
    assert.equal(coId.schema.format, 'uuid');
    const service = ops.createService.requestBody.content['application/json'].schema;
    assert.ok(service.properties.visibility.enum.includes('co_group_member'));
    const response = ops.getPerson.responses['200'].content['application/json'].schema;
    assert.ok(response.required.includes('identifiers'));
    assert.equal(response.properties.identifiers.type, 'array');
  });

  it('is served without credentials, and refuses bad ones', async () => {
    const bad = await t.app.inject({ method: 'GET', url: '/api/openapi.json', headers: { authorization: `Basic ${Buffer.from('nobody:wrong').toString('base64')}` } });
    assert.equal(bad.statusCode, 401);
  });
});

describe('OpenApiRegistry', () => {
  it('moves zod’s $defs into components.schemas, renaming clashes, and rewrites the references', () => {
    const registry = new OpenApiRegistry();
    const address = z.object({ street: z.string() }).meta({ id: 'Address' });
    const otherAddress = z.object({ line: z.string(), city: z.string() }).meta({ id: 'Address' });
    registry.add({ method: 'POST', url: '/api/v1/things', summary: 'a', tag: 'T', body: z.object({ home: address, work: address }) });
    registry.add({ method: 'PUT', url: '/api/v1/things/:thingId', summary: 'b', tag: 'T', params: z.object({ thingId: z.string() }), body: z.object({ at: otherAddress }) });
    const doc = registry.document() as Json;
    const schemas = doc.components.schemas;
    for (const [path, value] of walk(doc)) {
      const key = path[path.length - 1];
      assert.ok(key !== '$schema' && key !== '$defs', path.join('.'));
      if (key === '$ref') assert.notEqual(resolvePointer(doc, value as string), undefined, String(value));
    }
    const post = doc.paths['/api/v1/things'].post.requestBody.content['application/json'].schema;
    const put = doc.paths['/api/v1/things/{thingId}'].put.requestBody.content['application/json'].schema;
    const postRef = post.properties.home.$ref as string;
    const putRef = put.properties.at.$ref as string;
    assert.equal(post.properties.work.$ref, postRef);
    assert.notEqual(postRef, putRef, 'two different schemas with one id are kept apart');
    assert.deepEqual(Object.keys(resolvePointer(doc, postRef) as Json).includes('properties') && (resolvePointer(doc, postRef) as Json).properties, { street: { type: 'string' } });
    assert.deepEqual(Object.keys((resolvePointer(doc, putRef) as Json).properties).sort(), ['city', 'line']);
    assert.ok(Object.keys(schemas).includes('Error'));
    assert.equal(doc.paths['/api/v1/things'].post.operationId, 'postThings');
    assert.equal(doc.paths['/api/v1/things/{thingId}'].put.operationId, 'putThingsByThingId');
  });

  it('keeps operation ids unique when two routes choose the same one', () => {
    const registry = new OpenApiRegistry();
    registry.add({ method: 'GET', url: '/api/v1/a', operationId: 'listThings', summary: 'a', tag: 'T' });
    registry.add({ method: 'GET', url: '/api/v1/b', operationId: 'listThings', summary: 'b', tag: 'T' });
    const paths = (registry.document() as Json).paths;
    assert.deepEqual([paths['/api/v1/a'].get.operationId, paths['/api/v1/b'].get.operationId], ['listThings', 'listThings2']);
  });
});
