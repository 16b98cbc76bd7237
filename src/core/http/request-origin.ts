import type { FastifyRequest } from 'fastify';

/** The path prefixes of machine endpoints: the REST API, and SCIM sources' endpoints (own bearer tokens). */
const API_PREFIXES = ['/api/', '/scim/'];

/**
 * Is this request for the REST API (or a SCIM endpoint)? Decided on the route Fastify matched (its pattern), which is
 * what runs: the router decodes the path, so `/%61pi/v1/cos` reaches the `/api/v1/cos` handler and
 * must be treated as an API request (Basic auth, no session cookie). Without a matched route (a
 * 404) the percent-decoded path decides; a path that does not decode is not the API.
 */
export function isApiRequest(request: FastifyRequest): boolean {
  const pattern = request.routeOptions.url;
  if (pattern !== undefined) return API_PREFIXES.some((p) => pattern.startsWith(p));
  // No route matched (a 404, or a path the router refused): decide on the path with its ASCII
  // escapes decoded, so `/%61pi/…` is the API, and a malformed escape further on (`/api/v1/%ZZ`)
  // does not make an API request a web page.
  const path = request.url.split('?')[0]!.replace(/%([0-7][0-9a-f])/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return API_PREFIXES.some((p) => path.startsWith(p));
}

/**
 * Was this request sent by a page of another site? Browsers send `Sec-Fetch-Site` (Fetch Metadata)
 * on every request: only `same-origin` and `none` (typed by the user, a bookmark) are Tessera's own.
 * Browsers without it still send `Origin` on cross-origin POSTs (RFC 6454 §7; Fetch §3.1), which
 * must then be Tessera's public origin. Clients that are no browser (curl, scripts) send neither
 * and are not cross-site: they hold their own credentials, no ambient ones.
 */
export function isCrossSite(headers: FastifyRequest['headers'], publicOrigin: string): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== '') return site !== 'same-origin' && site !== 'none';
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== '') return origin === 'null' || origin !== publicOrigin;
  return false;
}
