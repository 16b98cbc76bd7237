// What the benchmark ran on, for the report: CPU, cores, memory, Node and slapd versions, date.
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cpus, totalmem, release } from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: string;
  kernel: string;
  node: string;
  slapd: string;
  postgres: string | null;
  date: string;
  commit: string;
  /** Microseconds per fstat() system call, measured from Node at the start. */
  syscallMicros: number;
  /** SHA-512 digests of 64 bytes per second in Node, one core. */
  sha512PerSecond: number;
}

/** Two quick probes of how fast this machine is right now: a system call, and a small hash. */
function probe(): { syscallMicros: number; sha512PerSecond: number } {
  const fd = openSync('/proc/self/stat', 'r');
  const n = 5000;
  let t = performance.now();
  for (let i = 0; i < n; i++) fstatSync(fd);
  const syscallMicros = ((performance.now() - t) * 1000) / n;
  closeSync(fd);
  const data = Buffer.alloc(64, 7);
  let count = 0;
  t = performance.now();
  while (performance.now() - t < 200) {
    for (let i = 0; i < 100; i++) createHash('sha512').update(data).digest();
    count += 100;
  }
  return { syscallMicros, sha512PerSecond: (count / (performance.now() - t)) * 1000 };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** What a command printed, on stdout and stderr together (slapd -VV prints on stderr); null if it did not run. */
function run(command: string, args: string[]): string | null {
  const r = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return null;
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

export function machineInfo(opts: { postgres?: boolean } = {}): MachineInfo {
  const slapdOut = run('/usr/sbin/slapd', ['-VV']) ?? '';
  const slapd = /slapd\s+([^\s]+)/.exec(slapdOut)?.[1] ?? 'not installed';
  const pgOut = opts.postgres ? run(`${process.env.TESSERA_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin'}/postgres`, ['--version']) : null;
  const commit = run('git', ['rev-parse', '--short', 'HEAD'])?.trim() ?? 'unknown';
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench'])?.trim();
  return {
    ...probe(),
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: (totalmem() / 1024 ** 3).toFixed(1),
    kernel: release(),
    node: process.version,
    slapd: `OpenLDAP ${slapd}`,
    postgres: pgOut ? (/\d+(\.\d+)+/.exec(pgOut)?.[0] ?? null) : null,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: dirty ? `${commit} (with uncommitted changes in src/ or bench/)` : commit,
  };
}

export function machineMarkdown(m: MachineInfo): string {
  return [
    '| | |',
    '|---|---|',
    `| Date | ${m.date} |`,
    `| Commit | ${m.commit} |`,
    `| CPU | ${m.cpu}, ${m.cores} cores visible |`,
    `| Memory | ${m.memoryGiB} GiB |`,
    `| Kernel | Linux ${m.kernel} |`,
    `| Node | ${m.node} |`,
    `| slapd | ${m.slapd} |`,
    `| Probe at the start | fstat() ${m.syscallMicros.toFixed(1)} µs per call; SHA-512 of 64 bytes ${Math.round(m.sha512PerSecond).toLocaleString('en-US')}/s in Node (an idle x86 server does well under 1 µs and over a million) |`,
    ...(m.postgres ? [`| PostgreSQL | ${m.postgres} (throwaway cluster of test/support/postgres.ts: fsync and synchronous_commit off) |`] : []),
  ].join('\n');
}
