import type { Executor } from '../../db/database.ts';
import type { Clock } from '../clock.ts';
import { findCo, type Co } from '../cos/co.repository.ts';
import { currentGroupsOf, type Group } from '../groups/group.service.ts';
import { findPerson, type Person } from '../people/person.repository.ts';
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
