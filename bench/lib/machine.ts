// What the benchmark ran on, for the report: CPU, cores, memory, Node and slapd versions, date.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

function run(command: string, args: string[]): string | null {
  try {
    // slapd -VV prints its version on stderr and exits 0 or 1 depending on the build.
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}` || null;
  }
}

export function machineInfo(opts: { postgres?: boolean } = {}): MachineInfo {
  const slapdOut = run('/usr/sbin/slapd', ['-VV']) ?? '';
  const slapd = /slapd\s+([^\s]+)/.exec(slapdOut)?.[1] ?? 'not installed';
  const pgOut = opts.postgres ? run(`${process.env.TESSERA_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin'}/postgres`, ['--version']) : null;
  const commit = run('git', ['rev-parse', '--short', 'HEAD'])?.trim() ?? 'unknown';
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench'])?.trim();
  return {
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
    ...(m.postgres ? [`| PostgreSQL | ${m.postgres} (throwaway cluster of test/support/postgres.ts: fsync and synchronous_commit off) |`] : []),
  ].join('\n');
}
