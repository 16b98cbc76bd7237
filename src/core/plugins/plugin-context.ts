import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { Menus } from '../web/menu.ts';
import { Metrics } from '../http/metrics.ts';
import { OpenApiRegistry } from '../http/openapi.ts';
import { provisioningOutbox } from '../provisioning/outbox.ts';
import { SecretBox } from '../provisioning/secret-box.ts';
import { ProvisioningWorker, type WorkerOptions } from '../provisioning/worker.ts';
import type { ProvisioningDataContributor } from '../provisioning/provisioning-data.ts';
import type { CoreContext } from '../context.ts';
import type { PluginContext, TesseraPlugin } from './plugin.ts';
import { EmailDelivery } from '../notifications/delivery.worker.ts';
import { smtpMailer, type Mailer } from '../notifications/mailer.ts';
import { Notifier } from '../notifications/notification.service.ts';

/**
 * Wires the registry for one process: the database, the enabled plugins' listeners and
 * provisioners, the provisioning outbox and its worker. The server and the command line share it.
 */
export function createPluginContext(options: {
  config: Config;
  database: Database;
  plugins: readonly TesseraPlugin[];
  clock: Clock;
  worker?: WorkerOptions;
  /** Replaces the SMTP mailer (tests). */
  mailer?: Mailer;
  logger?: Logger;
}): PluginContext {
  const { config, database, plugins, clock } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const ctx = {
    db: database.db,
    dialect: database.dialect,
    clock,
    logger,
    changeListeners: [],
    menus: new Menus(plugins.flatMap((p) => (p.menus ? [p.menus] : []))),
    mailEnabled: config.smtpUrl !== undefined,
    config,
    plugins,
    openapi: new OpenApiRegistry(),
    metrics: new Metrics(),
    provisioners: plugins.flatMap((p) => p.provisioners ?? []),
    secretBox: new SecretBox(config.secretKey),
    notifier: new Notifier(clock, config.smtpUrl !== undefined, config.publicUrl),
    delivery: config.smtpUrl ? new EmailDelivery(database.db, clock, options.mailer ?? smtpMailer(config.smtpUrl, config.mailFrom), logger) : undefined,
  } as unknown as PluginContext;
  const worker = new ProvisioningWorker(ctx, provisioningDataContributors(plugins, ctx), options.worker);
  (ctx as { worker: ProvisioningWorker }).worker = worker;
  ctx.nudgeWorker = () => worker.nudge();
  ctx.changeListeners.push(provisioningOutbox(ctx, () => worker.nudge()));
  for (const plugin of plugins) if (plugin.onChange) ctx.changeListeners.push(plugin.onChange(ctx));
  return ctx;
}

/** The plugins' `provisioningData` hooks as the contributors provisioning takes, in plugin order. */
export function provisioningDataContributors(plugins: readonly TesseraPlugin[], ctx: CoreContext): ProvisioningDataContributor[] {
  return plugins.flatMap((p) => {
    const hook = p.provisioningData;
    return hook ? [{ id: p.id, contribute: (db, data) => hook(db, ctx, data) } satisfies ProvisioningDataContributor] : [];
  });
}
