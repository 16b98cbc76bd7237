import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { addRecordingTarget, recordingConfig, useRecordingTestApp } from '../../../test/support/recording-provisioner.ts';
import { buildCo, buildPerson, forEachDialect } from '../../../test/support/test-app.ts';
import { newId } from '../../db/ids.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { groupInput, membershipInput } from '../groups/group.schema.ts';
import { addMembership, createGroup, removeMembership } from '../groups/group.service.ts';
import { deletePerson, setPersonStatus } from '../people/person.service.ts';
import { personProvisioningStates, retryJob, targetFailures } from './provisioning.service.ts';
import { targetInput } from './target.schema.ts';
import { updateTarget } from './target.service.ts';
import { ProvisioningWorker } from './worker.ts';

const SECOND = 1000;

forEachDialect('Provisioning worker', (dialect) => {
  const { t, recorder } = useRecordingTestApp(dialect);

  const jobsOf = (targetId: string, personId: string) =>
    t.ctx.db.selectFrom('provisioning_job').selectAll().where('target_id', '=', targetId).where('person_id', '=', personId).orderBy('created_at').orderBy('id').execute();
  const onlyJob = async (targetId: string, personId: string) => {
    const jobs = await jobsOf(targetId, personId);
    assert.equal(jobs.length, 1, `one job for the target and person, got ${jobs.length}`);
    return jobs[0]!;
  };
  const historyOf = (personId: string, action: string) =>
    t.ctx.db.selectFrom('history_record').selectAll().where('person_id', '=', personId).where('action', '=', action).orderBy('created_at').orderBy('id').execute();
  const stateOf = (targetId: string, personId: string) => t.ctx.db.selectFrom('provisioning_state').selectAll().where('target_id', '=', targetId).where('person_id', '=', personId).executeTakeFirst();
  const later = (ms: number) => new Date(t.clock.now().getTime() + ms).toISOString();

  it('runs a person’s targets in their order, and a deletion in reverse order', async () => {
    const co = await buildCo(t);
    const third = await addRecordingTarget(t, co.id, { description: 'third', ordinal: 30 });
    const first = await addRecordingTarget(t, co.id, { description: 'first', ordinal: 10 });
    const second = await addRecordingTarget(t, co.id, { description: 'second', ordinal: 20 });
    const person = await buildPerson(t, co.id);
    assert.equal(await t.worker.drain(), 3);
    assert.deepEqual(recorder.calls.map((c) => [c.targetDescription, c.intent]), [['first', 'present'], ['second', 'present'], ['third', 'present']]);

    recorder.calls.length = 0;
    await deletePerson(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.equal(await t.worker.drain(), 3);
    assert.deepEqual(recorder.calls.map((c) => [c.targetDescription, c.intent]), [['third', 'absent'], ['second', 'absent'], ['first', 'absent']]);
    for (const target of [first, second, third]) assert.equal((await stateOf(target.id, person.id))?.status, 'removed');
  });

  it('defers the later targets while an earlier one fails, without counting their attempts', async () => {
    const co = await buildCo(t);
    const first = await addRecordingTarget(t, co.id, { description: 'LDAP', ordinal: 1, retryIntervalSeconds: 60 });
    const second = await addRecordingTarget(t, co.id, { description: 'tokens', ordinal: 2 });
    recorder.fail(first.id, 'connection refused');
    const person = await buildPerson(t, co.id);
    const retryAt = later(60 * SECOND);
    assert.equal(await t.worker.drain(), 2);
    assert.equal(recorder.callsFor(first.id).length, 1);
    assert.equal(recorder.callsFor(second.id).length, 0, 'the later target did not run');

    const failed = await onlyJob(first.id, person.id);
    assert.deepEqual([failed.state, failed.attempts, failed.last_error, failed.run_after], ['pending', 1, 'connection refused', retryAt]);
    const deferred = await onlyJob(second.id, person.id);
    assert.deepEqual([deferred.state, deferred.attempts, deferred.run_after], ['pending', 0, retryAt]);
    assert.match(deferred.last_error ?? '', /waiting for target "LDAP"/);
    const states = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.deepEqual(states.map((s) => [s.targetDescription, s.status]), [['LDAP', 'failed'], ['tokens', 'pending']]);

    t.clock.advance(59 * SECOND);
    assert.equal(await t.worker.runOnce(), 0, 'nothing is due before the retry time');
    t.clock.advance(SECOND);
    recorder.heal(first.id);
    assert.equal(await t.worker.drain(), 2);
    assert.deepEqual(recorder.calls.map((c) => c.targetDescription), ['LDAP', 'LDAP', 'tokens'], 'both ran, still in order');
    assert.deepEqual([(await onlyJob(first.id, person.id)).state, (await onlyJob(first.id, person.id)).attempts], ['succeeded', 2]);
    assert.deepEqual([(await onlyJob(second.id, person.id)).state, (await onlyJob(second.id, person.id)).attempts], ['succeeded', 1]);
  });

  it('retries with back-off, gives up after the maximum, shows the failure, and runs again when retried by hand', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id, { description: 'Directory', retryIntervalSeconds: 10, maxRetries: 2 });
    recorder.fail(target.id, 'no such host');
    const person = await buildPerson(t, co.id);

    await t.worker.drain();
    let job = await onlyJob(target.id, person.id);
    assert.deepEqual([job.state, job.attempts, job.run_after], ['pending', 1, later(10 * SECOND)]);
    const retrying = await targetFailures(t.ctx, SYSTEM_ACTOR, co.id, target.id);
    assert.deepEqual(retrying.map((f) => [f.personId, f.state, f.attempts, f.lastError]), [[person.id, 'pending', 1, 'no such host']], 'a job waiting for its retry is listed');

    t.clock.advance(10 * SECOND - 1);
    assert.equal(await t.worker.runOnce(), 0);
    t.clock.advance(1);
    assert.equal(await t.worker.runOnce(), 1);
    job = await onlyJob(target.id, person.id);
    assert.deepEqual([job.state, job.attempts, job.run_after], ['pending', 2, later(20 * SECOND)], 'the second wait is twice the first');

    t.clock.advance(20 * SECOND - 1);
    assert.equal(await t.worker.runOnce(), 0);
    t.clock.advance(1);
    assert.equal(await t.worker.runOnce(), 1);
    job = await onlyJob(target.id, person.id);
    assert.deepEqual([job.state, job.attempts, job.last_error], ['failed', 3, 'no such host'], 'one run and two retries, then it stays failed');
    assert.ok(job.finished_at);

    t.clock.advance(24 * 3600 * SECOND);
    assert.equal(await t.worker.drain(), 0, 'a failed job is not retried by itself');
    assert.equal(recorder.callsFor(target.id, person.id).length, 3);

    const failures = await targetFailures(t.ctx, SYSTEM_ACTOR, co.id, target.id);
    assert.deepEqual(failures.map((f) => [f.id, f.state, f.attempts, f.lastError]), [[job.id, 'failed', 3, 'no such host']]);
    const [state] = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.deepEqual([state!.status, state!.lastError, state!.lastSuccessAt], ['failed', 'no such host', null]);
    const failedHistory = await historyOf(person.id, 'PROVISIONING_FAILED');
    assert.equal(failedHistory.length, 3, 'every failed attempt is in the person’s history');
    assert.match(failedHistory[0]!.comment, /Provisioning to target "Directory" failed \(attempt 1\): no such host; retrying at/);
    assert.match(failedHistory[2]!.comment, /\(attempt 3\): no such host; no more retries/);

    recorder.heal(target.id);
    await retryJob(t.ctx, SYSTEM_ACTOR, co.id, job.id);
    job = await onlyJob(target.id, person.id);
    assert.deepEqual([job.state, job.attempts, job.finished_at], ['pending', 0, null]);
    assert.equal(await t.worker.drain(), 1);
    assert.equal((await onlyJob(target.id, person.id)).state, 'succeeded');
    const [fixed] = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.deepEqual([fixed!.status, fixed!.lastError, fixed!.lastSuccessAt, fixed!.targetKey], ['provisioned', null, t.clock.now().toISOString(), `uid=${person.id},ou=Directory`]);
    assert.deepEqual(await targetFailures(t.ctx, SYSTEM_ACTOR, co.id, target.id), []);
    const provisioned = await historyOf(person.id, 'PROVISIONED');
    assert.deepEqual(provisioned.map((h) => h.comment), [`Provisioned to target "Directory" (uid=${person.id},ou=Directory)`]);
    assert.equal(provisioned[0]!.actor_label, 'system');
  });

  it('a later successful run of the same target and person clears a failure nobody retried', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id, { maxRetries: 0 });
    recorder.fail(target.id, 'timeout');
    const person = await buildPerson(t, co.id);
    await t.worker.drain();
    assert.equal((await onlyJob(target.id, person.id)).state, 'failed');

    recorder.heal(target.id);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'grace_period');
    await t.worker.drain();
    const jobs = await jobsOf(target.id, person.id);
    assert.deepEqual(jobs.map((j) => j.state).sort(), ['succeeded', 'superseded'], 'the old failure is settled by the reconciling run');
    const [state] = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.equal(state!.status, 'provisioned');
    assert.deepEqual(await targetFailures(t.ctx, SYSTEM_ACTOR, co.id, target.id), []);
  });

  it('lets a later target that only takes access away run although an earlier one fails (a removal fails closed)', async () => {
    const co = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, groupInput.parse({ name: 'Mail users' }));
    const directory = await addRecordingTarget(t, co.id, { description: 'LDAP', ordinal: 1, retryIntervalSeconds: 3600 });
    const tokens = await addRecordingTarget(t, co.id, { description: 'tokens', ordinal: 2, provisionGroupId: group.id });
    const person = await buildPerson(t, co.id);
    const membership = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, membershipInput.parse({ personId: person.id }));
    await t.worker.drain();
    assert.equal(recorder.callsFor(tokens.id, person.id).at(-1)?.intent, 'present');

    recorder.withdrawingAlone.add(tokens.id);
    recorder.fail(directory.id, 'connection refused');
    // Still wanted in the token target: the later target waits behind the failing one.
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'grace_period');
    await t.worker.drain();
    assert.equal(recorder.callsFor(tokens.id, person.id).length, 1, 'a run that would add waits');
    assert.match((await jobsOf(tokens.id, person.id)).find((j) => j.state === 'pending')?.last_error ?? '', /waiting for target "LDAP"/);

    // Leaving the group takes the person out of the token target: that runs at once.
    await removeMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, membership.id);
    await t.worker.drain();
    assert.equal(recorder.callsFor(tokens.id, person.id).at(-1)?.intent, 'absent', 'the withdrawal did not wait for the failing target');
    assert.equal((await stateOf(tokens.id, person.id))?.status, 'removed');
    assert.equal((await jobsOf(directory.id, person.id)).some((j) => j.state === 'pending' && j.attempts > 0), true, 'the failing target retries later');
  });

  it('provisions people outside the target’s group as absent', async () => {
    const co = await buildCo(t);
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, groupInput.parse({ name: 'Cluster users' }));
    const grouped = await addRecordingTarget(t, co.id, { description: 'cluster', provisionGroupId: group.id });
    const everyone = await addRecordingTarget(t, co.id, { description: 'everyone', ordinal: 20 });
    const member = await buildPerson(t, co.id);
    const outsider = await buildPerson(t, co.id);
    const membership = await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, membershipInput.parse({ personId: member.id }));
    await t.worker.drain();
    const last = (targetId: string, personId: string) => recorder.callsFor(targetId, personId).at(-1)?.intent;
    assert.equal(last(grouped.id, member.id), 'present');
    assert.equal(last(grouped.id, outsider.id), 'absent');
    assert.equal(last(everyone.id, outsider.id), 'present');
    assert.equal((await stateOf(grouped.id, outsider.id))?.status, 'removed');

    await removeMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, membership.id);
    await t.worker.drain();
    assert.equal(last(grouped.id, member.id), 'absent', 'leaving the group removes the person from the target');

    // Expired people keep their entry but no group memberships: absent from the group's target.
    const expired = await buildPerson(t, co.id);
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, membershipInput.parse({ personId: expired.id }));
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, expired.id, 'expired');
    await t.worker.drain();
    assert.equal(last(grouped.id, expired.id), 'absent');
    assert.equal(last(everyone.id, expired.id), 'present');
    // Pending people are provisioned nowhere.
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, expired.id, 'pending');
    await t.worker.drain();
    assert.equal(last(everyone.id, expired.id), 'absent');
  });

  it('runs duplicate waiting jobs of one (target, person) once and supersedes the rest', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id);
    const person = await buildPerson(t, co.id);
    await t.worker.drain();
    recorder.calls.length = 0;
    // Only one fresh job waits per (target, person) (the outbox folds into it); a job retrying after
    // a failed attempt waits beside it.
    const now = t.clock.now().toISOString();
    const job = (reason: string, attempts: number, lastError: string | null) => ({
      id: newId(), co_id: co.id, target_id: target.id, person_id: person.id, kind: 'sync' as const, state: 'pending' as const, attempts, run_after: now,
      locked_by: null, locked_until: null, last_error: lastError, batch_id: null, reason, created_at: now, updated_at: now,
    });
    await t.ctx.db.insertInto('provisioning_job').values(job('fresh', 0, null)).execute();
    await assert.rejects(t.ctx.db.insertInto('provisioning_job').values(job('fresh again', 0, null)).execute(), /unique|UNIQUE/, 'the schema keeps one fresh job');
    await t.ctx.db.insertInto('provisioning_job').values(job('retrying', 1, 'directory down')).execute();
    assert.equal(await t.worker.drain(), 2);
    assert.equal(recorder.calls.length, 1);
    assert.deepEqual((await jobsOf(target.id, person.id)).map((j) => j.state).sort(), ['succeeded', 'succeeded', 'superseded']);
  });

  it('drops the jobs of a target disabled before they ran', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id, { description: 'soon off' });
    const person = await buildPerson(t, co.id);
    await updateTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id, targetInput.parse({ provisionerType: target.provisionerType, description: 'soon off', mode: 'disabled', config: recordingConfig() }));
    assert.equal(await t.worker.drain(), 1);
    assert.equal(recorder.calls.length, 0);
    const job = await onlyJob(target.id, person.id);
    assert.deepEqual([job.state, job.last_error], ['superseded', 'target disabled']);
  });

  it('takes over the jobs of a worker whose lease ran out, and ignores that worker if it comes back', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id, { description: 'Directory' });
    const person = await buildPerson(t, co.id);
    const stuck = new ProvisioningWorker(t.ctx, t.registry.contributors, { leaseMs: 60 * SECOND });
    const rescuer = new ProvisioningWorker(t.ctx, t.registry.contributors, { leaseMs: 60 * SECOND });

    const gate = recorder.closeGate();
    const stuckPass = stuck.runOnce();
    for (let i = 0; gate.waiting === 0; i++) {
      assert.ok(i < 500, 'the first worker never reached the provisioner');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    let job = await onlyJob(target.id, person.id);
    assert.deepEqual([job.state, job.locked_by, job.locked_until], ['running', stuck.id, later(60 * SECOND)]);

    assert.equal(await rescuer.runOnce(), 0, 'a leased job is left alone');
    t.clock.advance(60 * SECOND + 1);
    assert.equal(await rescuer.runOnce(), 1, 'once the lease ran out, another worker takes the job');
    job = await onlyJob(target.id, person.id);
    assert.deepEqual([job.state, job.attempts, job.locked_by, job.locked_until], ['succeeded', 1, null, null]);
    assert.equal(recorder.callsFor(target.id, person.id).length, 2);

    // The first worker wakes up and its run fails: the job is no longer its to settle.
    gate.open({ fail: 'stale connection' });
    await stuckPass;
    job = await onlyJob(target.id, person.id);
    assert.deepEqual([job.state, job.attempts, job.last_error], ['succeeded', 1, null]);
    assert.equal((await stateOf(target.id, person.id))?.status, 'provisioned');
    assert.deepEqual(await historyOf(person.id, 'PROVISIONING_FAILED'), []);
    assert.equal(await t.worker.drain(), 0);
  });

  it('logs a failed job with its CO, target, job and person, and never a setting', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id, { description: 'Logged' });
    recorder.fail(target.id, 'directory unavailable');
    const person = await buildPerson(t, co.id);
    const before = t.logs.length;
    await t.worker.drain();
    const job = await onlyJob(target.id, person.id);
    const lines = t.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'provisioning job failed');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.deepEqual([line.level, line.coId, line.targetId, line.jobId, line.personId, line.attempts, line.error], [40, co.id, target.id, job.id, person.id, 1, 'directory unavailable']);
    assert.ok(!t.logs.slice(before).some((l) => l.includes('bind-secret')), 'no setting is logged');
  });
});
