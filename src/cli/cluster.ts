import cluster, { type Worker } from 'node:cluster';
import { dialectOf } from '../db/database.ts';

/** The processes `tessera serve` runs: `--processes N`, else TESSERA_PROCESSES, else 1. */
export function processCount(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const i = args.indexOf('--processes');
  const raw = i >= 0 ? args[i + 1] : env.TESSERA_PROCESSES;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`--processes / TESSERA_PROCESSES must be a whole number from 1 to 256, not "${raw}"`);
  return n;
}

/** How long the primary waits for its processes to drain at SIGTERM before it kills them (ms). */
const STOP_TIMEOUT_MS = 28_000;
/** A process that dies within this time of its start is not restarted (a start-up error would loop). */
const MIN_LIFETIME_MS = 5_000;

/**
 * `tessera serve` with several processes (Node's cluster module), on PostgreSQL only: the primary
 * forks N copies of `tessera serve`, which share the listening socket (the primary hands new
 * connections round robin to them). The first process migrates the database and runs the
 * background work (when TESSERA_WORKER is on); the others start once it listens, and serve only.
 * A process that dies is started again in its place. SIGTERM or SIGINT to the primary drains every
 * process (each does what a single `tessera serve` does at SIGTERM) and then exits.
 *
 * Returns undefined when this process should serve by itself (one process, or a cluster worker),
 * else the primary's exit status once every process has stopped. Caches, rate-limit counters and
 * the "verified recently" invalidation work across processes through PostgreSQL (README, "Several
 * processes and hosts").
 */
export async function runClusterPrimary(args: readonly string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<number | undefined> {
  if (!cluster.isPrimary) return undefined;
  const count = processCount(args, env);
  if (count === 1) return undefined;
  if (dialectOf(env.TESSERA_DATABASE_URL ?? 'data/tessera.sqlite') !== 'postgres') {
    throw new Error('several processes (--processes, TESSERA_PROCESSES) need PostgreSQL (TESSERA_DATABASE_URL=postgres://…): a SQLite file takes one writer');
  }
  const background = (env.TESSERA_WORKER ?? 'on') === 'on' ? 'on' : 'off';
  cluster.setupPrimary({ args: ['serve'] });
  let stopping = false;
  const slots = new Map<Worker, { slot: number; started: number }>();
  const fork = (slot: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ TESSERA_PROCESSES: '1', TESSERA_WORKER: slot === 0 ? background : 'off', TESSERA_PROCESS_SLOT: String(slot) });
      slots.set(worker, { slot, started: Date.now() });
      worker.once('listening', () => resolve());
      worker.once('exit', (code) => reject(new Error(`process ${slot + 1} exited with status ${code} during start-up`)));
    });

  cluster.on('exit', (worker, code, signal) => {
    const entry = slots.get(worker);
    slots.delete(worker);
    if (stopping || !entry) return;
    if (Date.now() - entry.started < MIN_LIFETIME_MS) {
      log(`tessera: process ${entry.slot + 1} exited at start-up (status ${code ?? signal}); stopping`);
      void stopAll(1);
      return;
    }
    log(`tessera: process ${entry.slot + 1} exited (status ${code ?? signal}); starting it again`);
    fork(entry.slot).catch((e: unknown) => log(`tessera: ${(e as Error).message}`));
  });

  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    const workers = [...slots.keys()];
    const timer = setTimeout(() => workers.forEach((w) => w.process.kill('SIGKILL')), STOP_TIMEOUT_MS);
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : (w.once('exit', () => resolve()), w.process.kill('SIGTERM'))))));
    clearTimeout(timer);
    resolveExit(code);
  };
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGINT', () => void stopAll(0));

  try {
    await fork(0);
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => fork(i + 1)));
  } catch (e) {
    log(`tessera: ${(e as Error).message}`);
    await stopAll(1);
    return 1;
  }
  log(`tessera: serving with ${count} processes (pids ${[...slots.keys()].map((w) => w.process.pid).join(', ')})`);
  return exited;
}
