import type { Executor } from '../../db/database.ts';
import { adminCoIdsOf } from '../groups/group.repository.ts';
import { findLoginPeople, type LoginName } from '../people/person.repository.ts';
import { isMemberStatus } from '../people/person.service.ts';
import type { Actor } from './actor.ts';

export type { LoginName } from '../people/person.repository.ts';

/**
 * Maps an authenticated name (a value of the identifier type its sign-in method vouches for) to the
 * people it is, through active login identifiers of that type, and works out the roles: CO admin
 * (the CO's admins group, validity applied, person a member, the CO not suspended) and platform
 * admin (admin of the platform CO, which cannot be suspended). With `onlyPersonIds` (a session's
 * people) a person outside that set is left out, so an identifier given to someone else after the
 * sign-in does not carry the session over to them. Two queries, however many COs.
 */
export async function resolvePersonActor(db: Executor, login: LoginName, now: Date, onlyPersonIds?: readonly string[]): Promise<Actor & { kind: 'person' }> {
  const allowed = onlyPersonIds && new Set(onlyPersonIds);
  const people = (await findLoginPeople(db, login)).filter((p) => !allowed || allowed.has(p.personId));
  const personIds: Record<string, string> = {};
  for (const p of people) personIds[p.coId] ??= p.personId;
  // A suspended CO's admins keep seeing it, but administer nothing until it is reactivated.
  const adminOf = await adminCoIdsOf(db, people.filter((p) => isMemberStatus(p.status) && !p.coSuspended).map((p) => p.personId), now);
  const platformAdmin = people.some((p) => p.coIsPlatform && adminOf.has(p.coId));
  return { kind: 'person', username: login.value, label: login.value, personIds, platformAdmin, adminOf };
}

/** The ids of the people an authenticated name is now (what a new session is bound to). */
export async function loginPersonIds(db: Executor, login: LoginName): Promise<string[]> {
  return (await findLoginPeople(db, login)).map((p) => p.personId);
}
