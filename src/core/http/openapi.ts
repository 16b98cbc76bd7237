import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { parseInput } from './validation.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * One declaration per API route: its inputs, its response and its statuses, as logto's koaGuard
 * does. Inputs are parsed before the handler runs; responses are checked before they are sent; the
 * same declaration feeds the OpenAPI document.
 */
export interface ApiRouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  method: Method;
  /** Fastify path, e.g. `/api/v1/cos/:coId/people`. */
  url: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  response?: R;
  /** The success status (200 by default, 201 for creation, 204 without body). */
  status?: number;
  /** Error statuses the route may answer, for the document. */
  errors?: number[];
  /** `none` for routes that authenticate themselves (e.g. token verification). */
  auth?: 'api-user' | 'none';
  handler: (input: {
    params: z.output<P>;
    query: z.output<Q>;
    body: z.output<B>;
    actor: Actor;
    request: FastifyRequest;
    reply: FastifyReply;
  }) => Promise<z.input<R> | undefined>;
}

export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional(), requestId: z.string().optional() }),
});

export class OpenApiRegistry {
  private readonly paths: Record<string, Record<string, unknown>> = {};

  add(spec: ApiRouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>): void {
    const path = spec.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [location, schema] of [['path', spec.params], ['query', spec.query]] as const) {
      if (!schema) continue;
      const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(json.properties ?? {})) {
        parameters.push({ name, in: location, required: location === 'path' || (json.required ?? []).includes(name), schema: s });
      }
    }
    const responses: Record<string, unknown> = {};
    const status = spec.status ?? 200;
    responses[String(status)] = spec.response
      ? { description: 'Success', content: { 'application/json': { schema: z.toJSONSchema(spec.response, { io: 'output', unrepresentable: 'any' }) } } }
      : { description: 'Success' };
    const errorSchema = z.toJSONSchema(errorResponse);
    for (const code of new Set([400, ...(spec.auth === 'none' ? [] : [401, 403]), 404, ...(spec.errors ?? [])])) {
      responses[String(code)] = { description: 'Error', content: { 'application/json': { schema: errorSchema } } };
    }
    this.paths[path] ??= {};
    this.paths[path]![spec.method.toLowerCase()] = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.auth === 'none' ? { security: [] } : {}),
      parameters,
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(spec.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
      responses,
    };
  }

  document(): Record<string, unknown> {
    return {
      openapi: '3.1.0',
      info: { title: 'Tessera API', version: '1', description: 'Registry of service tokens for collaborative organizations' },
      components: { securitySchemes: { apiUser: { type: 'http', scheme: 'basic' } } },
      security: [{ apiUser: [] }],
      paths: this.paths,
    };
  }
}

export function apiRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(
  app: FastifyInstance,
  registry: OpenApiRegistry,
  spec: ApiRouteSpec<P, Q, B, R>,
): void {
  registry.add(spec as unknown as ApiRouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>);
  app.route({
    method: spec.method,
    url: spec.url,
    config: { api: true },
    handler: async (request, reply) => {
      const actor = request.actor;
      if (spec.auth !== 'none' && (!actor || actor.kind !== 'api')) {
        reply.header('WWW-Authenticate', 'Basic realm="Tessera API", charset="UTF-8"');
        throw new AppError(CORE_ERRORS.AUTHENTICATION_REQUIRED);
      }
      const params = spec.params ? parseInput(spec.params, request.params) : undefined;
      const query = spec.query ? parseInput(spec.query, request.query) : undefined;
      const body = spec.body ? parseInput(spec.body, request.body) : undefined;
      const result = await spec.handler({ params, query, body, actor: actor!, request, reply } as never);
      const status = spec.status ?? 200;
      reply.code(status);
      if (status === 204 || result === undefined) return reply.send();
      // Responses pass through their schema too, so nothing undeclared (a hash, a secret) leaks.
      return spec.response ? spec.response.parse(result) : result;
    },
  });
}
