import type { Config } from '../config/config.ts';
import type { Clock } from '../core/clock.ts';
import type { RouteContext } from '../core/http/route-context.ts';
import { Metrics } from '../core/http/metrics.ts';
import { OpenApiRegistry } from '../core/http/openapi.ts';
import { createLogger, type Logger } from '../core/logging/logger.ts';
import { EmailDelivery } from '../core/notifications/delivery.worker.ts';
import { smtpMailer, type Mailer } from '../core/notifications/mailer.ts';
import { Notifier } from '../core/notifications/notification.service.ts';
import type { PluginExports, PluginHost, PluginParts, TesseraPlugin } from '../core/plugins/plugin.ts';
import { provisioningOutbox } from '../core/provisioning/outbox.ts';
import { outboxGauges } from '../core/provisioning/outbox-gauges.ts';
import { emailQueueGauges } from '../core/notifications/email-queue-gauges.ts';
import type { ProvisioningDataContributor } from '../core/provisioning/provisioning-data.ts';
import type { Provisioner } from '../core/provisioning/provisioner.ts';
import { SecretBox } from '../core/provisioning/secret-box.ts';
import type { ProvisioningContext } from '../core/provisioning/target.service.ts';
import { ProvisioningWorker, type WorkerOptions } from '../core/provisioning/worker.ts';
import { Menus } from '../core/web/menu.ts';
import type { Database } from '../db/database.ts';
import { startPeriodicTasks } from './background.ts';
import { MEMBERSHIP_WINDOW_SWEEP_MS, sweepMembershipWindows } from '../core/groups/membership-window.sweep.ts';
import { runDueSources, SOURCE_SCHEDULE_MS } from '../core/sources/source-schedule.ts';

/** One enabled plugin, set up: the plugin and what its setup contributed. */
export interface InstalledPlugin {
  plugin: TesseraPlugin;
  parts: PluginParts;
}

/**
 * Everything one process of Tessera runs on, built once, in order, by `createRegistry`: the
 * server, the command line, the tests and the benchmarks all start from here.
 */
export interface Registry {
  config: Config;
  database: Database;
  clock: Clock;
  logger: Logger;
  /** The services' and routes' context (the core services take it, or the narrower ProvisioningContext). */
  ctx: RouteContext;
  plugins: readonly InstalledPlugin[];
  /** Every plugin's provisioning-data contributor, in plugin order. */
  contributors: readonly ProvisioningDataContributor[];
  metrics: Metrics;
  /** Runs provisioning jobs; started by `startBackground` (or driven by hand: runOnce). */
  worker: ProvisioningWorker;
  /** Sends queued emails; undefined when no SMTP server is configured. */
  delivery: EmailDelivery | undefined;
  /** Starts the worker, email delivery and the plugins' periodic tasks; the result stops them all. */
  startBackground(): () => Promise<void>;
  /** Runs the plugins' close hooks (once), e.g. writing buffered last-use times. */
  close(): Promise<void>;
}

export interface RegistryOptions {
  config: Config;
  database: Database;
  plugins: readonly TesseraPlugin[];
  clock: Clock;
  /** The process's logger; made from config.logLevel when not given. */
  logger?: Logger;
  worker?: WorkerOptions;
  /** Replaces the SMTP mailer (tests). */
  mailer?: Mailer;
}

/**
 * The composition root. Builds, in order: the logger and secret box, the services' context, each
 * enabled plugin (its narrow host; its provisioners, listeners, menus and exports), the
 * provisioning outbox and worker, and email delivery. Plugins must already be resolved
 * (`resolvePlugins`: dependencies present and earlier).
 */
export function createRegistry(options: RegistryOptions): Registry {
  const { config, database, clock } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const provisioners: Provisioner[] = [];
  const metrics = new Metrics();
  const core: ProvisioningContext = {
    db: database.db,
    dialect: database.dialect,
    clock,
    logger,
    changeListeners: [],
    notifier: new Notifier(clock, config.smtpUrl !== undefined, config.publicUrl),
    provisioners,
    secretBox: new SecretBox(config.secretKey),
  };

  const exported = new Map<string, unknown>();
  const installed: InstalledPlugin[] = [];
  for (const plugin of options.plugins) {
    const host: PluginHost = {
      db: database.db,
      withTables: (executor) => executor,
      core,
      clock,
      logger: logger.child({ plugin: plugin.id }),
      metrics,
      exportsOf: <K extends keyof PluginExports>(id: K): PluginExports[K] => {
        if (!exported.has(id)) throw new Error(`Plugin "${plugin.id}" asked for the exports of "${String(id)}", which is not set up before it`);
        // The one boundary where a plugin's exports meet their declared type (see PluginExports).
        return exported.get(id) as PluginExports[K];
      },
    };
    const parts = plugin.setup(host);
    if (parts.exports !== undefined) exported.set(plugin.id, parts.exports);
    provisioners.push(...(parts.provisioners ?? []));
    installed.push({ plugin, parts });
  }
  const contributors: ProvisioningDataContributor[] = installed.flatMap(({ plugin, parts }) => {
    const contribute = parts.provisioningData;
    const contributeMany = parts.provisioningDataOfPeople;
    return contribute ? [{ id: plugin.id, contribute, ...(contributeMany ? { contributeMany } : {}) }] : [];
  });

  const worker = new ProvisioningWorker(core, contributors, { leaseMs: config.workerLeaseSeconds * 1000, ...options.worker });
  metrics.collect(() => outboxGauges(database.db, clock));
  metrics.collect(() => emailQueueGauges(database.db, clock));
  core.changeListeners.push(provisioningOutbox(core, () => worker.nudge()));
  for (const { parts } of installed) if (parts.onChange) core.changeListeners.push(parts.onChange);

  const delivery = config.smtpUrl ? new EmailDelivery(database.db, clock, options.mailer ?? smtpMailer(config.smtpUrl, config.mailFrom, { ca: config.smtpCa }), logger) : undefined;
  const ctx: RouteContext = {
    ...core,
    config,
    openapi: new OpenApiRegistry(),
    menus: new Menus(installed.flatMap(({ parts }) => (parts.menus ? [parts.menus] : []))),
    nudgeWorker: () => worker.nudge(),
    mailEnabled: delivery !== undefined,
  };

  let closed: Promise<void> | undefined;
  return {
    config,
    database,
    clock,
    logger,
    ctx,
    plugins: installed,
    contributors,
    metrics,
    worker,
    delivery,
    startBackground: () => {
      const stops = [
        worker.start(),
        ...(delivery ? [delivery.start()] : []),
        startPeriodicTasks([
          // Time-based transitions of the core reach the directories within this period, also after downtime.
          { name: 'group membership windows', everyMs: MEMBERSHIP_WINDOW_SWEEP_MS, run: async () => void (await sweepMembershipWindows(core)) },
          // Sources: nightly full reconciliations, incremental runs in between (src/core/sources/source-schedule.ts).
          { name: 'source runs', everyMs: SOURCE_SCHEDULE_MS, run: async () => void (await runDueSources(core)) },
          ...installed.flatMap(({ parts }) => parts.periodic ?? []),
        ], logger),
      ];
      return async () => {
        for (const stop of stops) await stop();
      };
    },
    close: () => {
      closed ??= (async () => {
        for (const { parts } of installed) await parts.close?.();
      })();
      return closed;
    },
  };
}
