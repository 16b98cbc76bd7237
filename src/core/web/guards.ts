import type { FastifyRequest } from 'fastify';
import { isCoAdmin, type Actor } from '../auth/actor.ts';
import type { CoreContext } from '../context.ts';
import { getCo, type Co } from '../cos/co.service.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';

/** The signed-in person, or a 401 that sends the browser to sign in. */
export function requirePerson(request: FastifyRequest): Actor & { kind: 'person' } {
  const actor = request.actor;
  if (!actor || actor.kind !== 'person') throw new AppError(CORE_ERRORS.AUTHENTICATION_REQUIRED);
  return actor;
}

/**
 * The CO of a `/cos/:coId/...` page for someone who may see it: a person in it or an admin.
 * Anyone else gets 404, so CO ids cannot be probed.
 */
export async function requireCoAccess(ctx: CoreContext, request: FastifyRequest, coId: string): Promise<{ actor: Actor & { kind: 'person' }; co: Co; admin: boolean }> {
  const actor = requirePerson(request);
  const admin = isCoAdmin(actor, coId);
  if (!admin && !actor.personIds[coId]) throw new AppError(CORE_ERRORS.CO_NOT_FOUND);
  return { actor, co: await getCo(ctx.db, coId), admin };
}

/** As requireCoAccess, and the person must administer the CO (403 otherwise). */
export async function requireCoAdmin(ctx: CoreContext, request: FastifyRequest, coId: string): Promise<{ actor: Actor & { kind: 'person' }; co: Co }> {
  const access = await requireCoAccess(ctx, request, coId);
  if (!access.admin) throw new AppError(CORE_ERRORS.FORBIDDEN);
  return access;
}

/** A platform administrator (who alone creates and changes COs); other people get 403. */
export function requirePlatformAdmin(request: FastifyRequest): Actor & { kind: 'person' } {
  const actor = requirePerson(request);
  if (!actor.platformAdmin) throw new AppError(CORE_ERRORS.FORBIDDEN);
  return actor;
}
