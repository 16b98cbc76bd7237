import type { Executor } from '../../db/database.ts';
import type { Actor } from './actor.ts';

/**
 * Maps an authenticated username to the people it is, through identifiers with the login flag,
 * and works out the roles: CO admin (the CO's admins group, validity applied, person a member)
 * and platform admin (admin of the platform CO).
 */
export async function resolvePersonActor(db: Executor, username: string, now: Date): Promise<Actor & { kind: 'person' }> {
  const people = await db
    .selectFrom('identifier as i')
    .innerJoin('co_person as p', 'p.id', 'i.person_id')
    .innerJoin('co', 'co.id', 'p.co_id')
    .select(['p.id as person_id', 'p.co_id', 'p.status', 'co.is_platform', 'co.status as co_status'])
    .where('i.identifier', '=', username)
    .where('i.login', '=', 1)
    .where('i.status', '=', 'active')
    .where('p.status', '!=', 'deleted')
    .orderBy('p.created_at')
    .execute();
  const personIds: Record<string, string> = {};
  for (const p of people) personIds[p.co_id] ??= p.person_id;

  const t = now.toISOString();
  const memberPeople = people.filter((p) => p.status === 'active' || p.status === 'grace_period').map((p) => p.person_id);
  const adminRows = memberPeople.length
    ? await db
        .selectFrom('co_group_member as m')
        .innerJoin('co_group as g', 'g.id', 'm.group_id')
        .select(['g.co_id'])
        .where('m.person_id', 'in', memberPeople)
        .where('g.group_type', '=', 'admins')
        .where('g.status', '=', 'active')
        .where('m.member', '=', 1)
        .where((eb) => eb.or([eb('m.valid_from', 'is', null), eb('m.valid_from', '<=', t)]))
        .where((eb) => eb.or([eb('m.valid_through', 'is', null), eb('m.valid_through', '>', t)]))
        .execute()
    : [];
  const adminOf = new Set(adminRows.map((r) => r.co_id));
  const platformCoIds = people.filter((p) => p.is_platform === 1).map((p) => p.co_id);
  const platformAdmin = platformCoIds.some((id) => adminOf.has(id));
  return { kind: 'person', username, label: username, personIds, platformAdmin, adminOf };
}
