import { newId } from '../../db/ids.ts';
import type { CoreContext } from '../context.ts';
import { ADMINS_GROUP_NAME, ensurePlatformCo } from '../cos/co.service.ts';
import { recordHistory } from '../history/history.service.ts';
import { SYSTEM_ACTOR } from './actor.ts';
import { createLocalAccount, setLocalPassword } from './local-account.service.ts';

export interface SetupInput {
  username: string;
  password?: string;
  givenName: string;
  familyName?: string;
  email?: string;
}

/**
 * Creates the platform CO (if needed) and a platform administrator: a person of the platform CO
 * with a login identifier, in its admins group, with a local account when a password is given
 * (without one the admin signs in through the trusted header or OpenID Connect).
 * Running it again for the same username only resets the password.
 */
export async function setupPlatformAdmin(ctx: CoreContext, input: SetupInput): Promise<{ created: boolean }> {
  return ctx.db.transaction().execute(async (trx) => {
    const platform = await ensurePlatformCo(ctx, trx);
    const existing = await trx
      .selectFrom('identifier')
      .select('person_id')
      .where('co_id', '=', platform.id)
      .where('identifier', '=', input.username)
      .where('login', '=', 1)
      .executeTakeFirst();
    if (existing) {
      if (input.password && !(await setLocalPassword(trx, input.username, input.password))) {
        await createLocalAccount(trx, ctx.clock, input.username, input.password);
      }
      return { created: false };
    }
    const now = ctx.clock.now().toISOString();
    const personId = newId();
    await trx.insertInto('co_person').values({ id: personId, co_id: platform.id, status: 'active', created_at: now, updated_at: now }).execute();
    await trx.insertInto('name').values({ id: newId(), co_id: platform.id, person_id: personId, given: input.givenName, middle: null, family: input.familyName ?? null, suffix: null, type: 'official', primary_name: 1 }).execute();
    await trx.insertInto('identifier').values({ id: newId(), co_id: platform.id, person_id: personId, identifier: input.username, type: 'uid', login: 1, status: 'active', created_at: now }).execute();
    if (input.email) {
      await trx.insertInto('email_address').values({ id: newId(), co_id: platform.id, person_id: personId, mail: input.email, type: 'official', verified: 1 }).execute();
    }
    const admins = await trx.selectFrom('co_group').select('id').where('co_id', '=', platform.id).where('name', '=', ADMINS_GROUP_NAME).executeTakeFirstOrThrow();
    await trx.insertInto('co_group_member').values({ id: newId(), co_id: platform.id, group_id: admins.id, person_id: personId, member: 1, owner: 1, valid_from: null, valid_through: null, created_at: now }).execute();
    // The username may have a local account already (`tessera account set-password`): set its password.
    if (input.password && !(await setLocalPassword(trx, input.username, input.password))) {
      await createLocalAccount(trx, ctx.clock, input.username, input.password);
    }
    await recordHistory(trx, ctx.clock, SYSTEM_ACTOR, { coId: platform.id, personId, action: 'PLATFORM_ADMIN_CREATED', comment: `Platform administrator ${input.username} created by setup` });
    return { created: true };
  });
}

export async function hasPlatformAdmin(ctx: CoreContext): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('co_group_member as m')
    .innerJoin('co_group as g', 'g.id', 'm.group_id')
    .innerJoin('co', 'co.id', 'g.co_id')
    .select('m.id')
    .where('co.is_platform', '=', 1)
    .where('g.group_type', '=', 'admins')
    .executeTakeFirst();
  return row !== undefined;
}
