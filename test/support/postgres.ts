// Throwaway PostgreSQL clusters for tests: each on its own random loopback port, data directory
// and socket directory, with durability switched off. Nothing here is safe for real data.
//
// Speed: initdb takes about a second, so it runs once per PostgreSQL version and OS user; the
// resulting data directory is kept under os.tmpdir() as a template and each cluster starts from a
// copy of it. Copying is then the slowest step (28 MB, a thousand files), so clusters live on a
// roomy tmpfs (/dev/shm) when there is one; TESSERA_TEST_TMPDIR overrides the choice.
import { statfsSync } from 'node:fs';
import { chown, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
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

const PG_BIN_DIR = process.env.TESSERA_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const PG_PACKAGE = 'postgresql-15';
/** PostgreSQL refuses to run as root; when we are root it runs as this OS user. */
const PG_OS_USER = 'postgres';
/** Bump when the initdb options change, so stale templates are not reused. */
const TEMPLATE_FORMAT = 'v2';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const SHM_DIR = '/dev/shm';
const TMPFS_MAGIC = 0x01021994;
const SHM_MIN_FREE_BYTES = 2 * 1024 ** 3;

export interface PostgresInstance {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`; the superuser needs no password (trust). */
  url: string;
  port: number;
  /** Fast shutdown, then removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a fresh, empty cluster. The caller must `stop()` it; if not, it dies with the process. */
export async function startPostgres(): Promise<PostgresInstance> {
  requireCommand(join(PG_BIN_DIR, 'postgres'), PG_PACKAGE);
  requireCommand(join(PG_BIN_DIR, 'initdb'), PG_PACKAGE);
  const template = await ensureTemplate();
  const dir = await makeOwnedTempDir(clusterRoot(), 'tessera-pg-');
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  let daemon: Daemon | undefined;
  const unregister = onProcessExit(() => {
    daemon?.terminateSync();
    removeDirSync(dir);
  });
  try {
    await runCommand('cp', ['-a', template, dataDir], dir);
    await makeOwnedDir(socketDir);
    const port = await retryOnPortClash(async (candidate) => {
      daemon = await startServer(dataDir, socketDir, candidate);
      return candidate;
    });
    return buildInstance(port, () => daemon, dir, unregister);
  } catch (error) {
    await daemon?.stop(STOP_TIMEOUT_MS);
    await rm(dir, { recursive: true, force: true });
    unregister();
    throw error;
  }
}

/**
 * Creates an empty database in the cluster behind `url` and returns the URL of the new database,
 * so one cluster can serve several isolated suites. `name` defaults to a random `test_<hex>`.
 */
export async function createDatabase(url: string, name = `test_${randomBytes(6).toString('hex')}`): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name: ${name}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const databaseUrl = new URL(url);
  databaseUrl.pathname = `/${name}`;
  return databaseUrl.toString();
}

function buildInstance(
  port: number,
  currentDaemon: () => Daemon | undefined,
  dir: string,
  unregister: () => void,
): PostgresInstance {
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop() {
      stopping ??= (async () => {
        await currentDaemon()?.stop(STOP_TIMEOUT_MS);
        await rm(dir, { recursive: true, force: true, maxRetries: 3 });
        unregister();
      })();
      return stopping;
    },
  };
}

async function startServer(dataDir: string, socketDir: string, port: number): Promise<Daemon> {
  const daemon = spawnDaemon({
    command: join(PG_BIN_DIR, 'postgres'),
    args: [
      '-D', dataDir,
      '-p', String(port),
      '-k', socketDir,
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ],
    runAsUser: PG_OS_USER,
    cwd: socketDir,
    stopSignal: 'SIGINT', // fast shutdown: disconnects clients, no waiting for them
    orphanSignal: 'SIGQUIT', // immediate shutdown: the quickest exit that still reaps backends
  });
  try {
    await waitUntilAccepting(daemon, `postgres://postgres@127.0.0.1:${port}/postgres`);
    return daemon;
  } catch (error) {
    await daemon.stop(STOP_TIMEOUT_MS);
    if (/could not bind .*Address already in use/.test(daemon.output())) throw new PortClashError(daemon.output());
    throw error;
  }
}

async function waitUntilAccepting(daemon: Daemon, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (daemon.hasExited()) throw new Error(`postgres exited during start-up:\n${daemon.output()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      lastError = error; // refused while starting, or "the database system is starting up"
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS} ms (${String(lastError)}):\n${daemon.output()}`);
}

// ---------------------------------------------------------------------------------------------
// Template data directory

let templatePromise: Promise<string> | undefined;

/** The path of an initdb'd data directory to copy; built at most once per version and user. */
function ensureTemplate(): Promise<string> {
  templatePromise ??= findOrBuildTemplate().catch((error: unknown) => {
    templatePromise = undefined;
    throw error;
  });
  return templatePromise;
}

async function findOrBuildTemplate(): Promise<string> {
  const version = await postgresVersion();
  const owner = runAsIds(PG_OS_USER)?.uid ?? process.getuid?.() ?? 0;
  return findOrBuildTemplateDir(join(tmpdir(), `tessera-pg-template-${version}-${TEMPLATE_FORMAT}-uid${owner}`), {
    runAsUser: PG_OS_USER,
    marker: 'PG_VERSION',
    stagingPrefix: `tessera-pg-template-${version}-staging-`,
    build: async (staging) => {
      await runCommand(
        join(PG_BIN_DIR, 'initdb'),
        [
          '-D', staging,
          '--auth=trust', '-U', 'postgres',
          '--encoding=UTF8', '--locale=C', // the same collation on every machine
          '--no-sync', '--no-instructions',
          // 1 MiB WAL segments instead of 16: a smaller template is quicker to copy for every cluster.
          '--wal-segsize=1',
        ],
        staging,
        PG_OS_USER,
      );
    },
  });
}

async function postgresVersion(): Promise<string> {
  const output = await runCommand(join(PG_BIN_DIR, 'postgres'), ['--version'], tmpdir());
  const version = /\d+(\.\d+)+/.exec(output)?.[0];
  if (version === undefined) throw new Error(`cannot read the PostgreSQL version from: ${output}`);
  return version;
}

// ---------------------------------------------------------------------------------------------
// Directories owned by the PostgreSQL user

/**
 * Where cluster directories go: memory when /dev/shm is a tmpfs with room to spare (a container's
 * default 64 MiB /dev/shm is not), the disk otherwise.
 */
function clusterRoot(): string {
  const override = process.env.TESSERA_TEST_TMPDIR;
  if (override !== undefined && override !== '') return override;
  try {
    const fs = statfsSync(SHM_DIR);
    if (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= SHM_MIN_FREE_BYTES) return SHM_DIR;
  } catch {
    // No /dev/shm: not Linux, or a minimal container.
  }
  return tmpdir();
}

function makeOwnedTempDir(parent: string, prefix: string): Promise<string> {
  return makeSharedOwnedTempDir(parent, prefix, PG_OS_USER);
}

async function makeOwnedDir(dir: string): Promise<void> {
  await mkdir(dir, { mode: 0o700 });
  await chownToPgUser(dir);
}

async function chownToPgUser(path: string): Promise<void> {
  const ids = runAsIds(PG_OS_USER);
  if (ids !== undefined) await chown(path, ids.uid, ids.gid);
}
