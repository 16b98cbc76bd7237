import { createRegistry, type Registry } from '../app/registry.ts';
import { loadConfig } from '../config/config.ts';
import { systemClock } from '../core/clock.ts';
import { resolvePlugins } from '../core/plugins/plugin.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest, migrationSets } from '../db/migrator.ts';
import { bundledPlugins } from '../plugins/catalogue.ts';

/**
 * Loads configuration, resolves the enabled plugins (failing on a missing dependency), opens the
 * database and builds the process's registry (src/app/registry.ts). Nothing runs yet.
 */
export function openRuntime(env: NodeJS.ProcessEnv = process.env): Registry {
  const config = loadConfig(env);
  const plugins = resolvePlugins(bundledPlugins(config), config.plugins);
  const database = openDatabase(config.databaseUrl);
  return createRegistry({ config, database, plugins, clock: systemClock });
}

/** Applies pending migrations of the core and the enabled plugins; returns the names applied. */
export async function migrate(registry: Registry): Promise<string[]> {
  return migrateToLatest(registry.database.db, migrationSets(registry.plugins.map((p) => p.plugin)));
}
