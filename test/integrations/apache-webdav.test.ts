// docs/integrations/apache-webdav.md: a real Apache httpd 2.4 serves a WebDAV folder behind
// mod_authnz_ldap; curl is the WebDAV client, the tokens reach a throwaway slapd through Tessera's
// LDAP targets. The LDAP cache TTL is set to a few seconds to show how long a revoked token lives.
import assert from 'node:assert/strict';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Client } from 'ldapts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { addBindAccount, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand, requireFile, runAsIds } from '../support/system-packages.ts';
import {
  PEOPLE,
  searchAccountDn,
  serviceSubtree,
  buildDirectoryCo,
  buildMember,
  buildTokenService,
  issueToken,
  renderRecipe,
  runClient,
  runDirectory,
  startForegroundServer,
  withdrawToken,
  writeConfig,
  type ForegroundServer,
} from '../support/integrations.ts';
import { forEachDialect, useTestApp } from '../support/test-app.ts';
import { withLastCharacterChanged } from '../support/altered.ts';

const APACHE = '/usr/sbin/apache2';
const CURL = '/usr/bin/curl';
const CACHE_TTL_SECONDS = 2;
/** The Files service's short label: Apache searches and binds under ou=files,ou=services only. */
const FILES_LABEL = 'files';

let slapd: SlapdInstance;
let run: Awaited<ReturnType<typeof runDirectory>>;
let apache: ForegroundServer;

before(async () => {
  requireCommand(APACHE, 'apache2');
  requireFile('/usr/lib/apache2/modules/mod_authnz_ldap.so', 'apache2');
  requireFile('/usr/lib/apache2/modules/mod_dav_fs.so', 'apache2');
  requireCommand(CURL, 'curl');
  slapd = await startSlapd();
  // The Files service's search account (ldap/slapd.conf.example), not the directory's administrator.
  const searchDn = searchAccountDn(FILES_LABEL);
  const searchPassword = await addBindAccount(slapd, searchDn);
  run = await runDirectory('apache');
  const davRoot = join(run.path, 'dav');
  const lockDir = join(run.path, 'lock');
  const worker = runAsIds('www-data');
  for (const dir of [davRoot, lockDir]) {
    await mkdir(dir);
    if (worker) await chown(dir, worker.uid, worker.gid);
  }
  apache = await startForegroundServer({
    name: 'apache2',
    cwd: run.path,
    configure: async (port) => {
      const file = join(run.path, 'apache2.conf');
      const values = { RUN_DIR: run.path, PORT: port, DAV_ROOT: davRoot, LOCK_DIR: lockDir, LDAP_URL: slapd.url, SERVICE_DN: serviceSubtree(FILES_LABEL), SEARCH_DN: searchDn, SEARCH_PASSWORD: searchPassword, LDAP_CACHE_TTL: CACHE_TTL_SECONDS };
      await writeConfig(file, await renderRecipe('apache-webdav.conf', values));
      return { command: APACHE, args: ['-f', file, '-DFOREGROUND'] };
    },
  });
});

after(async () => {
  await apache?.stop();
  await slapd?.stop();
  await run?.remove();
});

/** One WebDAV request by curl; the HTTP status. */
async function dav(method: string, path: string, user: string, secret: string, body?: string): Promise<number> {
  const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, '-u', `${user}:${secret}`];
  if (method === 'PROPFIND') args.push('-H', 'Depth: 1');
  if (body !== undefined) args.push('--data-binary', body);
  const r = await runClient(CURL, [...args, `http://127.0.0.1:${apache.port}${path}`]);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout);
}

forEachDialect('Apache WebDAV with mod_authnz_ldap', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  let co: Awaited<ReturnType<typeof buildDirectoryCo>>;
  let files: string;
  let git: string;

  before(async () => {
    co = await buildDirectoryCo(t, slapd);
    files = (await buildTokenService(t, co, { name: 'Files', shortLabel: FILES_LABEL, attribute: 'serviceEntries' })).id;
    git = (await buildTokenService(t, co, { name: 'Git', attribute: 'userPassword' })).id;
  });

  it('stores, lists and reads a file with the token; refuses a wrong token, another service’s token, and someone else', async () => {
    const person = await buildMember(t, co.coId);
    const token = await issueToken(t, co.coId, person.id, files);
    const other = await issueToken(t, co.coId, person.id, git);
    const u = person.username;
    const path = `/${u}-notes.txt`;
    assert.equal(await dav('PUT', path, u, token.secret, 'written with a service token\n'), 201);
    assert.equal(await dav('PROPFIND', '/', u, token.secret), 207);
    assert.equal(await dav('GET', path, u, token.secret), 200);
    assert.equal(await dav('GET', path, u, withLastCharacterChanged(token.secret)), 401);
    assert.equal(await dav('GET', path, u, other.secret), 401);
    assert.equal(await dav('GET', path, 'nobody', token.secret), 401);
  });

  it('is opened by the Files token only: the Git token opens the person’s entry, not the Files service', async () => {
    const person = await buildMember(t, co.coId);
    const token = await issueToken(t, co.coId, person.id, files);
    const gitToken = await issueToken(t, co.coId, person.id, git);
    const u = person.username;
    // The Git token is in userPassword of the person's entry: a client binding there accepts it …
    const client = new Client({ url: slapd.url });
    await client.bind(`uid=${u},${PEOPLE}`, gitToken.secret);
    await client.unbind();
    // … but Apache searches ou=files,ou=services only, where only Files tokens are.
    assert.equal(await dav('PROPFIND', '/', u, gitToken.secret), 401);
    assert.equal(await dav('PROPFIND', '/', u, token.secret), 207);
  });

  it('keeps accepting a revoked token while mod_ldap’s cache remembers it (LDAPCacheTTL), then refuses it', async () => {
    const person = await buildMember(t, co.coId);
    const token = await issueToken(t, co.coId, person.id, files);
    const fresh = await issueToken(t, co.coId, person.id, files, 'fresh');
    const u = person.username;
    assert.equal(await dav('PROPFIND', '/', u, token.secret), 207);
    await withdrawToken(t, co.coId, person.id, token.id);
    assert.equal(await dav('PROPFIND', '/', u, token.secret), 207, 'the cache still knows the revoked token');
    await new Promise((resolve) => setTimeout(resolve, CACHE_TTL_SECONDS * 1000 + 500));
    assert.equal(await dav('PROPFIND', '/', u, token.secret), 401);
    // A token never seen before is not in the cache: revoked, it is refused at once.
    await withdrawToken(t, co.coId, person.id, fresh.id);
    assert.equal(await dav('PROPFIND', '/', u, fresh.secret), 401);
  });
});
