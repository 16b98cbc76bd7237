import type { FastifyInstance } from 'fastify';
import type { Kysely, Migration, Transaction } from 'kysely';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { Executor } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import type { ChangeListener } from '../context.ts';
import type { ErrorCode } from '../errors/app-error.ts';
import type { Metrics } from '../http/metrics.ts';
import type { RouteContext } from '../http/route-context.ts';
import type { Logger } from '../logging/logger.ts';
import type { Provisioner } from '../provisioning/provisioner.ts';
import type { ProvisioningContext } from '../provisioning/target.service.ts';
import type { ProvisioningData } from '../provisioning/provisioning-data.ts';
import type { MenuContributions } from '../web/menu.ts';

export type { MenuEntry } from '../web/menu.ts';

/** A plugin's own tables, by table name (Kysely table interfaces). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's own constraint on table maps (withTables)
export type TableMap = Record<string, Record<string, any>>;

/**
 * What one plugin exports to the plugins that require it (its extension points), by plugin id.
 * A plugin with exports widens this interface from its own module:
 * `declare module '…/core/plugins/plugin.ts' { interface PluginExports { 'ldap-provisioner': LdapExtensionPoint } }`,
 * so `host.exportsOf('ldap-provisioner')` is typed without the core importing the plugin.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PluginExports {}

/**
 * The narrow host a plugin's `setup` receives: the database typed with the core's tables and the
 * plugin's own, the services' context, the clock and the logger. Nothing else of the process.
 */
export interface PluginHost<Tables extends TableMap = Record<never, never>> {
  /** The database, with the core tables and this plugin's tables (no casts needed). */
  db: Kysely<CoreDatabase & Tables>;
  /** The same view of a transaction (or connection) the core hands the plugin, e.g. in a change listener. */
  withTables(executor: Executor): Kysely<CoreDatabase & Tables> | Transaction<CoreDatabase & Tables>;
  /** The core services' context: pass it to core services (history, change events, notices). */
  core: ProvisioningContext;
  clock: Clock;
  logger: Logger;
  /** The process's Prometheus metrics (/metrics): counters, histograms, gauges read at scrape time. */
  metrics: Metrics;
  /**
   * What a plugin listed in `requires` exported from its setup. Throws when that plugin is not
   * enabled before this one (start-up already refuses such a configuration).
   */
  exportsOf<K extends keyof PluginExports>(id: K): PluginExports[K];
}

/** Work a plugin wants done every `everyMs` milliseconds by the process's background runtime. */
export interface PeriodicTask {
  /** Names the task in logs. */
  name: string;
  everyMs: number;
  run(): Promise<void>;
}

/** What a plugin contributes once set up; every part is optional. */
export interface PluginParts {
  /** Registers HTML and JSON routes; the app has its auth, CSRF and error handling in place. */
  routes?: (app: FastifyInstance, ctx: RouteContext) => Promise<void> | void;
  menus?: MenuContributions;
  /**
   * Adds this plugin's part of the data provisioners receive for a person, stored under the
   * plugin's id in `ProvisioningData.plugins`.
   */
  provisioningData?: (db: Executor, data: ProvisioningData) => Promise<Record<string, unknown>>;
  /**
   * `provisioningData` for many people of one CO at once (the worker's batches), one part per
   * person in the order of `data`, with set-based queries. Optional; needs `provisioningData`.
   */
  provisioningDataOfPeople?: (db: Executor, data: readonly ProvisioningData[]) => Promise<Array<Record<string, unknown>>>;
  /** Provisioner types this plugin adds (e.g. `ldap`). */
  provisioners?: Provisioner[];
  /** Runs inside the transaction of every registry change (a transactional outbox). */
  onChange?: ChangeListener;
  /** Periodic background work, run by `tessera serve` (with the worker on) and `tessera worker`. */
  periodic?: PeriodicTask[];
  /** What plugins that require this one may use; see PluginExports. */
  exports?: PluginExports[keyof PluginExports];
  /** Called once when the process stops (e.g. to write what is still buffered). */
  close?: () => Promise<void>;
}

/**
 * A plugin is a typed object listed in configuration (TESSERA_PLUGINS) and made by a factory
 * (`serviceTokensPlugin(options)`), so its state lives in the factory's closure. The core never
 * imports a plugin; the composition root (src/app/) sets the enabled ones up, in order.
 */
export interface TesseraPlugin {
  id: string;
  description: string;
  /** Ids of plugins this one needs; start-up stops with a clear message when one is absent. */
  requires?: string[];
  /** Timestamped migrations, applied in name order and tracked per plugin. */
  migrations?: Record<string, Migration>;
  errorCodes?: Record<string, ErrorCode>;
  /** Called once per process, in plugin order, before any route or job runs. */
  setup(host: PluginHost): PluginParts;
}

/** A plugin definition whose host is typed with the plugin's own tables. */
export interface PluginDefinition<Tables extends TableMap> extends Omit<TesseraPlugin, 'setup'> {
  setup(host: PluginHost<Tables>): PluginParts;
}

/**
 * Makes a plugin from a definition typed with its tables: the host's database is widened to them
 * (Kysely's `withTables`), so neither the plugin nor its tests reach a table through a cast.
 */
export function definePlugin<Tables extends TableMap>(definition: PluginDefinition<Tables>): TesseraPlugin {
  return {
    ...definition,
    setup: (host) =>
      definition.setup({
        ...host,
        db: host.db.withTables<Tables>(),
        withTables: (executor) => executor.withTables<Tables>(),
      }),
  };
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
  // Earlier, because plugins migrate, set up, register routes and hear changes in this order.
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
