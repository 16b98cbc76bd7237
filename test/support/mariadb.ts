// Throwaway MariaDB servers for tests (COmanage Registry runs on MySQL/MariaDB as well as
// PostgreSQL, so its data is read from both): each on its own random loopback port, data directory
// and socket, with durability switched off. Nothing here is safe for real data.
//
// Speed: mariadb-install-db takes a few seconds, so it runs once per MariaDB version and OS user;
// the resulting data directory is kept under os.tmpdir() as a template and each server starts
// from a copy of it (about 0.7 s to ready).
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import {
  PortClashError,
  findOrBuildTemplate as findOrBuildTemplateDir,
  makeOwnedTempDir as makeSharedOwnedTempDir,
  onProcessExit,
  removeDirSync,
  requireCommand,
  retryOnPortClash,
  runAsIds,
  runCommand,
  spawnDaemon,
  type Daemon,
} from './system-packages.ts';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const MARIADB_PACKAGE = 'mariadb-server';
/** mariadbd refuses to run as root without --user; the data directory belongs to this OS user. */
const MARIADB_OS_USER = 'mysql';
/** Bump when the install options change, so stale templates are not reused. */
const TEMPLATE_FORMAT = 'v1';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface MariadbInstance {
  /** `mysql://root@127.0.0.1:<port>/mysql`; root needs no password over TCP. */
  url: string;
  port: number;
  /** Orderly shutdown, then removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a fresh, empty server. The caller must `stop()` it; if not, it dies with the process. */
export async function startMariadb(): Promise<MariadbInstance> {
  requireCommand(MARIADBD, MARIADB_PACKAGE);
  requireCommand(INSTALL_DB, MARIADB_PACKAGE);
  const template = await ensureTemplate();
  const dir = await makeOwnedTempDir(tmpdir(), 'tessera-mariadb-');
  const dataDir = join(dir, 'data');
  let daemon: Daemon | undefined;
  const unregister = onProcessExit(() => {
    daemon?.terminateSync();
    removeDirSync(dir);
  });
  try {
    await runCommand('cp', ['-a', template, dataDir], dir);
    const port = await retryOnPortClash(async (candidate) => {
      daemon = await startServer(dir, dataDir, candidate);
      return candidate;
    });
    let stopping: Promise<void> | undefined;
    return {
      url: `mysql://root@127.0.0.1:${port}/mysql`,
      port,
      stop() {
        stopping ??= (async () => {
          await daemon?.stop(STOP_TIMEOUT_MS);
          await rm(dir, { recursive: true, force: true, maxRetries: 3 });
          unregister();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await daemon?.stop(STOP_TIMEOUT_MS);
    await rm(dir, { recursive: true, force: true });
    unregister();
    throw error;
  }
}

/**
 * Creates an empty utf8mb4 database in the server behind `url` and returns its URL, so one server
 * can serve several isolated suites. `name` defaults to a random `test_<hex>`.
 */
export async function createMariadbDatabase(url: string, name = `test_${randomBytes(6).toString('hex')}`): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name: ${name}`);
  const connection = await createConnection(url);
  try {
    await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await connection.end();
  }
  const databaseUrl = new URL(url);
  databaseUrl.pathname = `/${name}`;
  return databaseUrl.toString();
}

async function startServer(dir: string, dataDir: string, port: number): Promise<Daemon> {
  const daemon = spawnDaemon({
    command: MARIADBD,
    args: [
      '--no-defaults', // never read /etc/mysql: the system server's settings are not ours
      `--datadir=${dataDir}`,
      `--socket=${join(dir, 'sock')}`,
      `--pid-file=${join(dir, 'pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-doublewrite=0',
      '--innodb-buffer-pool-size=64M',
      '--skip-log-bin',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      ...(process.getuid?.() === 0 ? [`--user=${MARIADB_OS_USER}`] : []),
    ],
    cwd: dir,
    stopSignal: 'SIGTERM', // orderly shutdown
    orphanSignal: 'SIGKILL', // the data directory is thrown away anyway
  });
  try {
    await waitUntilAccepting(daemon, port);
    return daemon;
  } catch (error) {
    await daemon.stop(STOP_TIMEOUT_MS);
    if (/Address already in use|Do you already have another .* server running/.test(daemon.output())) {
      throw new PortClashError(daemon.output());
    }
    throw error;
  }
}

async function waitUntilAccepting(daemon: Daemon, port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (daemon.hasExited()) throw new Error(`mariadbd exited during start-up:\n${daemon.output()}`);
    try {
      const connection = await createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1_000 });
      await connection.end();
      return;
    } catch (error) {
      lastError = error; // refused while starting
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`mariadbd did not accept connections within ${READY_TIMEOUT_MS} ms (${String(lastError)}):\n${daemon.output()}`);
}

// ---------------------------------------------------------------------------------------------
// Template data directory

let templatePromise: Promise<string> | undefined;

/** The path of an installed data directory to copy; built at most once per version and user. */
function ensureTemplate(): Promise<string> {
  templatePromise ??= findOrBuildTemplate().catch((error: unknown) => {
    templatePromise = undefined;
    throw error;
  });
  return templatePromise;
}

async function findOrBuildTemplate(): Promise<string> {
  const version = await mariadbVersion();
  const owner = runAsIds(MARIADB_OS_USER)?.uid ?? process.getuid?.() ?? 0;
  return findOrBuildTemplateDir(join(tmpdir(), `tessera-mariadb-template-${version}-${TEMPLATE_FORMAT}-uid${owner}`), {
    runAsUser: MARIADB_OS_USER,
    marker: 'mysql',
    stagingPrefix: `tessera-mariadb-template-${version}-staging-`,
    build: async (staging) => {
      await runCommand(
        INSTALL_DB,
        [
          '--no-defaults',
          `--datadir=${staging}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          ...(process.getuid?.() === 0 ? [`--user=${MARIADB_OS_USER}`] : []),
        ],
        staging,
      );
    },
  });
}

async function mariadbVersion(): Promise<string> {
  const output = await runCommand(MARIADBD, ['--version'], tmpdir());
  const version = /\d+\.\d+\.\d+/.exec(output)?.[0];
  if (version === undefined) throw new Error(`cannot read the MariaDB version from: ${output}`);
  return version;
}

function makeOwnedTempDir(parent: string, prefix: string): Promise<string> {
  return makeSharedOwnedTempDir(parent, prefix, MARIADB_OS_USER);
}
