// A crash of `tessera serve` (SIGKILL) in the middle of a burst of token generations: after a
// restart, every token that answered 201 binds in slapd, long before the dead process's leases
// would run out, because the jobs it held are taken back at once (their worker's process is gone).
// The leases are made 10 minutes long here, so a bind within the bound below can only come from
// that take-back, however loaded the machine; how fast recovery is on a quiet machine is measured
// by bench/reliability.bench.ts (docs/benchmarks.md). Runs the compiled command line (dist/) on
// SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { Database } from '../../src/db/database.ts';
import { BindWatcher, buildTokenWorld, generateTokens, startServe, waitForIdleWorker, type ServeProcess, type TokenWorld } from '../support/reliability.ts';
import { startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { forEachDialect, openTestDatabase } from '../support/test-app.ts';

/** The lease of a claimed job in these servers: far longer than the bound below. */
const LEASE_SECONDS = 600;
/** How long after the restart every token must bind: well inside the dead process's leases. */
const RECOVERY_BOUND_MS = 60_000;
/** Tokens answered before the kill, at least (the kill comes while more are in flight). */
const BEFORE_KILL = 60;

forEachDialect('Crash recovery', (dialect) => {
  let slapd: SlapdInstance;
  let database: Database & { cleanup(): Promise<void> };
  let world: TokenWorld;
  const servers: ServeProcess[] = [];

  before(async () => {
    slapd = await startSlapd();
    database = await openTestDatabase(dialect);
    world = await buildTokenWorld(database, slapd, { people: 60, secretKey: randomBytes(32).toString('base64url') });
  });
  after(async () => {
    for (const s of servers) await s.kill();
    await database?.cleanup();
    await slapd?.stop();
  });

  it('binds every token that answered 201 after a restart following a SIGKILL during a burst, without waiting for the dead process\'s leases', async () => {
    const env = { ...world.env, TESSERA_WORKER_LEASE_SECONDS: String(LEASE_SECONDS) };
    const first = await startServe(env);
    servers.push(first);
    await waitForIdleWorker(database, world);
    let killed = false;
    let answered = 0;
    // 16 lanes generate as fast as they can; the process is killed once BEFORE_KILL tokens
    // answered, with requests (and provisioning) in flight.
    const burst = generateTokens(first.url, world, {
      lanes: 16,
      stop: () => killed,
      onIssued: () => {
        if (++answered === BEFORE_KILL) void first.kill().then(() => (killed = true));
      },
    });
    const { issued } = await burst;
    killed = true;
    assert.ok(issued.length >= BEFORE_KILL, `${issued.length} tokens answered 201 before the kill`);

    // What the dead process left: jobs it held (running) and jobs it never reached (pending).
    const left = await database.db.selectFrom('provisioning_job').select(['state']).where('co_id', '=', world.coId).where('state', 'in', ['pending', 'running']).execute();

    const restartedAt = performance.now();
    const second = await startServe(env);
    servers.push(second);
    const watcher = new BindWatcher(slapd.url);
    for (const token of issued) watcher.watch(token);
    const unbound = await watcher.waitAll(restartedAt + RECOVERY_BOUND_MS);
    const lastBind = Math.max(...watcher.boundAt.values());
    await watcher.close();
    assert.deepEqual(
      unbound.map((u) => u.dn),
      [],
      `${unbound.length} of ${issued.length} tokens did not bind within ${RECOVERY_BOUND_MS / 1000} s of the restart (jobs left by the kill: ${left.length}, running ${left.filter((j) => j.state === 'running').length})`,
    );
    // eslint-disable-next-line no-console
    console.log(`[${dialect}] ${issued.length} tokens answered 201; after the kill ${left.filter((j) => j.state === 'running').length} jobs were running and ${left.filter((j) => j.state === 'pending').length} pending; all bound ${Math.round(lastBind - restartedAt)} ms after the restart began`);

    // Nothing stays held by the dead process once the new one has run.
    const stuck = await database.db.selectFrom('provisioning_job').select(['id', 'locked_by']).where('co_id', '=', world.coId).where('state', '=', 'running').where('locked_by', 'like', `%:${first.pid}:%`).execute();
    assert.deepEqual(stuck, [], 'no job is left running under the killed process');
    await second.stop();
  });
});
