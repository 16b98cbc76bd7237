import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createDatabase, startPostgres, type PostgresInstance } from '../../test/support/postgres.ts';
import { processCount } from './cluster.ts';

const BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));
const SECRET = 'x'.repeat(40);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The live child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

const env = (extra: Record<string, string>) => {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_')) out[k] = v;
  return { ...out, TESSERA_SECRET_KEY: SECRET, TESSERA_PLUGINS: 'service-tokens', TESSERA_LOG_LEVEL: 'warn', TESSERA_HOST: '127.0.0.1', ...extra };
};

describe('tessera serve --processes', () => {
  let pg: PostgresInstance;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg.stop());

  it('reads --processes before TESSERA_PROCESSES, and refuses nonsense', () => {
    assert.equal(processCount([], {}), 1);
    assert.equal(processCount([], { TESSERA_PROCESSES: '3' }), 3);
    assert.equal(processCount(['--processes', '2'], { TESSERA_PROCESSES: '3' }), 2);
    assert.throws(() => processCount(['--processes', 'two'], {}), /whole number from 1 to 256/);
    assert.throws(() => processCount([], { TESSERA_PROCESSES: '0' }), /whole number/);
  });

  it('refuses several processes on SQLite, saying why', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve', '--processes', '2'], { env: env({ TESSERA_DATABASE_URL: '/nonexistent/tessera.sqlite', TESSERA_PORT: '1' }), encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /several processes .* need PostgreSQL/);
  });

  it('serves one port from two processes on PostgreSQL, and stops them all at SIGTERM', async () => {
    const port = await freePort();
    const url = await createDatabase(pg.url);
    const child = spawn(process.execPath, [BIN, 'serve', '--processes', '2'], { env: env({ TESSERA_DATABASE_URL: url, TESSERA_PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!/serving with 2 processes/.test(output)) {
        assert.ok(Date.now() < deadline, `no start within a minute:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const workers = childrenOf(child.pid!);
      assert.equal(workers.length, 2, 'two serving processes under the supervisor');
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/readyz`, { headers: { connection: 'close' } })));
      assert.ok(answers.every((a) => a.status === 200));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      for (const pid of workers) assert.throws(() => process.kill(pid, 0), 'each serving process is gone');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
