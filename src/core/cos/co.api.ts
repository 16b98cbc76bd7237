import type { FastifyInstance } from 'fastify';
import { apiRoute, coParams } from '../http/api-route.ts';
import type { RouteContext } from '../http/route-context.ts';
import { coInput, coListResponse, coPatchInput, coResponse } from './co.schema.ts';
import { createCo, listCos, updateCo } from './co.service.ts';

export function registerCoApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'COs';

  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos',
    operationId: 'listCos',
    summary: 'List the COs the caller reaches (every CO for API users of the platform CO)',
    tag,
    response: coListResponse,
    handler: async ({ actor }) => ({ items: await listCos(ctx.db, actor) }),
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: '/api/v1/cos',
    platform: true,
    operationId: 'createCo',
    summary: 'Create a CO (privileged API users of the platform CO only)',
    tag,
    body: coInput,
    response: coResponse,
    status: 201,
    errors: [409],
    handler: async ({ actor, body }) => createCo(ctx, actor, body),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId',
    operationId: 'getCo',
    summary: 'Read a CO',
    tag,
    params: coParams,
    response: coResponse,
    co: 'read',
    handler: async ({ co }) => co,
  });

  apiRoute(app, ctx, {
    method: 'PATCH',
    url: '/api/v1/cos/:coId',
    operationId: 'updateCo',
    summary: 'Change a CO’s name, description or status (privileged API users of the platform CO only)',
    tag,
    params: coParams,
    body: coPatchInput,
    response: coResponse,
    errors: [409, 422],
    co: 'read',
    handler: async ({ actor, body, co }) => updateCo(ctx, actor, co.id, body),
  });
}
