import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isId, newId } from '../../db/ids.ts';
import { isCoAdmin, type Actor } from '../../core/auth/actor.ts';
import type { CoreContext } from '../../core/context.ts';
import { AppError, assertThat } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { recordHistory } from '../../core/history/history.service.ts';
import { findService } from '../../core/co-services/co-service.service.ts';
import { SERVICE_TOKEN_ERRORS } from './error-codes.ts';
import type { ServiceVerifierTable } from './service-token.table.ts';
import { tokenDb } from './token-setting.service.ts';

export interface VerifierKey {
  id: string;
  serviceId: string;
  label: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

const toVerifier = (r: ServiceVerifierTable): VerifierKey => ({
  id: r.id,
  serviceId: r.service_id,
  label: r.label,
  createdBy: r.created_by_label,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** The key is `tsv_<verifier id without dashes>_<secret>`: the id finds the row, the secret proves it. */
const KEY_PATTERN = /^tsv_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function idFromHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function createVerifierKey(ctx: CoreContext, actor: Actor, coId: string, serviceId: string, label: string): Promise<{ verifier: VerifierKey; key: string }> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return ctx.db.transaction().execute(async (trx) => {
    const service = await findService(trx, coId, serviceId);
    if (!service) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
    const id = newId();
    const key = `tsv_${id.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}`;
    const row: ServiceVerifierTable = {
      id,
      co_id: coId,
      service_id: serviceId,
      label,
      key_hash: hashKey(key),
      created_by_label: actor.label,
      created_at: ctx.clock.now().toISOString(),
      revoked_at: null,
    };
    await tokenDb(trx).insertInto('service_verifier').values(row).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, serviceId, action: 'VERIFIER_KEY_CREATED', comment: `Verification key "${label}" created for service ${service.name}` });
    return { verifier: toVerifier(row), key };
  });
}

export async function listVerifierKeys(ctx: CoreContext, actor: Actor, coId: string, serviceId: string): Promise<VerifierKey[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  const rows = await tokenDb(ctx.db).selectFrom('service_verifier').selectAll().where('co_id', '=', coId).where('service_id', '=', serviceId).orderBy('created_at', 'desc').execute();
  return rows.map(toVerifier);
}

export async function revokeVerifierKey(ctx: CoreContext, actor: Actor, coId: string, serviceId: string, verifierId: string): Promise<void> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  await ctx.db.transaction().execute(async (trx) => {
    const db = tokenDb(trx);
    const row = isId(verifierId)
      ? await db.selectFrom('service_verifier').selectAll().where('co_id', '=', coId).where('service_id', '=', serviceId).where('id', '=', verifierId).executeTakeFirst()
      : undefined;
    if (!row || row.revoked_at) throw new AppError(SERVICE_TOKEN_ERRORS.VERIFIER_NOT_FOUND);
    await db.updateTable('service_verifier').set({ revoked_at: ctx.clock.now().toISOString() }).where('id', '=', verifierId).execute();
    await recordHistory(trx, ctx.clock, actor, { coId, serviceId, action: 'VERIFIER_KEY_REVOKED', comment: `Verification key "${row.label}" revoked` });
  });
}

export interface AuthenticatedVerifier {
  verifierId: string;
  coId: string;
  serviceId: string;
}

/**
 * Checks `Authorization: Bearer tsv_…`. Rows are cached for a few seconds, so a busy service does
 * not cost a query per call; a revoked key stops working within that time.
 */
export class VerifierAuthenticator {
  private readonly cache = new Map<string, { row: ServiceVerifierTable | undefined; until: number }>();
  private static readonly TTL_MS = 5000;
  private static readonly DUMMY = Buffer.from(hashKey('no such key'));

  constructor(private readonly ctx: CoreContext) {}

  async authenticate(header: string | undefined): Promise<AuthenticatedVerifier | undefined> {
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const m = key ? KEY_PATTERN.exec(key) : null;
    if (!key || !m) return undefined;
    const id = idFromHex(m[1]!);
    const now = this.ctx.clock.now().getTime();
    let entry = this.cache.get(id);
    if (!entry || entry.until < now) {
      const row = await tokenDb(this.ctx.db).selectFrom('service_verifier').selectAll().where('id', '=', id).executeTakeFirst();
      entry = { row, until: now + VerifierAuthenticator.TTL_MS };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(id, entry);
    }
    const expected = entry.row ? Buffer.from(entry.row.key_hash) : VerifierAuthenticator.DUMMY;
    const match = timingSafeEqual(expected, Buffer.from(hashKey(key)));
    if (!entry.row || !match || entry.row.revoked_at) return undefined;
    return { verifierId: entry.row.id, coId: entry.row.co_id, serviceId: entry.row.service_id };
  }
}
