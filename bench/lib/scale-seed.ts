// Seeding for bench:scale: N people in one CO, loaded in batches through the repositories' bulk
// inserts (the rules of one-at-a-time inserts: identifiers in NFC with their match key, search
// terms for every name, identifier and email; memberships; tokens hashed in the service's scheme).
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/db/ids.ts';
import type { Executor } from '../../src/db/database.ts';
import { insertMemberships } from '../../src/core/groups/group.repository.ts';
import { insertPeopleBatch, type NewPersonRows } from '../../src/core/people/person-batch.repository.ts';
import { definitionOf, displayHint, findTokenType, generateToken } from '../../src/plugins/service-tokens/formats/token-types.ts';
import { hashSecret } from '../../src/plugins/service-tokens/hashing/password-schemes.ts';
import type { ServiceTokenTables, ServiceTokenTable } from '../../src/plugins/service-tokens/service-token.table.ts';
import { insertTokens } from '../../src/plugins/service-tokens/tokens/service-token.repository.ts';
import type { CoGroupMemberTable } from '../../src/core/groups/group.table.ts';

const GIVEN = [
  'Ada', 'Alan', 'Barbara', 'Charles', 'Dorothy', 'Edsger', 'Frances', 'Grace', 'Hedy', 'Ivan', 'Jean', 'Katherine', 'Leslie', 'Margaret',
  'Niklaus', 'Ole', 'Peter', 'Radia', 'Shafi', 'Tim', 'Ursula', 'Vint', 'Whitfield', 'Xavier', 'Yukihiro', 'Zuse', 'Émilie', 'Søren',
  'Anita', 'Bjarne', 'Cynthia', 'Donald', 'Evelyn', 'Fernando', 'Gordon', 'Hal', 'Irene', 'John', 'Ken', 'Lynn', 'Marvin', 'Nancy',
  'Olga', 'Pat', 'Quentin', 'Rosalind', 'Sophie', 'Tony', 'Unni', 'Valerie',
];
const SYLLABLES = ['ba', 'ko', 'ri', 'mel', 'dan', 'sor', 'vi', 'len', 'tur', 'ga', 'ne', 'lo', 'pe', 'sta', 'qui', 'rho', 'zen', 'fa', 'du', 'wil'];

/** The family name of person i: three syllables of 20, so 8,000 different ones, capitalised. */
export function familyOf(i: number): string {
  const s = `${SYLLABLES[i % 20]}${SYLLABLES[Math.floor(i / 20) % 20]}${SYLLABLES[Math.floor(i / 400) % 20]}`;
  return s[0]!.toUpperCase() + s.slice(1);
}
/** The given name of person i: spread over the people (not in blocks), 400,000 (given, family) pairs in all. */
export function givenOf(i: number): string {
  return GIVEN[(7 * i + Math.floor(i / 8000)) % GIVEN.length]!;
}
/** The uid of person i: `u` and seven digits. */
export function uidOf(i: number): string {
  return `u${String(i).padStart(7, '0')}`;
}
export function mailOf(i: number): string {
  return `${givenOf(i).toLowerCase()}.${familyOf(i).toLowerCase()}.${i}@dept${i % 50}.example.org`;
}

export interface SeedTarget {
  coId: string;
  serviceId: string;
  groupIds: [string, string];
  /** Milliseconds since the epoch of person 0's created_at; person i is `i` ms later. */
  startMs: number;
}

export interface SeededToken {
  index: number;
  personId: string;
  secret: string;
}

/** Every 10th person gets one token of the service. */
export const hasToken = (i: number) => i % 10 === 0;

/**
 * Inserts people `from` … `to - 1` in one transaction: a primary official name, a uid (login) and
 * an eppn, an official verified email, memberships of both groups, and for every tenth a token of
 * the service ({SSHA512}, the default token type). Returns the secrets of the tokens made for
 * `keepSecretsOf` (indexes), for the verification measurements.
 */
export async function seedBatch(db: Executor, target: SeedTarget, from: number, to: number, keepSecretsOf: (i: number) => boolean): Promise<SeededToken[]> {
  const type = findTokenType('base62-prefixed')!;
  const typeDef = definitionOf(type);
  const people: NewPersonRows[] = [];
  const memberships: CoGroupMemberTable[] = [];
  const tokens: Array<ServiceTokenTable> = [];
  const kept: SeededToken[] = [];
  for (let i = from; i < to; i++) {
    const personId = newId();
    const at = new Date(target.startMs + i).toISOString();
    people.push({
      person: { id: personId, co_id: target.coId, status: 'active', created_at: at, updated_at: at },
      names: [{ id: newId(), co_id: target.coId, person_id: personId, given: givenOf(i), middle: null, family: familyOf(i), suffix: null, type: 'official', primary_name: 1 }],
      identifiers: [
        { id: newId(), co_id: target.coId, person_id: personId, identifier: uidOf(i), type: 'uid', login: 1, status: 'active', created_at: at },
        { id: newId(), co_id: target.coId, person_id: personId, identifier: `${uidOf(i)}@example.org`, type: 'eppn', login: 0, status: 'active', created_at: at },
      ],
      emails: [{ id: newId(), co_id: target.coId, person_id: personId, mail: mailOf(i), type: 'official', verified: 1 }],
    });
    for (const groupId of target.groupIds) {
      memberships.push({ id: newId(), co_id: target.coId, group_id: groupId, person_id: personId, member: 1, owner: 0, valid_from: null, valid_through: null, created_at: at });
    }
    if (hasToken(i)) {
      const secret = generateToken(type);
      tokens.push({
        id: newId(),
        co_id: target.coId,
        person_id: personId,
        service_id: target.serviceId,
        label: 'laptop',
        hash: await hashSecret(secret, 'SSHA512'),
        token_type: type.id,
        token_type_def: typeDef,
        storage_scheme: 'SSHA512',
        display_hint: displayHint(type, secret),
        request_nonce: randomBytes(16).toString('base64url'),
        created_by_label: 'bench:scale',
        created_by_person_id: null,
        created_by_api_user_id: null,
        created_at: at,
        expires_at: null,
        last_used_at: null,
        last_used_address: null,
        revoked_at: null,
        revoked_by_label: null,
        revoked_reason: null,
        expiry_handled_at: null,
      });
      if (keepSecretsOf(i)) kept.push({ index: i, personId, secret });
    }
  }
  await insertPeopleBatch(db, people);
  await insertMemberships(db, memberships);
  await insertTokens(db.withTables<ServiceTokenTables>(), tokens);
  return kept;
}
