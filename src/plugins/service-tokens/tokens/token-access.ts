import { isCoAdmin, personIdOf, type Actor } from '../../../core/auth/actor.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../../core/errors/error-codes.ts';
import { findPerson, type Person } from '../../../core/people/person.repository.ts';
import { SERVICE_TOKEN_ERRORS } from '../error-codes.ts';
import type { TokenSetting } from '../settings/token-setting.repository.ts';
import type { TokenDb } from '../token-context.ts';

/**
 * Can the actor read the person's tokens? The person themselves, CO admins, API users of the CO
 * (privileged or not) and platform API users. Others get PERSON_NOT_FOUND (404), so that whether
 * the person exists is not told.
 */
export function assertMayRead(actor: Actor, coId: string, personId: string): void {
  const self = personIdOf(actor, coId) === personId;
  const reader = actor.kind === 'api' ? actor.platform || actor.coId === coId : isCoAdmin(actor, coId);
  if (!self && !reader) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
}

/**
 * Can the actor generate or revoke for the person? CO admins always; the person themselves unless
 * the service's setting says admins only (GENERATION_ADMINS_ONLY, 403); other readers get FORBIDDEN.
 * Without a setting (revocation), the person may always act on their own tokens.
 */
export function assertMayAct(actor: Actor, coId: string, personId: string, setting?: TokenSetting): void {
  if (isCoAdmin(actor, coId)) return;
  if (personIdOf(actor, coId) !== personId) {
    assertMayRead(actor, coId, personId);
    throw new AppError(CORE_ERRORS.FORBIDDEN);
  }
  if (setting && setting.generation === 'admins_only') throw new AppError(SERVICE_TOKEN_ERRORS.GENERATION_ADMINS_ONLY);
}

/** The person, who must be of the CO; PERSON_NOT_FOUND (404) otherwise. */
export async function getPersonIn(db: TokenDb, coId: string, personId: string): Promise<Person> {
  const person = await findPerson(db, coId, personId);
  if (!person) throw new AppError(CORE_ERRORS.PERSON_NOT_FOUND);
  return person;
}
