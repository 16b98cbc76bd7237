import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { canReadCo } from '../../core/auth/actor.ts';
import { AppError } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { apiRoute } from '../../core/http/openapi.ts';
import type { RouteContext } from '../../core/http/route-context.ts';
import { generatedResponse, generateInput, revokeInput, settingInput, settingResponse, tokenResponse } from './service-token.schema.ts';
import { generateServiceToken, listPersonTokens, revokeServiceToken } from './service-token.service.ts';
import { findSetting, getServiceForSettings, updateSetting } from './token-setting.service.ts';

const personParams = z.object({ coId: z.string(), personId: z.string() });
const tokenParams = personParams.extend({ tokenId: z.string() });
const serviceParams = z.object({ coId: z.string(), serviceId: z.string() });
const TAG = 'Service tokens';

export function registerServiceTokenApi(app: FastifyInstance, ctx: RouteContext): void {
  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: '/api/v1/cos/:coId/people/:personId/service-tokens',
    summary: "List a person's service tokens (never their secrets)",
    tag: TAG,
    params: personParams,
    response: z.object({ tokens: z.array(tokenResponse) }),
    handler: async ({ params, actor }) => ({ tokens: await listPersonTokens(ctx, actor, params.coId, params.personId) }),
  });

  apiRoute(app, ctx.openapi, {
    method: 'POST',
    url: '/api/v1/cos/:coId/people/:personId/service-tokens',
    summary: 'Generate a service token; the secret is in this response only',
    tag: TAG,
    params: personParams,
    body: generateInput,
    response: generatedResponse,
    status: 201,
    errors: [409, 422],
    handler: async ({ params, body, actor, reply }) => {
      reply.header('Cache-Control', 'no-store');
      return generateServiceToken(ctx, actor, params.coId, params.personId, body);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'DELETE',
    url: '/api/v1/cos/:coId/people/:personId/service-tokens/:tokenId',
    summary: 'Revoke a service token',
    tag: TAG,
    params: tokenParams,
    query: revokeInput,
    status: 204,
    errors: [409],
    handler: async ({ params, query, actor }) => {
      await revokeServiceToken(ctx, actor, params.coId, params.personId, params.tokenId, query.reason);
      return undefined;
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: '/api/v1/cos/:coId/services/:serviceId/token-settings',
    summary: 'Read the service token settings of a CO Service',
    tag: TAG,
    params: serviceParams,
    response: settingResponse,
    handler: async ({ params, actor }) => {
      if (!canReadCo(actor, params.coId)) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
      await getServiceForSettings(ctx.db, params.coId, params.serviceId);
      return findSetting(ctx.db, params.coId, params.serviceId);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'PUT',
    url: '/api/v1/cos/:coId/services/:serviceId/token-settings',
    summary: 'Update the service token settings of a CO Service',
    tag: TAG,
    params: serviceParams,
    body: settingInput,
    response: settingResponse,
    handler: async ({ params, body, actor }) => {
      if (!canReadCo(actor, params.coId)) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
      return updateSetting(ctx, actor, params.coId, params.serviceId, body);
    },
  });
}
