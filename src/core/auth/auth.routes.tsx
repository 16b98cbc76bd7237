import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { availableParallelism } from 'node:os';
import { clientBucket } from '../http/client-bucket.ts';
import { ConcurrencyLimit } from '../http/concurrency-limit.ts';
import { RateLimiter } from '../http/rate-limiter.ts';
import type { RouteContext } from '../http/route-context.ts';
import { emptyForm, FormErrors, PostForm, TextField, type FormState } from '../web/components.views.tsx';
import { Layout } from '../web/layout.views.tsx';
import { redirectWith, sendPage } from '../web/render.ts';
import { checkLocalPassword, LOCAL_IDENTIFIER_TYPE, localAccountKey } from './local-account.service.ts';
import { endSession, sessionCookieName, startSession } from './session.service.ts';

/**
 * The local sign-in limits, per process. Failures count per (username, client): 10 a minute for one
 * username from one client bucket (an IPv4 address, an IPv6 /64: `clientBucket`), so nobody can lock
 * a username out for everyone, and the right password from another client always gets through.
 * Attempts count per client bucket: 30 a minute whatever the usernames, so one client cannot spray.
 * Password checks (argon2id) run at most `availableParallelism()` at once with 32 waiting; more
 * are refused with 503, so no number of clients buys more argon2 work than the machine has cores.
 */
export const SIGN_IN_LIMITS = { failuresPerUsernameAndClient: 10, attemptsPerClient: 30, queuedChecks: 32 } as const;

/**
 * Only same-site relative paths, so `next` cannot send someone to another site. Only printable
 * ASCII: browsers drop tabs and newlines from URLs, so "/\t/evil.example" is "//evil.example", and a
 * Location header cannot carry other characters (browsers send them percent-encoded anyway).
 */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && next.length <= 2048 && /^\/(?![/\\])/.test(next) && /^[\u0021-\u007e]*$/.test(next) ? next : '/';
}

/** The button that starts sign-in at the OpenID provider, when one is configured. */
function OidcButton(props: { name: string; next: string }) {
  return (
    <a class="button" href={`/auth/oidc/start?next=${encodeURIComponent(props.next)}`}>
      Sign in with {props.name}
    </a>
  );
}

const signInInput = z.object({ username: z.string().trim().min(1).max(256), password: z.string().min(1).max(1024), next: z.string().optional() });

export function registerAuthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const SESSION_COOKIE = sessionCookieName(ctx.config.secureCookies);
  const perClient = new RateLimiter(SIGN_IN_LIMITS.attemptsPerClient, 60_000);
  const perUsernameAndClient = new RateLimiter(SIGN_IN_LIMITS.failuresPerUsernameAndClient, 60_000);
  const passwordChecks = new ConcurrencyLimit(Math.max(1, availableParallelism()), SIGN_IN_LIMITS.queuedChecks);
  let warnedAboutProxy = false;

  const signInPage = (form: FormState, status = 200) => async (request: Parameters<typeof sendPage>[1], reply: Parameters<typeof sendPage>[2]) =>
    sendPage(
      ctx,
      request,
      reply,
      (page) => (
        <Layout page={page} title="Sign in">
          {ctx.config.oidc && (
            <p>
              <OidcButton name={ctx.config.oidc.name} next={safeNext(form.values.next)} />
            </p>
          )}
          {ctx.config.oidc && ctx.config.localAccounts && <p class="muted">Or with a Tessera account:</p>}
          {ctx.config.localAccounts && (
            <PostForm action="/sign-in" csrfToken={page.csrfToken} class="narrow">
              <FormErrors form={form} />
              <input type="hidden" name="next" value={safeNext(form.values.next)} />
              <TextField form={form} name="username" label="Username" required autocomplete="username" />
              <TextField form={{ ...form, values: {} }} name="password" label="Password" type="password" required autocomplete="current-password" />
              <button type="submit">Sign in</button>
            </PostForm>
          )}
        </Layout>
      ),
      status,
    );

  app.get('/', async (request, reply) => {
    if (request.actor?.kind === 'person') return reply.redirect('/cos', 303);
    return sendPage(ctx, request, reply, (page) => (
      <Layout page={page} title="Tessera">
        <p>Service tokens — application passwords — for the services of your collaborative organization.</p>
        {ctx.config.oidc && <p><OidcButton name={ctx.config.oidc.name} next="/" /></p>}
        {ctx.config.localAccounts && (ctx.config.oidc ? <p><a href="/sign-in">Sign in with a Tessera account</a></p> : <p><a class="button" href="/sign-in">Sign in</a></p>)}
        {!ctx.config.localAccounts && !ctx.config.oidc && <p>Sign in through your organization’s login.</p>}
      </Layout>
    ));
  });

  if (ctx.config.localAccounts || ctx.config.oidc) {
    app.get('/sign-in', async (request, reply) => {
      const next = (request.query as { next?: string }).next;
      return signInPage(emptyForm({ next }))(request, reply);
    });
  }

  if (ctx.config.localAccounts) {
    app.post('/sign-in', async (request, reply) => {
      const parsed = signInInput.safeParse(request.body);
      const values = { username: (request.body as Record<string, unknown>)?.username, next: (request.body as Record<string, unknown>)?.next };
      if (!parsed.success) {
        return signInPage({ values, issues: [], error: 'Enter your username and password.' }, 400)(request, reply);
      }
      const { username, password, next } = parsed.data;
      // Behind a reverse proxy that is not in TESSERA_TRUSTED_PROXIES every request comes from the
      // proxy's address, so all clients share one bucket: say so, once, in the log.
      if (!warnedAboutProxy && ctx.config.trustedProxies.length === 0 && request.headers['x-forwarded-for'] !== undefined) {
        warnedAboutProxy = true;
        request.log.warn({ event: 'sign_in_limits_shared' }, 'X-Forwarded-For arrives but TESSERA_TRUSTED_PROXIES is empty: sign-in limits count every client behind the proxy as one');
      }
      const client = clientBucket(request.ip);
      const pair = `${localAccountKey(username)}\u0000${client}`;
      const wait = Math.max(perUsernameAndClient.check(pair), perClient.take(client));
      if (wait > 0) {
        reply.header('Retry-After', String(wait));
        return signInPage({ values, issues: [], error: `Too many attempts. Wait ${wait} seconds and try again.` }, 429)(request, reply);
      }
      const correct = await passwordChecks.run(() => checkLocalPassword(ctx.db, username, password));
      if (correct === undefined) {
        reply.header('Retry-After', '1');
        return signInPage({ values, issues: [], error: 'Sign-in is busy. Try again in a moment.' }, 503)(request, reply);
      }
      if (!correct) {
        perUsernameAndClient.hit(pair);
        request.log.info({ event: 'sign_in_failed' }, 'sign-in failed');
        return signInPage({ values, issues: [], error: 'The username or password is wrong.' }, 401)(request, reply);
      }
      perUsernameAndClient.reset(pair);
      // A new session id at every sign-in; the one the browser held (planted, or the previous user's) ends.
      const previous = request.cookies[SESSION_COOKIE];
      if (previous) await endSession(ctx.db, previous);
      const cookieValue = await startSession(ctx.db, ctx.clock, { type: LOCAL_IDENTIFIER_TYPE, value: username }, 'local', ctx.config.sessionHours);
      reply.setCookie(SESSION_COOKIE, cookieValue, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.secureCookies, maxAge: ctx.config.sessionHours * 3600 });
      request.log.info({ event: 'sign_in', username }, 'signed in');
      return reply.redirect(safeNext(next), 303);
    });
  }

  app.post('/sign-out', async (request, reply) => {
    const cookieValue = request.cookies[SESSION_COOKIE];
    if (cookieValue) await endSession(ctx.db, cookieValue);
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: ctx.config.secureCookies });
    return redirectWith(reply, '/', { kind: 'info', message: 'You are signed out.' });
  });
}
