import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ADMINS_GROUP_NAME, ensurePlatformCo } from '../cos/co.service.ts';
import { addIdentifier, createPerson, deletePerson, setPersonStatus } from '../people/person.service.ts';
import { newId } from '../../db/ids.ts';
import { actorFor, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { SYSTEM_ACTOR, isCoAdmin, isPlatformAdmin } from './actor.ts';
import { resolvePersonActor } from './principal.service.ts';

const DAY = 24 * 3600 * 1000;

forEachDialect('Principals and roles', (dialect) => {
  const t = useTestApp(dialect);

  const resolve = (username: string) => resolvePersonActor(t.ctx.db, { type: 'uid', value: username }, t.clock.now());

  async function adminsGroupId(coId: string): Promise<string> {
    const row = await t.ctx.db.selectFrom('co_group').select('id').where('co_id', '=', coId).where('name', '=', ADMINS_GROUP_NAME).executeTakeFirstOrThrow();
    return row.id;
  }

  async function addAdminMembership(coId: string, personId: string, window: { from?: number; through?: number } = {}): Promise<void> {
    await t.ctx.db
      .insertInto('co_group_member')
      .values({
        id: newId(),
        co_id: coId,
        group_id: await adminsGroupId(coId),
        person_id: personId,
        member: 1,
        owner: 0,
        valid_from: window.from === undefined ? null : new Date(window.from).toISOString(),
        valid_through: window.through === undefined ? null : new Date(window.through).toISOString(),
        created_at: t.clock.now().toISOString(),
      })
      .execute();
  }

  it('maps a username to one person per CO through login identifiers only', async () => {
    const a = await buildCo(t);
    const b = await buildCo(t);
    const c = await buildCo(t);
    const username = `multi-${newId().slice(0, 6)}`;
    const inA = await buildPerson(t, a.id, { username });
    const inB = await buildPerson(t, b.id, { username });
    // In C the same value exists, but without the login flag: it maps nobody.
    await createPerson(t.ctx, SYSTEM_ACTOR, c.id, { status: 'active', name: { given: 'Not', family: 'Login' }, identifiers: [{ identifier: username, type: 'uid', login: false }], emails: [] });

    const actor = await resolve(username);
    assert.equal(actor.kind, 'person');
    assert.equal(actor.username, username);
    assert.equal(actor.label, username);
    assert.deepEqual(actor.personIds, { [a.id]: inA.id, [b.id]: inB.id });
    assert.equal(actor.platformAdmin, false);
    assert.deepEqual([...actor.adminOf], []);

    const nobody = await resolve('never-heard-of');
    assert.deepEqual(nobody.personIds, {});
    assert.equal(nobody.platformAdmin, false);
  });

  it('maps through login identifiers of the sign-in method\'s type only, and ignores suspended identifiers and deleted people', async () => {
    const co = await buildCo(t);
    const eppnPerson = await buildPerson(t, co.id);
    const eppn = `${newId().slice(0, 6)}@idp.example.org`;
    await addIdentifier(t.ctx, SYSTEM_ACTOR, co.id, eppnPerson.id, { identifier: eppn, type: 'eppn', login: true });
    assert.deepEqual((await resolvePersonActor(t.ctx.db, { type: 'eppn', value: eppn }, t.clock.now())).personIds, { [co.id]: eppnPerson.id });
    assert.deepEqual((await resolve(eppn)).personIds, {}, 'a uid sign-in does not reach an eppn identifier');
    assert.deepEqual((await resolvePersonActor(t.ctx.db, { type: 'eppn', value: eppnPerson.username }, t.clock.now())).personIds, {}, 'nor an eppn sign-in a uid');

    const suspended = await buildPerson(t, co.id, { admin: true });
    await t.ctx.db.updateTable('identifier').set({ status: 'suspended' }).where('person_id', '=', suspended.id).execute();
    const s = await resolve(suspended.username);
    assert.deepEqual(s.personIds, {});
    assert.equal(s.adminOf.has(co.id), false);

    // A person whose status is "deleted" (the COmanage soft delete) maps nobody.
    const softDeleted = await buildPerson(t, co.id, { admin: true });
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, softDeleted.id, 'deleted');
    assert.deepEqual((await resolve(softDeleted.username)).personIds, {});

    const removed = await buildPerson(t, co.id);
    await deletePerson(t.ctx, SYSTEM_ACTOR, co.id, removed.id);
    assert.deepEqual((await resolve(removed.username)).personIds, {});
  });

  it('makes a CO admin only of an active or grace-period person with a valid admins membership', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const admin = await buildPerson(t, co.id, { admin: true });
    const actor = await resolve(admin.username);
    assert.deepEqual([...actor.adminOf], [co.id]);
    assert.equal(isCoAdmin(actor, co.id), true);
    assert.equal(isCoAdmin(actor, other.id), false);
    assert.equal(isPlatformAdmin(actor), false);

    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, admin.id, 'grace_period');
    assert.equal((await resolve(admin.username)).adminOf.has(co.id), true, 'grace period keeps the role');
    for (const status of ['suspended', 'expired', 'locked', 'pending'] as const) {
      await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, admin.id, status);
      const r = await resolve(admin.username);
      assert.equal(r.adminOf.has(co.id), false, status);
      assert.equal(r.personIds[co.id], admin.id, `${status}: still the person, just not an admin`);
    }

    // A membership row without the member flag (an owner only) is not a role.
    const ownerOnly = await buildPerson(t, co.id);
    await t.ctx.db.insertInto('co_group_member').values({ id: newId(), co_id: co.id, group_id: await adminsGroupId(co.id), person_id: ownerOnly.id, member: 0, owner: 1, valid_from: null, valid_through: null, created_at: t.clock.now().toISOString() }).execute();
    assert.equal((await resolve(ownerOnly.username)).adminOf.has(co.id), false);

    // A suspended admins group grants nothing.
    const third = await buildCo(t);
    const thirdAdmin = await buildPerson(t, third.id, { admin: true });
    await t.ctx.db.updateTable('co_group').set({ status: 'suspended' }).where('co_id', '=', third.id).where('group_type', '=', 'admins').execute();
    assert.equal((await resolve(thirdAdmin.username)).adminOf.has(third.id), false);
  });

  it('applies the validity window of the admins membership, so an expired membership drops the role', async () => {
    const co = await buildCo(t);
    const now = t.clock.now().getTime();
    const future = await buildPerson(t, co.id);
    const expiring = await buildPerson(t, co.id);
    await addAdminMembership(co.id, future.id, { from: now + DAY });
    await addAdminMembership(co.id, expiring.id, { from: now - DAY, through: now + DAY });

    assert.equal((await resolve(future.username)).adminOf.has(co.id), false);
    assert.equal((await resolve(expiring.username)).adminOf.has(co.id), true);
    t.clock.advance(DAY);
    assert.equal((await resolve(future.username)).adminOf.has(co.id), true, 'valid_from reached');
    assert.equal((await resolve(expiring.username)).adminOf.has(co.id), false, 'valid_through reached');
    assert.equal(isCoAdmin(await resolve(expiring.username), co.id), false);
  });

  it('makes platform admins of the admins of the platform CO, for every CO', async () => {
    const platform = await ensurePlatformCo(t.ctx);
    const co = await buildCo(t);
    const root = await buildPerson(t, platform.id, { admin: true });
    const actor = await actorFor(t, root.username);
    assert.equal(actor.kind === 'person' && actor.platformAdmin, true);
    assert.equal(isPlatformAdmin(actor), true);
    assert.equal(isCoAdmin(actor, co.id), true, 'a platform admin administers every CO');

    // A plain person of the platform CO, or an admin of another CO, is no platform admin.
    const plain = await buildPerson(t, platform.id);
    assert.equal((await resolve(plain.username)).platformAdmin, false);
    const coAdmin = await buildPerson(t, co.id, { admin: true });
    assert.equal((await resolve(coAdmin.username)).platformAdmin, false);

    // The role follows the membership: suspended person or expired membership, no platform role.
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, platform.id, root.id, 'suspended');
    assert.equal((await resolve(root.username)).platformAdmin, false);
    const timed = await buildPerson(t, platform.id);
    await addAdminMembership(platform.id, timed.id, { through: t.clock.now().getTime() + 1000 });
    assert.equal((await resolve(timed.username)).platformAdmin, true);
    t.clock.advance(1000);
    assert.equal((await resolve(timed.username)).platformAdmin, false);
  });
});
