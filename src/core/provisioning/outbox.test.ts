import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { addRecordingTarget, useRecordingTestApp } from '../../../test/support/recording-provisioner.ts';
import { buildCo, buildPerson, forEachDialect } from '../../../test/support/test-app.ts';
import type { Executor } from '../../db/database.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { addMembership, createGroup, updateGroup } from '../groups/group.service.ts';
import { groupInput, membershipInput } from '../groups/group.schema.ts';
import { nameInput } from '../people/person.schema.ts';
import { addName, deletePerson, setPersonStatus } from '../people/person.service.ts';
import { coServiceInput } from '../co-services/co-service.schema.ts';
import { createService, updateService } from '../co-services/co-service.service.ts';
import { requestReprovision } from './provisioning.service.ts';

forEachDialect('Provisioning outbox', (dialect) => {
  const { t, recorder } = useRecordingTestApp(dialect);

  const jobs = (db: Executor, targetId: string, personId?: string) => {
    let q = db.selectFrom('provisioning_job').selectAll().where('target_id', '=', targetId);
    if (personId) q = q.where('person_id', '=', personId);
    return q.orderBy('created_at').execute();
  };

  it('writes the job of a person change inside the transaction of the change', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id);
    const person = await buildPerson(t, co.id);
    await t.worker.drain();

    let seen: { inside: string[]; outside: string[] | undefined } | undefined;
    recorder.onChange = async (db, event) => {
      if (event.kind !== 'person' || event.personId !== person.id) return;
      const pending = async (executor: Executor) => (await jobs(executor, target.id, person.id)).filter((j) => j.state === 'pending').map((j) => j.reason);
      // SQLite has one connection, busy with the transaction; PostgreSQL can look from outside.
      seen = { inside: await pending(db), outside: dialect === 'postgres' ? await pending(t.ctx.db) : undefined };
    };
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'suspended');
    recorder.onChange = undefined;

    assert.deepEqual(seen?.inside, ['PERSON_STATUS_CHANGED'], 'the change’s own transaction sees its job');
    if (dialect === 'postgres') assert.deepEqual(seen?.outside, [], 'nobody else sees the job before the change commits');
    const committed = (await jobs(t.ctx.db, target.id, person.id)).filter((j) => j.state === 'pending');
    assert.equal(committed.length, 1);
    assert.equal(committed[0]!.kind, 'sync');
    assert.equal(committed[0]!.co_id, co.id);
  });

  it('leaves no job behind when the change rolls back', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id);
    const person = await buildPerson(t, co.id);
    await t.worker.drain();
    const before = (await jobs(t.ctx.db, target.id)).length;

    // A later listener of the same change fails: the whole change, job included, rolls back.
    recorder.onChange = async () => {
      throw new Error('listener refused the change');
    };
    await assert.rejects(setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'suspended'), /listener refused/);
    recorder.onChange = undefined;

    assert.equal((await jobs(t.ctx.db, target.id)).length, before, 'no job was written');
    const row = await t.ctx.db.selectFrom('co_person').select('status').where('id', '=', person.id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'active', 'and the change itself did not happen');
    assert.equal(await t.worker.drain(), 0);
    assert.equal(recorder.callsFor(target.id, person.id).length, 1, 'only the creation was provisioned');
  });

  it('coalesces the jobs of one (target, person) into one run; a deletion outranks a sync', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id);
    const person = await buildPerson(t, co.id);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'grace_period');
    await addName(t.ctx, SYSTEM_ACTOR, co.id, person.id, nameInput.parse({ given: 'Alias', type: 'alternate' }));
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'active');

    const pending = await jobs(t.ctx.db, target.id, person.id);
    assert.equal(pending.length, 1, 'four changes, one waiting job');
    assert.equal(pending[0]!.reason, 'PERSON_STATUS_CHANGED', 'the job carries the latest reason');
    assert.equal(await t.worker.drain(), 1);
    assert.equal(recorder.callsFor(target.id, person.id).length, 1, 'the provisioner ran once');

    const other = await buildPerson(t, co.id);
    await deletePerson(t.ctx, SYSTEM_ACTOR, co.id, other.id);
    const folded = await jobs(t.ctx.db, target.id, other.id);
    assert.deepEqual(folded.map((j) => [j.kind, j.state]), [['delete', 'pending']]);
    await t.worker.drain();
    assert.deepEqual(recorder.callsFor(target.id, other.id).map((c) => [c.intent, c.personStatus]), [['absent', undefined]]);
  });

  it('writes no jobs for manual and disabled targets on a change; a reprovision runs manual ones, never disabled ones', async () => {
    const co = await buildCo(t);
    const automatic = await addRecordingTarget(t, co.id, { description: 'auto', ordinal: 1 });
    const manual = await addRecordingTarget(t, co.id, { description: 'manual', mode: 'manual', ordinal: 2 });
    const disabled = await addRecordingTarget(t, co.id, { description: 'disabled', mode: 'disabled', ordinal: 3 });
    const person = await buildPerson(t, co.id);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'grace_period');

    assert.equal((await jobs(t.ctx.db, automatic.id)).length, 1);
    assert.equal((await jobs(t.ctx.db, manual.id)).length, 0);
    assert.equal((await jobs(t.ctx.db, disabled.id)).length, 0);
    await t.worker.drain();
    assert.equal(recorder.callsFor(manual.id).length, 0);

    const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, co.id, { personId: person.id });
    assert.equal(batch.total, 2, 'automatic and manual targets, not the disabled one');
    await t.worker.drain();
    assert.equal(recorder.callsFor(automatic.id).length, 2);
    assert.deepEqual(recorder.callsFor(manual.id).map((c) => c.intent), ['present']);
    assert.equal(recorder.callsFor(disabled.id).length, 0);
    assert.equal((await jobs(t.ctx.db, disabled.id)).length, 0);
  });

  it('a change of a group writes jobs for its members only; a change of a service for the people its provisioners name', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id);
    const [inGroup, outside] = [await buildPerson(t, co.id), await buildPerson(t, co.id)];
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, groupInput.parse({ name: 'Wiki editors' }));
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, membershipInput.parse({ personId: inGroup.id }));
    const service = await createService(t.ctx, SYSTEM_ACTOR, co.id, coServiceInput.parse({ name: 'Wiki', shortLabel: 'wiki' }));
    await t.worker.drain();
    recorder.calls.length = 0;

    await updateGroup(t.ctx, SYSTEM_ACTOR, co.id, group.id, groupInput.parse({ name: 'Wiki authors' }));
    assert.deepEqual((await jobs(t.ctx.db, target.id)).filter((j) => j.state === 'pending').map((j) => j.person_id), [inGroup.id]);
    await t.worker.drain();
    assert.deepEqual(recorder.calls.map((c) => c.personId), [inGroup.id]);

    recorder.peopleOfService.set(service.id, [outside.id]);
    await updateService(t.ctx, SYSTEM_ACTOR, co.id, service.id, coServiceInput.parse({ name: 'Wiki 2', shortLabel: 'wiki' }));
    const pending = (await jobs(t.ctx.db, target.id)).filter((j) => j.state === 'pending');
    assert.deepEqual(pending.map((j) => [j.person_id, j.reason]), [[outside.id, 'updated']]);
  });
});
