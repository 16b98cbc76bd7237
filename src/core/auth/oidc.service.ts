import { timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcConfig } from '../../config/config.ts';
import { AppError, defineErrorCodes, type ErrorCode } from '../errors/app-error.ts';

/**
 * Sign-in through an OpenID provider: the authorization code flow with PKCE (S256), `state` and
 * `nonce`. openid-client validates the authorization response and the ID token (signature, issuer,
 * audience, nonce, expiry); this service adds the transaction that carries the checks across the
 * browser's trip to the provider, and the username claim.
 */

export const OIDC_ERRORS = defineErrorCodes({
  OIDC_PROVIDER_UNAVAILABLE: { kind: 'UNAVAILABLE', message: 'The sign-in service cannot be reached now' },
  OIDC_SIGN_IN_NOT_STARTED: { kind: 'BAD_REQUEST', message: 'This sign-in has expired or was started in another browser' },
  OIDC_STATE_MISMATCH: { kind: 'BAD_REQUEST', message: 'This answer of the sign-in service belongs to another sign-in' },
  OIDC_PROVIDER_ERROR: { kind: 'UNAUTHORIZED', message: 'The sign-in service did not sign you in' },
  OIDC_RESPONSE_REJECTED: { kind: 'UNAUTHORIZED', message: 'The answer of the sign-in service could not be verified' },
  OIDC_USERNAME_MISSING: { kind: 'UNAUTHORIZED', message: 'The sign-in service did not send a username' },
  OIDC_EMAIL_NOT_VERIFIED: { kind: 'UNAUTHORIZED', message: 'The sign-in service did not vouch for the email address' },
});

/** A failed sign-in: the message is for the person, `reason` for the log (never a token or a code). */
export class OidcSignInError extends AppError {
  constructor(
    error: ErrorCode,
    message: string,
    readonly reason: string,
  ) {
    super(error, { message });
  }
}

/** What the browser carries (signed) from the start of a sign-in to the callback. */
export interface OidcTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Where to go after signing in: a same-site path. */
  next: string;
  startedAt: string;
}

/** A sign-in not finished within this time must be started again. */
export const TRANSACTION_MINUTES = 10;

/** The transaction as a cookie value; the caller signs it (the cookie plugin), so it cannot be forged. */
export function encodeTransaction(transaction: OidcTransaction): string {
  return JSON.stringify(transaction);
}

/** The transaction in a (verified) cookie value, or undefined when it is malformed or too old. */
export function decodeTransaction(value: string, now: Date): OidcTransaction | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const t = parsed as Partial<Record<keyof OidcTransaction, unknown>>;
  if (![t.state, t.nonce, t.codeVerifier, t.next, t.startedAt].every((f) => typeof f === 'string' && f !== '')) return undefined;
  const started = Date.parse(t.startedAt as string);
  const age = now.getTime() - started;
  if (Number.isNaN(started) || age < -60_000 || age > TRANSACTION_MINUTES * 60_000) return undefined;
  return t as OidcTransaction;
}

/** OpenID Connect sign-in for one provider (authorization code flow with PKCE, RFC 7636). */
export interface OidcService {
  /** The provider's name for buttons and messages. */
  readonly name: string;
  /**
   * A fresh transaction and the provider's authorization URL for it. Discovers the provider on
   * first use; throws OIDC_PROVIDER_UNAVAILABLE when it cannot.
   */
  beginSignIn(next: string, now: Date): Promise<{ url: URL; transaction: OidcTransaction }>;
  /**
   * Checks the provider's answer (the callback URL) against the transaction, redeems the code and
   * returns the username. Throws an OidcSignInError for every way this can fail.
   */
  completeSignIn(callbackUrl: URL, transaction: OidcTransaction | undefined): Promise<{ username: string }>;
}

/** What `createOidcService` needs: the provider's configuration and where it sends people back. */
export interface OidcServiceDeps {
  config: OidcConfig;
  /** `${publicUrl}/auth/oidc/callback`, registered at the provider. */
  redirectUri: string;
  /** Replaces fetch for every request to the provider (tests). */
  fetch?: client.CustomFetch;
  /** Per request to the provider, in seconds. */
  timeoutSeconds?: number;
}

const WELL_KNOWN = '/.well-known/openid-configuration';
const MAX_USERNAME_LENGTH = 256;

/** The issuer identifier, also when the configured URL is that of the discovery document. */
function issuerUrl(configured: string): URL {
  const url = new URL(configured);
  if (url.pathname.endsWith(WELL_KNOWN)) url.pathname = url.pathname.slice(0, -WELL_KNOWN.length) || '/';
  return url;
}

/** client_secret_basic (the registration default), unless the provider only takes client_secret_post. */
function clientSecretAuth(secret: string): client.ClientAuth {
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (as, metadata, body, headers) => {
    const supported = as.token_endpoint_auth_methods_supported;
    const usePost = supported !== undefined && !supported.includes('client_secret_basic') && supported.includes('client_secret_post');
    (usePost ? post : basic)(as, metadata, body, headers);
  };
}

function sameText(a: string | null, b: string): boolean {
  if (a === null) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A summary of an error that is safe to log: its kind and message, never its cause (claims, bodies). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, error } = err as { code?: unknown; error?: unknown };
  const causeCode = (err.cause as { code?: unknown } | undefined)?.code;
  const parts = [err.name, code, err.message, error, typeof causeCode === 'string' ? `(${causeCode})` : undefined];
  return parts
    .filter((p): p is string => typeof p === 'string' && p !== '')
    .join(' ');
}

/** The provider could not be reached, or timed out, or failed on its side. */
function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  if (err instanceof TypeError && err.message === 'fetch failed') return true;
  const response = err.cause instanceof Response ? err.cause : undefined;
  return err instanceof client.ClientError && response !== undefined && response.status >= 500;
}

/** An error code of the provider, shown only when it looks like one (the query is anyone's to write). */
function providerErrorMessage(name: string, error: string): string {
  if (error === 'access_denied') return `${name} did not sign you in: access was denied.`;
  if (/^[a-z0-9_.-]{1,64}$/i.test(error)) return `${name} did not sign you in (error “${error}”).`;
  return `${name} did not sign you in.`;
}

/** The sign-in service for the configured provider; the provider is discovered lazily, on the first sign-in. */
export function createOidcService(deps: OidcServiceDeps): OidcService {
  const { config, redirectUri } = deps;
  const name = config.name;
  const issuer = issuerUrl(config.issuer);
  const timeout = deps.timeoutSeconds ?? 10;
  let discovered: Promise<client.Configuration> | undefined;

  /** Discovery runs once and is kept; a failed one is forgotten, so the next sign-in tries again. */
  function configuration(): Promise<client.Configuration> {
    discovered ??= client
      .discovery(issuer, config.clientId, { client_secret: config.clientSecret }, config.clientSecret ? clientSecretAuth(config.clientSecret) : client.None(), {
        timeout,
        // The ID token's signature is checked too (openid-client skips it by default for tokens
        // received straight from the token endpoint). http:// is allowed by the configuration only
        // for a provider on a loopback address.
        execute: [client.enableNonRepudiationChecks, ...(issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [])],
        ...(deps.fetch ? { [client.customFetch]: deps.fetch } : {}),
      })
      .catch((err: unknown) => {
        discovered = undefined;
        throw new OidcSignInError(OIDC_ERRORS.OIDC_PROVIDER_UNAVAILABLE, `${name} cannot be reached now. Try again in a few minutes, or sign in another way.`, `discovery failed: ${describe(err)}`);
      });
    return discovered;
  }

  function rejected(err: unknown): OidcSignInError {
    if (err instanceof OidcSignInError) return err;
    if (isUnreachable(err)) {
      return new OidcSignInError(OIDC_ERRORS.OIDC_PROVIDER_UNAVAILABLE, `${name} cannot be reached now. Try again in a few minutes, or sign in another way.`, describe(err));
    }
    if (err instanceof client.AuthorizationResponseError) {
      return new OidcSignInError(OIDC_ERRORS.OIDC_PROVIDER_ERROR, providerErrorMessage(name, err.error), `provider error ${err.error}`);
    }
    return new OidcSignInError(OIDC_ERRORS.OIDC_RESPONSE_REJECTED, `The answer of ${name} could not be verified, so you are not signed in. Start again.`, describe(err));
  }

  return {
    name,

    async beginSignIn(next, now) {
      const configured = await configuration();
      const transaction: OidcTransaction = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier: client.randomPKCECodeVerifier(),
        next,
        startedAt: now.toISOString(),
      };
      const url = client.buildAuthorizationUrl(configured, {
        redirect_uri: redirectUri,
        scope: config.scopes.join(' '),
        code_challenge: await client.calculatePKCECodeChallenge(transaction.codeVerifier),
        code_challenge_method: 'S256',
        state: transaction.state,
        nonce: transaction.nonce,
      });
      return { url, transaction };
    },

    async completeSignIn(callbackUrl, transaction) {
      const params = callbackUrl.searchParams;
      const error = params.get('error');
      if (error !== null) {
        throw new OidcSignInError(OIDC_ERRORS.OIDC_PROVIDER_ERROR, providerErrorMessage(name, error), `provider error ${error.slice(0, 64)}`);
      }
      if (!transaction) {
        throw new OidcSignInError(OIDC_ERRORS.OIDC_SIGN_IN_NOT_STARTED, 'This sign-in has expired or was started in another browser. Start again.', 'no valid transaction cookie');
      }
      if (!sameText(params.get('state'), transaction.state)) {
        throw new OidcSignInError(OIDC_ERRORS.OIDC_STATE_MISMATCH, `This answer of ${name} does not belong to the sign-in started in this browser. Start again.`, 'state mismatch');
      }
      const configured = await configuration();
      let claims: Record<string, unknown>;
      let accessToken: string;
      try {
        const tokens = await client.authorizationCodeGrant(configured, callbackUrl, {
          pkceCodeVerifier: transaction.codeVerifier,
          expectedState: transaction.state,
          expectedNonce: transaction.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims() ?? {};
        accessToken = tokens.access_token;
      } catch (err) {
        throw rejected(err);
      }

      let source: Record<string, unknown> = claims;
      let username = claims[config.usernameClaim];
      // With the code flow, providers may send profile claims only from the UserInfo endpoint.
      if (username === undefined && configured.serverMetadata().userinfo_endpoint) {
        try {
          source = await client.fetchUserInfo(configured, accessToken, String(claims.sub));
          username = source[config.usernameClaim];
        } catch (err) {
          throw rejected(err);
        }
      }
      if (typeof username !== 'string' || username.trim() === '' || username.length > MAX_USERNAME_LENGTH) {
        throw new OidcSignInError(
          OIDC_ERRORS.OIDC_USERNAME_MISSING,
          `${name} did not send a usable username (the claim “${config.usernameClaim}”), so Tessera cannot tell who you are. Ask the administrators of Tessera to check the sign-in configuration.`,
          `username claim ${config.usernameClaim} is ${username === undefined ? 'absent' : typeof username === 'string' ? 'empty or too long' : `a ${typeof username}`}`,
        );
      }
      // OpenID Connect Core 1.0 §5.1: `email` is only as good as `email_verified`; an address anyone
      // may type in at the provider names nobody. (Some providers send the boolean as a string.)
      if (config.usernameClaim === 'email' && source.email_verified !== true && source.email_verified !== 'true') {
        throw new OidcSignInError(
          OIDC_ERRORS.OIDC_EMAIL_NOT_VERIFIED,
          `${name} has not verified your email address, so Tessera cannot sign you in with it. Verify it at ${name}, then sign in again.`,
          'email claim without email_verified true',
        );
      }
      return { username };
    },
  };
}
