import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { createApiUser, setApiUserStatus, authenticateApiUser } from '../api-users/api-user.service.ts';
import { SYSTEM_ACTOR, type Actor } from '../auth/actor.ts';
import type { AppError } from '../errors/app-error.ts';
import { addMembership, createGroup, deleteGroup, removeMembership, updateGroup } from '../groups/group.service.ts';
import {
  addEmail,
  addIdentifier,
  addIdentifierType,
  addName,
  createPerson,
  deletePerson,
  removeEmail,
  removeIdentifier,
  removeName,
  setPersonStatus,
} from '../people/person.service.ts';
import { createService, deleteService, updateService } from '../co-services/co-service.service.ts';
import { actorFor, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { listHistory } from './history.repository.ts';
import { listCoHistory } from './history.service.ts';

forEachDialect('History', (dialect) => {
  const t = useTestApp(dialect);

  async function lastRecord(coId: string) {
    return t.ctx.db
      .selectFrom('history_record')
      .select(['action', 'actor_label', 'actor_person_id', 'actor_api_user_id', 'person_id', 'group_id', 'service_id', 'created_at'])
      .where('co_id', '=', coId)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
  }

  it('records every change with the actor, the action and the person, group or service', async () => {
    const co = await buildCo(t);
    const admin = await buildPerson(t, co.id, { admin: true });
    const actor = await actorFor(t, admin.username);
    const who = { actor_label: admin.username, actor_person_id: admin.id, actor_api_user_id: null };
    const ids = (person_id: string | null, group_id: string | null = null, service_id: string | null = null) => ({ person_id, group_id, service_id });

    // Each step runs one change a second after the last and names the record it must leave.
    const step = async (expected: { action: string; person_id: string | null; group_id: string | null; service_id: string | null }, change: () => Promise<unknown>) => {
      t.clock.advance(1000);
      await change();
      const { created_at, ...record } = await lastRecord(co.id);
      assert.deepEqual(record, { ...who, ...expected }, expected.action);
      assert.equal(created_at, t.clock.now().toISOString());
    };

    t.clock.advance(1000);
    const person = await createPerson(t.ctx, actor, co.id, { status: 'active', name: { given: 'Pat' }, identifiers: [], emails: [] });
    assert.deepEqual((({ created_at: _c, ...r }) => r)(await lastRecord(co.id)), { ...who, action: 'PERSON_CREATED', ...ids(person.id) });

    await step({ action: 'PERSON_STATUS_CHANGED', ...ids(person.id) }, () => setPersonStatus(t.ctx, actor, co.id, person.id, 'grace_period'));
    await step({ action: 'IDENTIFIER_TYPE_ADDED', ...ids(null) }, () => addIdentifierType(t.ctx, actor, co.id, 'badge'));
    let identifierId = '';
    await step({ action: 'IDENTIFIER_ADDED', ...ids(person.id) }, async () => (identifierId = await addIdentifier(t.ctx, actor, co.id, person.id, { identifier: 'B-1', type: 'badge', login: false })));
    await step({ action: 'IDENTIFIER_REMOVED', ...ids(person.id) }, () => removeIdentifier(t.ctx, actor, co.id, person.id, identifierId));
    let nameId = '';
    await step({ action: 'NAME_ADDED', ...ids(person.id) }, async () => (nameId = await addName(t.ctx, actor, co.id, person.id, { given: 'Patricia', type: 'alternate', primary: false })));
    await step({ action: 'NAME_REMOVED', ...ids(person.id) }, () => removeName(t.ctx, actor, co.id, person.id, nameId));
    let emailId = '';
    await step({ action: 'EMAIL_ADDED', ...ids(person.id) }, async () => (emailId = await addEmail(t.ctx, actor, co.id, person.id, { mail: 'pat@example.org', type: 'official', verified: false })));
    await step({ action: 'EMAIL_REMOVED', ...ids(person.id) }, () => removeEmail(t.ctx, actor, co.id, person.id, emailId));

    t.clock.advance(1000);
    const group = await createGroup(t.ctx, actor, co.id, { name: 'Team', description: '', status: 'active' });
    assert.deepEqual((({ created_at: _c, ...r }) => r)(await lastRecord(co.id)), { ...who, action: 'GROUP_CREATED', ...ids(null, group.id) });
    await step({ action: 'GROUP_UPDATED', ...ids(null, group.id) }, () => updateGroup(t.ctx, actor, co.id, group.id, { name: 'Team A', description: 'x', status: 'active' }));
    let membershipId = '';
    await step({ action: 'GROUP_MEMBERSHIP_ADDED', ...ids(person.id, group.id) }, async () => (membershipId = (await addMembership(t.ctx, actor, co.id, group.id, { personId: person.id, member: true, owner: false })).id));
    await step({ action: 'GROUP_MEMBERSHIP_REMOVED', ...ids(person.id, group.id) }, () => removeMembership(t.ctx, actor, co.id, group.id, membershipId));

    t.clock.advance(1000);
    const service = await createService(t.ctx, actor, co.id, { name: 'Mail', description: '', shortLabel: 'mail', visibility: 'co_member', identifierType: 'uid', status: 'active' });
    assert.deepEqual((({ created_at: _c, ...r }) => r)(await lastRecord(co.id)), { ...who, action: 'SERVICE_CREATED', ...ids(null, null, service.id) });
    await step({ action: 'SERVICE_UPDATED', ...ids(null, null, service.id) }, () => updateService(t.ctx, actor, co.id, service.id, { name: 'Mail', description: 'Post', shortLabel: 'mail', visibility: 'co_member', identifierType: 'uid', status: 'suspended' }));

    let apiUserId = '';
    await step({ action: 'API_USER_CREATED', ...ids(null) }, async () => (apiUserId = (await createApiUser(t.ctx, actor, co.id, { username: `hist-${co.id.slice(0, 8)}`, privileged: false, allowedAddresses: '' })).apiUser.id));
    await step({ action: 'API_USER_STATUS_CHANGED', ...ids(null) }, () => setApiUserStatus(t.ctx, actor, co.id, apiUserId, 'suspended'));

    // Deletions: the thing is gone, its record stays (without the dangling id).
    await step({ action: 'GROUP_DELETED', ...ids(null) }, () => deleteGroup(t.ctx, actor, co.id, group.id));
    await step({ action: 'SERVICE_DELETED', ...ids(null) }, () => deleteService(t.ctx, actor, co.id, service.id));
    await step({ action: 'PERSON_DELETED', ...ids(null) }, () => deletePerson(t.ctx, actor, co.id, person.id));

    const all = await listHistory(t.ctx.db, co.id, {});
    const actions = all.map((h) => h.action);
    for (const action of ['PERSON_CREATED', 'PERSON_STATUS_CHANGED', 'GROUP_MEMBERSHIP_ADDED', 'SERVICE_UPDATED', 'PERSON_DELETED']) assert.ok(actions.includes(action), action);
    assert.ok(all.every((h) => h.actorLabel === admin.username || h.actorLabel === 'system'));
  });

  it('names API users and the system as actors', async () => {
    const co = await buildCo(t);
    const { apiUser, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, { username: `writer-${co.id.slice(0, 8)}`, privileged: true, allowedAddresses: '' });
    const api = (await authenticateApiUser(t.ctx.db, t.clock.now(), apiUser.username, key, '127.0.0.1')) as Actor;
    t.clock.advance(1000);
    const person = await createPerson(t.ctx, api, co.id, { status: 'active', name: { given: 'Via', family: 'API' }, identifiers: [], emails: [] });
    const { created_at: _c, ...record } = await lastRecord(co.id);
    assert.deepEqual(record, { action: 'PERSON_CREATED', actor_label: `API user ${apiUser.username}`, actor_person_id: null, actor_api_user_id: apiUser.id, person_id: person.id, group_id: null, service_id: null });

    t.clock.advance(1000);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'suspended');
    const { created_at: _d, ...systemRecord } = await lastRecord(co.id);
    assert.deepEqual(systemRecord, { action: 'PERSON_STATUS_CHANGED', actor_label: 'system', actor_person_id: null, actor_api_user_id: null, person_id: person.id, group_id: null, service_id: null });
  });

  it('lists a CO history newest first, filtered by person or service, in pages, for admins only', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const a = await buildPerson(t, co.id);
    t.clock.advance(1000);
    const b = await buildPerson(t, co.id);
    for (const status of ['suspended', 'active', 'expired'] as const) {
      t.clock.advance(1000);
      await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, a.id, status);
    }
    await buildPerson(t, other.id);

    const ofA = await listHistory(t.ctx.db, co.id, { personId: a.id });
    assert.deepEqual(ofA.map((h) => h.comment), [
      'Status changed from active to expired',
      'Status changed from suspended to active',
      'Status changed from active to suspended',
      'CO Person Pat Example created with status active',
    ]);
    assert.ok(ofA.every((h) => h.personId === a.id && h.coId === co.id));
    const page = await listHistory(t.ctx.db, co.id, { personId: a.id, limit: 2, offset: 2 });
    assert.deepEqual(page.map((h) => h.id), ofA.slice(2).map((h) => h.id));
    assert.deepEqual((await listHistory(t.ctx.db, co.id, { personId: b.id })).map((h) => h.action), ['PERSON_CREATED']);
    // Another CO's person id, asked through this CO: nothing.
    const foreign = await t.ctx.db.selectFrom('co_person').select('id').where('co_id', '=', other.id).executeTakeFirstOrThrow();
    assert.deepEqual(await listHistory(t.ctx.db, co.id, { personId: foreign.id }), []);

    const admin = await buildPerson(t, co.id, { admin: true });
    const outsider = await buildPerson(t, other.id, { admin: true });
    assert.ok((await listCoHistory(t.ctx, await actorFor(t, admin.username), co.id, {})).length >= 6);
    await assert.rejects(listCoHistory(t.ctx, await actorFor(t, outsider.username), co.id, {}), (e: AppError) => e.status === 403);
    await assert.rejects(listCoHistory(t.ctx, await actorFor(t, a.username), co.id, { personId: a.id }), (e: AppError) => e.status === 403);
  });
});
