import type { TesseraPlugin } from '../../core/plugins/plugin.ts';
import { SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import * as initial from './migrations/20261128010000-service-tokens.ts';
import { registerServiceTokenApi } from './service-token.api.ts';
import { registerServiceTokenRoutes } from './service-token.routes.tsx';
import { sweepExpiredTokens, sweepExpiryWarnings, usableTokensOf } from './service-token.service.ts';
import type { PluginContext } from '../../core/plugins/plugin.ts';
import { registerVerificationApi } from './verification.api.ts';
import { TokenVerifier } from './verification.service.ts';

// One verifier per running app: its rate limits and last-used records live in memory.
const verifiers = new WeakMap<PluginContext, TokenVerifier>();
export function verifierOf(ctx: PluginContext): TokenVerifier {
  let verifier = verifiers.get(ctx);
  if (!verifier) {
    verifier = new TokenVerifier(ctx, { failuresPerIdentifier: ctx.config.verifyFailuresPerIdentifier, failuresPerAddress: ctx.config.verifyFailuresPerAddress });
    verifiers.set(ctx, verifier);
  }
  return verifier;
}

export const SERVICE_TOKENS_PLUGIN_ID = 'service-tokens';

/** What this plugin adds to a person's provisioning data. */
export interface ServiceTokenProvisioningData {
  tokens: Awaited<ReturnType<typeof usableTokensOf>>;
}

/**
 * Service tokens: per-service application passwords, shown once, stored as RFC 2307 hashes.
 * Off unless listed in TESSERA_PLUGINS: then no menu entry, no route and no table of it exists.
 */
export const serviceTokensPlugin: TesseraPlugin = {
  id: SERVICE_TOKENS_PLUGIN_ID,
  description: 'Service tokens (application-specific passwords) for CO Services',
  migrations: { '20261128010000-service-tokens': initial },
  errorCodes: SERVICE_TOKEN_ERRORS,
  routes: (app, ctx) => {
    registerServiceTokenRoutes(app, ctx);
    registerServiceTokenApi(app, ctx);
    registerVerificationApi(app, ctx, verifierOf(ctx));
    app.addHook('onClose', async () => verifierOf(ctx).lastUsed.flushAll());
  },
  menus: {
    identity: ({ co, personId }) => [{ label: 'Service Tokens', href: `/cos/${co.id}/people/${personId}/service-tokens` }],
    coConfiguration: ({ co }) => [{ label: 'Service token settings', href: `/cos/${co.id}/service-token-settings`, description: 'Which services accept tokens, of what kind' }],
    personPage: ({ co, person }) => [{ label: 'Service tokens', href: `/cos/${co.id}/people/${person.id}/service-tokens` }],
  },
  // Every minute, tokens that expired are withdrawn from directories and last-used times written.
  worker: (ctx) => {
    let stopped = false;
    let running: Promise<unknown> = Promise.resolve();
    const tick = () => {
      if (stopped) return;
      running = Promise.all([sweepExpiredTokens(ctx), sweepExpiryWarnings(ctx), verifierOf(ctx).lastUsed.flush()]).catch((e) =>
        console.error(JSON.stringify({ level: 50, msg: 'service token sweep failed', err: String(e) })),
      );
    };
    const timer = setInterval(tick, 60_000);
    timer.unref();
    tick();
    return async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    };
  },
  // Provisioners get the hashes of usable tokens (never a secret: those exist only at generation).
  provisioningData: async (db, ctx, data) => ({
    tokens: await usableTokensOf(db, data.co.id, data.person, ctx.clock.now()),
  }),
};
