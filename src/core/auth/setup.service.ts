import { z } from 'zod';
import { newId } from '../../db/ids.ts';
import { optionalText, parseInput, text } from '../http/validation.ts';
import { emailInput } from '../people/person.schema.ts';
import { identifierValue, identifierValueIssue } from '../text.ts';
import type { CoreContext } from '../context.ts';
import { ensurePlatformCo } from '../cos/co.service.ts';
import { findSystemGroup, insertMembership, platformAdminsExist } from '../groups/group.repository.ts';
import { recordHistory } from '../history/history.service.ts';
import { findLoginPersonId, insertEmail, insertIdentifier, insertName, insertPerson } from '../people/person.repository.ts';
import { SYSTEM_ACTOR } from './actor.ts';
import { createLocalAccount, LOCAL_IDENTIFIER_TYPE, setLocalPassword } from './local-account.service.ts';
import { inTransaction } from '../../db/transaction.ts';

/** What `tessera setup` asks for the first platform administrator. */
export interface SetupInput {
  username: string;
  /**
   * The identifier type `username` is a value of: `uid` (the default; local accounts and a trusted
   * header configured for uid), or the type a sign-in method names people by (`oidcsub`, `eppn`).
   */
  identifierType?: string;
  password?: string;
  givenName: string;
  familyName?: string;
  email?: string;
}

/**
 * The text rule for what setup is given on the command line: the username is a uid identifier,
 * the names one-line texts (VALIDATION_FAILED naming `username`, `givenName`, … otherwise).
 */
const setupInput = z
  .object({
    username: identifierValue,
    identifierType: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'An identifier type name, e.g. uid or oidcsub').default(LOCAL_IDENTIFIER_TYPE),
    password: z.string().optional(),
    givenName: text({ min: 1, max: 128 }),
    familyName: optionalText({ max: 128 }),
    email: emailInput.shape.mail.optional(),
  })
  .superRefine((v, c) => {
    const issue = identifierValueIssue(v.identifierType, v.username);
    if (issue) c.addIssue({ code: 'custom', path: ['username'], message: issue });
    // Local accounts name people by uid: a password for another type's value could never sign in.
    if (v.password !== undefined && v.identifierType !== LOCAL_IDENTIFIER_TYPE) {
      c.addIssue({ code: 'custom', path: ['password'], message: `A password makes a local account, whose usernames are uid values; leave it out for a ${v.identifierType} identifier` });
    }
  });

/**
 * Creates the platform CO (if needed) and a platform administrator: a person of the platform CO
 * with a login identifier of `identifierType` (uid unless given), in its admins group, with a local
 * account when a password is given (without one the admin signs in through the trusted header or
 * OpenID Connect, whose configured identifier type must then be the one given here).
 * Running it again for the same username only resets the password. A `uid` identifier of that
 * value held by another person of the platform CO is IDENTIFIER_TAKEN (409).
 */
export async function setupPlatformAdmin(ctx: CoreContext, raw: SetupInput): Promise<{ created: boolean }> {
  const input = parseInput(setupInput, raw);
  return inTransaction(ctx.db, async (trx) => {
    const platform = await ensurePlatformCo(ctx, trx);
    const setPassword = async () => {
      // The username may have a local account already (`tessera account set-password`): set its password.
      if (input.password && !(await setLocalPassword(trx, input.username, input.password))) {
        await createLocalAccount(trx, ctx.clock, input.username, input.password);
      }
    };
    if (await findLoginPersonId(trx, platform.id, { type: input.identifierType, value: input.username })) {
      await setPassword();
      return { created: false };
    }
    const now = ctx.clock.now().toISOString();
    const coId = platform.id;
    const personId = newId();
    await insertPerson(trx, { id: personId, co_id: coId, status: 'active', created_at: now, updated_at: now });
    await insertName(trx, { id: newId(), co_id: coId, person_id: personId, given: input.givenName, middle: null, family: input.familyName ?? null, suffix: null, type: 'official', primary_name: 1 });
    await insertIdentifier(trx, { id: newId(), co_id: coId, person_id: personId, identifier: input.username, type: input.identifierType, login: 1, status: 'active', created_at: now }, 'username');
    if (input.email) {
      await insertEmail(trx, { id: newId(), co_id: coId, person_id: personId, mail: input.email, type: 'official', verified: 1 });
    }
    const admins = await findSystemGroup(trx, coId, 'admins');
    if (!admins) throw new Error(`The platform CO ${coId} has no admins group`);
    await insertMembership(trx, { id: newId(), co_id: coId, group_id: admins.id, person_id: personId, member: 1, owner: 1, valid_from: null, valid_through: null, created_at: now });
    await setPassword();
    await recordHistory(trx, ctx.clock, SYSTEM_ACTOR, { coId, personId, action: 'PLATFORM_ADMIN_CREATED', comment: `Platform administrator ${input.username} created by setup` });
    return { created: true };
  });
}

/** True once the platform CO's admins group has a member (setup has been run). */
export async function hasPlatformAdmin(ctx: CoreContext): Promise<boolean> {
  return platformAdminsExist(ctx.db);
}
