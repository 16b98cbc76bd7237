import type { FastifyInstance } from 'fastify';
import type { Migration } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { Actor } from '../auth/actor.ts';
import type { ChangeListener, CoreContext } from '../context.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Provisioner } from '../provisioning/provisioner.ts';
import type { RouteContext } from '../http/route-context.ts';
import type { MenuContributions } from '../web/menu.ts';
import type { ProvisioningWorker } from '../provisioning/worker.ts';
import type { EmailDelivery } from '../notifications/delivery.worker.ts';
import type { Co } from '../cos/co.service.ts';
import type { ErrorCode } from '../errors/app-error.ts';
import type { Person } from '../people/person.repository.ts';
import type { ProvisioningData } from '../provisioning/provisioning-data.ts';

export type { MenuEntry } from '../web/menu.ts';

/** What the app hands a plugin when it registers its routes. */
export interface PluginContext extends RouteContext {
  plugins: readonly TesseraPlugin[];
  metrics: Metrics;
  /** Runs provisioning jobs; started by `tessera serve` and `tessera worker`. */
  worker: ProvisioningWorker;
  /** Sends queued emails; undefined when no SMTP server is configured. */
  delivery: EmailDelivery | undefined;
}

/**
 * A plugin is a typed object listed in configuration (TESSERA_PLUGINS). The core never imports a
 * plugin; the command line hands the configured ones to the app.
 */
export interface TesseraPlugin {
  id: string;
  description: string;
  /** Ids of plugins this one needs; start-up stops with a clear message when one is absent. */
  requires?: string[];
  /** Timestamped migrations, applied in name order and tracked per plugin. */
  migrations?: Record<string, Migration>;
  errorCodes?: Record<string, ErrorCode>;
  /** Registers HTML and JSON routes; the app has its auth, CSRF and error handling in place. */
  routes?: (app: FastifyInstance, ctx: PluginContext) => Promise<void> | void;
  menus?: MenuContributions;
  /** Adds this plugin's part of the data provisioners receive for a person. */
  provisioningData?: (db: Executor, ctx: CoreContext, data: ProvisioningData) => Promise<Record<string, unknown>>;
  /** Provisioner types this plugin adds (e.g. `ldap`). */
  provisioners?: Provisioner[];
  /** Runs inside the transaction of every registry change (a transactional outbox). */
  onChange?: (ctx: PluginContext) => ChangeListener;
  /** Long-running work started with the server or `tessera worker`; returns a stop function. */
  worker?: (ctx: PluginContext) => () => Promise<void>;
}

/** Orders plugins as configured and checks that every dependency is present and earlier. */
export function resolvePlugins(available: readonly TesseraPlugin[], enabledIds: readonly string[]): TesseraPlugin[] {
  const byId = new Map(available.map((p) => [p.id, p]));
  const enabled: TesseraPlugin[] = [];
  for (const id of enabledIds) {
    const plugin = byId.get(id);
    if (!plugin) throw new Error(`Unknown plugin "${id}" in TESSERA_PLUGINS; known plugins: ${[...byId.keys()].join(', ') || '(none)'}`);
    if (!enabled.includes(plugin)) enabled.push(plugin);
  }
  // Earlier, because plugins migrate, register routes and hear changes in this order.
  for (const [index, plugin] of enabled.entries()) {
    for (const dep of plugin.requires ?? []) {
      const at = enabled.findIndex((p) => p.id === dep);
      if (at < 0) {
        throw new Error(`Plugin "${plugin.id}" needs plugin "${dep}", which is not enabled; add "${dep}" to TESSERA_PLUGINS before "${plugin.id}"`);
      }
      if (at > index) {
        throw new Error(`Plugin "${plugin.id}" needs plugin "${dep}", which must come before it; list "${dep}" before "${plugin.id}" in TESSERA_PLUGINS`);
      }
    }
  }
  return enabled;
}
