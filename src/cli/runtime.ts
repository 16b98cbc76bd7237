import { loadConfig, type Config } from '../config/config.ts';
import { systemClock } from '../core/clock.ts';
import { resolvePlugins, type PluginContext, type TesseraPlugin } from '../core/plugins/plugin.ts';
import { createPluginContext } from '../core/plugins/plugin-context.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrateToLatest, migrationSets } from '../db/migrator.ts';
import { BUNDLED_PLUGINS } from '../plugins/catalogue.ts';

export interface Runtime {
  config: Config;
  database: Database;
  plugins: TesseraPlugin[];
  ctx: PluginContext;
}

/** Loads configuration, resolves plugins (failing on a missing dependency) and opens the database. */
export function openRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  const config = loadConfig(env);
  const plugins = resolvePlugins(BUNDLED_PLUGINS, config.plugins);
  const database = openDatabase(config.databaseUrl);
  return { config, database, plugins, ctx: createPluginContext({ config, database, plugins, clock: systemClock }) };
}

export async function migrate(runtime: Runtime): Promise<string[]> {
  return migrateToLatest(runtime.database.db, migrationSets(runtime.plugins));
}
