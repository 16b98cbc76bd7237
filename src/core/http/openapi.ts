import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { ApiOperation, ApiOperations } from './api-route.ts';

export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional(), requestId: z.string().optional() }),
});

type JsonObject = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The input is not valid (VALIDATION_FAILED names the field) or the body could not be read',
  401: 'No valid API credentials',
  403: 'The API user may not do this (FORBIDDEN)',
  404: 'No such resource in a CO the API user reaches (…_NOT_FOUND)',
  409: 'Conflicts with an existing resource (…_TAKEN, …_EXISTS)',
  422: 'Not possible in the resource’s current state',
  429: 'Too many requests',
};

/**
 * The operation id of a route that declares none: the method, then the path's segments, each
 * parameter as `By<Name>` (`GET /api/v1/cos/:coId/people` → `getCosByCoIdPeople`). Unique
 * because method and path are.
 */
function defaultOperationId(method: ApiOperation['method'], url: string): string {
  const capital = (w: string) => w[0]!.toUpperCase() + w.slice(1);
  const words = url
    .replace(/^\/api\/v1\//, '')
    .split('/')
    .filter((seg) => seg !== '')
    .flatMap((seg) => (seg.startsWith(':') ? [`By${capital(seg.slice(1))}`] : seg.split(/[^A-Za-z0-9]+/).filter(Boolean).map(capital)));
  return [method.toLowerCase(), ...words].join('');
}

/** The operations of the JSON API, gathered as routes are declared, and the OpenAPI 3.1 document made of them. */
export class OpenApiRegistry implements ApiOperations {
  private readonly paths: Record<string, Record<string, unknown>> = {};
  private readonly schemas: Record<string, unknown> = {};
  private readonly operationIds = new Set<string>();

  constructor() {
    this.schemas.Error = this.toSchema(errorResponse, 'output');
  }

  /**
   * zod emits each schema as a standalone JSON Schema document: a `$schema` key and, for parts it
   * shares or that recurse, a local `$defs` section referenced as `#/$defs/…`. An OpenAPI document
   * wants neither inside operations, so definitions move to `components.schemas` (renamed when a
   * different schema already has the name) and their references follow.
   */
  private toSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
    const { $schema: _dialect, $defs, ...root } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
    const renames = new Map<string, string>();
    const defs = Object.entries(($defs ?? {}) as JsonObject);
    for (const [name, def] of defs) {
      let target = name.replace(/[^A-Za-z0-9._-]/g, '_');
      for (let i = 2; this.schemas[target] !== undefined && !isDeepStrictEqual(this.schemas[target], def); i++) target = `${name}${i}`;
      renames.set(name, target);
    }
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (!value || typeof value !== 'object') return value;
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value as JsonObject)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
          const name = decodeURIComponent(v.slice('#/$defs/'.length));
          out[k] = `#/components/schemas/${renames.get(name) ?? name}`;
        } else {
          out[k] = rewrite(v);
        }
      }
      return out;
    };
    for (const [name, def] of defs) this.schemas[renames.get(name)!] = rewrite(def);
    return rewrite(root);
  }

  /** Adds one operation; its schemas become parameters, body and responses. */
  add(spec: ApiOperation): void {
    const path = spec.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [location, schema] of [['path', spec.params], ['query', spec.query]] as const) {
      if (!schema) continue;
      const json = this.toSchema(schema, 'input') as { properties?: JsonObject; required?: string[] };
      for (const [name, s] of Object.entries(json.properties ?? {})) {
        parameters.push({ name, in: location, required: location === 'path' || (json.required ?? []).includes(name), schema: s });
      }
    }
    const responses: Record<string, unknown> = {};
    const status = spec.status ?? 200;
    responses[String(status)] = spec.response
      ? { description: status === 201 ? 'Created' : 'Success', content: { 'application/json': { schema: this.toSchema(spec.response, 'output') } } }
      : { description: status === 204 ? 'No content' : 'Success' };
    const auth = spec.auth === 'none' ? [] : [401, 403];
    for (const code of [...new Set([400, ...auth, 404, ...(spec.errors ?? [])])].sort()) {
      responses[String(code)] = { description: ERROR_DESCRIPTIONS[code] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    // Operation ids must be unique in a document; a clash (two plugins choosing one name) gets a suffix.
    let operationId = spec.operationId ?? defaultOperationId(spec.method, spec.url);
    for (let i = 2; this.operationIds.has(operationId); i++) operationId = `${spec.operationId ?? defaultOperationId(spec.method, spec.url)}${i}`;
    this.operationIds.add(operationId);
    this.paths[path] ??= {};
    this.paths[path]![spec.method.toLowerCase()] = {
      operationId,
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.auth === 'none' ? { security: [] } : {}),
      parameters,
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: this.toSchema(spec.body, 'input') } } } } : {}),
      responses,
    };
  }

  document(): Record<string, unknown> {
    return {
      openapi: '3.1.0',
      info: { title: 'Tessera API', version: '1', description: 'Registry of service tokens for collaborative organizations' },
      components: { securitySchemes: { apiUser: { type: 'http', scheme: 'basic' } }, schemas: this.schemas },
      security: [{ apiUser: [] }],
      paths: this.paths,
    };
  }
}
