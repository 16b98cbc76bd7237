import type { FastifyInstance } from 'fastify';
import { isIP } from 'node:net';
import { z } from 'zod';
import { AppError } from '../../../core/errors/app-error.ts';
import { leanRouteLogging } from '../../../core/http/lean-route.ts';
import { apiRoute, type ApiOperation } from '../../../core/http/api-route.ts';
import { parseInput, text } from '../../../core/http/validation.ts';
import type { Metrics } from '../../../core/http/metrics.ts';
import { PERSON_STATUSES } from '../../../core/people/person.table.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import type { TokenRouteContext } from '../token-context.ts';
import type { TokenVerifier } from './token-verifier.ts';
import { createVerifierKey, listVerifierKeys, revokeVerifierKey } from './verification-keys.service.ts';
import { isPlainVerifyInput, VERIFY_RESPONSE_JSON_SCHEMA } from './verify-wire.ts';

const verifyInput = z.object({
  identifier: z.string().min(1, 'Required').max(256),
  token: z.string().min(1, 'Required').max(512),
  /** The end user's IP address as the service saw it; per-address limits key on it instead of the service's. */
  clientAddress: z.string().max(64).refine((a) => isIP(a) !== 0, 'An IPv4 or IPv6 address').optional(),
});

const verifyResponse = z.object({
  valid: z.boolean(),
  person: z.object({ id: z.string(), identifier: z.string(), status: z.enum(PERSON_STATUSES), coId: z.string() }).nullable(),
  token: z.object({ id: z.string(), expiresAt: z.string().nullable() }).nullable(),
});

const verifierResponse = z.object({ id: z.string(), serviceId: z.string(), label: z.string(), createdBy: z.string(), createdAt: z.string(), revokedAt: z.string().nullable() });
const serviceParams = z.object({ coId: z.string(), serviceId: z.string() });

/** How a verification ended, the `result` label of its metrics. */
type VerificationResult = 'valid' | 'invalid' | 'rate_limited' | 'unauthenticated' | 'error';
const RESULT_LABELS = Object.fromEntries((['valid', 'invalid', 'rate_limited', 'unauthenticated', 'error'] as const).map((r) => [r, Object.freeze({ result: r })])) as Record<VerificationResult, { result: VerificationResult }>;
const VERIFY_URL = '/api/v1/service-tokens/verify';

function resultOf(error: unknown): VerificationResult {
  if (error instanceof AppError) return error.status === 429 ? 'rate_limited' : error.status === 401 ? 'unauthenticated' : 'error';
  return 'error';
}

/**
 * The verification API: `POST /api/v1/service-tokens/verify` for services (authenticated with a
 * verification key, rate limited by the verifier), and the keys' own JSON API for CO admins.
 * Each verification counts in `tessera_token_verifications_total{result}` and its time in
 * `tessera_token_verification_duration_seconds{result}` (valid, invalid, rate_limited, unauthenticated, error).
 */
export function registerVerificationApi(app: FastifyInstance, ctx: TokenRouteContext, verifier: TokenVerifier, metrics: Metrics): void {
  const verifySpec: ApiOperation = {
    method: 'POST',
    url: VERIFY_URL,
    summary: 'Check a token for the calling service (authenticate with `Authorization: Bearer <verification key>`)',
    tag: 'Verification',
    auth: 'none',
    body: verifyInput,
    response: verifyResponse,
    errors: [401, 429, 503],
  };
  ctx.openapi.add(verifySpec);
  // A route of its own rather than `apiRoute`: the hot path. The body is checked by a plain
  // function (the zod schema only explains a refusal), the answer serialised by Fastify's compiled
  // response schema. A lean route (`core/http/lean-route.ts`): successful calls are not logged, one
  // shared child logger, only the headers a machine needs.
  app.route({
    method: 'POST',
    url: VERIFY_URL,
    config: { api: true, ownCredentials: true, lean: true },
    ...leanRouteLogging(),
    schema: { response: { 200: VERIFY_RESPONSE_JSON_SCHEMA } },
    handler: async (request, reply) => {
      const started = process.hrtime.bigint();
      const record = (result: VerificationResult) => {
        const labels = RESULT_LABELS[result];
        metrics.count('tessera_token_verifications_total', 'Token verifications by result', labels);
        metrics.observe('tessera_token_verification_duration_seconds', 'Token verification time by result', labels, Number(process.hrtime.bigint() - started) / 1e9);
      };
      try {
        const body = isPlainVerifyInput(request.body) ? request.body : parseInput(verifyInput, request.body);
        const authorization = request.headers.authorization;
        const answer = await verifier.authenticateAndVerify(authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined, body, body.clientAddress ?? request.ip);
        if (!answer) {
          reply.header('WWW-Authenticate', 'Bearer realm="Tessera token verification"');
          throw new AppError(SERVICE_TOKEN_ERRORS.VERIFIER_AUTHENTICATION_REQUIRED);
        }
        reply.header('Cache-Control', 'no-store');
        record(answer.result.valid ? 'valid' : 'invalid');
        return answer.result;
      } catch (error) {
        record(resultOf(error));
        throw error;
      }
    },
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId/services/:serviceId/verification-keys',
    summary: 'List the verification keys of a CO Service',
    tag: 'Verification',
    params: serviceParams,
    response: z.object({ keys: z.array(verifierResponse) }),
    handler: async ({ params, actor }) => ({ keys: await listVerifierKeys(ctx, actor, params.coId, params.serviceId) }),
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: '/api/v1/cos/:coId/services/:serviceId/verification-keys',
    summary: 'Create a verification key for a CO Service; the key is in this response only',
    tag: 'Verification',
    params: serviceParams,
    body: z.object({ label: text({ min: 1, max: 64 }) }),
    response: z.object({ verifier: verifierResponse, key: z.string() }),
    status: 201,
    handler: async ({ params, body, actor, reply }) => {
      reply.header('Cache-Control', 'no-store');
      const { verifier, key } = await createVerifierKey(ctx, actor, params.coId, params.serviceId, body.label);
      return { verifier, key };
    },
  });

  apiRoute(app, ctx, {
    method: 'DELETE',
    url: '/api/v1/cos/:coId/services/:serviceId/verification-keys/:verifierId',
    summary: 'Revoke a verification key',
    tag: 'Verification',
    params: serviceParams.extend({ verifierId: z.string() }),
    status: 204,
    handler: async ({ params, actor }) => {
      await revokeVerifierKey(ctx, actor, params.coId, params.serviceId, params.verifierId);
      return undefined;
    },
  });
}
