import { mayUseService } from '../../../core/co-services/co-service.service.ts';
import { listServicesOfCo } from '../../../core/co-services/co-service.repository.ts';
import { findCo } from '../../../core/cos/co.repository.ts';
import type { Group } from '../../../core/groups/group.repository.ts';
import type { PersonStatus } from '../../../core/people/person.table.ts';
import { defaultSetting, settingsOfCo } from '../settings/token-setting.repository.ts';
import type { TokenDb } from '../token-context.ts';
import { liveTokensOfPeople, liveTokensOfPerson } from '../tokens/service-token.repository.ts';
import { acceptanceOf, refusalOf } from '../tokens/usable-token.ts';

/** One usable token as provisioners receive it: its hash, never a secret. */
export interface UsableToken {
  id: string;
  serviceId: string;
  serviceShortLabel: string;
  /** RFC 2307 `{SCHEME}…` value, written as is to the directory. */
  hash: string;
  storageScheme: string;
  expiresAt: string | null;
}

/** What this plugin adds to a person's provisioning data (under its id in `ProvisioningData.plugins`). */
export interface ServiceTokenProvisioningData {
  tokens: UsableToken[];
}

/**
 * The person's usable tokens now (the usable-token rule), oldest first: what provisioners write.
 * Live tokens are found in SQL; whether their services accept tokens from the person is read once
 * for all the CO's services (`acceptanceOf`), not per token or per service.
 */
export async function usableTokensOf(db: TokenDb, coId: string, person: { id: string; status: PersonStatus }, now: Date): Promise<UsableToken[]> {
  const live = await liveTokensOfPerson(db, coId, person.id, now);
  if (live.length === 0) return [];
  const acceptance = await acceptanceOf(db, coId, person, now);
  return live
    .filter((t) => acceptance.accepts(t.serviceId))
    .map((t) => ({ id: t.id, serviceId: t.serviceId, serviceShortLabel: acceptance.services.get(t.serviceId)!.shortLabel, hash: t.hash, storageScheme: t.storageScheme, expiresAt: t.expiresAt }));
}

/**
 * `usableTokensOf` for many people of one CO, in their order, with four queries in all: their live
 * tokens, the CO's services, settings and status. The usable-token rule is applied in memory with
 * each person's current groups (`groups`, as provisioning data carries them: empty unless the
 * person is a member), which is what `acceptanceOf` reads for one person.
 */
export async function usableTokensOfPeople(db: TokenDb, coId: string, people: ReadonlyArray<{ id: string; status: PersonStatus; groups: readonly Group[] }>, now: Date): Promise<UsableToken[][]> {
  const live = await liveTokensOfPeople(db, coId, people.map((p) => p.id), now);
  if (live.size === 0) return people.map(() => []);
  const [serviceList, settings, co] = await Promise.all([listServicesOfCo(db, coId), settingsOfCo(db, coId), findCo(db, coId)]);
  const coSuspended = co?.status !== 'active';
  const services = new Map(serviceList.map((s) => [s.id, s]));
  return people.map((person) => {
    const tokens = live.get(person.id) ?? [];
    const accepts = (serviceId: string) => {
      const service = services.get(serviceId);
      if (!service) return false;
      const setting = settings.get(serviceId) ?? defaultSetting(serviceId);
      return refusalOf(setting, service, true, coSuspended) === undefined && refusalOf(setting, service, mayUseService(service, person, person.groups)) === undefined;
    };
    return tokens
      .filter((t) => accepts(t.serviceId))
      .map((t) => ({ id: t.id, serviceId: t.serviceId, serviceShortLabel: services.get(t.serviceId)!.shortLabel, hash: t.hash, storageScheme: t.storageScheme, expiresAt: t.expiresAt }));
  });
}
