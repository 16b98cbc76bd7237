import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'tessera_csrf';
export const CSRF_FIELD = '_csrf';

/** The CSRF cookie's name: `__Host-` over https, so another host cannot toss in a pair it knows. */
export function csrfCookieName(secure: boolean): string {
  return secure ? `__Host-${CSRF_COOKIE}` : CSRF_COOKIE;
}

/**
 * Signed double-submit: a random cookie, and a form token that is its HMAC under the secret key.
 * A cross-site page can neither read the cookie nor compute the token.
 */
export function newCsrfCookieValue(): string {
  return randomBytes(24).toString('base64url');
}

export function csrfTokenFor(secretKey: string, cookieValue: string): string {
  return createHmac('sha256', secretKey).update(`csrf:${cookieValue}`).digest('base64url');
}

export function csrfTokenValid(secretKey: string, cookieValue: string | undefined, token: unknown): boolean {
  if (!cookieValue || typeof token !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(secretKey, cookieValue));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
