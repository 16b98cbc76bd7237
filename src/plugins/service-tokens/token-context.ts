import type { Kysely } from 'kysely';
import type { CoreContext } from '../../core/context.ts';
import type { RouteContext } from '../../core/http/route-context.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { Executor } from '../../db/database.ts';
import type { ServiceTokenTables } from './service-token.table.ts';

/** The core tables and this plugin's, as the plugin host types them. */
export type TokenDatabase = CoreDatabase & ServiceTokenTables;

/** A connection or transaction that reaches the plugin's tables; what the repositories take. */
export type TokenDb = Executor<TokenDatabase>;

/**
 * What the plugin's services take: the core services' context (clock, logger, change listeners,
 * notifier) with the database the plugin host hands out, typed with the plugin's tables. The
 * plugin builds it once in `setup` from `host.core` and `host.db`.
 */
export interface TokenContext extends CoreContext {
  db: Kysely<TokenDatabase>;
}

/** The route registrars' context, with the same typed database. */
export interface TokenRouteContext extends RouteContext {
  db: Kysely<TokenDatabase>;
}
