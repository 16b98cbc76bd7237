import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildCo, buildPerson, forEachDialect, useTestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { groupInput } from './group.schema.ts';
import { addMembership, createGroup } from './group.service.ts';
import { MEMBERSHIP_WINDOW_SWEEP, sweepMembershipWindows } from './membership-window.sweep.ts';

forEachDialect('Membership window sweep', (dialect) => {
  const t = useTestApp(dialect);

  it('runs in the background runtime: starting it sweeps and records the mark', async () => {
    const stop = t.registry.startBackground();
    try {
      for (let i = 0; i < 100; i++) {
        if (await t.db.selectFrom('sweep_mark').select('name').where('name', '=', MEMBERSHIP_WINDOW_SWEEP).executeTakeFirst()) break;
        await sleep(20);
      }
    } finally {
      await stop();
    }
    const mark = await t.db.selectFrom('sweep_mark').select('swept_through').where('name', '=', MEMBERSHIP_WINDOW_SWEEP).executeTakeFirst();
    assert.equal(mark?.swept_through, t.clock.now().toISOString());
  });

  it('publishes a change for each person whose window opened or closed since the mark, and only for them', async () => {
    await sweepMembershipWindows(t.ctx);
    const co = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, groupInput.parse({ name: 'Windowed' }));
    const at = (minutes: number) => new Date(t.clock.now().getTime() + minutes * 60_000).toISOString();
    const opens = await buildPerson(t, co.id);
    const closes = await buildPerson(t, co.id);
    const later = await buildPerson(t, co.id);
    const always = await buildPerson(t, co.id);
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: opens.id, member: true, owner: false, validFrom: at(1) });
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: closes.id, member: true, owner: false, validThrough: at(2) });
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: later.id, member: true, owner: false, validFrom: at(10) });
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: always.id, member: true, owner: false });

    const seen: string[] = [];
    t.ctx.changeListeners.push(async (_db, event) => {
      if (event.kind === 'person') seen.push(event.personId);
    });
    try {
      assert.equal(await sweepMembershipWindows(t.ctx), 0, 'nothing has passed yet');
      t.clock.advance(3 * 60_000);
      assert.equal(await sweepMembershipWindows(t.ctx), 2);
      assert.deepEqual(seen.sort(), [opens.id, closes.id].sort());
      assert.equal(await sweepMembershipWindows(t.ctx), 0, 'the same time is not swept twice');
    } finally {
      t.ctx.changeListeners.pop();
    }
  });
});
