import { createRegistry, type Registry } from '../app/registry.ts';
import { loadConfig } from '../config/config.ts';
import { pino } from 'pino';
import { systemClock } from '../core/clock.ts';
import { createLogger } from '../core/logging/logger.ts';
import { resolvePlugins } from '../core/plugins/plugin.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest, migrationSets } from '../db/migrator.ts';
import { bundledPlugins } from '../plugins/catalogue.ts';

/**
 * Loads configuration, resolves the enabled plugins (failing on a missing dependency), opens the
 * database and builds the process's registry (src/app/registry.ts). Nothing runs yet. Logs are
 * JSON lines on stdout, or on stderr with `logsTo: 'stderr'` (commands whose stdout is their output).
 */
export function openRuntime(env: NodeJS.ProcessEnv = process.env, options: { logsTo?: 'stdout' | 'stderr' } = {}): Registry {
  const config = loadConfig(env);
  const plugins = resolvePlugins(bundledPlugins(config), config.plugins);
  const database = openDatabase(config.databaseUrl);
  const logger = createLogger({ level: config.logLevel, ...(options.logsTo === 'stderr' ? { stream: pino.destination(2) } : {}) });
  return createRegistry({ config, database, plugins, clock: systemClock, logger });
}

/** Applies pending migrations of the core and the enabled plugins; returns the names applied. */
export async function migrate(registry: Registry): Promise<string[]> {
  return migrateToLatest(registry.database.db, migrationSets(registry.plugins.map((p) => p.plugin)));
}
