// A real OpenID provider (the `oidc-provider` package) on a random loopback port, for sign-in tests.
// Its interactions log in whichever account the test's browser asks for, so a test can drive the
// whole authorization code flow with plain fetch calls and a cookie jar.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContext } from 'oidc-provider';

export interface TestOidcClient {
  client_id: string;
  /** Absent for a public client (token endpoint auth method `none`). */
  client_secret?: string;
  redirect_uris: string[];
}

export interface TestOidcProvider {
  issuer: string;
  /** Sets (or replaces) the claims the account with this `sub` has. */
  setAccount(sub: string, claims: Record<string, unknown>): void;
  /**
   * Plays a browser at the provider: opens the authorization URL, logs in as `as` (or denies),
   * follows the provider's redirects and returns the URL it finally sends the browser to
   * (the client's redirect URI with `code` or `error`).
   */
  authorize(authorizationUrl: string | URL, how: { as: string } | { deny: true }): Promise<URL>;
  /** Signs claims as an ID token with the provider's own key, or with another key. */
  signIdToken(claims: Record<string, unknown>, key?: 'provider' | 'foreign'): string;
  /** How many requests reached the discovery document, the token endpoint and the UserInfo endpoint. */
  requests: { discovery: number; token: number; userinfo: number };
  stop(): Promise<void>;
}

const LOGIN_HEADER = 'x-test-login';
const DENY = '!deny';

function base64url(value: Buffer | string): string {
  return Buffer.from(value).toString('base64url');
}

function signJwt(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const input = `${base64url(JSON.stringify({ alg: 'RS256', kid }))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${base64url(sign('sha256', Buffer.from(input), key))}`;
}

/** A cookie jar that keeps name=value pairs and forgets cookies the server expires. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attributes.some((a) => {
        const [k = '', v = ''] = a.split('=').map((s) => s.trim());
        return (k.toLowerCase() === 'max-age' && Number(v) <= 0) || (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now());
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export async function startOidcProvider(opts: { clients: TestOidcClient[] }): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const kid = 'test-key-1';
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };

  const accounts = new Map<string, Record<string, unknown>>();
  const requests = { discovery: 0, token: 0, userinfo: 0 };

  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.client_secret ? 'client_secret_basic' : 'none',
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: ['test-provider-cookie-key-0123456789'] },
    pkce: { required: () => true },
    ttl: { AuthorizationCode: 60, AccessToken: 600, IdToken: 600, Interaction: 600, Grant: 600, Session: 600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'eduPersonPrincipalName'],
      email: ['email', 'email_verified'],
    },
    findAccount: async (_ctx: unknown, sub: string) => {
      const claims = accounts.get(sub);
      return claims && { accountId: sub, claims: async () => ({ ...claims, sub }) };
    },
    // Every client is first-party here: the requested scopes are granted without a consent screen.
    loadExistingGrant: async (ctx: KoaContext) => {
      const { client, session, params } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(String(params?.scope ?? 'openid'));
      await grant.save();
      return grant;
    },
  });

  provider.use(async (ctx, next) => {
    if (ctx.path === '/.well-known/openid-configuration') requests.discovery++;
    if (ctx.path === '/token') requests.token++;
    if (ctx.path === '/me') requests.userinfo++;
    if (!ctx.path.startsWith('/interaction/')) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const login = ctx.get(LOGIN_HEADER);
    const result =
      login === DENY || !login
        ? { error: 'access_denied', error_description: 'The person declined' }
        : { login: { accountId: login } };
    if (details.prompt.name !== 'login' && !('error' in result)) {
      throw new Error(`the test provider handles only the login prompt, not ${details.prompt.name}`);
    }
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
  });
  server.on('request', provider.callback());

  async function authorize(authorizationUrl: string | URL, how: { as: string } | { deny: true }): Promise<URL> {
    const jar = new CookieJar();
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop < 10; hop++) {
      if (url.origin !== issuer) return url;
      const response = await fetch(url, {
        redirect: 'manual',
        headers: { cookie: jar.header(), [LOGIN_HEADER]: 'as' in how ? how.as : DENY },
      });
      jar.store(response);
      const location = response.headers.get('location');
      if (!location) throw new Error(`the provider answered ${response.status} without a redirect: ${(await response.text()).slice(0, 500)}`);
      url = new URL(location, url);
    }
    throw new Error('too many redirects at the provider');
  }

  return {
    issuer,
    requests,
    setAccount: (sub, claims) => void accounts.set(sub, claims),
    authorize,
    signIdToken: (claims, key = 'provider') => signJwt(claims, key === 'provider' ? privateKey : foreignKey, kid),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
