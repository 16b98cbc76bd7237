import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../logging/logger.ts';
import { BackgroundJob, type BackgroundJobOptions } from './background-job.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < until, `timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A job over a scripted pass: `results` are returned (or thrown) in turn, then 0. */
function scripted(results: Array<number | Error>, options: Partial<BackgroundJobOptions> = {}) {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', stream: { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) } });
  const passes: number[] = [];
  const job = new BackgroundJob({
    name: 'test-job',
    logger,
    pollMs: 10_000,
    pass: async () => {
      passes.push(Date.now());
      const next = results.shift() ?? 0;
      if (next instanceof Error) throw next;
      return next;
    },
    ...options,
  });
  return { job, passes, logs };
}

describe('BackgroundJob', () => {
  it('runs a first pass on start, goes on at once while passes handle items, then waits for the poll', async () => {
    const { job, passes } = scripted([3, 2, 0]);
    const stop = job.start();
    await waitFor(() => passes.length === 3, 'three passes');
    await sleep(30);
    assert.equal(passes.length, 3, 'an idle pass waits for the poll interval');
    await stop();
  });

  it('polls every pollMs when idle', async () => {
    const { job, passes } = scripted([], { pollMs: 5 });
    const stop = job.start();
    await waitFor(() => passes.length >= 4, 'four polls');
    await stop();
  });

  it('stop waits for the running pass and no pass follows', async () => {
    let release!: () => void;
    let finished = false;
    let calls = 0;
    const job = new BackgroundJob({
      name: 'slow',
      logger: createLogger(false),
      pollMs: 1,
      pass: async () => {
        calls++;
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
        return 1;
      },
    });
    job.start();
    await waitFor(() => calls === 1, 'the pass to start');
    const stopping = job.stop();
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await sleep(5);
    assert.equal(stopped, false, 'stop waits for the pass');
    release();
    await stopping;
    assert.equal(finished, true);
    await sleep(10);
    assert.equal(calls, 1, 'no pass after stop');
  });

  it('turns a burst of nudges into one pass soon after the last', async () => {
    const { job, passes } = scripted([]);
    const stop = job.start();
    await waitFor(() => passes.length === 1, 'the first pass');
    for (let i = 0; i < 5; i++) job.nudge();
    await waitFor(() => passes.length === 2, 'the nudged pass', 500);
    await sleep(40);
    assert.equal(passes.length, 2, 'one pass for the burst');
    await stop();
  });

  it('a steady stream of nudges never starves the pass (maximum wait)', async () => {
    const { job, passes } = scripted([], { nudgeDelayMs: 20, nudgeMaxWaitMs: 40 });
    const stop = job.start();
    await waitFor(() => passes.length === 1, 'the first pass');
    const started = Date.now();
    // A nudge every 5 ms: the debounce alone (20 ms after the last) would never fire.
    while (passes.length < 3) {
      assert.ok(Date.now() - started < 1000, 'nudged passes never came');
      job.nudge();
      await sleep(5);
    }
    await stop();
  });

  it('a nudge during a pass gives another pass right after it', async () => {
    let release!: () => void;
    let calls = 0;
    const job = new BackgroundJob({
      name: 'nudged',
      logger: createLogger(false),
      pollMs: 10_000,
      pass: async () => {
        calls++;
        if (calls === 1) await new Promise<void>((resolve) => (release = resolve));
        return 0;
      },
    });
    const stop = job.start();
    await waitFor(() => calls === 1, 'the first pass');
    job.nudge();
    release();
    await waitFor(() => calls === 2, 'the pass after the nudge', 500);
    await stop();
  });

  it('logs a failing pass and backs off, doubling the wait, until a pass succeeds', async () => {
    const boom = new Error('database unreachable');
    const { job, passes, logs } = scripted([boom, boom, boom, 1, 0], { pollMs: 10, maxBackoffMs: 1000 });
    const stop = job.start();
    await waitFor(() => passes.length === 5, 'recovery');
    await stop();
    const gaps = passes.slice(1).map((t, i) => t - passes[i]!);
    // Waits after the failures: at least 10, 20, 40 ms (timers never fire early; a busy machine
    // makes them late, so only the lower bounds are exact); then at once after the pass that
    // handled an item.
    assert.ok(gaps[0]! >= 9 && gaps[1]! >= 19 && gaps[2]! >= 39, `back-off doubles: ${gaps.join(', ')}`);
    const errors = logs.filter((l) => l.level === 50);
    assert.equal(errors.length, 3);
    assert.equal(errors[0]!.msg, 'test-job pass failed');
    assert.equal(errors[0]!.job, 'test-job');
    assert.equal((errors[0]!.err as { message: string }).message, 'database unreachable');
    assert.deepEqual(errors.map((e) => e.failuresInARow), [1, 2, 3]);
  });

  it('caps the back-off and ignores nudges while backing off', async () => {
    const { job, passes } = scripted([new Error('a'), new Error('b')], { pollMs: 30, maxBackoffMs: 30 });
    const stop = job.start();
    await waitFor(() => passes.length === 1, 'the failing pass');
    job.nudge();
    await sleep(15);
    assert.equal(passes.length, 1, 'a nudge does not cut the back-off short');
    await waitFor(() => passes.length === 3, 'two retries');
    assert.ok(passes[2]! - passes[1]! < 200, 'the wait stays at the cap');
    await stop();
  });

  it('drain runs passes until one handles nothing; runOnce passes never overlap', async () => {
    let active = 0;
    let most = 0;
    const counts = [2, 5, 1, 0, 7];
    const job = new BackgroundJob({
      name: 'drain',
      logger: createLogger(false),
      pass: async () => {
        active++;
        most = Math.max(most, active);
        await sleep(2);
        active--;
        return counts.shift() ?? 0;
      },
    });
    assert.equal(await job.drain(), 8);
    assert.deepEqual(await Promise.all([job.runOnce(), job.runOnce()]), [7, 0]);
    assert.equal(most, 1);
  });

  it('runOnce hands a failure to its caller, and nudges do nothing while stopped', async () => {
    const { job, passes } = scripted([new Error('nope')]);
    await assert.rejects(job.runOnce(), /nope/);
    job.nudge();
    await sleep(40);
    assert.equal(passes.length, 1);
    assert.equal(await job.runOnce(), 0, 'the job is usable after a failure');
  });

  it('does not keep the process alive', async () => {
    const { job } = scripted([], { pollMs: 60_000 });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const stop = job.start();
    try {
      await sleep(5);
      const during = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      assert.equal(during, before, 'its timers are unref’d');
    } finally {
      await stop();
    }
  });
});
