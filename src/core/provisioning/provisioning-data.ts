import type { Executor } from '../../db/database.ts';
import type { CoreContext } from '../context.ts';
import { findCo, type Co } from '../cos/co.repository.ts';
import { currentGroupsOf, type Group } from '../groups/group.service.ts';
import { findPerson, type Person } from '../people/person.repository.ts';
import { isMemberStatus } from '../people/person.service.ts';

/**
 * What every provisioner receives for a person: the registry's view of them now, plus what each
 * plugin contributes under its id (for example `service-tokens`: the hashes of usable tokens).
 */
export interface ProvisioningData {
  co: Co;
  person: Person;
  /** Groups the person belongs to now (validity applied); empty unless the person is a member. */
  groups: Group[];
  plugins: Record<string, Record<string, unknown>>;
}

/**
 * A plugin's part of the provisioning data, stored under its id in `ProvisioningData.plugins`.
 * Provisioning declares this contract; plugins implement it (imports point one way).
 */
export interface ProvisioningDataContributor {
  id: string;
  contribute(db: Executor, data: ProvisioningData): Promise<Record<string, unknown>>;
}

/**
 * The registry's view of one person of the CO now, with every contributor's part; undefined when
 * the CO or the person does not exist (any more).
 */
export async function buildProvisioningData(
  db: Executor,
  ctx: CoreContext,
  contributors: readonly ProvisioningDataContributor[],
  coId: string,
  personId: string,
): Promise<ProvisioningData | undefined> {
  const [co, person] = await Promise.all([findCo(db, coId), findPerson(db, coId, personId)]);
  if (!co || !person) return undefined;
  // Expired, suspended and locked people keep their entry but lose their group memberships.
  const groups = isMemberStatus(person.status) ? await currentGroupsOf(db, coId, personId, ctx.clock.now()) : [];
  const data: ProvisioningData = { co, person, groups, plugins: {} };
  for (const contributor of contributors) data.plugins[contributor.id] = await contributor.contribute(db, data);
  return data;
}
