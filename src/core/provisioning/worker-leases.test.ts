import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import { addRecordingTarget, useRecordingTestApp } from '../../../test/support/recording-provisioner.ts';
import { buildCo, buildPerson, forEachDialect } from '../../../test/support/test-app.ts';
import { deadWorkersOnThisHost, ProvisioningWorker } from './worker.ts';

/** The pid of a process of this host that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

forEachDialect('Provisioning leases', (dialect) => {
  const { t, recorder } = useRecordingTestApp(dialect);
  const jobOf = (targetId: string, personId: string) => t.ctx.db.selectFrom('provisioning_job').selectAll().where('target_id', '=', targetId).where('person_id', '=', personId).executeTakeFirstOrThrow();

  it('renews the lease of the jobs it runs while a pass lasts (the heartbeat), so nobody takes them over', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id);
    const person = await buildPerson(t, co.id);
    const busy = new ProvisioningWorker(t.ctx, t.registry.contributors, { leaseMs: 300 });
    const other = new ProvisioningWorker(t.ctx, t.registry.contributors, { leaseMs: 300 });
    const gate = recorder.closeGate();
    const pass = busy.runOnce();
    while (gate.waiting === 0) await sleep(5);
    const claimed = await jobOf(target.id, person.id);
    assert.equal(claimed.locked_until, new Date(t.clock.now().getTime() + 300).toISOString());

    // Time passes beyond the lease while the provisioner is still at work: the heartbeat moves it on.
    t.clock.advance(1000);
    const renewed = new Date(t.clock.now().getTime() + 300).toISOString();
    for (let i = 0; (await jobOf(target.id, person.id)).locked_until !== renewed; i++) {
      assert.ok(i < 200, 'the lease was never renewed');
      await sleep(10);
    }
    assert.equal(await other.runOnce(), 0, 'a job whose lease is renewed stays with its worker');
    gate.open();
    assert.equal(await pass, 1);
    const done = await jobOf(target.id, person.id);
    assert.deepEqual([done.state, done.locked_by, done.attempts], ['succeeded', null, 1]);
    assert.equal(recorder.callsFor(target.id, person.id).length, 1, 'ran once');
  });

  it('takes back at once the jobs of a worker whose process on this host is gone, before its lease runs out', async () => {
    const co = await buildCo(t);
    const target = await addRecordingTarget(t, co.id);
    const person = await buildPerson(t, co.id);
    const pid = await deadPid();
    const dead = `${hostname()}:${pid}:0badf00d`;
    const alive = `${hostname()}:${process.ppid}:0badf00d`;
    assert.deepEqual(deadWorkersOnThisHost([dead, alive, `elsewhere.example:${pid}:0badf00d`, 'not-a-worker-id']), [dead], 'only the dead one of this host');

    // The job as a killed server left it: running, its lease an hour away.
    await t.ctx.db
      .updateTable('provisioning_job')
      .set({ state: 'running', locked_by: dead, locked_until: new Date(t.clock.now().getTime() + 3_600_000).toISOString() })
      .where('target_id', '=', target.id)
      .where('person_id', '=', person.id)
      .execute();
    assert.equal(await t.worker.runOnce(), 1, 'the next pass takes the job back and runs it');
    const job = await jobOf(target.id, person.id);
    assert.deepEqual([job.state, job.locked_by], ['succeeded', null]);
    assert.equal(recorder.callsFor(target.id, person.id).length, 1);
    assert.ok(t.logs.some((l) => l.includes('taken back from stopped workers')), 'the take-over is logged');

    // A live process's jobs stay with it until their lease runs out.
    const second = await buildPerson(t, co.id);
    await t.ctx.db
      .updateTable('provisioning_job')
      .set({ state: 'running', locked_by: alive, locked_until: new Date(t.clock.now().getTime() + 60_000).toISOString() })
      .where('target_id', '=', target.id)
      .where('person_id', '=', second.id)
      .execute();
    assert.equal(await t.worker.runOnce(), 0);
    t.clock.advance(60_001);
    assert.equal(await t.worker.runOnce(), 1, 'taken over once the lease ran out');
    const taken = await jobOf(target.id, second.id);
    assert.deepEqual([taken.state, taken.last_error], ['succeeded', null]);
  });
});
