import type { PersonStatus } from '../../../core/people/person.table.ts';
import type { TokenDb } from '../token-context.ts';
import { liveTokensOfPerson } from '../tokens/service-token.repository.ts';
import { acceptanceOf } from '../tokens/usable-token.ts';

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
