import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { randomUUID } from 'node:crypto';
import { resolvePersonActor } from '../core/auth/principal.service.ts';
import { authenticateApiUser } from '../core/api-users/api-user.service.ts';
import { findSession, sessionCookieName } from '../core/auth/session.service.ts';
import { AppError } from '../core/errors/app-error.ts';
import { CORE_ERRORS } from '../core/errors/error-codes.ts';
import { addressMatcher } from '../core/http/address-list.ts';
import { isApiRequest, isCrossSite } from '../core/http/request-origin.ts';
import { setLeanHeaders } from '../core/http/lean-route.ts';
import { csrfCookieName, CSRF_FIELD, csrfTokenFor, csrfTokenValid, newCsrfCookieValue } from '../core/http/csrf.ts';
import type { Registry } from './registry.ts';
import type { RouteContext } from '../core/http/route-context.ts';
import { registerErrorHandling, routerErrorHandler } from '../core/http/error-handler.tsx';
import { registerAuthRoutes } from '../core/auth/auth.routes.tsx';
import { registerOidcRoutes } from '../core/auth/oidc.routes.tsx';
import { registerCoreWebRoutes } from '../core/web/core-web.routes.ts';
import { registerCoreApiRoutes } from '../core/http/core-api.routes.ts';
import { registerScimRoutes } from '../core/sources/scim/scim.routes.ts';
import { registerReadiness } from './readiness.ts';
import { closeConnectionsWhenClosing } from './graceful-close.ts';
import '../core/http/fastify-types.ts';


/** The HTTP app of one process and the registry it serves. */
export interface TesseraApp {
  app: FastifyInstance;
  /** The services' and routes' context (registry.ctx). */
  ctx: RouteContext;
  registry: Registry;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

function isJson(contentType: string | undefined): boolean {
  // SCIM clients send application/scim+json (RFC 7644 §3.1), which is JSON as well.
  return /^application\/(scim\+)?json\s*(;|$)/i.test(contentType ?? '');
}

/**
 * The web UI and the REST API over a registry: sign-in (local, trusted header, OIDC), CSRF,
 * security headers, one error path, assets, health and metrics, the core's routes, then each
 * plugin's routes in plugin order. The caller listens (or injects) and closes it.
 */
export async function buildApp(registry: Registry): Promise<TesseraApp> {
  const { config, database, clock, ctx, metrics } = registry;
  const { openapi } = ctx;
  // The same list decides whom Fastify believes about X-Forwarded-For (request.ip) and who may
  // send the trusted header: the peer the request came from, never a forwarded address.
  const isTrustedProxy = addressMatcher(config.trustedProxies);
  const CSRF_COOKIE = csrfCookieName(config.secureCookies);
  const SESSION_COOKIE = sessionCookieName(config.secureCookies);
  const publicOrigin = new URL(config.publicUrl).origin;

  // Fastify logs requests through the same pino logger the services use.
  const loggerInstance: FastifyBaseLogger = ctx.logger;
  // Every answer carries these, router errors included (see `routerErrorHandler`).
  const setSecurityHeaders = (reply: FastifyReply, request: FastifyRequest): void => {
    reply.header('X-Request-Id', request.id);
    reply.header('Content-Security-Policy', CSP);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'same-origin');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    if (config.secureCookies) reply.header('Strict-Transport-Security', 'max-age=31536000');
  };
  const app = Fastify({
    loggerInstance,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: 256 * 1024,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    // Bad percent-encoding and over-long path parameters go through the product's error path.
    frameworkErrors: routerErrorHandler(ctx, setSecurityHeaders),
  });

  await app.register(cookie, { secret: config.secretKey });
  await app.register(formbody);
  // Many HTTP clients send `Content-Type: application/json` on a DELETE without a body; Fastify's
  // own parser refuses that with 400. An empty JSON body is no body; anything else parses as before.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body.toString(), done),
  );
  app.decorate('secureCookies', config.secureCookies);
  app.decorateRequest('actor', undefined);
  app.decorateRequest('csrfToken', '');
  registerErrorHandling(app, ctx);
  closeConnectionsWhenClosing(app);

  // Who is calling: an API user by HTTP Basic, or on the web a person by the trusted header or
  // the session cookie (which also gets the CSRF cookie and token). Throws AUTHENTICATION_REQUIRED
  // for wrong API credentials.
  const signIn = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const route = request.routeOptions.config;
    const now = clock.now();
    if (isApiRequest(request)) {
      const basic = route.ownCredentials ? undefined : parseBasic(request.headers.authorization);
      if (basic) {
        const actor = await authenticateApiUser(database.db, now, basic.username, basic.password, request.ip);
        if (!actor) {
          reply.header('WWW-Authenticate', 'Basic realm="Tessera API", charset="UTF-8"');
          throw new AppError(CORE_ERRORS.AUTHENTICATION_REQUIRED, { message: 'The API credentials are not valid' });
        }
        request.actor = actor;
      }
      return;
    }

    let csrfCookie = request.cookies[CSRF_COOKIE];
    if (!csrfCookie) {
      csrfCookie = newCsrfCookieValue();
      reply.setCookie(CSRF_COOKIE, csrfCookie, { path: '/', httpOnly: true, sameSite: 'lax', secure: config.secureCookies });
      request.cookies[CSRF_COOKIE] = csrfCookie;
    }
    request.csrfToken = csrfTokenFor(config.secretKey, csrfCookie);

    // Each sign-in method names people in its own identifier type; a session stays with its people.
    const headerName = config.trustedHeader?.toLowerCase();
    const headerValue = headerName ? request.headers[headerName] : undefined;
    if (typeof headerValue === 'string' && headerValue !== '' && config.trustedHeaderIdentifierType && isTrustedProxy(request.socket.remoteAddress)) {
      request.actor = await resolvePersonActor(database.db, { type: config.trustedHeaderIdentifierType, value: headerValue }, now);
    } else {
      const sessionCookie = request.cookies[SESSION_COOKIE];
      const session = sessionCookie ? await findSession(database.db, clock, sessionCookie) : undefined;
      if (session) request.actor = await resolvePersonActor(database.db, session.login, now, session.personIds);
    }
  };
  // The hooks take Fastify's `done` rather than being async functions: a request they have nothing
  // to wait for (every API call without Basic credentials, every lean route) goes on at once,
  // without a promise and a turn of the microtask queue per hook.
  app.addHook('onRequest', (request, reply, done) => {
    // Token verification and forward authentication: the key is checked by the route itself, and
    // no session, CSRF cookie or page header means anything to the machine asking.
    if (request.routeOptions.config.lean) {
      setLeanHeaders(reply, request, config.secureCookies);
      done();
      return;
    }
    setSecurityHeaders(reply, request);
    if (isApiRequest(request) && (request.routeOptions.config.ownCredentials || !request.headers.authorization)) {
      done();
      return;
    }
    signIn(request, reply).then(() => done(), done);
  });

  // Every state-changing web request carries the CSRF token; API requests use Basic auth, not cookies.
  // (A throw here reaches the error handler as an async hook's rejection would.)
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') {
      done();
      return;
    }
    if (isApiRequest(request)) {
      // Bodiless calls (a POST that starts a reprovision) included: a page of another site never changes anything.
      if (isCrossSite(request.headers, publicOrigin)) throw new AppError(CORE_ERRORS.CROSS_SITE_REQUEST);
      // JSON only. A browser sends HTTP Basic credentials it was given again with a form another
      // site posts, and such a form can only be urlencoded, multipart or plain text; JSON would
      // need a CORS preflight, which Tessera never grants.
      if (request.body !== undefined && !isJson(request.headers['content-type'])) {
        throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: 'The API takes JSON bodies (Content-Type: application/json)', field: '(body)' });
      }
      done();
      return;
    }
    const body = request.body as Record<string, unknown> | undefined;
    if (!csrfTokenValid(config.secretKey, request.cookies[CSRF_COOKIE], body?.[CSRF_FIELD])) {
      throw new AppError(CORE_ERRORS.CSRF_TOKEN_INVALID);
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  const assets = new URL('../core/web/assets/', import.meta.url);
  const css = readFileSync(new URL('app.css', assets));
  const js = readFileSync(new URL('app.js', assets));
  app.get('/assets/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(css));
  app.get('/assets/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(js));

  app.get('/healthz', async (_req, reply) => {
    try {
      await database.db.selectFrom('co').select('id').limit(1).execute();
      return reply.send({ status: 'ok', database: database.dialect });
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: database.dialect });
    }
  });
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(await metrics.render()));
  registerReadiness(app, registry);
  app.get('/api/openapi.json', async () => openapi.document());

  registerAuthRoutes(app, ctx);
  registerOidcRoutes(app, ctx);
  registerCoreWebRoutes(app, ctx);
  registerCoreApiRoutes(app, ctx);
  await registerScimRoutes(app, ctx);
  for (const { parts } of registry.plugins) if (parts.routes) await parts.routes(app, ctx);
  app.addHook('onClose', () => registry.close());

  return { app, ctx, registry };
}
