import type { FastifyRequest } from 'fastify';
import { RateLimiter } from '../../http/rate-limiter.ts';
import type { RouteContext } from '../../http/route-context.ts';
import { findSource } from '../source.repository.ts';
import { ScimError } from './scim-error.ts';
import { openScimSettings, type ScimSettings } from './scim-settings.ts';
import type { ScimSource } from './scim-source.ts';
import { findLiveScimToken, touchScimToken } from './scim-token.repository.ts';
import { hashScimToken } from './scim-token.service.ts';

const UNAUTHORIZED = (detail: string) => new ScimError(401, undefined, detail, { 'WWW-Authenticate': 'Bearer realm="Tessera SCIM"' });

/**
 * Authenticates SCIM requests by the source's bearer token and applies the source's
 * `requestsPerMinute` (per process, counted after authentication, so strangers cannot use up a
 * source's budget). Tokens are 256 random bits found by their SHA-256: guessing is hopeless, so
 * failures are not counted per address (a flood of them is a reverse proxy's to stop). A token of
 * another source than the URL names is refused like a wrong one. A finalised or terminated source
 * answers 403.
 */
export class ScimAuthenticator {
  private readonly perSource = new Map<string, { limit: number; limiter: RateLimiter }>();
  private readonly settings = new Map<string, { sealed: string; settings: ScimSettings }>();

  constructor(private readonly ctx: RouteContext) {}

  /** The request's source, or a ScimError (401, 403, 429). */
  async authenticate(request: FastifyRequest, sourceId: string): Promise<ScimSource> {
    const header = request.headers.authorization;
    const secret = typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : undefined;
    const token = secret ? await findLiveScimToken(this.ctx.db, hashScimToken(secret)) : undefined;
    if (!token || token.sourceId !== sourceId) {
      throw UNAUTHORIZED(secret ? 'The bearer token is not valid for this endpoint' : 'A bearer token is required (Authorization: Bearer …)');
    }
    const source = await findSource(this.ctx.db, token.coId, token.sourceId);
    if (!source || source.kind !== 'scim') throw UNAUTHORIZED('The bearer token is not valid for this endpoint');
    if (source.status !== 'active') throw new ScimError(403, undefined, `Source ${source.name} is ${source.status}: it writes nothing any more`);
    const settings = this.settingsOf(source.id, source.sealedSettings);
    let limit = this.perSource.get(source.id);
    if (!limit || limit.limit !== settings.requestsPerMinute) {
      limit = { limit: settings.requestsPerMinute, limiter: new RateLimiter(settings.requestsPerMinute, 60_000) };
      this.perSource.set(source.id, limit);
    }
    const busy = limit.limiter.take(source.id);
    if (busy > 0) throw new ScimError(429, undefined, `More than ${settings.requestsPerMinute} requests a minute from this source`, { 'Retry-After': String(busy) });
    const now = this.ctx.clock.now();
    if (token.lastUsedAt === null || now.getTime() - Date.parse(token.lastUsedAt) > 60_000) await touchScimToken(this.ctx.db, token.id, now.toISOString());
    return {
      source,
      base: { baseUrl: scimBaseUrl(this.ctx.config.publicUrl, source.id), relativeLocation: settings.relativeLocation },
      oidcType: this.ctx.config.oidc?.identifierType ?? 'oidcsub',
    };
  }

  private settingsOf(sourceId: string, sealed: string): ScimSettings {
    const cached = this.settings.get(sourceId);
    if (cached?.sealed === sealed) return cached.settings;
    const settings = openScimSettings(this.ctx.secretBox, sealed);
    this.settings.set(sourceId, { sealed, settings });
    return settings;
  }
}

/** The SCIM base URL of a source: `<public URL>/scim/v2/<source id>`. */
export function scimBaseUrl(publicUrl: string, sourceId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/scim/v2/${sourceId}`;
}
