import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { currentGroupsOf } from '../../../core/groups/group.service.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import { leanRouteLogging } from '../../../core/http/lean-route.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import type { TokenRouteContext } from '../token-context.ts';
import type { TokenVerifier } from './token-verifier.ts';

/** Where reverse proxies send their authentication subrequests. */
export const FORWARD_AUTH_URL = '/api/v1/service-tokens/forward-auth';

/** The request header carrying the service's verification key (`tsv_…`), set by the proxy. */
export const VERIFICATION_KEY_HEADER = 'X-Tessera-Verification-Key';

/** The answer headers a proxy copies onto the request it passes upstream. */
export const IDENTITY_HEADERS = {
  identifier: 'X-Tessera-Identifier',
  personId: 'X-Tessera-Person-Id',
  coId: 'X-Tessera-Co-Id',
  groups: 'X-Tessera-Groups',
} as const;

const CHALLENGE = 'Basic realm="Service token", charset="UTF-8"';
/** The limits of the verification API's input (verification.api.ts); beyond them nothing can match. */
const MAX_IDENTIFIER = 256;
const MAX_TOKEN = 512;
/** Proxies send the subrequest with GET (Traefik, Caddy) or with the original request's method (nginx). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Percent-encodes (RFC 3986, UTF-8) what may not stand in a header value as is: anything outside
 * visible ASCII, `%`, and the characters in `also` (the list separator). Plain ASCII identifiers
 * such as `alice` or `alice@example.org` pass unchanged.
 */
export function headerSafe(value: string, also = ''): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    out += c > 0x20 && c < 0x7f && ch !== '%' && !also.includes(ch) ? ch : encodeURIComponent(ch).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return out;
}

/** `Authorization: Basic base64(user:token)` (RFC 7617): the user id ends at the first colon. */
function basicCredentials(header: string | undefined): { identifier: string; token: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return undefined;
  const identifier = decoded.slice(0, i);
  const token = decoded.slice(i + 1);
  if (token === '' || identifier.length > MAX_IDENTIFIER || token.length > MAX_TOKEN || decoded.includes('\u0000')) return undefined;
  return { identifier, token };
}

/**
 * Forward authentication for reverse proxies (nginx `auth_request`, Traefik `ForwardAuth`, Caddy
 * `forward_auth`): `FORWARD_AUTH_URL`, any of the usual methods, no body.
 *
 * The proxy sends the user's own `Authorization: Basic user:token` and the service's verification
 * key in `X-Tessera-Verification-Key`. The check is the verification API's (`TokenVerifier`): one
 * hash verification whatever the person, one answer for every failure, failures rate limited per
 * (service, identifier) and per client address (`request.ip`: the proxy's own address unless it is
 * in TESSERA_TRUSTED_PROXIES and sends X-Forwarded-For), last use recorded.
 *
 * Answers:
 * - 204 with `X-Tessera-Identifier` (the identifier as Tessera stores it), `X-Tessera-Person-Id`,
 *   `X-Tessera-Co-Id` and `X-Tessera-Groups` (the person's active CO groups now, comma-separated;
 *   values percent-encoded by `headerSafe`, commas inside a name as %2C);
 * - 401 FORWARD_AUTH_CREDENTIALS_REQUIRED with `WWW-Authenticate: Basic` for missing, malformed
 *   or invalid credentials alike;
 * - 429 VERIFY_RATE_LIMITED with Retry-After; 503 VERIFY_BUSY (too many argon2id checks at once) with Retry-After;
 * - 403 FORWARD_AUTH_KEY_INVALID when the proxy's key is missing, unknown or revoked (a
 *   configuration error: asking the user for a password again would not help).
 */
export function registerForwardAuthApi(app: FastifyInstance, ctx: TokenRouteContext, verifier: TokenVerifier): void {
  ctx.openapi.add({
    method: 'GET',
    url: FORWARD_AUTH_URL,
    summary: 'Forward authentication for reverse proxies: the user’s Basic credentials checked for the service of the X-Tessera-Verification-Key header; 204 with X-Tessera-* identity headers',
    tag: 'Verification',
    auth: 'none',
    status: 204,
    errors: [401, 403, 429, 503],
  });

  app.route({
    method: METHODS,
    url: FORWARD_AUTH_URL,
    config: { api: true, ownCredentials: true, lean: true },
    ...leanRouteLogging(),
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('Cache-Control', 'no-store');
      const header = request.headers[VERIFICATION_KEY_HEADER.toLowerCase()];
      const key = typeof header === 'string' ? header.trim() : undefined;
      const keyInvalid = () => new AppError(SERVICE_TOKEN_ERRORS.FORWARD_AUTH_KEY_INVALID);
      if (!(await verifier.authenticateKey(key))) throw keyInvalid();
      const refused = new AppError(SERVICE_TOKEN_ERRORS.FORWARD_AUTH_CREDENTIALS_REQUIRED, { headers: { 'WWW-Authenticate': CHALLENGE } });
      const credentials = basicCredentials(request.headers.authorization);
      if (!credentials) throw refused;
      const answer = await verifier.authenticateAndVerify(key, credentials, request.ip);
      if (!answer) throw keyInvalid();
      const { caller, result } = answer;
      if (!result.valid || !result.person) throw refused;
      const groups = await currentGroupsOf(ctx.db, caller.coId, result.person.id, ctx.clock.now());
      reply.header(IDENTITY_HEADERS.identifier, headerSafe(result.person.identifier));
      reply.header(IDENTITY_HEADERS.personId, result.person.id);
      reply.header(IDENTITY_HEADERS.coId, caller.coId);
      reply.header(
        IDENTITY_HEADERS.groups,
        groups
          .filter((g) => g.status === 'active')
          .map((g) => headerSafe(g.name, ','))
          .join(','),
      );
      return reply.code(204).send();
    },
  });
}
