import { z } from 'zod';
import type { SourceKind } from '../source-kind.ts';
import { checkLayout, maskUrl, openComanage } from './comanage-connection.ts';
import { readComanage } from './comanage-reader.ts';

/** Settings of a `comanage-sql` source; the URL (with its password) is stored sealed. */
export const comanageSqlSettings = z.object({
  databaseUrl: z
    .string()
    .trim()
    .regex(/^(postgres|postgresql|mysql|mariadb):\/\/[^\s]+$/, 'A database URL: postgres://user:password@host:port/db or mysql://user:password@host:port/db'),
  prefix: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_]{0,32}$/, 'Letters, digits and "_" (the SqlProvisioner table prefix, e.g. sp_)')
    .default('sp_'),
  layout: z.enum(['v4', 'v5']).default('v4'),
});
export type ComanageSqlSettings = z.infer<typeof comanageSqlSettings>;

/**
 * The COmanage SQL source: reads the tables COmanage Registry's SqlProvisioner writes (one target
 * holds one CO), on PostgreSQL or MySQL/MariaDB, layout v4 or v5 (comanage-layout.ts), and maps
 * them to Tessera's people and groups (comanage-mapping.ts, comanage-reader.ts). Incremental runs
 * read what has a `modified` at or after the last run's newest one; rows COmanage deleted cannot
 * be seen that way, so removals wait for the next full run (nightly, or `--full`).
 */
export const sourceKind: SourceKind = {
  kind: 'comanage-sql',
  description: 'COmanage Registry, through the tables its SqlProvisioner writes',
  settings: comanageSqlSettings,
  connectsOut: true,
  describe(settings) {
    const s = comanageSqlSettings.parse(settings);
    return `${maskUrl(s.databaseUrl)}, layout ${s.layout}, prefix ${s.prefix || '(none)'}`;
  },
  async read(settings, options) {
    const s = comanageSqlSettings.parse(settings);
    let conn;
    try {
      conn = await openComanage(s.databaseUrl);
      await options.progress('checking tables', 0, 0);
      const layout = await checkLayout(conn, s.prefix, s.layout).catch((error: unknown) => {
        const e = error as { code?: string; message?: string };
        if (e.code || !String(e.message).startsWith('not a COmanage')) throw new Error(`cannot read ${maskUrl(s.databaseUrl)}: ${e.message ?? String(error)}`);
        throw error;
      });
      return await readComanage(conn, layout, s.prefix, { since: options.since, now: options.now, progress: options.progress });
    } finally {
      await conn?.close().catch(() => {});
    }
  },
};
