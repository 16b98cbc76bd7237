import type { Executor } from '../../db/database.ts';
import type { CoreContext } from '../context.ts';
import { findCo, type Co } from '../cos/co.repository.ts';
import { currentGroupsOf, type Group } from '../groups/group.service.ts';
import { findPerson, type Person } from '../people/person.repository.ts';
import type { TesseraPlugin } from '../plugins/plugin.ts';
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

export async function buildProvisioningData(
  db: Executor,
  ctx: CoreContext,
  plugins: readonly TesseraPlugin[],
  coId: string,
  personId: string,
): Promise<ProvisioningData | undefined> {
  const [co, person] = await Promise.all([findCo(db, coId), findPerson(db, coId, personId)]);
  if (!co || !person) return undefined;
  // Expired, suspended and locked people keep their entry but lose their group memberships.
  const groups = isMemberStatus(person.status) ? await currentGroupsOf(db, coId, personId, ctx.clock.now()) : [];
  const data: ProvisioningData = { co, person, groups, plugins: {} };
  for (const plugin of plugins) {
    if (plugin.provisioningData) data.plugins[plugin.id] = await plugin.provisioningData(db, ctx, data);
  }
  return data;
}
