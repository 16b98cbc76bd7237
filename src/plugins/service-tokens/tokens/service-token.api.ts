import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { apiRoute } from '../../../core/http/api-route.ts';
import type { TokenRouteContext } from '../token-context.ts';
import { generatedResponse, generateInput, revokeInput, tokenResponse } from './service-token.schema.ts';
import { generateServiceToken, listPersonTokens } from './service-token.service.ts';
import { revokeServiceToken } from './token-revocation.service.ts';

const personParams = z.object({ coId: z.string(), personId: z.string() });
const tokenParams = personParams.extend({ tokenId: z.string() });
const TAG = 'Service tokens';

/** The JSON API of a person's tokens: list, generate (the secret in that response only), revoke. */
export function registerServiceTokenApi(app: FastifyInstance, ctx: TokenRouteContext): void {
  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId/people/:personId/service-tokens',
    summary: "List a person's service tokens (never their secrets)",
    tag: TAG,
    params: personParams,
    response: z.object({ tokens: z.array(tokenResponse) }),
    handler: async ({ params, actor }) => ({ tokens: await listPersonTokens(ctx, actor, params.coId, params.personId) }),
  });

  apiRoute(app, ctx, {
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
      const { token, secret } = await generateServiceToken(ctx, actor, params.coId, params.personId, body);
      return { token, secret };
    },
  });

  apiRoute(app, ctx, {
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
}
