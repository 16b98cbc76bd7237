// Claims on directory entries (ldap_entry_claim): before an LDAP target adds, takes over or renames
// a person's entry, it claims the DN for the person. The claim is deliberately looked up across
// COs: two COs writing to one directory share its DNs. A claim held by another person is a
// conflict the job names; nothing of the other CO is revealed but that it is another CO.
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import type { CoreDatabase } from '../../db/core-tables.ts';
import { normalizeDn } from './ldap-dn.ts';
import { LdapProvisioningError } from './ldap-extension.ts';
import type { LdapProvisionerTables } from './ldap-entry-claim.table.ts';

export type ClaimDb = Kysely<CoreDatabase & LdapProvisionerTables>;

/** A directory by its URL: scheme, host and port in lowercase (`ldap://127.0.0.1:389`). */
export function directoryKey(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'ldaps:' ? '636' : '389');
  return `${u.protocol}//${u.hostname.toLowerCase()}:${port}`;
}

/** A DN as the directory compares it: NFC, then `normalizeDn` (types and values lowercased). */
export function dnKey(dn: string): string {
  return normalizeDn(dn.normalize('NFC'));
}

/** Who is claiming: the CO, the LDAP target and the person. */
export interface Claimant {
  coId: string;
  targetId: string;
  personId: string;
}

/**
 * Claims `dn` in the directory at `url` for the person. Idempotent for the same person (from any
 * target). Throws LdapProvisioningError "DN conflict" when another person holds it. One query when
 * the person holds it already, two when the claim is new. Returns whether the claim is new; a new
 * claim made with `addPending` is marked "an add is under way" at once (see `beginAdd`).
 */
export async function claimEntry(db: ClaimDb, url: string, dn: string, who: Claimant, now: Date, options: { addPending?: boolean; known?: ClaimSnapshot } = {}): Promise<boolean> {
  const directory = directoryKey(url);
  const known = options.known?.directory === directory ? options.known : undefined;
  const key = known?.keys.get(dn) ?? dnKey(dn);
  for (let attempt = 0; attempt < 2; attempt++) {
    // The snapshot answers first (read for the whole chunk); a claim made since shows as a unique
    // violation on insert, and then the claim is read again.
    const holder = attempt === 0 && known?.keys.has(dn) ? known.holders.get(key) : await db.selectFrom('ldap_entry_claim').select(['co_id', 'person_id', 'dn']).where('directory', '=', directory).where('dn_key', '=', key).executeTakeFirst();
    if (holder) {
      if (holder.person_id === who.personId) return false;
      const whose = holder.co_id === who.coId ? 'another person of this CO' : 'a person of another CO writing to the same directory';
      throw new LdapProvisioningError(
        `DN conflict: the entry ${dn} is the entry of ${whose} (as ${holder.dn}); the directory compares names without regard to case and Unicode form, so two people cannot be named alike. Nothing was written: give one of them another naming identifier`,
      );
    }
    const row: ClaimRow = { directory, dn_key: key, dn, co_id: who.coId, target_id: who.targetId, person_id: who.personId, claimed_at: now.toISOString(), add_pending: options.addPending ? 1 : 0 };
    // Within a chunk, the claims made in one turn of the event loop go in one statement (one commit).
    if (known && attempt === 0) {
      if (await known.insert(row)) return true;
      continue;
    }
    try {
      await db.insertInto('ldap_entry_claim').values(row).execute();
      return true;
    } catch (error) {
      // Another worker claimed it at the same moment: read who, once.
      if (!isUniqueViolation(error)) throw error;
    }
  }
  return false;
}

/** Releases the person's claims made through this target, except the one on `keepDn` if given. */
export async function releaseClaims(db: ClaimDb, targetId: string, personId: string, keepDn?: string): Promise<void> {
  let q = db.deleteFrom('ldap_entry_claim').where('target_id', '=', targetId).where('person_id', '=', personId);
  if (keepDn !== undefined) q = q.where('dn_key', '!=', dnKey(keepDn));
  await q.execute();
}

/** Who held some DNs of one directory when they were read (see `claimSnapshot`). */
export interface ClaimSnapshot {
  directory: string;
  /** Each DN read, with its key (`dnKey`). */
  keys: Map<string, string>;
  /** The holders found, by DN key; a key read and missing here was free. */
  holders: Map<string, { co_id: string; person_id: string; dn: string }>;
  /** Inserts a new claim with others made in the same turn; false when the DN was claimed meanwhile. */
  insert(row: ClaimRow): Promise<boolean>;
}

/** A row of ldap_entry_claim. */
type ClaimRow = { directory: string; dn_key: string; dn: string; co_id: string; target_id: string; person_id: string; claimed_at: string; add_pending: number };

/**
 * Claims inserted together: the rows handed in during one turn of the event loop are written by one
 * `INSERT … ON CONFLICT DO NOTHING RETURNING` (one commit) when the turn ends; each caller learns
 * whether its row went in (not when the DN was claimed meanwhile, by another worker or by another
 * row of the same statement). A failed statement fails every caller of that turn.
 */
function batchedInsert(db: ClaimDb): (row: ClaimRow) => Promise<boolean> {
  let queue: Array<{ row: ClaimRow; settle: (made: boolean) => void; fail: (error: unknown) => void }> = [];
  const flush = async () => {
    const batch = queue;
    queue = [];
    try {
      const rows = await db
        .insertInto('ldap_entry_claim')
        .values(batch.map((b) => b.row))
        .onConflict((oc) => oc.doNothing())
        .returning(['dn_key', 'person_id'])
        .execute();
      const made = new Set(rows.map((r) => `${r.dn_key}\u0000${r.person_id}`));
      for (const b of batch) b.settle(made.has(`${b.row.dn_key}\u0000${b.row.person_id}`));
    } catch (error) {
      for (const b of batch) b.fail(error);
    }
  };
  return (row) =>
    new Promise<boolean>((settle, fail) => {
      if (queue.length === 0) setImmediate(() => void flush());
      queue.push({ row, settle, fail });
    });
}

/**
 * The claims on `dns` in the directory at `url`, in one query: for a worker's chunk, instead of one
 * lookup per person. DNs that do not parse are left out (their claim is read when made, and fails there).
 */
export async function claimSnapshot(db: ClaimDb, url: string, dns: readonly string[]): Promise<ClaimSnapshot> {
  const directory = directoryKey(url);
  const keys = new Map<string, string>();
  for (const dn of dns) {
    try {
      keys.set(dn, dnKey(dn));
    } catch {
      // Not a DN: claimEntry reads it on its own and fails as it always did.
    }
  }
  const holders = new Map<string, { co_id: string; person_id: string; dn: string }>();
  if (keys.size > 0) {
    const rows = await db.selectFrom('ldap_entry_claim').select(['dn_key', 'co_id', 'person_id', 'dn']).where('directory', '=', directory).where('dn_key', 'in', [...new Set(keys.values())]).execute();
    for (const { dn_key, ...holder } of rows) holders.set(dn_key, holder);
  }
  return { directory, keys, holders, insert: batchedInsert(db) };
}
