import type { Actor } from '../auth/actor.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling: a signed-in person, an API user, or undefined when anonymous. */
    actor: Actor | undefined;
    /** The CSRF token forms of this response must carry. */
    csrfToken: string;
  }
  interface FastifyInstance {
    /** Cookies are Secure and `__Host-` prefixed (the public URL is https). */
    secureCookies: boolean;
  }
  interface FastifyContextConfig {
    /** JSON API route: HTTP Basic, no CSRF, JSON errors. */
    api?: boolean;
    /** Anonymous access allowed on a web route. */
    public?: boolean;
    /** An API route that reads `Authorization` itself (forward authentication): no API-user Basic sign-in. */
    ownCredentials?: boolean;
    /**
     * A machine endpoint on the hot path (token verification, forward authentication): the
     * `onRequest` hook sets only the headers that matter to a machine (`leanHeaders`), and the
     * route logs through one shared child logger (`leanRouteLogging`), not one per request.
     */
    lean?: boolean;
  }
}
