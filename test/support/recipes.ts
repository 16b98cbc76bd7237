// The recipes of docs/integrations/ as configuration files, and real servers from Debian's packages
// run in the foreground on a loopback port. No Tessera code here: the recipes' tests
// (test/integrations/) and the directory demo (scripts/directory-demo.ts) share it.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findFreePort, onProcessExit, removeDirSync, spawnDaemon, type Daemon } from './system-packages.ts';

const execFileAsync = promisify(execFile);
const RECIPES = fileURLToPath(new URL('../../docs/integrations/', import.meta.url));

/**
 * A recipe's configuration file (path under docs/integrations/) with its `{{NAME}}` placeholders
 * filled. Throws when the file names a placeholder `values` lacks, or `values` one it never uses,
 * so a template and its test cannot drift apart.
 */
export async function renderRecipe(path: string, values: Record<string, string | number>): Promise<string> {
  const text = await readFile(join(RECIPES, path), 'utf8');
  const used = new Set<string>();
  const out = text.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`${path}: no value for {{${name}}}`);
    used.add(name);
    return String(values[name]);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`${path}: never uses ${unused.join(', ')}`);
  return out;
}

/** A temp directory the servers' unprivileged workers can enter; removed by `remove()` or at exit. */
export async function runDirectory(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `tessera-${prefix}-`));
  await chmod(path, 0o755);
  const unregister = onProcessExit(() => removeDirSync(path));
  return {
    path,
    remove: async () => {
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
      unregister();
    },
  };
}

/** Writes a file, readable by the servers' workers. */
export async function writeConfig(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o644 });
}

export interface ForegroundServer {
  port: number;
  daemon: Daemon;
  /** SIGTERM (SIGKILL after 10 s); resolves once the process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts a server in the foreground on a free loopback port. `configure(port)` writes its
 * configuration and returns the command line; the server is ready once `ready()` is true (by
 * default: a TCP connection to the port succeeds). A start that fails because the port was taken
 * meanwhile is retried on another port; any other early exit throws with the server's output.
 * With `port`, that port only: a port in use fails at once.
 */
export async function startForegroundServer(opts: {
  name: string;
  cwd: string;
  configure: (port: number) => Promise<{ command: string; args: string[] }>;
  ready?: (port: number, daemon: Daemon) => Promise<boolean>;
  timeoutMs?: number;
  port?: number;
}): Promise<ForegroundServer> {
  const ready = opts.ready ?? ((port) => tcpOpen(port));
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await findFreePort());
    const { command, args } = await opts.configure(port);
    const daemon = spawnDaemon({ command, args, cwd: opts.cwd, stopSignal: 'SIGTERM', orphanSignal: 'SIGKILL' });
    const unregister = onProcessExit(() => daemon.terminateSync());
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    for (;;) {
      if (daemon.hasExited()) break;
      if (await ready(port, daemon)) {
        return {
          port,
          daemon,
          stop: async () => {
            await daemon.stop(10_000);
            unregister();
          },
        };
      }
      if (Date.now() > deadline) {
        await daemon.stop(2_000);
        unregister();
        throw new Error(`${opts.name} did not become ready on port ${port}:\n${daemon.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await daemon.exited;
    unregister();
    if (/address already in use/i.test(daemon.output()) && attempt < 5 && opts.port === undefined) continue;
    throw new Error(`${opts.name} exited while starting:\n${daemon.output()}`);
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` now. */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs a client program; resolves with its exit code and output (never rejects on a non-zero exit). */
export async function runClient(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd: opts.cwd, env: { ...(opts.env ?? process.env), LC_ALL: 'C' }, timeout: opts.timeoutMs ?? 30_000, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; killed?: boolean };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
