import type { FastifyBaseLogger, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';

/**
 * Route options of a lean machine endpoint (`config.lean`), for the verification API and forward
 * authentication, which answer thousands of calls a second:
 * - `logLevel` warn: successful calls are not logged (Fastify's request lines are at info);
 * - `childLoggerFactory`: one child logger for the route, made on first use, instead of a pino
 *   child with the request id per request (that child, with its level change and redaction set-up,
 *   cost more than the route's own work). The request id is still in every error line: the error
 *   handler adds it for lean routes (`errorLogBindings`), and every answer carries it.
 * Spread into `app.route({...})` next to the route's own `config: { ..., lean: true }`.
 */
export function leanRouteLogging(): Pick<RouteShorthandOptions, 'logLevel' | 'childLoggerFactory'> {
  let shared: FastifyBaseLogger | undefined;
  return {
    logLevel: 'warn',
    childLoggerFactory: (logger, _bindings, options) => (shared ??= logger.child({}, options)),
  };
}

/**
 * The headers a lean route's answer carries (the `onRequest` hook sets them): the request id,
 * `X-Content-Type-Options: nosniff`, and HSTS when the public URL is https. The headers that only
 * mean something to a browser rendering a page (CSP, X-Frame-Options, Referrer-Policy,
 * Cross-Origin-Opener-Policy, Permissions-Policy) are left off a JSON or 204 answer to a machine;
 * the routes set `Cache-Control: no-store` themselves.
 */
export function setLeanHeaders(reply: FastifyReply, request: FastifyRequest, hsts: boolean): void {
  reply.header('X-Request-Id', request.id);
  reply.header('X-Content-Type-Options', 'nosniff');
  if (hsts) reply.header('Strict-Transport-Security', 'max-age=31536000');
}

/** What an error line carries besides the error: the request id on lean routes, whose shared logger has none. */
export function errorLogBindings(request: FastifyRequest): { reqId?: string } {
  return request.routeOptions.config.lean ? { reqId: request.id } : {};
}
