// The HTTP load generator of bench:verify: wrk (Debian package `wrk`) with bench/lib/verify.lua.
// wrk is written in C and costs far less CPU per request than an HTTP client in Node, so the HTTP
// side is not handicapped against the LDAP side (ldapts, whose cost per bind is measured too).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pair, RoundResult } from './load.ts';
import { Latencies } from './stats.ts';

const SCRIPT = fileURLToPath(new URL('verify.lua', import.meta.url));

/** Fails with what to install when wrk is missing. */
export function requireWrk(): void {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) throw new Error('bench:verify needs wrk, the HTTP load generator: apt-get install wrk (Debian package "wrk")');
}

/** Percentiles wrk measured (it keeps its own histogram). */
class WrkLatencies extends Latencies {
  constructor(private readonly fixed: Record<number, number>) {
    super();
  }
  override p(pct: number): number {
    return this.fixed[pct] ?? Number.NaN;
  }
}

export interface WrkRound extends RoundResult {
  /** CPU milliseconds wrk used per counted request. */
  clientCpuMs: number;
}

/**
 * One round: wrk with one thread and `connections` keep-alive connections against `url`.
 * `random` draws pairs for `durationMs`; `list` sends each pair once (the round ends when all
 * answered). `spare` is a pair already verified, sent after the list ran out (not counted).
 */
export async function runWrk(opts: { url: string; key: string; pairs: readonly Pair[]; mode: 'random' | 'list'; durationMs: number; connections: number; dir: string; spare?: Pair }): Promise<WrkRound> {
  const pairsFile = join(opts.dir, `pairs-${process.pid}-${Date.now()}.tsv`);
  writeFileSync(pairsFile, opts.pairs.map((p) => `${p.user}\t${p.token}\n`).join(''));
  // A list round stops itself; its -d is only a safety limit.
  const seconds = opts.mode === 'list' ? 600 : Math.max(1, Math.round(opts.durationMs / 1000));
  const env = { ...process.env, BENCH_MODE: opts.mode, BENCH_KEY: opts.key, BENCH_PAIRS: pairsFile, BENCH_SPARE: opts.spare ? `${opts.spare.user}\t${opts.spare.token}` : '' };
  // bash's `times` prints the CPU time of its children (wrk) once it exited.
  const cmd = `wrk -t1 -c${opts.connections} -d${seconds}s --timeout 60s --latency -s '${SCRIPT}' '${opts.url}' ; times`;
  let startedAt = Number.NaN;
  let doneAt = Number.NaN;
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-c', cmd], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (Number.isNaN(startedAt) && text.includes('BENCH_START')) startedAt = performance.now();
      if (Number.isNaN(doneAt) && text.includes('BENCH_DONE')) {
        doneAt = performance.now();
        // wrk itself is the child of bash; SIGINT makes it print its summary and exit.
        const wrkPid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
        if (wrkPid > 0) process.kill(wrkPid, 'SIGINT');
      }
    });
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
  const line = /BENCH_RESULT (\{.*\})/.exec(out);
  if (!line) throw new Error(`wrk gave no result:\n${out}`);
  const r = JSON.parse(line[1]!) as { counted: number; requests: number; duration_us: number; errors: number; p50_us: number; p99_us: number; socket_errors: number; first_error: string };
  const times = [...out.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
  const cpuSeconds = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : Number.NaN;
  const ops = r.counted;
  const elapsedMs = opts.mode === 'list' ? doneAt - startedAt : r.duration_us / 1000;
  if (!(elapsedMs > 0)) throw new Error(`wrk list round without start and end marks:\n${out}`);
  return {
    ops,
    errors: r.errors + r.socket_errors,
    firstError: r.first_error || (r.socket_errors ? `${r.socket_errors} socket errors` : null),
    elapsedMs,
    perSecond: ((opts.mode === 'list' ? ops : r.requests) / elapsedMs) * 1000,
    latency: new WrkLatencies({ 50: r.p50_us / 1000, 99: r.p99_us / 1000 }),
    clientCpuMs: (cpuSeconds * 1000) / Math.max(1, r.requests),
  };
}
