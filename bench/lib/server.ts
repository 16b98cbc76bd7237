// A `tessera serve` process for a benchmark: the real command line, in its own process, on a free
// loopback port, with the configuration given as environment variables.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface TesseraServer {
  url: string;
  port: number;
  pid: number;
  /** What the process wrote to stdout and stderr. */
  output(): string;
  /** What it wrote to stderr, and log lines at warn or above on stdout (the log level is warn). */
  problems(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node [nodeArgs] bin/tessera.js serve` and waits until /healthz answers. `env` adds to
 * (and overrides) the TESSERA_* variables of this process.
 */
export async function startTessera(env: Record<string, string>, opts: { nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<TesseraServer> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_')) childEnv[k] = v;
  Object.assign(childEnv, { TESSERA_HOST: '127.0.0.1', TESSERA_PORT: String(port), ...env });
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, 'serve'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let problems = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    keep(chunk);
    // pino writes JSON lines; the start-up hint about the first administrator is plain text.
    for (const line of chunk.toString().split('\n')) if (line.startsWith('{') && problems.length < 100_000) problems += `${line}\n`;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    keep(chunk);
    if (problems.length < 100_000) problems += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (gone) throw new Error(`tessera serve exited during start-up:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tessera serve did not answer /healthz in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return {
    url,
    port,
    pid: child.pid!,
    output: () => out,
    problems: () => problems,
    async stop() {
      process.removeListener('exit', kill);
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
