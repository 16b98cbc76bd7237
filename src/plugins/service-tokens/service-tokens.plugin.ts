import { definePlugin, type TesseraPlugin } from '../../core/plugins/plugin.ts';
import { SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import * as initial from './migrations/20261128010000-service-tokens.ts';
import * as lastUseElsewhere from './migrations/20261203010000-last-use-elsewhere.ts';
import * as verificationCache from './migrations/20261223010000-verification-cache.ts';
import { recordExternalUse, type ServiceTokensExtensionPoint } from './last-use/external-use.ts';
import { sweepUnusedTokens } from './notices/unused-tokens.ts';
import { sweepExpiryWarnings } from './notices/expiry-warnings.ts';
import { usableTokensOf, usableTokensOfPeople } from './provisioning/token-provisioning-data.ts';
import type { ServiceTokenTables } from './service-token.table.ts';
import { registerTokenSettingApi } from './settings/token-setting.api.ts';
import { registerTokenSettingRoutes } from './settings/token-setting.routes.tsx';
import type { TokenContext } from './token-context.ts';
import { registerServiceTokenApi } from './tokens/service-token.api.ts';
import { registerServiceTokenRoutes } from './tokens/service-token.routes.tsx';
import { sweepExpiredTokens } from './tokens/token-expiry.service.ts';
import { registerForwardAuthApi } from './verification/forward-auth.api.ts';
import { TokenVerifier } from './verification/token-verifier.ts';
import { registerVerificationKeyRoutes } from './verification/verification-key.routes.tsx';
import { registerVerificationApi } from './verification/verification.api.ts';

export type { ServiceTokenProvisioningData, UsableToken } from './provisioning/token-provisioning-data.ts';
export type { ExternalUse, ServiceTokensExtensionPoint } from './last-use/external-use.ts';

export const SERVICE_TOKENS_PLUGIN_ID = 'service-tokens';

/** Settings of the service tokens plugin (from TESSERA_VERIFY_FAILURES_PER_*). */
export interface ServiceTokensOptions {
  /** Failed verifications per minute per (service, identifier) before 429. */
  failuresPerIdentifier?: number;
  /** Failed verifications per minute per client address before 429. */
  failuresPerAddress?: number;
  /** Argon2id checks of the verification API at once, and waiting, per process (tests; default: libuv's thread pool size, and 64). */
  slowChecks?: { concurrent: number; queued: number };
}

/**
 * Service tokens: per-service application passwords, shown once, stored as RFC 2307 hashes.
 * Off unless listed in TESSERA_PLUGINS: then no menu entry, no route and no table of it exists.
 *
 * A token's life, by folder: made in `formats/`, hashed in `hashing/`, stored (and generated,
 * listed, revoked, expired) in `tokens/`, governed by `settings/`, handed to provisioners by
 * `provisioning/`, checked for services by `verification/`, announced by `notices/`.
 *
 * The services are functions of a `TokenContext` (the core context with the host's database,
 * typed with this plugin's tables), built here once. The verifier (rate limits, recently verified
 * tokens, last-use records) lives in this closure, one per process.
 */
export function serviceTokensPlugin(options: ServiceTokensOptions = {}): TesseraPlugin {
  return definePlugin<ServiceTokenTables>({
    id: SERVICE_TOKENS_PLUGIN_ID,
    description: 'Service tokens (application-specific passwords) for CO Services',
    migrations: { '20261128010000-service-tokens': initial, '20261203010000-last-use-elsewhere': lastUseElsewhere, '20261223010000-verification-cache': verificationCache },
    errorCodes: SERVICE_TOKEN_ERRORS,
    setup: (host) => {
      const ctx: TokenContext = { ...host.core, db: host.db };
      const verifier = new TokenVerifier(
        ctx,
        { failuresPerIdentifier: options.failuresPerIdentifier ?? 10, failuresPerAddress: options.failuresPerAddress ?? 100, ...(options.slowChecks ? { slowChecks: options.slowChecks } : {}) },
        host.logger,
      );
      return {
        routes: (app, routeCtx) => {
          const tokenRouteCtx = { ...routeCtx, db: host.db };
          registerServiceTokenRoutes(app, tokenRouteCtx);
          registerTokenSettingRoutes(app, tokenRouteCtx);
          registerVerificationKeyRoutes(app, tokenRouteCtx);
          registerServiceTokenApi(app, tokenRouteCtx);
          registerTokenSettingApi(app, tokenRouteCtx);
          registerVerificationApi(app, tokenRouteCtx, verifier, host.metrics);
          registerForwardAuthApi(app, tokenRouteCtx, verifier);
        },
        menus: {
          identity: ({ co, personId }) => [{ label: 'Service Tokens', href: `/cos/${co.id}/people/${personId}/service-tokens` }],
          coConfiguration: ({ co }) => [{ label: 'Service token settings', href: `/cos/${co.id}/service-token-settings`, description: 'Which services accept tokens, of what kind' }],
          personPage: ({ co, person }) => [{ label: 'Service tokens', href: `/cos/${co.id}/people/${person.id}/service-tokens` }],
        },
        // Every minute, tokens that expired are withdrawn from directories and last-used times written.
        periodic: [
          { name: 'service token expiry', everyMs: 20_000, run: async () => void (await sweepExpiredTokens(ctx)) },
          { name: 'service token expiry warnings', everyMs: 60_000, run: async () => void (await sweepExpiryWarnings(ctx)) },
          { name: 'service token last use', everyMs: 60_000, run: () => verifier.lastUsed.flush() },
          // Hourly: tokens unused for their service's period get a notice, then are revoked.
          { name: 'service token unused revocation', everyMs: 3600_000, run: async () => void (await sweepUnusedTokens(ctx)) },
        ],
        // Last use seen elsewhere (LDAP binds at service entries), reported by the plugins that see it.
        exports: { recordExternalUse: (uses) => recordExternalUse(host.db, uses, host.clock.now()) } satisfies ServiceTokensExtensionPoint,
        close: () => verifier.lastUsed.flushAll(),
        // Provisioners get the hashes of usable tokens (never a secret: those exist only at generation).
        provisioningData: async (db, data) => ({ tokens: await usableTokensOf(host.withTables(db), data.co.id, data.person, host.clock.now()) }),
        provisioningDataOfPeople: async (db, data) => {
          if (data.length === 0) return [];
          const people = data.map((d) => ({ id: d.person.id, status: d.person.status, groups: d.groups }));
          return (await usableTokensOfPeople(host.withTables(db), data[0]!.co.id, people, host.clock.now())).map((tokens) => ({ tokens }));
        },
      };
    },
  });
}
