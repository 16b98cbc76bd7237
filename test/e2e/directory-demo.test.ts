// The README's newcomer path, for real: `tessera serve`, the administrator and an API user made with
// the `tessera` command, a CO with alice and a Mail service (short label mail) with tokens, then
// `npm run demo:directory` (scripts/directory-demo.ts) with that API user: it starts slapd and
// Dovecot and configures Tessera. A token alice generates logs in to IMAP with curl; a wrong one
// is refused. Ctrl-C (SIGINT) stops both servers and keeps the state directory. The script talks to
// Tessera through its REST API only (no database of its own), so one dialect (SQLite) covers it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { privilegedApiUser, REPO_ROOT, startTesseraServer, type TesseraServer } from '../support/browser.ts';
import { imapLogin, requireDovecot } from '../support/dovecot.ts';
import { tcpOpen } from '../support/recipes.ts';
import { findFreePort, requireCommand, spawnDaemon, type Daemon } from '../support/system-packages.ts';
import { withLastCharacterChanged } from '../support/altered.ts';

let server: TesseraServer;
let demo: Daemon | undefined;
let dir: string;

before(async () => {
  requireCommand('/usr/sbin/slapd', 'slapd ldap-utils slapd-contrib');
  requireDovecot();
  dir = await mkdtemp(join(tmpdir(), 'tessera-directory-demo-test-'));
  server = await startTesseraServer();
});

after(async () => {
  await demo?.stop(15_000);
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});


async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('npm run demo:directory: a token alice generates logs in to IMAP; a wrong one does not; Ctrl-C stops everything', async () => {
  await server.cli(['setup', '--username', 'admin', '--given-name', 'Ada']);
  const { key, api } = await privilegedApiUser(server, 'directory-demo');
  // What the newcomer does on the web pages.
  const co = await api<{ id: string }>('POST', '/api/v1/cos', { name: 'Demo CO', description: '' });
  const alice = await api<{ id: string }>('POST', `/api/v1/cos/${co.id}/people`, { name: { given: 'Alice' }, identifiers: [{ identifier: 'alice', type: 'uid', login: true }] });
  const mail = await api<{ id: string }>('POST', `/api/v1/cos/${co.id}/services`, { name: 'Mail', shortLabel: 'mail' });
  await api('PUT', `/api/v1/cos/${co.id}/services/${mail.id}/token-settings`, { enabled: true, tokenType: 'base62-prefixed', storageScheme: 'SSHA512' });
  // A token generated before the directory exists: the demo's reprovision writes it too.
  const early = await api<{ secret: string }>('POST', `/api/v1/cos/${co.id}/people/${alice.id}/service-tokens`, { serviceId: mail.id, label: 'early' });

  const [ldapPort, imapPort] = [await findFreePort(), await findFreePort()];
  const stateDir = join(dir, 'state');
  demo = spawnDaemon({
    command: process.execPath,
    args: ['--import', 'tsx', 'scripts/directory-demo.ts', '--co', 'Demo CO', '--tessera', server.url, '--dir', stateDir, '--ldap-port', String(ldapPort), '--imap-port', String(imapPort)],
    cwd: REPO_ROOT,
    env: { ...process.env, TESSERA_API_USER: 'directory-demo', TESSERA_API_KEY: key },
    stopSignal: 'SIGINT',
    orphanSignal: 'SIGTERM',
  });
  const output = () => demo!.output();
  await waitFor('the demo did not say "Running."', () => {
    if (demo!.hasExited()) throw new Error(`the demo exited:\n${output()}`);
    return /Running\. Ctrl-C stops slapd and Dovecot\./.test(output());
  }, 60_000, output);
  assert.match(output(), new RegExp(`curl -u alice imap://127\\.0\\.0\\.1:${imapPort}/`));
  assert.match(output(), /Tessera: token target of Mail created .*service entries under ou=mail,ou=services,dc=example,dc=org/);

  const token = await api<{ secret: string }>('POST', `/api/v1/cos/${co.id}/people/${alice.id}/service-tokens`, { serviceId: mail.id, label: 'laptop' });
  const imap = { port: imapPort, daemon: demo, stop: async () => undefined };
  // Provisioning runs in Tessera's worker: the login works once it has written the service entry.
  await waitFor('the token did not log in', () => imapLogin(imap, 'alice', token.secret, '127.0.1.1'), 30_000, () => `${output()}\n${server.output()}`);
  await waitFor('the early token did not log in', () => imapLogin(imap, 'alice', early.secret, '127.0.1.2'), 30_000, output);
  assert.equal(await imapLogin(imap, 'alice', withLastCharacterChanged(token.secret), '127.0.1.3'), false, 'a wrong token is refused');

  process.kill(demo.pid, 'SIGINT');
  const waiting = setInterval(() => undefined, 1_000); // the daemon is unref'd
  const exit = await demo.exited.finally(() => clearInterval(waiting));
  assert.deepEqual(exit, { code: 0, signal: null }, output());
  assert.match(output(), /Stopped\. The directory is kept in/);
  assert.equal(await tcpOpen(ldapPort), false, 'slapd stopped');
  assert.equal(await tcpOpen(imapPort), false, 'Dovecot stopped');
  assert.ok(existsSync(join(stateDir, 'slapd', 'data', 'data.mdb')) && existsSync(join(stateDir, 'accounts.json')), 'the state directory is kept');
});
