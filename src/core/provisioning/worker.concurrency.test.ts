import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { addRecordingTarget, useRecordingTestApp } from '../../../test/support/recording-provisioner.ts';
import { buildCo, buildPerson, forEachDialect } from '../../../test/support/test-app.ts';
import { openDatabase, type Database } from '../../db/database.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { batchProgress, requestReprovision } from './provisioning.service.ts';
import { ProvisioningWorker } from './worker.ts';

const PEOPLE = 100;
const GENERATIONS = 2;

forEachDialect('Several provisioning workers on one database', (dialect) => {
  if (dialect === 'sqlite') {
    // better-sqlite3 blocks the event loop while it waits for a lock, so two handles in one
    // process would stall each other; several workers are a PostgreSQL deployment anyway.
    it('runs on PostgreSQL only', { skip: 'several workers need PostgreSQL' }, () => {});
    return;
  }

  const { t, recorder } = useRecordingTestApp(dialect);
  let secondPool: Database;
  before(() => {
    secondPool = openDatabase(t.database.url);
  });
  after(() => secondPool.destroy());

  it('never runs one job twice when two workers on separate pools claim at the same time', async () => {
    const co = await buildCo(t);
    const targets = [
      await addRecordingTarget(t, co.id, { description: 'directory', mode: 'manual', ordinal: 1 }),
      await addRecordingTarget(t, co.id, { description: 'tokens', mode: 'manual', ordinal: 2 }),
    ];
    const people = [];
    for (let i = 0; i < PEOPLE; i++) people.push(await buildPerson(t, co.id));

    // Two processes' worth of workers: separate instances over separate connection pools.
    const workers = [
      new ProvisioningWorker(t.ctx, t.registry.contributors, { batchSize: 7, concurrency: 4 }),
      new ProvisioningWorker({ ...t.ctx, db: secondPool.db }, t.registry.contributors, { batchSize: 7, concurrency: 4 }),
    ];
    assert.notEqual(workers[0]!.id, workers[1]!.id);
    const ranBy = [0, 0];
    const passes = [0, 0];
    recorder.delayMs = 2;

    for (let generation = 1; generation <= GENERATIONS; generation++) {
      recorder.generation = generation;
      const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, co.id);
      assert.equal(batch.total, PEOPLE * targets.length);
      // Each worker runs two passes at a time, over and over, until the batch is done.
      const lane = async (w: number) => {
        for (;;) {
          const ran = await workers[w]!.runOnce();
          ranBy[w]! += ran;
          passes[w]!++;
          if (ran > 0) continue;
          if ((await batchProgress(t.ctx, SYSTEM_ACTOR, co.id, batch.batchId)).pending === 0) return;
          await sleep(1);
        }
      };
      await Promise.all([lane(0), lane(1), lane(0), lane(1)]);
      const progress = await batchProgress(t.ctx, SYSTEM_ACTOR, co.id, batch.batchId);
      assert.deepEqual([progress.done, progress.failed, progress.pending], [PEOPLE * targets.length, 0, 0]);
    }

    const counts = recorder.countsByRun();
    assert.equal(counts.size, PEOPLE * targets.length * GENERATIONS, 'every (target, person) ran in every generation');
    const twice = [...counts].filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], 'no (target, person, generation) ran more than once');
    assert.equal(recorder.calls.length, PEOPLE * targets.length * GENERATIONS);
    assert.ok(ranBy[0]! > 0 && ranBy[1]! > 0, `both workers took jobs (${ranBy.join(' and ')}, in ${passes.join(' and ')} passes)`);

    const jobs = await t.ctx.db.selectFrom('provisioning_job').select(['state', 'attempts', 'locked_by']).where('co_id', '=', co.id).execute();
    assert.equal(jobs.length, PEOPLE * targets.length * GENERATIONS);
    assert.ok(jobs.every((j) => j.state === 'succeeded' && j.attempts === 1 && j.locked_by === null));
    // Within a person, the targets still ran in order.
    for (const person of people.slice(0, 10)) {
      const order = recorder.calls.filter((c) => c.personId === person.id).map((c) => `${c.generation}:${c.targetDescription}`);
      assert.deepEqual(order, ['1:directory', '1:tokens', '2:directory', '2:tokens']);
    }
  });
});
