import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { apiRoute, coParams, idParam } from '../../http/api-route.ts';
import type { RouteContext } from '../../http/route-context.ts';
import { scimBaseUrl } from './scim-auth.ts';
import { createScimToken, listScimTokens, revokeScimToken, rotateScimTokens } from './scim-token.service.ts';

const TOKENS = '/api/v1/cos/:coId/sources/:sourceId/scim-tokens';
const tag = 'Sources';
const sourceParams = coParams.extend({ sourceId: idParam });
const tokenParams = sourceParams.extend({ tokenId: idParam });

const tokenResponse = z.object({
  id: z.string(),
  sourceId: z.string(),
  label: z.string(),
  hint: z.string().meta({ description: 'The last four characters of the secret' }),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
const createdResponse = z.object({
  token: tokenResponse,
  secret: z.string().meta({ description: 'The bearer token, shown this once (tss_…)' }),
  baseUrl: z.string().meta({ description: "The source's SCIM base URL, for the client's settings" }),
});
const labelBody = z.object({ label: z.string().trim().max(100).default('token') });

/**
 * A SCIM source's bearer tokens over the REST API (privileged API users and CO admins): list, make
 * one (the secret is in that answer only, Cache-Control: no-store), rotate (a new one, every other
 * revoked), revoke one.
 */
export function registerScimTokenApi(app: FastifyInstance, ctx: RouteContext): void {
  apiRoute(app, ctx, {
    method: 'GET',
    url: TOKENS,
    operationId: 'listScimTokens',
    summary: "List a SCIM source's bearer tokens (never their secrets)",
    tag,
    params: sourceParams,
    response: z.object({ items: z.array(tokenResponse) }),
    co: 'admin',
    handler: async ({ actor, params, co }) => ({ items: await listScimTokens(ctx, actor, co.id, params.sourceId) }),
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: TOKENS,
    operationId: 'createScimToken',
    summary: 'Make a bearer token for a SCIM source; its secret is shown in this answer only',
    tag,
    params: sourceParams,
    body: labelBody,
    response: createdResponse,
    status: 201,
    co: 'admin',
    handler: async ({ actor, params, body, co, reply }) => {
      reply.header('Cache-Control', 'no-store');
      const made = await createScimToken(ctx, actor, co.id, params.sourceId, body.label);
      return { ...made, baseUrl: scimBaseUrl(ctx.config.publicUrl, params.sourceId) };
    },
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: `${TOKENS}/rotate`,
    operationId: 'rotateScimTokens',
    summary: "Rotate a SCIM source's tokens: a new one, and every other one revoked",
    tag,
    params: sourceParams,
    body: labelBody,
    response: createdResponse,
    status: 201,
    co: 'admin',
    handler: async ({ actor, params, body, co, reply }) => {
      reply.header('Cache-Control', 'no-store');
      const made = await rotateScimTokens(ctx, actor, co.id, params.sourceId, body.label);
      return { ...made, baseUrl: scimBaseUrl(ctx.config.publicUrl, params.sourceId) };
    },
  });

  apiRoute(app, ctx, {
    method: 'DELETE',
    url: `${TOKENS}/:tokenId`,
    operationId: 'revokeScimToken',
    summary: "Revoke one of a SCIM source's tokens",
    tag,
    params: tokenParams,
    status: 204,
    errors: [404],
    co: 'admin',
    handler: async ({ actor, params, co }) => {
      await revokeScimToken(ctx, actor, co.id, params.sourceId, params.tokenId);
    },
  });
}
