import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { AppError } from '../errors/app-error.ts';
import { actorFor, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import { createCo, listCos, updateCo } from './co.service.ts';

forEachDialect('COs', (dialect) => {
  const t = useTestApp(dialect);

  it('creates a CO with its admins and members groups and a history record', async () => {
    const co = await createCo(t.ctx, SYSTEM_ACTOR, { name: 'Physics', description: 'Particles' });
    const groups = await t.ctx.db.selectFrom('co_group').select(['name', 'group_type']).where('co_id', '=', co.id).orderBy('name').execute();
    assert.deepEqual(groups, [
      { name: 'CO:admins', group_type: 'admins' },
      { name: 'CO:members:active', group_type: 'members' },
    ]);
    const history = await t.ctx.db.selectFrom('history_record').select(['action', 'actor_label']).where('co_id', '=', co.id).execute();
    assert.deepEqual(history, [{ action: 'CO_CREATED', actor_label: 'system' }]);
  });

  it('refuses a duplicate name with a conflict on the name field', async () => {
    await createCo(t.ctx, SYSTEM_ACTOR, { name: 'Chemistry', description: '' });
    await assert.rejects(createCo(t.ctx, SYSTEM_ACTOR, { name: 'Chemistry', description: '' }), (e: AppError) => e.code === 'CO_NAME_TAKEN' && e.status === 409 && e.field === 'name');
  });

  it('lets only platform admins create and change COs, and lists a person only their own COs', async () => {
    const mine = await buildCo(t);
    const other = await buildCo(t);
    const member = await buildPerson(t, mine.id, { admin: true });
    const actor = await actorFor(t, member.username);
    await assert.rejects(createCo(t.ctx, actor, { name: 'Sneaky', description: '' }), (e: AppError) => e.status === 403);
    await assert.rejects(updateCo(t.ctx, actor, other.id, { name: 'Renamed' }), (e: AppError) => e.status === 403);
    assert.deepEqual((await listCos(t.ctx.db, actor)).map((c) => c.id), [mine.id]);
  });
});
