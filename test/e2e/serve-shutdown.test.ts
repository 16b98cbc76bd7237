// `tessera serve` stopped as systemd stops it (SIGTERM): a request under way is answered, new
// connections are refused, the worker's pass ends, and the process exits 0 having said so.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, it } from 'node:test';
import { startTesseraServer, type TesseraServer } from '../support/browser.ts';

let server: TesseraServer;
before(async () => {
  server = await startTesseraServer(() => ({ TESSERA_LOG_LEVEL: 'info' }));
});
after(() => server?.stop());

it('drains on SIGTERM: the request under way gets its answer, then the process exits 0', async () => {
  const body = JSON.stringify({ identifier: 'alice', token: 'tst_not-a-real-token' });
  const socket = connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // Half a request: the server is reading its body when the signal comes.
  socket.write(`POST /api/v1/service-tokens/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  await new Promise((resolve) => setTimeout(resolve, 200));

  process.kill(server.daemon.pid, 'SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(server.daemon.hasExited(), false, 'it waits for the request under way');
  await assert.rejects(fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2_000) }), 'a new connection is refused while draining');

  socket.write(body.slice(10));
  await closed;
  assert.match(answer, /^HTTP\/1\.1 401 /, 'the request under way is answered (401: it carries no verification key)');
  assert.match(answer, /"code":"VERIFIER_AUTHENTICATION_REQUIRED"/);

  // The daemon is unref'd (it never keeps a test run alive); this timer keeps us waiting for its exit.
  const waiting = setInterval(() => undefined, 1_000);
  const exit = await server.daemon.exited.finally(() => clearInterval(waiting));
  assert.deepEqual(exit, { code: 0, signal: null }, server.output());
  const messages = server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.ok(messages.includes('shutting down: draining requests and background work'), server.output());
  assert.equal(messages.at(-1), 'stopped');
});
