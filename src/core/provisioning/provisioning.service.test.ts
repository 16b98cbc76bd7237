import assert from 'node:assert/strict';
import { it } from 'node:test';
import { addRecordingTarget, useRecordingTestApp } from '../../../test/support/recording-provisioner.ts';
import { actorFor, buildCo, buildPerson, forEachDialect } from '../../../test/support/test-app.ts';
import { newId } from '../../db/ids.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import type { AppError } from '../errors/app-error.ts';
import { batchProgress, coTargetFailures, personProvisioningStates, requestReprovision, retryJob, targetFailures } from './provisioning.service.ts';
import { ProvisioningWorker } from './worker.ts';

forEachDialect('Reprovisioning and provisioning states', (dialect) => {
  const { t, recorder } = useRecordingTestApp(dialect);

  const code = (expected: string) => (e: AppError) => {
    assert.equal(e.code, expected);
    return true;
  };

  it('counts a whole-CO reprovision up to its total, failures included', async () => {
    const co = await buildCo(t);
    const people = [];
    for (let i = 0; i < 5; i++) people.push(await buildPerson(t, co.id));
    const good = await addRecordingTarget(t, co.id, { description: 'good', mode: 'manual', ordinal: 1 });
    const bad = await addRecordingTarget(t, co.id, { description: 'bad', mode: 'manual', ordinal: 2, maxRetries: 0 });
    await addRecordingTarget(t, co.id, { description: 'off', mode: 'disabled', ordinal: 3 });
    recorder.fail(bad.id, 'refused');

    const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, co.id);
    assert.deepEqual({ ...batch, batchId: undefined }, { batchId: undefined, total: 10, done: 0, failed: 0, pending: 10, retrying: 0 });

    // A small worker takes two people per pass: the counts move and always add up.
    const small = new ProvisioningWorker(t.ctx, t.registry.contributors, { batchSize: 2 });
    assert.equal(await small.runOnce(), 4);
    const partway = await batchProgress(t.ctx, SYSTEM_ACTOR, co.id, batch.batchId);
    assert.deepEqual([partway.total, partway.done, partway.failed, partway.pending], [10, 2, 2, 6]);

    await t.worker.drain();
    const finished = await batchProgress(t.ctx, SYSTEM_ACTOR, co.id, batch.batchId);
    assert.deepEqual([finished.total, finished.done, finished.failed, finished.pending, finished.retrying], [10, 5, 5, 0, 0]);
    assert.equal(finished.done + finished.failed, finished.total);

    recorder.heal(bad.id);
    const again = await requestReprovision(t.ctx, SYSTEM_ACTOR, co.id, { targetId: bad.id });
    assert.equal(again.total, 5);
    await t.worker.drain();
    const healed = await batchProgress(t.ctx, SYSTEM_ACTOR, co.id, again.batchId);
    assert.deepEqual([healed.total, healed.done, healed.failed, healed.pending], [5, 5, 0, 0]);
    for (const p of people) {
      const states = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, co.id, p.id);
      assert.deepEqual(states.map((s) => [s.targetId, s.status]), [[good.id, 'provisioned'], [bad.id, 'provisioned'], [states[2]!.targetId, 'never']]);
    }
    const history = await t.ctx.db.selectFrom('history_record').select('comment').where('co_id', '=', co.id).where('action', '=', 'REPROVISION_REQUESTED').execute();
    assert.equal(history.length, 2);
  });

  it('counts a retrying job as pending and retrying until it settles', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    const target = await addRecordingTarget(t, co.id, { mode: 'manual', retryIntervalSeconds: 5, maxRetries: 1 });
    recorder.fail(target.id);
    const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, co.id, { personId: person.id });
    await t.worker.drain();
    const waiting = await batchProgress(t.ctx, SYSTEM_ACTOR, co.id, batch.batchId);
    assert.deepEqual([waiting.total, waiting.pending, waiting.retrying, waiting.failed], [1, 1, 1, 0]);
    t.clock.advance(5000);
    await t.worker.drain();
    const gaveUp = await batchProgress(t.ctx, SYSTEM_ACTOR, co.id, batch.batchId);
    assert.deepEqual([gaveUp.total, gaveUp.pending, gaveUp.retrying, gaveUp.failed], [1, 0, 0, 1]);
  });

  it('counts the later targets waiting behind a failing one as retrying too, so nothing left counts as due', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    const first = await addRecordingTarget(t, co.id, { description: 'first', mode: 'manual', ordinal: 1, retryIntervalSeconds: 60, maxRetries: 3 });
    await addRecordingTarget(t, co.id, { description: 'second', mode: 'manual', ordinal: 2 });
    recorder.fail(first.id);
    const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, co.id, { personId: person.id });
    await t.worker.drain();
    const waiting = await batchProgress(t.ctx, SYSTEM_ACTOR, co.id, batch.batchId);
    assert.deepEqual([waiting.total, waiting.pending, waiting.retrying], [2, 2, 2], 'the deferred job waits for the retry as well');
  });

  it('lists the failures of every target of the CO at once, in target order, as each target lists them', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const second = await addRecordingTarget(t, co.id, { description: 'second', ordinal: 20, maxRetries: 0 });
    const first = await addRecordingTarget(t, co.id, { description: 'first', ordinal: 10, maxRetries: 0 });
    const healthy = await addRecordingTarget(t, co.id, { description: 'healthy', ordinal: 30 });
    const elsewhere = await addRecordingTarget(t, other.id, { maxRetries: 0 });
    for (const target of [first, second, elsewhere]) recorder.fail(target.id);
    const ada = await buildPerson(t, co.id);
    await buildPerson(t, other.id);
    await t.worker.drain();
    // The later target waited behind the failing one; it runs (and fails) once that one's retry time has come.
    t.clock.advance(60_000);
    await t.worker.drain();
    const all = await coTargetFailures(t.ctx, SYSTEM_ACTOR, co.id);
    assert.deepEqual(all.map((f) => [f.targetDescription, f.personId, f.state]), [['first', ada.id, 'failed'], ['second', ada.id, 'failed']]);
    for (const target of [first, second, healthy]) {
      const own = await targetFailures(t.ctx, SYSTEM_ACTOR, co.id, target.id);
      assert.deepEqual(all.filter((f) => f.targetId === target.id).map(({ targetId: _, targetDescription: __, ...job }) => job), own);
    }
    const member = await actorFor(t, ada.username);
    await assert.rejects(coTargetFailures(t.ctx, member, co.id), code('FORBIDDEN'));
    for (const target of [first, second, elsewhere]) recorder.heal(target.id);
  });

  it('answers 404 for ids of another CO and 403 to people who do not administer the CO', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const target = await addRecordingTarget(t, co.id, { maxRetries: 0 });
    const otherTarget = await addRecordingTarget(t, other.id);
    recorder.fail(target.id);
    const person = await buildPerson(t, co.id);
    const stranger = await buildPerson(t, other.id);
    await t.worker.drain();
    const [failed] = await targetFailures(t.ctx, SYSTEM_ACTOR, co.id, target.id);
    assert.ok(failed);
    const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, co.id, { personId: person.id });

    await assert.rejects(batchProgress(t.ctx, SYSTEM_ACTOR, other.id, batch.batchId), code('PROVISIONING_BATCH_NOT_FOUND'));
    await assert.rejects(batchProgress(t.ctx, SYSTEM_ACTOR, co.id, 'no-such-batch'), code('PROVISIONING_BATCH_NOT_FOUND'));
    await assert.rejects(retryJob(t.ctx, SYSTEM_ACTOR, other.id, failed.id), code('NOT_FOUND'));
    await assert.rejects(retryJob(t.ctx, SYSTEM_ACTOR, co.id, 'not-an-id'), code('NOT_FOUND'));
    await assert.rejects(retryJob(t.ctx, SYSTEM_ACTOR, co.id, newId()), code('NOT_FOUND'));
    await assert.rejects(targetFailures(t.ctx, SYSTEM_ACTOR, other.id, target.id), code('PROVISIONING_TARGET_NOT_FOUND'));
    await assert.rejects(requestReprovision(t.ctx, SYSTEM_ACTOR, co.id, { personId: stranger.id }), code('PERSON_NOT_FOUND'));
    await assert.rejects(requestReprovision(t.ctx, SYSTEM_ACTOR, co.id, { targetId: otherTarget.id }), code('PROVISIONING_TARGET_NOT_FOUND'));
    await assert.rejects(personProvisioningStates(t.ctx, SYSTEM_ACTOR, other.id, person.id), code('PERSON_NOT_FOUND'));

    const member = await actorFor(t, person.username);
    await assert.rejects(requestReprovision(t.ctx, member, co.id), code('FORBIDDEN'));
    await assert.rejects(retryJob(t.ctx, member, co.id, failed.id), code('FORBIDDEN'));
    await assert.rejects(batchProgress(t.ctx, member, co.id, batch.batchId), code('FORBIDDEN'));
    await assert.rejects(targetFailures(t.ctx, member, co.id, target.id), code('FORBIDDEN'));

    // A job that is not failed cannot be retried by hand.
    await t.worker.drain();
    const [stillFailed] = await targetFailures(t.ctx, SYSTEM_ACTOR, co.id, target.id);
    await retryJob(t.ctx, SYSTEM_ACTOR, co.id, stillFailed!.id);
    await assert.rejects(retryJob(t.ctx, SYSTEM_ACTOR, co.id, stillFailed!.id), code('NOT_FOUND'));
  });
});
