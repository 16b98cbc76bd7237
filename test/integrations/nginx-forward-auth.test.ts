// docs/integrations/nginx-forward-auth.md: a real nginx (auth_request) asks Tessera's forward
// authentication endpoint; curl and git are the clients, a small HTTP server the application.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { enableTokens } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { requireCommand } from '../support/system-packages.ts';
import {
  buildMember,
  buildTokenService,
  issueToken,
  listenOnLoopback,
  renderRecipe,
  runClient,
  runDirectory,
  startForegroundServer,
  verificationKey,
  withdrawToken,
  writeConfig,
  type ForegroundServer,
} from '../support/integrations.ts';
import { buildCo, forEachDialect, useTestApp } from '../support/test-app.ts';

const NGINX = '/usr/sbin/nginx';
const CURL = '/usr/bin/curl';
const GIT = '/usr/bin/git';

forEachDialect('nginx auth_request with forward authentication', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin({ failuresPerIdentifier: 3, failuresPerAddress: 1000 })] });
  let run: Awaited<ReturnType<typeof runDirectory>>;
  let nginx: ForegroundServer;
  let application: Server;
  const seen: IncomingHttpHeaders[] = [];
  let base: string;
  let coId: string;
  let wikiId: string;
  let mailId: string;

  before(async () => {
    requireCommand(NGINX, 'nginx');
    requireCommand(CURL, 'curl');
    requireCommand(GIT, 'git');
    const tessera = await listenOnLoopback(t);
    coId = (await buildCo(t)).id;
    wikiId = (await buildTokenService(t, { coId }, { name: 'Wiki' })).id;
    mailId = (await buildTokenService(t, { coId }, { name: 'Mail' })).id;
    const key = await verificationKey(t, coId, wikiId, 'nginx');

    application = createServer((request, response) => {
      seen.push(request.headers);
      response.end(`hello ${request.method}\n`);
    });
    await new Promise<void>((resolve) => application.listen(0, '127.0.0.1', resolve));
    const appPort = (application.address() as { port: number }).port;

    run = await runDirectory('nginx');
    const gitRoot = join(run.path, 'git');
    await makeRepository(gitRoot);
    nginx = await startForegroundServer({
      name: 'nginx',
      cwd: run.path,
      configure: async (port) => {
        const file = join(run.path, 'nginx.conf');
        const values = { RUN_DIR: run.path, PORT: port, TESSERA_ADDRESS: `127.0.0.1:${tessera.port}`, APP_ADDRESS: `127.0.0.1:${appPort}`, VERIFICATION_KEY: key, GIT_ROOT: gitRoot };
        await writeConfig(file, await renderRecipe('nginx-forward-auth.conf', values));
        return { command: NGINX, args: ['-p', run.path, '-e', 'stderr', '-c', file, '-g', 'daemon off;'] };
      },
    });
    base = `http://127.0.0.1:${nginx.port}`;
  });

  after(async () => {
    await nginx?.stop();
    await new Promise((resolve) => application?.close(resolve));
    await run?.remove();
  });

  /** A bare repository with one commit, prepared for git's HTTP protocol over plain files. */
  async function makeRepository(root: string): Promise<void> {
    await mkdir(root);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.org', GIT_CONFIG_NOSYSTEM: '1', HOME: root };
    const git = async (args: string[], cwd = root) => {
      const r = await runClient(GIT, args, { cwd, env });
      assert.equal(r.code, 0, r.stderr);
    };
    await git(['init', '-q', '-b', 'main', 'work']);
    await writeConfig(join(root, 'work', 'README'), 'Protected by Tessera\n');
    await git(['add', 'README'], join(root, 'work'));
    await git(['commit', '-q', '-m', 'first'], join(root, 'work'));
    await git(['clone', '-q', '--bare', 'work', 'project.git']);
    await git(['update-server-info'], join(root, 'project.git'));
  }

  async function curl(path: string, opts: { user?: string; method?: string; headers?: string[] } = {}): Promise<{ status: number; headers: string; body: string }> {
    const args = ['-s', '-i', '-X', opts.method ?? 'GET', ...(opts.user ? ['-u', opts.user] : []), ...(opts.headers ?? []).flatMap((h) => ['-H', h]), `${base}${path}`];
    const r = await runClient(CURL, args);
    assert.equal(r.code, 0, r.stderr);
    const [head = '', body = ''] = r.stdout.split(/\r\n\r\n/, 2);
    return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]), headers: head, body };
  }

  async function gitClone(user: string, secret: string): Promise<{ code: number; stderr: string }> {
    const dir = join(run.path, `clone-${Math.random().toString(36).slice(2)}`);
    const url = `http://${encodeURIComponent(user)}:${encodeURIComponent(secret)}@127.0.0.1:${nginx.port}/git/project.git`;
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: run.path };
    return runClient(GIT, ['-c', 'credential.helper=', 'clone', '-q', url, dir], { env });
  }

  it('lets a request with the token through; the application learns who it is, never the token, and cannot be fooled by forged headers', async () => {
    const person = await buildMember(t, coId, ['Research, Data', 'Ops']);
    const { secret } = await issueToken(t, coId, person.id, wikiId);
    const before = seen.length;
    const forged = ['X-Tessera-Identifier: admin', 'X-Tessera-Person-Id: someone-else', 'X-Tessera-Groups: CO:admins', 'X_Tessera_Identifier: admin', 'X-Tessera-Verification-Key: tsv_forged'];
    const r = await curl('/app/hello', { user: `${person.username}:${secret}`, headers: forged });
    assert.equal(r.status, 200, r.headers);
    assert.equal(r.body, 'hello GET\n');
    const propfind = await curl('/app/hello', { user: `${person.username}:${secret}`, method: 'PROPFIND' });
    assert.equal(propfind.status, 200, 'a WebDAV method is authenticated the same way');
    assert.equal(propfind.body, 'hello PROPFIND\n');
    assert.equal(seen.length, before + 2);
    const headers = seen[before]!;
    assert.equal(headers['x-tessera-identifier'], person.username);
    assert.equal(headers['x-tessera-person-id'], person.id);
    assert.equal(headers['x-tessera-co-id'], coId);
    assert.deepEqual(String(headers['x-tessera-groups']).split(',').map(decodeURIComponent).sort(), ['CO:members:active', 'Ops', 'Research, Data']);
    assert.equal(headers['x_tessera_identifier'], undefined);
    assert.equal(headers.authorization, undefined, 'the token is not passed on');
    assert.equal(headers['x-tessera-verification-key'], undefined);
  });

  it('answers 401 with a Basic challenge without credentials, with a wrong token and with another service’s token; the application sees none of them', async () => {
    const person = await buildMember(t, coId);
    const mail = await issueToken(t, coId, person.id, mailId);
    const wiki = await issueToken(t, coId, person.id, wikiId);
    const before = seen.length;
    for (const user of [undefined, `${person.username}:${wiki.secret.slice(0, -2)}xx`, `${person.username}:${mail.secret}`, `nobody:${wiki.secret}`]) {
      const r = await curl('/app/hello', user ? { user } : {});
      assert.equal(r.status, 401, `${user}: ${r.headers}`);
      assert.match(r.headers, /^WWW-Authenticate: Basic realm="Service token", charset="UTF-8"$/im);
    }
    assert.equal(seen.length, before);
  });

  it('serves git clone with the token, and refuses it at once after revocation', async () => {
    const person = await buildMember(t, coId);
    const token = await issueToken(t, coId, person.id, wikiId);
    const cloned = await gitClone(person.username, token.secret);
    assert.equal(cloned.code, 0, cloned.stderr);
    await withdrawToken(t, coId, person.id, token.id);
    const refused = await gitClone(person.username, token.secret);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Authentication failed|401/);
    assert.equal((await curl('/app/hello', { user: `${person.username}:${token.secret}` })).status, 401);
  });

  it('turns Tessera’s 429 into a 500, as auth_request does with any status but 2xx, 401 and 403', async () => {
    // Per-identifier limits hold for guessable types only (under 100 effective bits): the last test makes the wiki's one.
    await enableTokens(t, coId, wikiId, { tokenType: 'short-grouped', storageScheme: 'ARGON2ID' });
    const other = await buildMember(t, coId);
    const { secret } = await issueToken(t, coId, other.id, wikiId);
    for (let i = 0; i < 3; i++) assert.equal((await curl('/app/x', { user: `${other.username}:wrong-${i}` })).status, 401);
    assert.equal((await curl('/app/x', { user: `${other.username}:${secret}` })).status, 500);
  });
});
