import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { apiRoute } from '../http/api-route.ts';
import type { RouteContext } from '../http/route-context.ts';
import { apiUserSelfResponse } from './api-user.schema.ts';
import { findApiUser } from './api-user.repository.ts';

/**
 * API users are created and managed by people (web UI, `tessera api-user create`), never through
 * the API, so that no key can mint another. The API only tells a caller who it is.
 */
export function registerApiUserApi(app: FastifyInstance, ctx: RouteContext): void {
  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/me',
    operationId: 'getCurrentApiUser',
    summary: 'The calling API user: its CO, privileges, validity and allowed addresses',
    tag: 'API users',
    response: apiUserSelfResponse,
    handler: async ({ actor }) => {
      if (actor.kind !== 'api') throw new AppError(CORE_ERRORS.AUTHENTICATION_REQUIRED);
      const self = await findApiUser(ctx.db, actor.coId, actor.apiUserId);
      if (!self) throw new AppError(CORE_ERRORS.API_USER_NOT_FOUND);
      return { ...self, platform: actor.platform };
    },
  });
}
