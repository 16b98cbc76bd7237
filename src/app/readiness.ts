import type { FastifyInstance } from 'fastify';
import { migrationSets, pendingMigrations } from '../db/migrator.ts';
import type { Registry } from './registry.ts';

/**
 * `GET /readyz`: 200 `{status:'ready'}` when the database answers and every migration of the core
 * and the enabled plugins is applied; otherwise 503 with `database: 'unreachable'` or the pending
 * migrations' names. For load balancers and orchestrators; `/healthz` stays the liveness check.
 * Answers without credentials and names no person, CO or token.
 */
export function registerReadiness(app: FastifyInstance, registry: Registry): void {
  const sets = migrationSets(registry.plugins.map((p) => p.plugin));
  const { database } = registry;
  app.get('/readyz', async (_req, reply) => {
    reply.header('Cache-Control', 'no-store');
    let pending: string[];
    try {
      await database.db.selectFrom('co').select('id').limit(1).execute();
      pending = await pendingMigrations(database.db, sets);
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
    }
    if (pending.length > 0) return reply.code(503).send({ status: 'unavailable', database: 'reachable', pendingMigrations: pending });
    return reply.send({ status: 'ready', database: 'reachable', pendingMigrations: [] });
  });
}
