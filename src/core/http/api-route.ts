import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Executor } from '../../db/database.ts';
import { canReadCo, isCoAdmin, isPlatformAdmin, type Actor } from '../auth/actor.ts';
import { findCo } from '../cos/co.repository.ts';
import type { Co } from '../cos/co.service.ts';
import { AppError, assertThat } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { parseInput } from './validation.ts';
import { NUL_MESSAGE, nulCharacterPath } from '../text.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * An id in a URL. Any string is accepted here: lookups treat a malformed id as absent, so it
 * answers 404 like an id that does not exist, never 400 and never a query error.
 */
export const idParam = z.string().max(64).meta({ format: 'uuid' });

/**
 * How far a list of the API counts its rows: up to this many, `total` is exact and
 * `totalIsAtLeast` false; beyond, `total` is this number and `totalIsAtLeast` true, and a client
 * pages on until a page comes back shorter than `pageSize`. Counting a million rows on every page
 * would cost more than the page itself.
 */
export const API_COUNTED_UP_TO = 10_000;

/** The path parameters of every route under `/api/v1/cos/:coId`. */
export const coParams = z.object({ coId: idParam });

/**
 * What a route needs of the CO of its URL:
 * - `read`: the caller reaches the CO (`canReadCo`); services then decide what it may do there
 *   (403 for an unprivileged API user that writes).
 * - `admin`: the caller also administers it (`isCoAdmin`: CO admin, platform admin, privileged
 *   API user of the CO or of the platform CO); otherwise 403 FORBIDDEN.
 * Either way a CO out of reach answers 404 CO_NOT_FOUND, the same as a missing one, so CO ids
 * cannot be probed.
 */
export type CoAccess = 'read' | 'admin';

/** The part of a route declaration that the OpenAPI document is made of. */
export interface ApiOperation {
  method: Method;
  /** Fastify path, e.g. `/api/v1/cos/:coId/people`. */
  url: string;
  summary: string;
  tag: string;
  /** Stable name of the operation in the document; derived from method and path when absent. */
  operationId?: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  response?: z.ZodType;
  /** The success status (200 by default, 201 for creation, 204 without body). */
  status?: number;
  /** Error statuses the route may answer, for the document. */
  errors?: number[];
  /** `none` for routes that authenticate themselves (e.g. token verification). */
  auth?: 'api-user' | 'none';
}

/** What a handler is given: the parsed inputs, the caller, and with `co` set, the CO of the URL. */
export type ApiHandlerInput<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, C extends CoAccess | undefined> = {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  actor: Actor;
  request: FastifyRequest;
  reply: FastifyReply;
} & (C extends CoAccess ? { co: Co } : unknown);

/**
 * One declaration per API route: its inputs, its response and its statuses, as logto's koaGuard
 * does. Inputs are parsed before the handler runs; responses are checked before they are sent; the
 * same declaration feeds the OpenAPI document. With `co`, the CO of `:coId` is resolved once,
 * after the inputs are parsed (an invalid body is 400 before anything is looked up).
 */
export interface ApiRouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType, C extends CoAccess | undefined = undefined>
  extends ApiOperation {
  params?: P;
  query?: Q;
  body?: B;
  response?: R;
  /** Resolve the CO of `:coId` for the handler, and what the caller must be allowed there. */
  co?: C;
  /** Only a platform caller (a privileged API user of the platform CO) may call it; 403 otherwise, before the body is read. */
  platform?: boolean;
  /** Answers the response body, or nothing for a route without one (204). */
  handler: (input: ApiHandlerInput<P, Q, B, C>) => Promise<z.input<R> | undefined | void>;
}

/** A route with `co` must have `:coId` among its path parameters. */
type CoParamsOf<C extends CoAccess | undefined> = C extends CoAccess ? { params: z.ZodType<{ coId: string }> } : unknown;

/** Where operations are documented (the OpenAPI registry). */
export interface ApiOperations {
  add(operation: ApiOperation): void;
}

/** What a route declaration needs of the application: the OpenAPI registry and, for `co`, the database. */
export interface ApiHost {
  openapi: ApiOperations;
  db: Executor;
}

/**
 * The CO of a URL, when the caller may read it (and with `admin`, administer it). A CO out of the
 * caller's reach answers 404, the same as a missing one, so CO ids cannot be probed; a reachable
 * CO the caller may not administer answers 403.
 */
export async function resolveCo(db: Executor, actor: Actor, coId: string, access: CoAccess = 'read'): Promise<Co> {
  const co = canReadCo(actor, coId) ? await findCo(db, coId) : undefined;
  if (!co) throw new AppError(CORE_ERRORS.CO_NOT_FOUND);
  if (access === 'admin') assertThat(isCoAdmin(actor, co.id), CORE_ERRORS.FORBIDDEN);
  return co;
}

/**
 * Declares an API route: authenticates the API user (401 with a Basic challenge), parses params,
 * resolves the CO when `co` is set (404 CO_NOT_FOUND, 403 FORBIDDEN for `admin`), then refuses
 * NUL (400) and parses query and body (400 VALIDATION_FAILED naming the field), runs the handler,
 * and checks the response against its schema.
 *
 * `host` is the route context (`{ openapi, db }`).
 */
export function apiRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType, C extends CoAccess | undefined = undefined>(
  app: FastifyInstance,
  host: ApiHost,
  spec: ApiRouteSpec<P, Q, B, R, C> & CoParamsOf<C>,
): void {
  const registry = host.openapi;
  const db = host.db;
  registry.add(spec);
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
      const refuseNul = (input: unknown) => {
        // PostgreSQL cannot store NUL: refused at the edge (core/text.ts), even where no schema reads the value.
        const field = nulCharacterPath(input);
        if (field) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { field, message: `${field}: ${NUL_MESSAGE}` });
      };
      refuseNul(request.params);
      const params = spec.params ? parseInput(spec.params, request.params) : undefined;
      // Who may act in the CO is settled before the query and body are read, so a caller out of
      // reach gets 404/403 whatever it sent, never a validation answer about a CO it cannot see.
      // Unprivileged API users only read (README "REST API").
      if (spec.method !== 'GET' && actor?.kind === 'api' && !actor.privileged) throw new AppError(CORE_ERRORS.FORBIDDEN);
      if (spec.platform && actor && !isPlatformAdmin(actor)) throw new AppError(CORE_ERRORS.FORBIDDEN);
      // Every route under a CO checks that the caller reaches it, also when the handler does not take the CO.
      const access = spec.co ?? (spec.url.includes('/:coId') ? 'read' : undefined);
      const resolved = access && db && actor ? await resolveCo(db, actor, coParams.parse(params).coId, access) : undefined;
      const co = spec.co ? resolved : undefined;
      refuseNul(request.query);
      refuseNul(request.body);
      const query = spec.query ? parseInput(spec.query, request.query) : undefined;
      const body = spec.body ? parseInput(spec.body, request.body) : undefined;
      const result = await spec.handler({ params, query, body, actor: actor!, request, reply, co } as never);
      const status = spec.status ?? 200;
      reply.code(status);
      if (status === 204 || result === undefined) return reply.send();
      // Responses pass through their schema too, so nothing undeclared (a hash, a secret) leaks.
      return spec.response ? spec.response.parse(result) : result;
    },
  });
}
