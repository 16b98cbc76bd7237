import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import type { AppError } from '../errors/app-error.ts';
import { addMembership, createGroup, listGroups } from '../groups/group.service.ts';
import { addIdentifierType } from '../people/person.service.ts';
import type { PersonStatus } from '../people/person.table.ts';
import { actorFor, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import type { CoServiceInput } from './co-service.schema.ts';
import {
  createService,
  deleteService,
  getService,
  listServices,
  personMayUseService,
  servicesVisibleTo,
  setServiceStatus,
  updateService,
  type CoService,
} from './co-service.service.ts';

const isError = (code: string, status: number, field?: string) => (e: AppError) => {
  assert.equal(e.code, code);
  assert.equal(e.status, status);
  if (field !== undefined) assert.equal(e.field, field);
  return true;
};

function input(overrides: Partial<CoServiceInput> = {}): CoServiceInput {
  return { name: 'Wiki', description: '', shortLabel: `s${Math.random().toString(36).slice(2, 10)}`, visibility: 'co_member', identifierType: 'uid', status: 'active', ...overrides };
}

forEachDialect('CO Services', (dialect) => {
  const t = useTestApp(dialect);

  it('stores every field and records the creation', async () => {
    const co = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Editors', description: '', status: 'active' });
    await addIdentifierType(t.ctx, SYSTEM_ACTOR, co.id, 'wikiname');
    const service = await createService(t.ctx, SYSTEM_ACTOR, co.id, {
      name: 'Team wiki',
      description: 'Where we write things down',
      shortLabel: 'Wiki2',
      coGroupId: group.id,
      serviceUrl: 'https://wiki.example.org/',
      contactEmail: 'wiki-admins@example.org',
      logoUrl: 'https://wiki.example.org/logo.png',
      entitlementUri: 'urn:mace:example.org:wiki',
      visibility: 'co_group_member',
      identifierType: 'wikiname',
      status: 'suspended',
    });
    const row = await t.ctx.db.selectFrom('co_service').selectAll().where('id', '=', service.id).executeTakeFirstOrThrow();
    assert.deepEqual(row, {
      id: service.id,
      co_id: co.id,
      name: 'Team wiki',
      description: 'Where we write things down',
      short_label: 'Wiki2',
      co_group_id: group.id,
      service_url: 'https://wiki.example.org/',
      contact_email: 'wiki-admins@example.org',
      logo_url: 'https://wiki.example.org/logo.png',
      entitlement_uri: 'urn:mace:example.org:wiki',
      visibility: 'co_group_member',
      identifier_type: 'wikiname',
      status: 'suspended',
      created_at: t.clock.now().toISOString(),
      updated_at: t.clock.now().toISOString(),
    });
    assert.deepEqual(service, await getService(t.ctx, SYSTEM_ACTOR, co.id, service.id));
    assert.equal(service.shortLabel, 'Wiki2');
    assert.equal(service.coGroupId, group.id);
    const history = await t.ctx.db.selectFrom('history_record').select(['action', 'service_id', 'comment']).where('service_id', '=', service.id).execute();
    assert.deepEqual(history, [{ action: 'SERVICE_CREATED', service_id: service.id, comment: 'CO Service Team wiki created' }]);

    // Optional fields left out are stored as null.
    const bare = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ shortLabel: 'bare' }));
    const bareRow = await t.ctx.db.selectFrom('co_service').select(['co_group_id', 'service_url', 'contact_email', 'logo_url', 'entitlement_uri']).where('id', '=', bare.id).executeTakeFirstOrThrow();
    assert.deepEqual(bareRow, { co_group_id: null, service_url: null, contact_email: null, logo_url: null, entitlement_uri: null });
  });

  it('keeps short labels unique per CO ignoring case, but allows them in another CO', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const wiki = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ shortLabel: 'Wiki' }));
    await assert.rejects(createService(t.ctx, SYSTEM_ACTOR, co.id, input({ name: 'Other wiki', shortLabel: 'wiki' })), isError('SERVICE_SHORT_LABEL_TAKEN', 409, 'shortLabel'));
    await assert.rejects(createService(t.ctx, SYSTEM_ACTOR, co.id, input({ name: 'Other wiki', shortLabel: 'WIKI' })), isError('SERVICE_SHORT_LABEL_TAKEN', 409, 'shortLabel'));
    const elsewhere = await createService(t.ctx, SYSTEM_ACTOR, other.id, input({ shortLabel: 'wiki' }));
    assert.equal(elsewhere.shortLabel, 'wiki');

    const mail = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ name: 'Mail', shortLabel: 'mail' }));
    await assert.rejects(updateService(t.ctx, SYSTEM_ACTOR, co.id, mail.id, input({ name: 'Mail', shortLabel: 'wIKI' })), isError('SERVICE_SHORT_LABEL_TAKEN', 409, 'shortLabel'));
    // Changing the case of its own label is fine.
    const renamed = await updateService(t.ctx, SYSTEM_ACTOR, co.id, wiki.id, input({ shortLabel: 'WIKI' }));
    assert.equal(renamed.shortLabel, 'WIKI');
    const labels = await t.ctx.db.selectFrom('co_service').select('short_label').where('co_id', '=', co.id).orderBy('short_label').execute();
    assert.deepEqual(labels.map((l) => l.short_label), ['WIKI', 'mail']);
  });

  it('accepts only a group and an identifier type of the same CO', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const foreign = await createGroup(t.ctx, SYSTEM_ACTOR, other.id, { name: 'Foreign', description: '', status: 'active' });
    await addIdentifierType(t.ctx, SYSTEM_ACTOR, other.id, 'foreigntype');
    await assert.rejects(createService(t.ctx, SYSTEM_ACTOR, co.id, input({ coGroupId: foreign.id })), isError('GROUP_NOT_FOUND', 404, 'coGroupId'));
    await assert.rejects(createService(t.ctx, SYSTEM_ACTOR, co.id, input({ identifierType: 'foreigntype' })), isError('IDENTIFIER_TYPE_UNKNOWN', 400, 'identifierType'));
    await assert.rejects(createService(t.ctx, SYSTEM_ACTOR, co.id, input({ visibility: 'co_group_member' })), isError('VALIDATION_FAILED', 400, 'coGroupId'));
    const service = await createService(t.ctx, SYSTEM_ACTOR, co.id, input());
    await assert.rejects(updateService(t.ctx, SYSTEM_ACTOR, co.id, service.id, input({ coGroupId: foreign.id })), isError('GROUP_NOT_FOUND', 404, 'coGroupId'));
    assert.equal((await getService(t.ctx, SYSTEM_ACTOR, co.id, service.id)).coGroupId, null);
    assert.deepEqual((await listServices(t.ctx, SYSTEM_ACTOR, co.id)).map((s) => s.id), [service.id]);
  });

  it("keeps admins of another CO away from this CO's services", async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const outsider = await buildPerson(t, other.id, { admin: true });
    const actor = await actorFor(t, outsider.username);
    const service = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ name: 'Secret' }));
    await assert.rejects(getService(t.ctx, actor, co.id, service.id), isError('SERVICE_NOT_FOUND', 404));
    await assert.rejects(getService(t.ctx, actor, other.id, service.id), isError('SERVICE_NOT_FOUND', 404));
    await assert.rejects(listServices(t.ctx, actor, co.id), isError('FORBIDDEN', 403));
    await assert.rejects(updateService(t.ctx, actor, co.id, service.id, input({ name: 'Mine' })), isError('FORBIDDEN', 403));
    await assert.rejects(updateService(t.ctx, actor, other.id, service.id, input({ name: 'Mine' })), isError('SERVICE_NOT_FOUND', 404));
    await assert.rejects(deleteService(t.ctx, actor, other.id, service.id), isError('SERVICE_NOT_FOUND', 404));
    await assert.rejects(createService(t.ctx, actor, co.id, input()), isError('FORBIDDEN', 403));
    assert.equal((await getService(t.ctx, SYSTEM_ACTOR, co.id, service.id)).name, 'Secret');
  });

  it('updates, suspends and deletes a service, recording each change', async () => {
    const co = await buildCo(t);
    const service = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ name: 'Git', shortLabel: 'git' }));
    t.clock.advance(5000);
    const suspended = await setServiceStatus(t.ctx, SYSTEM_ACTOR, co.id, service.id, 'suspended');
    assert.equal(suspended.status, 'suspended');
    assert.equal(suspended.updatedAt, t.clock.now().toISOString());
    assert.equal(suspended.shortLabel, 'git');
    await deleteService(t.ctx, SYSTEM_ACTOR, co.id, service.id);
    assert.equal(await t.ctx.db.selectFrom('co_service').select('id').where('id', '=', service.id).executeTakeFirst(), undefined);
    const history = await t.ctx.db.selectFrom('history_record').select(['action', 'comment']).where('co_id', '=', co.id).where('action', 'like', 'SERVICE_%').orderBy('created_at').execute();
    assert.deepEqual(history, [
      { action: 'SERVICE_CREATED', comment: 'CO Service Git created' },
      { action: 'SERVICE_UPDATED', comment: 'CO Service Git updated (status active → suspended)' },
      { action: 'SERVICE_DELETED', comment: 'CO Service Git deleted' },
    ]);
  });

  it('lets only active members use a service, per its status, group and visibility', async () => {
    const co = await buildCo(t);
    const groups = await listGroups(t.ctx, SYSTEM_ACTOR, co.id);
    const admins = groups.find((g) => g.type === 'admins')!;
    const team = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Team', description: '', status: 'active' });
    const member = await buildPerson(t, co.id);
    const inTeam = await buildPerson(t, co.id);
    const admin = await buildPerson(t, co.id, { admin: true });
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, team.id, { personId: inTeam.id, member: true, owner: false });

    const open = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ visibility: 'co_member' }));
    const anon = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ visibility: 'unauthenticated' }));
    const teamOnly = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ visibility: 'co_group_member', coGroupId: team.id }));
    const gatedOpen = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ visibility: 'co_member', coGroupId: team.id }));
    const adminOnly = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ visibility: 'co_admin' }));
    const adminGroupGated = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ visibility: 'co_member', coGroupId: admins.id }));
    const off = await createService(t.ctx, SYSTEM_ACTOR, co.id, input({ visibility: 'co_member', status: 'suspended' }));

    const may = (s: CoService, p: { id: string; status: PersonStatus }, isCoAdmin = false) => personMayUseService(t.ctx.db, s, p, t.clock.now(), { isCoAdmin });
    const m = { id: member.id, status: 'active' as const };
    const tm = { id: inTeam.id, status: 'active' as const };
    const ad = { id: admin.id, status: 'active' as const };

    assert.deepEqual(await Promise.all([open, anon, teamOnly, gatedOpen, adminOnly, adminGroupGated, off].map((s) => may(s, m))), [true, true, false, false, false, false, false]);
    assert.deepEqual(await Promise.all([open, anon, teamOnly, gatedOpen, adminOnly, adminGroupGated, off].map((s) => may(s, tm))), [true, true, true, true, false, false, false]);
    assert.deepEqual(await Promise.all([open, anon, teamOnly, gatedOpen, adminOnly, adminGroupGated, off].map((s) => may(s, ad))), [true, true, false, false, true, true, false]);
    // A platform admin (not in the admins group) passes co_admin visibility through the flag.
    assert.equal(await may(adminOnly, m, true), true);

    // Non-member statuses use nothing, whatever the group memberships.
    for (const status of ['grace_period', 'expired', 'suspended', 'locked', 'pending', 'deleted'] as const) {
      await t.ctx.db.updateTable('co_person').set({ status }).where('id', '=', inTeam.id).execute();
      const expected = status === 'grace_period';
      assert.equal(await may(open, { id: inTeam.id, status }), expected, status);
      assert.equal(await may(teamOnly, { id: inTeam.id, status }), expected, status);
    }
    await t.ctx.db.updateTable('co_person').set({ status: 'active' }).where('id', '=', inTeam.id).execute();

    // servicesVisibleTo applies the same rules for the signed-in person.
    const visible = async (username: string) => (await servicesVisibleTo(t.ctx, await actorFor(t, username), co.id)).map((s) => s.id).sort();
    assert.deepEqual(await visible(member.username), [open.id, anon.id].sort());
    assert.deepEqual(await visible(inTeam.username), [open.id, anon.id, teamOnly.id, gatedOpen.id].sort());
    assert.deepEqual(await visible(admin.username), [open.id, anon.id, adminOnly.id, adminGroupGated.id].sort());
    const outsider = await buildPerson(t, (await buildCo(t)).id);
    assert.deepEqual(await visible(outsider.username), []);
  });
});
