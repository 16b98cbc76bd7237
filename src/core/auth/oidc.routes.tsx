import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.ts';
import type { RouteContext } from '../http/route-context.ts';
import { Layout } from '../web/layout.views.tsx';
import { sendPage } from '../web/render.ts';
import { safeNext } from './auth.routes.tsx';
import {
  createOidcService,
  decodeTransaction,
  encodeTransaction,
  OIDC_ERRORS,
  OidcSignInError,
  TRANSACTION_MINUTES,
  type OidcService,
} from './oidc.service.ts';
import { endSession, sessionCookieName, startSession } from './session.service.ts';

/** Carries state, nonce, PKCE verifier and `next` from /auth/oidc/start to the callback; signed. */
export const OIDC_TRANSACTION_COOKIE = 'tessera_oidc';

/**
 * The transaction cookie's name and path. Over https it is `__Host-tessera_oidc`, Secure, on path
 * `/` (the prefix demands it), so no sibling host or plain-http page can plant or shadow a
 * transaction; over http (development) it stays on /auth/oidc.
 */
export function oidcTransactionCookie(secure: boolean): { name: string; path: string } {
  return secure ? { name: `__Host-${OIDC_TRANSACTION_COOKIE}`, path: '/' } : { name: OIDC_TRANSACTION_COOKIE, path: '/auth/oidc' };
}

export function oidcRedirectUri(config: Config): string {
  return `${config.publicUrl.replace(/\/+$/, '')}/auth/oidc/callback`;
}

/** The callback's query holds the authorization code and state: requests here are logged without it. */
const logSerializers = {
  req: (req: FastifyRequest) => ({ method: req.method, url: req.url.split('?')[0], host: req.host, remoteAddress: req.ip }),
};

function SignInFailed(props: { name: string; message: string; retry: boolean; next: string; localAccounts: boolean; requestId: string }) {
  const next = encodeURIComponent(props.next);
  return (
    <>
      <p class="error-message" role="alert">
        {props.message}
      </p>
      {props.retry && (
        <p>
          <a class="button" href={`/auth/oidc/start?next=${next}`}>
            Sign in with {props.name}
          </a>
        </p>
      )}
      {props.localAccounts && (
        <p>
          <a href={`/sign-in?next=${next}`}>Sign in with a Tessera account</a>
        </p>
      )}
      <p class="muted">Request id: {props.requestId}</p>
    </>
  );
}

/**
 * GET /auth/oidc/start?next=… sends the browser to the provider; GET /auth/oidc/callback takes it
 * back, signs the person in and goes to `next`. Every failure is a page (400, 401 or 503), never a 500.
 */
export function registerOidcRoutes(app: FastifyInstance, ctx: RouteContext, service?: OidcService): void {
  const oidcConfig = ctx.config.oidc;
  if (!oidcConfig) return;
  const oidc = service ?? createOidcService({ config: oidcConfig, redirectUri: oidcRedirectUri(ctx.config) });
  const transactionCookie = oidcTransactionCookie(ctx.config.secureCookies);
  const cookieOptions = { path: transactionCookie.path, httpOnly: true, sameSite: 'lax' as const, secure: ctx.config.secureCookies };
  const SESSION_COOKIE = sessionCookieName(ctx.config.secureCookies);

  async function sendFailure(request: FastifyRequest, reply: FastifyReply, err: unknown, next: string): Promise<FastifyReply> {
    const failure =
      err instanceof OidcSignInError
        ? err
        : new OidcSignInError(OIDC_ERRORS.OIDC_RESPONSE_REJECTED, `The answer of ${oidc.name} could not be verified, so you are not signed in. Start again.`, `unexpected: ${err instanceof Error ? err.name : typeof err}`);
    request.log.warn({ event: 'oidc_sign_in_failed', code: failure.code, reason: failure.reason }, 'OpenID Connect sign-in failed');
    reply.header('Cache-Control', 'no-store');
    return sendPage(
      ctx,
      request,
      reply,
      (page) => (
        <Layout page={page} title={failure.status === 503 ? 'Sign-in unavailable' : 'Sign-in failed'}>
          <SignInFailed
            name={oidc.name}
            message={failure.message}
            retry={failure.code !== OIDC_ERRORS.OIDC_USERNAME_MISSING.code}
            next={next}
            localAccounts={ctx.config.localAccounts}
            requestId={request.id}
          />
        </Layout>
      ),
      failure.status,
    );
  }

  app.get('/auth/oidc/start', { logSerializers }, async (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next);
    try {
      const { url, transaction } = await oidc.beginSignIn(next, ctx.clock.now());
      reply.setCookie(transactionCookie.name, encodeTransaction(transaction), { ...cookieOptions, signed: true, maxAge: TRANSACTION_MINUTES * 60 });
      reply.header('Cache-Control', 'no-store');
      return reply.redirect(url.href, 302);
    } catch (err) {
      return sendFailure(request, reply, err, next);
    }
  });

  app.get('/auth/oidc/callback', { logSerializers }, async (request, reply) => {
    const raw = request.cookies[transactionCookie.name];
    const unsigned = raw ? request.unsignCookie(raw) : undefined;
    const transaction = unsigned?.valid && unsigned.value ? decodeTransaction(unsigned.value, ctx.clock.now()) : undefined;
    // One attempt per transaction: whatever happens next, the browser no longer holds it.
    if (raw) reply.clearCookie(transactionCookie.name, cookieOptions);
    const next = transaction?.next ?? '/';

    const query = request.url.indexOf('?');
    const callbackUrl = new URL(oidcRedirectUri(ctx.config));
    callbackUrl.search = query >= 0 ? request.url.slice(query) : '';
    try {
      const { username } = await oidc.completeSignIn(callbackUrl, transaction);
      const login = { type: oidcConfig.identifierType, value: username };
      const previous = request.cookies[SESSION_COOKIE];
      if (previous) await endSession(ctx.db, previous);
      const session = await startSession(ctx.db, ctx.clock, login, 'oidc', ctx.config.sessionHours);
      reply.setCookie(SESSION_COOKIE, session, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.secureCookies, maxAge: ctx.config.sessionHours * 3600 });
      request.log.info({ event: 'sign_in', username, method: 'oidc' }, 'signed in');
      return reply.redirect(safeNext(next), 303);
    } catch (err) {
      return sendFailure(request, reply, err, next);
    }
  });
}
