// Last use of a person's tokens for a service seen outside Tessera's verification API, e.g. a
// bind at the person's LDAP service entry. Other plugins report it through this plugin's export
// (`host.exportsOf('service-tokens').recordExternalUse`): this plugin never imports them.
import type { TokenDb } from '../token-context.ts';

/** Where a use was seen: `ldap`, a bind at a service entry (slapd's authTimestamp). */
export type ExternalUseSource = 'ldap';

/** One person's last use of one service's tokens, as a source saw it. */
export interface ExternalUse {
  coId: string;
  personId: string;
  serviceId: string;
  source: ExternalUseSource;
  /** ISO time of the use, UTC. */
  at: string;
}

/** What the service tokens plugin exports to the plugins that require it. */
export interface ServiceTokensExtensionPoint {
  /**
   * Records last uses; a time older than the one recorded is ignored. Uses of a person or service
   * that no longer exists are skipped. Returns how many rows were written or moved forward.
   */
  recordExternalUse(uses: readonly ExternalUse[]): Promise<number>;
}

declare module '../../../core/plugins/plugin.ts' {
  interface PluginExports {
    'service-tokens': ServiceTokensExtensionPoint;
  }
}

const BATCH = 200;

/**
 * Writes last uses in batches (one upsert per 200), each row only moving forward in time. Rows
 * whose person or service is gone are dropped first, in one query per batch.
 */
export async function recordExternalUse(db: TokenDb, uses: readonly ExternalUse[], now: Date): Promise<number> {
  let written = 0;
  for (let i = 0; i < uses.length; i += BATCH) {
    const batch = uses.slice(i, i + BATCH);
    const people = await db.selectFrom('co_person').select(['id', 'co_id']).where('id', 'in', [...new Set(batch.map((u) => u.personId))]).execute();
    const services = await db.selectFrom('co_service').select(['id', 'co_id']).where('id', 'in', [...new Set(batch.map((u) => u.serviceId))]).execute();
    const personCo = new Map(people.map((p) => [p.id, p.co_id]));
    const serviceCo = new Map(services.map((s) => [s.id, s.co_id]));
    const rows = batch
      .filter((u) => personCo.get(u.personId) === u.coId && serviceCo.get(u.serviceId) === u.coId)
      .map((u) => ({ co_id: u.coId, person_id: u.personId, service_id: u.serviceId, source: u.source, last_used_at: u.at, recorded_at: now.toISOString() }));
    if (rows.length === 0) continue;
    const result = await db
      .insertInto('service_token_external_use')
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(['co_id', 'person_id', 'service_id', 'source'])
          .doUpdateSet((eb) => ({ last_used_at: eb.ref('excluded.last_used_at'), recorded_at: eb.ref('excluded.recorded_at') }))
          .where('service_token_external_use.last_used_at', '<', (eb) => eb.ref('excluded.last_used_at')),
      )
      .executeTakeFirst();
    written += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return written;
}

/** The person's last LDAP use per service of the CO: service id → ISO time. */
export async function ldapUseOf(db: TokenDb, coId: string, personId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('service_token_external_use')
    .select(['service_id', 'last_used_at'])
    .where('co_id', '=', coId)
    .where('person_id', '=', personId)
    .where('source', '=', 'ldap')
    .execute();
  return new Map(rows.map((r) => [r.service_id, r.last_used_at]));
}
