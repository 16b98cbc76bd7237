import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { findPlatformCo } from '../cos/co.repository.ts';
import { listCos } from '../cos/co.service.ts';
import { newId } from '../../db/ids.ts';
import { AppError } from '../errors/app-error.ts';
import { buildCo, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { isCoAdmin } from './actor.ts';
import { checkLocalPassword, createLocalAccount } from './local-account.service.ts';
import { resolvePersonActor } from './principal.service.ts';
import { hasPlatformAdmin, setupPlatformAdmin } from './setup.service.ts';

forEachDialect('Setup', (dialect) => {
  const t = useTestApp(dialect);

  const resolve = (username: string) => resolvePersonActor(t.ctx.db, { type: 'uid', value: username }, t.clock.now());

  it('creates the platform CO and an administrator who resolves as platform admin', async () => {
    assert.equal(await hasPlatformAdmin(t.ctx), false);
    assert.equal(await findPlatformCo(t.ctx.db), undefined);

    const result = await setupPlatformAdmin(t.ctx, { username: 'root', password: 'a good long password', givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.org' });
    assert.deepEqual(result, { created: true });
    assert.equal(await hasPlatformAdmin(t.ctx), true);

    const platform = (await findPlatformCo(t.ctx.db))!;
    assert.equal(platform.isPlatform, true);
    const actor = await resolve('root');
    assert.equal(actor.platformAdmin, true);
    assert.ok(actor.personIds[platform.id]);
    const other = await buildCo(t);
    assert.equal(isCoAdmin(actor, other.id), true);
    assert.deepEqual((await listCos(t.ctx.db, actor)).map((c) => c.id).sort(), [platform.id, other.id].sort());

    const personId = actor.personIds[platform.id]!;
    const person = await t.ctx.db.selectFrom('co_person').select(['status', 'co_id']).where('id', '=', personId).executeTakeFirstOrThrow();
    assert.deepEqual(person, { status: 'active', co_id: platform.id });
    assert.deepEqual(await t.ctx.db.selectFrom('name').select(['given', 'family', 'primary_name']).where('person_id', '=', personId).execute(), [{ given: 'Ada', family: 'Lovelace', primary_name: 1 }]);
    assert.deepEqual(await t.ctx.db.selectFrom('identifier').select(['identifier', 'type', 'login', 'status']).where('person_id', '=', personId).execute(), [{ identifier: 'root', type: 'uid', login: 1, status: 'active' }]);
    assert.deepEqual(await t.ctx.db.selectFrom('email_address').select(['mail', 'verified']).where('person_id', '=', personId).execute(), [{ mail: 'ada@example.org', verified: 1 }]);
    const history = await t.ctx.db.selectFrom('history_record').select(['action', 'actor_label', 'co_id']).where('person_id', '=', personId).execute();
    assert.deepEqual(history, [{ action: 'PLATFORM_ADMIN_CREATED', actor_label: 'system', co_id: platform.id }]);

    const account = await t.ctx.db.selectFrom('local_account').select('password_hash').where('username', '=', 'root').executeTakeFirstOrThrow();
    assert.match(account.password_hash, /^\$argon2id\$/);
    assert.ok(!account.password_hash.includes('a good long password'));
    assert.equal(await checkLocalPassword(t.ctx.db, 'root', 'a good long password'), true);
  });

  it('creates the platform CO only once; a second admin joins it', async () => {
    await setupPlatformAdmin(t.ctx, { username: 'second-admin', password: 'another long password', givenName: 'Grace' });
    const platforms = await t.ctx.db.selectFrom('co').select('id').where('is_platform', '=', 1).execute();
    assert.equal(platforms.length, 1);
    const groups = await t.ctx.db.selectFrom('co_group').select('id').where('co_id', '=', platforms[0]!.id).execute();
    assert.equal(groups.length, 2, 'its admins and members groups were not made twice');
    assert.equal((await resolve('second-admin')).platformAdmin, true);
  });

  it('resets the password when run again for the same username, and creates nothing else', async () => {
    const before = await counts();
    const result = await setupPlatformAdmin(t.ctx, { username: 'root', password: 'a brand new password', givenName: 'Ignored' });
    assert.deepEqual(result, { created: false });
    assert.deepEqual(await counts(), before);
    assert.equal(await checkLocalPassword(t.ctx.db, 'root', 'a good long password'), false);
    assert.equal(await checkLocalPassword(t.ctx.db, 'root', 'a brand new password'), true);
    const names = await t.ctx.db.selectFrom('name').select('given').where('given', '=', 'Ignored').execute();
    assert.deepEqual(names, []);

    // Without a password, a re-run changes nothing.
    const hash = await t.ctx.db.selectFrom('local_account').select('password_hash').where('username', '=', 'root').executeTakeFirstOrThrow();
    assert.deepEqual(await setupPlatformAdmin(t.ctx, { username: 'root', givenName: 'Ada' }), { created: false });
    assert.deepEqual(await t.ctx.db.selectFrom('local_account').select('password_hash').where('username', '=', 'root').executeTakeFirstOrThrow(), hash);
  });

  it('makes no local account without a password (sign-in then comes from the trusted header)', async () => {
    assert.deepEqual(await setupPlatformAdmin(t.ctx, { username: 'sso-admin', givenName: 'Sam' }), { created: true });
    assert.equal(await t.ctx.db.selectFrom('local_account').select('id').where('username', '=', 'sso-admin').executeTakeFirst(), undefined);
    assert.equal((await resolve('sso-admin')).platformAdmin, true);
    assert.equal(await checkLocalPassword(t.ctx.db, 'sso-admin', ''), false);

    // A later run with a password gives them one.
    assert.deepEqual(await setupPlatformAdmin(t.ctx, { username: 'sso-admin', password: 'now with a password', givenName: 'Sam' }), { created: false });
    assert.equal(await checkLocalPassword(t.ctx.db, 'sso-admin', 'now with a password'), true);
  });

  it('makes an admin of a username that has a local account already, setting its password', async () => {
    await createLocalAccount(t.ctx.db, t.clock, 'early-account', 'the first password');
    assert.deepEqual(await setupPlatformAdmin(t.ctx, { username: 'early-account', password: 'the setup password', givenName: 'Early' }), { created: true });
    assert.equal((await resolve('early-account')).platformAdmin, true);
    assert.equal(await checkLocalPassword(t.ctx.db, 'early-account', 'the setup password'), true);
    assert.equal(await checkLocalPassword(t.ctx.db, 'early-account', 'the first password'), false);
    assert.equal((await t.ctx.db.selectFrom('local_account').select('id').where('username', '=', 'early-account').execute()).length, 1);
  });

  it('refuses a username another platform person holds as a non-login uid, with IDENTIFIER_TAKEN and nothing created', async () => {
    const platform = (await findPlatformCo(t.ctx.db))!;
    await t.ctx.db.transaction().execute(async (trx) => {
      const now = t.clock.now().toISOString();
      await trx.insertInto('co_person').values({ id: newId(), co_id: platform.id, status: 'active', created_at: now, updated_at: now }).execute();
      const holder = await trx.selectFrom('co_person').select('id').where('co_id', '=', platform.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
      await trx.insertInto('identifier').values({ id: newId(), co_id: platform.id, person_id: holder.id, identifier: 'taken-uid', match_key: 'taken-uid', type: 'uid', login: 0, status: 'active', created_at: now }).execute();
    });
    const before = await counts();
    await assert.rejects(
      setupPlatformAdmin(t.ctx, { username: 'taken-uid', password: 'a good long password', givenName: 'Clash' }),
      (e: AppError) => e instanceof AppError && e.code === 'IDENTIFIER_TAKEN' && e.status === 409 && e.field === 'username',
    );
    assert.deepEqual(await counts(), before);
  });

  async function counts() {
    const n = async (table: 'co' | 'co_person' | 'identifier' | 'name' | 'co_group_member' | 'local_account' | 'history_record') =>
      Number((await t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow()).n);
    return {
      co: await n('co'),
      people: await n('co_person'),
      identifiers: await n('identifier'),
      names: await n('name'),
      memberships: await n('co_group_member'),
      accounts: await n('local_account'),
      history: await n('history_record'),
    };
  }
});
