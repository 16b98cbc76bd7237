// The idempotent part of the import: each imported object is remembered in comanage_import_map
// with a digest of its values, so a re-run adds what is new, updates what changed, removes what
// the source no longer has, and leaves the rest alone.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import type { ComanageImportMapTable } from './import-map.table.ts';

/** What happened (or, in a dry run, would happen) to one kind of object. */
export interface KindCounts {
  added: number;
  changed: number;
  unchanged: number;
  removed: number;
}

/** One object as the source has it, in Tessera's terms (foreign keys already resolved). */
export interface Item<V> {
  cmId: string;
  values: V;
  /** The Tessera id a new object gets (default: a fresh one). */
  id?: string;
}

/** How one kind's rows are written; not called in a dry run. */
export interface KindWriter<V> {
  insert(rows: Array<{ id: string; values: V }>): Promise<void>;
  update(id: string, values: V): Promise<void>;
  /**
   * Removes (or, for people, suspends) rows gone at the source. Returns the ids whose rows stay in
   * Tessera (a suspended person, the names and tokens of one): their map rows are kept, so a
   * return is an update, not a duplicate.
   */
  remove(ids: string[]): Promise<readonly string[]>;
}

/** SHA-256 (hex) of the values as JSON: the digest that tells a changed object from an unchanged one. */
export function digestOf(values: unknown): string {
  return createHash('sha256').update(JSON.stringify(values)).digest('hex');
}

/** Marks a map row whose object was removed at the source but kept in Tessera (a suspended person). */
const GONE = 'gone';

/** The import map of one COmanage CO, kept in memory while the CO is imported. */
export class ImportMap {
  private readonly rows = new Map<string, ComanageImportMapTable>();
  private readonly added: ComanageImportMapTable[] = [];
  /** Objects mapped by `bind` in this run: not the business of `sync`, which would see them as gone. */
  private readonly bound = new Set<string>();

  private constructor(
    private readonly installation: string,
    private readonly cmCoId: string,
    private readonly now: string,
  ) {}

  /** Loads the map rows of the installation's CO. */
  static async load(db: Kysely<CoreDatabase>, installation: string, cmCoId: number, now: string): Promise<ImportMap> {
    const map = new ImportMap(installation, String(cmCoId), now);
    const rows = await db.selectFrom('comanage_import_map').selectAll().where('installation', '=', installation).where('comanage_co_id', '=', String(cmCoId)).execute();
    for (const r of rows) map.rows.set(`${r.kind}\u0000${r.comanage_id}`, r);
    return map;
  }

  /** The Tessera id the COmanage object of `kind` became (or becomes in this run), if any. */
  idOf(kind: string, cmId: number | string | null): string | undefined {
    if (cmId === null) return undefined;
    const row = this.rows.get(`${kind}\u0000${cmId}`);
    return row && row.digest !== GONE ? row.tessera_id : undefined;
  }

  /** Tessera ids of the objects of `kind` gone at the source but kept (suspended people). */
  goneIds(kind: string): Set<string> {
    return new Set([...this.rows.values()].filter((r) => r.kind === kind && r.digest === GONE).map((r) => r.tessera_id));
  }

  /** Records an object mapped without being written by `sync` (the system groups of a new CO). */
  bind(kind: string, cmId: string, coId: string, tesseraId: string, values: unknown): void {
    const row = { installation: this.installation, comanage_co_id: this.cmCoId, kind, comanage_id: cmId, co_id: coId, tessera_id: tesseraId, digest: digestOf(values), imported_at: this.now };
    const key = `${kind}\u0000${cmId}`;
    this.bound.add(key);
    if (!this.rows.has(key)) this.added.push(row);
    this.rows.set(key, row);
  }

  /**
   * Compares the source's objects of one kind with the map and, unless `writer` is null (a dry
   * run), writes the difference: new objects get fresh ids (known to `idOf` at once, so dependent
   * kinds resolve them), changed ones are updated, vanished ones removed.
   */
  async sync<V>(kind: string, coId: string, items: ReadonlyArray<Item<V>>, writer: KindWriter<V> | null): Promise<KindCounts> {
    const counts: KindCounts = { added: 0, changed: 0, unchanged: 0, removed: 0 };
    const seen = new Set<string>();
    const inserts: Array<{ id: string; values: V }> = [];
    for (const item of items) {
      seen.add(item.cmId);
      const key = `${kind}\u0000${item.cmId}`;
      const digest = digestOf(item.values);
      const known = this.rows.get(key);
      if (!known) {
        const id = item.id ?? newId();
        const row = { installation: this.installation, comanage_co_id: this.cmCoId, kind, comanage_id: item.cmId, co_id: coId, tessera_id: id, digest, imported_at: this.now };
        this.rows.set(key, row);
        this.added.push(row);
        inserts.push({ id, values: item.values });
        counts.added += 1;
      } else if (known.digest !== digest) {
        if (writer) await writer.update(known.tessera_id, item.values);
        known.digest = digest;
        known.imported_at = this.now;
        this.changedRows.push(known);
        counts.changed += 1;
      } else {
        counts.unchanged += 1;
      }
    }
    if (writer && inserts.length > 0) await writer.insert(inserts);
    const gone = [...this.rows.values()].filter((r) => r.kind === kind && !seen.has(r.comanage_id) && r.digest !== GONE && !this.bound.has(`${kind}\u0000${r.comanage_id}`));
    if (gone.length > 0) {
      counts.removed = gone.length;
      const kept = new Set(writer ? await writer.remove(gone.map((r) => r.tessera_id)) : []);
      for (const r of gone) {
        if (kept.has(r.tessera_id)) {
          r.digest = GONE;
          this.changedRows.push(r);
        } else {
          this.rows.delete(`${kind}\u0000${r.comanage_id}`);
          this.droppedRows.push(r);
        }
      }
    }
    return counts;
  }

  private readonly changedRows: ComanageImportMapTable[] = [];
  private readonly droppedRows: ComanageImportMapTable[] = [];

  /** Writes the map's changes, in the transaction of the CO's import. */
  async save(trx: Kysely<CoreDatabase>): Promise<void> {
    await insertInChunks(trx, this.added);
    for (const r of this.changedRows) {
      if (this.added.includes(r)) continue;
      await trx.updateTable('comanage_import_map').set({ digest: r.digest, imported_at: r.imported_at })
        .where('installation', '=', r.installation).where('comanage_co_id', '=', r.comanage_co_id).where('kind', '=', r.kind).where('comanage_id', '=', r.comanage_id).execute();
    }
    for (const r of this.droppedRows) {
      await trx.deleteFrom('comanage_import_map')
        .where('installation', '=', r.installation).where('comanage_co_id', '=', r.comanage_co_id).where('kind', '=', r.kind).where('comanage_id', '=', r.comanage_id).execute();
    }
  }
}

async function insertInChunks(trx: Kysely<CoreDatabase>, rows: ComanageImportMapTable[]): Promise<void> {
  for (const chunk of chunks(rows, 8)) await trx.insertInto('comanage_import_map').values(chunk).execute();
}

/**
 * Splits rows for multi-row INSERTs that stay under every driver's limit of bound parameters
 * (SQLite 32766, PostgreSQL 65535): at most 30000 values per statement, 2000 rows at most.
 */
export function chunks<T>(rows: readonly T[], columns: number): T[][] {
  const size = Math.max(1, Math.min(2000, Math.floor(30000 / columns)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
