import type { ServiceVerifierTable } from '../service-token.table.ts';
import type { TokenDb } from '../token-context.ts';

/** A key with which one CO Service asks Tessera whether a token is valid for it; never the key itself. */
export interface VerifierKey {
  id: string;
  serviceId: string;
  label: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

/** What authenticating a key needs: its SHA-256 and where it belongs. */
export interface VerifierKeyRecord extends VerifierKey {
  coId: string;
  keyHash: string;
}

const toRecord = (r: ServiceVerifierTable): VerifierKeyRecord => ({
  id: r.id,
  coId: r.co_id,
  serviceId: r.service_id,
  label: r.label,
  keyHash: r.key_hash,
  createdBy: r.created_by_label,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** The part of a key record that may be shown (no hash). */
export const toVerifierKey = ({ id, serviceId, label, createdBy, createdAt, revokedAt }: VerifierKeyRecord): VerifierKey => ({ id, serviceId, label, createdBy, createdAt, revokedAt });

/** Stores a new key (its SHA-256 only) and returns its record. */
export async function insertVerifierKey(db: TokenDb, row: ServiceVerifierTable): Promise<VerifierKeyRecord> {
  await db.insertInto('service_verifier').values(row).execute();
  return toRecord(row);
}

/** The service's keys, revoked ones included, newest first. */
export async function verifierKeysOfService(db: TokenDb, coId: string, serviceId: string): Promise<VerifierKeyRecord[]> {
  const rows = await db.selectFrom('service_verifier').selectAll().where('co_id', '=', coId).where('service_id', '=', serviceId).orderBy('created_at', 'desc').execute();
  return rows.map(toRecord);
}

/** One key of the service, or undefined. */
export async function findVerifierKeyOfService(db: TokenDb, coId: string, serviceId: string, id: string): Promise<VerifierKeyRecord | undefined> {
  const row = await db.selectFrom('service_verifier').selectAll().where('co_id', '=', coId).where('service_id', '=', serviceId).where('id', '=', id).executeTakeFirst();
  return row && toRecord(row);
}

/** A key by id alone (authentication: the id is in the key). */
export async function findVerifierKey(db: TokenDb, id: string): Promise<VerifierKeyRecord | undefined> {
  const row = await db.selectFrom('service_verifier').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRecord(row);
}

/** Marks the key revoked at `at` (ISO time); it stops authenticating once the authenticator's cache expires. */
export async function markVerifierKeyRevoked(db: TokenDb, id: string, at: string): Promise<void> {
  await db.updateTable('service_verifier').set({ revoked_at: at }).where('id', '=', id).execute();
}
