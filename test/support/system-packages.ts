// Test support for the system programs the harnesses run (slapd, PostgreSQL, the OpenLDAP CLI):
// checking they are installed, and running them as daemons that never outlive the test process.
//
// Contract: a missing program is an error, never a silent skip — a suite that skips because a part
// is missing would report green while testing nothing.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { chown, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const INSTALL_SCRIPT = '.ci/install-system-packages.sh';
const SETPRIV = '/usr/bin/setpriv';

/** Throws unless `path` is an executable file; the message says which Debian package provides it. */
export function requireCommand(path: string, debianPackage: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw missingError(basename(path), debianPackage);
  }
}

/** Throws unless `path` exists (a module, a schema file); the message names the Debian package. */
export function requireFile(path: string, debianPackage: string): void {
  if (!existsSync(path)) throw missingError(path, debianPackage);
}

function missingError(what: string, debianPackage: string): Error {
  return new Error(
    `${what} is missing: install it with \`apt-get install -y ${debianPackage}\` (or run ${INSTALL_SCRIPT})`,
  );
}

/**
 * A port that was free on 127.0.0.1 a moment ago. Another process may take it before the caller
 * binds it, so callers retry on a clash (see `retryOnPortClash`).
 */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

/** Thrown by a start attempt whose daemon could not bind its port because someone else has it. */
export class PortClashError extends Error {}

/** Runs `start` on fresh free ports until it does not fail with a PortClashError. */
export async function retryOnPortClash<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await findFreePort());
    } catch (error) {
      if (!(error instanceof PortClashError) || attempt >= attempts) throw error;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup when the test process ends

const exitCleanups = new Set<() => void>();
let exitHooksInstalled = false;
const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Registers a synchronous cleanup run when the process exits — normally, through process.exit(),
 * or by SIGINT/SIGTERM/SIGHUP (the test runner kills a timed-out file with SIGTERM, and a
 * signal-killed process emits no 'exit' event). Returns a function that unregisters it.
 * Cleanups must be idempotent and must not throw.
 */
export function onProcessExit(cleanup: () => void): () => void {
  installExitHooks();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

/** For exit cleanups: removes a temp dir, ignoring failure (a leftover beats a crash on exit). */
export function removeDirSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // Nothing better to do while exiting.
  }
}

function runExitCleanups(): void {
  for (const cleanup of [...exitCleanups]) {
    exitCleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Exiting anyway; one failed cleanup must not stop the others.
    }
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', runExitCleanups);
  for (const signal of FATAL_SIGNALS) {
    const onSignal = (): void => {
      runExitCleanups();
      // Keep the default "die by this signal" unless someone else also handles it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

// ---------------------------------------------------------------------------------------------
// Daemons

export interface DaemonOptions {
  command: string;
  args: string[];
  /** Run as this OS user when we are root (PostgreSQL refuses to run as root). */
  runAsUser?: string;
  /** Working directory; must be accessible to `runAsUser`. */
  cwd: string;
  /** The daemon's environment (default: this process's); LC_ALL=C is always added. */
  env?: NodeJS.ProcessEnv;
  /** Signal for an orderly shutdown in `stop()`. */
  stopSignal: NodeJS.Signals;
  /** Signal the daemon gets if the test process dies without calling `stop()`. */
  orphanSignal: NodeJS.Signals;
}

export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Daemon {
  readonly pid: number;
  /** Resolves when the process has exited; never rejects. */
  readonly exited: Promise<DaemonExit>;
  hasExited(): boolean;
  /** The last 64 KiB of the daemon's stdout and stderr, for error messages. */
  output(): string;
  /** Sends `stopSignal`, then SIGKILL after `timeoutMs`; resolves once the process has exited. */
  stop(timeoutMs?: number): Promise<void>;
  /** For exit handlers: sends `orphanSignal`, waits briefly (synchronously), then SIGKILL. */
  terminateSync(): void;
}

const OUTPUT_LIMIT = 64 * 1024;

/**
 * Spawns a long-running program in the foreground. The child neither keeps the test process alive
 * (a forgotten `stop()` must not hang the run) nor outlives it: on Linux it gets `orphanSignal`
 * from the kernel when we die, even by SIGKILL (setpriv --pdeathsig).
 */
export function spawnDaemon(options: DaemonOptions): Daemon {
  const [command, args] = wrapCommand(options.command, options.args, options.runAsUser, options.orphanSignal);
  const child = spawn(command, args, {
    cwd: options.cwd,
    // Untranslated messages: callers match them (e.g. "Address already in use").
    env: { ...(options.env ?? process.env), LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(child);
  let exitInfo: DaemonExit | undefined;
  const exited = new Promise<DaemonExit>((resolve) => {
    child.once('exit', (code, signal) => resolve((exitInfo = { code, signal })));
    child.once('error', (error) => {
      output.append(`spawn failed: ${error.message}\n`);
      resolve((exitInfo = { code: null, signal: null }));
    });
  });
  child.unref();
  return {
    pid: child.pid ?? -1,
    exited,
    hasExited: () => exitInfo !== undefined,
    output: output.text,
    stop: (timeoutMs = 10_000) => stopChild(child, exited, () => exitInfo !== undefined, options.stopSignal, timeoutMs),
    terminateSync: () => terminateSync(child, () => exitInfo !== undefined, options.orphanSignal),
  };
}

/** Runs a short command to completion (as `runAsUser` when root); rejects with its output on failure. */
export async function runCommand(command: string, args: string[], cwd: string, runAsUser?: string): Promise<string> {
  const [file, fileArgs] = wrapCommand(command, args, runAsUser);
  try {
    const { stdout } = await execFileAsync(file, fileArgs, { cwd, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${basename(command)} failed: ${(error as Error).message}\n${stdout}${stderr}`);
  }
}

/** The uid and gid of an OS user, when we are root and must drop to it; undefined otherwise. */
export function runAsIds(user: string | undefined): { uid: number; gid: number } | undefined {
  if (user === undefined || process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${user}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`OS user ${user} does not exist`);
  return { uid: Number(uid), gid: Number(gid) };
}

function wrapCommand(
  command: string,
  args: string[],
  runAsUser: string | undefined,
  parentDeathSignal?: NodeJS.Signals,
): [string, string[]] {
  const prefix: string[] = [];
  if (runAsIds(runAsUser) !== undefined) prefix.push(`--reuid=${runAsUser}`, `--regid=${runAsUser}`, '--init-groups');
  if (parentDeathSignal !== undefined && process.platform === 'linux') prefix.push(`--pdeathsig=${parentDeathSignal}`);
  if (prefix.length === 0) return [command, args];
  requireCommand(SETPRIV, 'util-linux');
  return [SETPRIV, [...prefix, '--', command, ...args]];
}

function captureOutput(child: ChildProcess): { text: () => string; append: (s: string) => void } {
  let buffer = '';
  const append = (text: string): void => {
    buffer += text;
    if (buffer.length > OUTPUT_LIMIT) buffer = buffer.slice(-OUTPUT_LIMIT);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    stream.setEncoding('utf8');
    // Always drain: a daemon blocked on a full pipe looks like a hung daemon.
    stream.on('data', append);
    (stream as { unref?: () => void }).unref?.();
  }
  return { text: () => buffer, append };
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<DaemonExit>,
  hasExited: () => boolean,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<void> {
  if (hasExited()) return;
  child.kill(signal);
  // This timer is ref'd on purpose: it keeps the event loop alive until the exit is observed.
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function terminateSync(child: ChildProcess, hasExited: () => boolean, signal: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined || hasExited()) return;
  child.kill(signal);
  if (!waitForDeathSync(pid, 3_000)) child.kill('SIGKILL');
}

/** Inside an 'exit' handler nothing reaps children, so a dead child shows as a zombie ('Z'). */
function waitForDeathSync(pid: number, timeoutMs: number): boolean {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isDeadOrZombie(pid)) return true;
    Atomics.wait(sleeper, 0, 0, 10);
  }
  return false;
}

function isDeadOrZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Template data directories (a database's initialised data directory, copied for each instance)

/** A temporary directory under `parent`, owned by `runAsUser` when we are root (a server's data). */
export async function makeOwnedTempDir(parent: string, prefix: string, runAsUser: string): Promise<string> {
  const dir = await mkdtemp(join(parent, prefix));
  const ids = runAsIds(runAsUser);
  if (ids !== undefined) await chown(dir, ids.uid, ids.gid);
  return dir;
}

/**
 * The template directory `template`, built by `build` into a fresh directory (made, owned by
 * `runAsUser`, beside `stagingPrefix`) when none usable exists. It appears by an atomic rename, so
 * one that exists is complete and parallel test processes racing to build it cannot see a
 * half-written one; one is usable when `runAsUser` owns it (os.tmpdir() is shared) and it holds
 * `marker` (a path inside it that only a finished build has). Returns the template's path.
 */
export async function findOrBuildTemplate(
  template: string,
  options: { runAsUser: string; marker: string; stagingPrefix: string; build: (staging: string) => Promise<void> },
): Promise<string> {
  const owner = runAsIds(options.runAsUser)?.uid ?? process.getuid?.() ?? 0;
  const usable = async () => {
    try {
      return (await stat(template)).uid === owner && (await stat(join(template, options.marker))) !== undefined;
    } catch {
      return false;
    }
  };
  if (await usable()) return template;
  await rm(template, { recursive: true, force: true }); // exists but unusable: broken, not half-built
  const staging = await makeOwnedTempDir(dirname(template), options.stagingPrefix, options.runAsUser);
  try {
    await options.build(staging);
    await rename(staging, template);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (await usable()) return template; // another process won the race
    throw error;
  }
  return template;
}
