import type { Executor } from '../../db/database.ts';
import { adminCoIdsOf } from '../groups/group.repository.ts';
import { findLoginPeople } from '../people/person.repository.ts';
import { isMemberStatus } from '../people/person.service.ts';
import type { Actor } from './actor.ts';

/**
 * Maps an authenticated username to the people it is, through identifiers with the login flag,
 * and works out the roles: CO admin (the CO's admins group, validity applied, person a member)
 * and platform admin (admin of the platform CO). Two queries, however many COs.
 */
export async function resolvePersonActor(db: Executor, username: string, now: Date): Promise<Actor & { kind: 'person' }> {
  const people = await findLoginPeople(db, username);
  const personIds: Record<string, string> = {};
  for (const p of people) personIds[p.coId] ??= p.personId;
  const adminOf = await adminCoIdsOf(db, people.filter((p) => isMemberStatus(p.status)).map((p) => p.personId), now);
  const platformAdmin = people.some((p) => p.coIsPlatform && adminOf.has(p.coId));
  return { kind: 'person', username, label: username, personIds, platformAdmin, adminOf };
}
