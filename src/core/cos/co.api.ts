import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { canReadCo, type Actor } from '../auth/actor.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { apiRoute } from '../http/openapi.ts';
import type { RouteContext } from '../http/route-context.ts';
import { coInput, coListResponse, coPatchInput, coResponse } from './co.schema.ts';
import { findCo } from './co.repository.ts';
import { createCo, listCos, updateCo, type Co } from './co.service.ts';

/**
 * An id in a URL. Any string is accepted here: lookups treat a malformed id as absent, so it
 * answers 404 like an id that does not exist, never 400 and never a query error.
 */
export const idParam = z.string().max(64).meta({ format: 'uuid' });
export const coParams = z.object({ coId: idParam });

/**
 * The CO of the URL, when the caller may read it. A CO out of the caller's reach answers 404, the
 * same as a missing one, so CO ids cannot be probed; services then decide what the caller may do
 * in a CO it reaches (403 for an unprivileged API user that writes).
 */
export async function reachableCo(ctx: RouteContext, actor: Actor, coId: string): Promise<Co> {
  const co = canReadCo(actor, coId) ? await findCo(ctx.db, coId) : undefined;
  if (!co) throw new AppError(CORE_ERRORS.CO_NOT_FOUND);
  return co;
}

export function registerCoApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'COs';

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: '/api/v1/cos',
    operationId: 'listCos',
    summary: 'List the COs the caller reaches (every CO for API users of the platform CO)',
    tag,
    response: coListResponse,
    handler: async ({ actor }) => ({ items: await listCos(ctx.db, actor) }),
  });

  apiRoute(app, ctx.openapi, {
    method: 'POST',
    url: '/api/v1/cos',
    operationId: 'createCo',
    summary: 'Create a CO (privileged API users of the platform CO only)',
    tag,
    body: coInput,
    response: coResponse,
    status: 201,
    errors: [409],
    handler: async ({ actor, body }) => createCo(ctx, actor, body),
  });

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: '/api/v1/cos/:coId',
    operationId: 'getCo',
    summary: 'Read a CO',
    tag,
    params: coParams,
    response: coResponse,
    handler: async ({ actor, params }) => reachableCo(ctx, actor, params.coId),
  });

  apiRoute(app, ctx.openapi, {
    method: 'PATCH',
    url: '/api/v1/cos/:coId',
    operationId: 'updateCo',
    summary: 'Change a CO’s name, description or status (privileged API users of the platform CO only)',
    tag,
    params: coParams,
    body: coPatchInput,
    response: coResponse,
    errors: [409, 422],
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      return updateCo(ctx, actor, params.coId, body);
    },
  });
}
