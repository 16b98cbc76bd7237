import type { Executor } from '../../db/database.ts';
import { unindexed } from '../../db/index-hints.ts';
import type { Clock } from '../clock.ts';
import { findCo, type Co } from '../cos/co.repository.ts';
import { currentGroupsOf, type Group } from '../groups/group.service.ts';
import { activeMembersGroups, groupsWithValidMembershipOfPeople } from '../groups/group.repository.ts';
import { findPerson, loadPeople, type Person } from '../people/person.repository.ts';
import { isMemberStatus } from '../people/person.service.ts';

/**
 * What every provisioner receives for a person: the registry's view of them now, plus what each
 * contributor adds under its id (for example `service-tokens`: the hashes of usable tokens).
 */
export interface ProvisioningData {
  co: Co;
  person: Person;
  /** Groups the person belongs to now (validity applied); empty unless the person is a member. */
  groups: Group[];
  /** Each contributor's part, under its `id`. */
  plugins: Record<string, Record<string, unknown>>;
}

/**
 * Adds a part to the provisioning data of a person (a plugin gives one; provisioning never knows
 * plugins). `contribute` reads with `db` (the worker's connection) and sees the core data and the
 * parts of earlier contributors; what it returns is stored under `id`. It must not return secrets.
 */
export interface ProvisioningDataContributor {
  id: string;
  contribute(db: Executor, data: ProvisioningData): Promise<Record<string, unknown>>;
  /**
   * The parts of many people of one CO at once, in the order of `data` (one per person): the same
   * as `contribute` for each, with set-based queries. Optional: without it, `contribute` runs per person.
   */
  contributeMany?(db: Executor, data: readonly ProvisioningData[]): Promise<Array<Record<string, unknown>>>;
}

/**
 * The provisioning data of a person now, or undefined when the CO or the person no longer exists
 * (a deletion). Contributors run in their order.
 */
export async function buildProvisioningData(
  db: Executor,
  clock: Clock,
  contributors: readonly ProvisioningDataContributor[],
  coId: string,
  personId: string,
): Promise<ProvisioningData | undefined> {
  const [co, person] = await Promise.all([findCo(db, coId), findPerson(db, coId, personId)]);
  if (!co || !person) return undefined;
  // Expired, suspended and locked people keep their entry but lose their group memberships.
  const groups = isMemberStatus(person.status) ? await currentGroupsOf(db, coId, personId, clock.now()) : [];
  const data: ProvisioningData = { co, person, groups, plugins: {} };
  for (const contributor of contributors) data.plugins[contributor.id] = await contributor.contribute(db, data);
  return data;
}

/**
 * `buildProvisioningData` for many people of one CO, with a fixed number of queries whatever their
 * number (the CO; the people with their names, identifiers and emails; their groups; each
 * contributor's `contributeMany`, or its `contribute` per person when it has none). People who no
 * longer exist (and all of them when the CO is gone) are missing from the map: a deletion.
 */
export async function buildProvisioningDataOfPeople(
  db: Executor,
  clock: Clock,
  contributors: readonly ProvisioningDataContributor[],
  coId: string,
  personIds: readonly string[],
): Promise<Map<string, ProvisioningData>> {
  const out = new Map<string, ProvisioningData>();
  if (personIds.length === 0) return out;
  const co = await findCo(db, coId);
  if (!co) return out;
  // By id (the primary key), not by the CO's index, which SQLite would scan whole.
  const rows = await db.selectFrom('co_person').selectAll().where(unindexed(db, 'co_id'), '=', coId).where('id', 'in', [...personIds]).execute();
  const people = await loadPeople(db, coId, rows);
  const now = clock.now();
  // Expired, suspended and locked people keep their entry but lose their group memberships.
  const members = people.filter((p) => isMemberStatus(p.status)).map((p) => p.id);
  const [groups, membersGroups] = members.length > 0 ? await Promise.all([groupsWithValidMembershipOfPeople(db, coId, members, now), activeMembersGroups(db, coId)]) : [new Map(), []];
  const list = people.map((person): ProvisioningData => ({ co, person, groups: groups.has(person.id) ? [...groups.get(person.id)!, ...membersGroups] : [], plugins: {} }));
  for (const contributor of contributors) {
    if (contributor.contributeMany) {
      const parts = await contributor.contributeMany(db, list);
      list.forEach((data, i) => (data.plugins[contributor.id] = parts[i]!));
    } else {
      for (const data of list) data.plugins[contributor.id] = await contributor.contribute(db, data);
    }
  }
  for (const data of list) out.set(data.person.id, data);
  return out;
}
