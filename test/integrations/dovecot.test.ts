// docs/integrations/dovecot.md: a real Dovecot 2.3 logs people in over IMAP (curl is the client)
// with tokens Tessera provisioned into a throwaway slapd: (a) searching the IMAP service's own
// subtree with its search account and binding as the service entry found, (b) looking up
// voPersonApplicationPassword;app-mail and checking the hash itself.
import assert from 'node:assert/strict';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { addBindAccount, ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand, requireFile } from '../support/system-packages.ts';
import {
  PEOPLE,
  buildDirectoryCo,
  searchAccountDn,
  serviceSubtree,
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

const DOVECOT = '/usr/sbin/dovecot';
const IMAP_LOGIN = '/usr/lib/dovecot/imap-login';
const LDAP_MODULE = '/usr/lib/dovecot/modules/auth/libauthdb_ldap.so';
const CURL = '/usr/bin/curl';
/** Recipe (a)'s service: its entries are under ou=imap,ou=services, searched by cn=imap,ou=service-accounts. */
const IMAP_LABEL = 'imap';

let slapd: SlapdInstance;
let run: Awaited<ReturnType<typeof runDirectory>>;
const dovecot: Partial<Record<'bind' | 'app', ForegroundServer>> = {};

before(async () => {
  requireCommand(DOVECOT, 'dovecot-imapd');
  requireCommand(IMAP_LOGIN, 'dovecot-imapd');
  requireFile(LDAP_MODULE, 'dovecot-ldap');
  requireCommand(CURL, 'curl');
  slapd = await startSlapd();
  run = await runDirectory('dovecot');
  const searchDn = searchAccountDn(IMAP_LABEL);
  const searchPassword = await addBindAccount(slapd, searchDn);
  const recipes = {
    bind: { file: 'dovecot-ldap-bind.conf.ext', values: { LDAP_URI: slapd.url, SEARCH_DN: searchDn, SEARCH_PASSWORD: searchPassword, SERVICE_DN: serviceSubtree(IMAP_LABEL) } },
    app: { file: 'dovecot-ldap-app.conf.ext', values: { LDAP_URI: slapd.url, PEOPLE_DN: PEOPLE, LOOKUP_DN: slapd.rootDn, LOOKUP_PASSWORD: slapd.rootPassword, SERVICE_LABEL: 'mail' } },
  } as const;
  for (const [name, recipe] of Object.entries(recipes) as Array<[keyof typeof recipes, (typeof recipes)[keyof typeof recipes]]>) {
    const dir = join(run.path, name);
    await mkdir(join(dir, 'mail'), { recursive: true });
    await chmod(join(dir, 'mail'), 0o1777);
    const passdbArgs = join(dir, recipe.file);
    await writeConfig(passdbArgs, await renderRecipe(recipe.file, recipe.values));
    dovecot[name] = await startForegroundServer({
      name: `dovecot (${name})`,
      cwd: dir,
      configure: async (port) => {
        const file = join(dir, 'dovecot.conf');
        await writeConfig(file, await renderRecipe('dovecot.conf', { RUN_DIR: dir, PORT: port, PASSDB_ARGS: passdbArgs }));
        return { command: DOVECOT, args: ['-F', '-c', file] };
      },
    });
  }
});

after(async () => {
  await dovecot.bind?.stop();
  await dovecot.app?.stop();
  await slapd?.stop();
  await run?.remove();
});

let clients = 0;

/**
 * An IMAP login (curl authenticates with SASL PLAIN, as Dovecot offers it) and a LIST: exit 0 when
 * logged in, 67 when refused. Each login comes from its own loopback address (127.0.1.x): Dovecot
 * delays logins from an address that failed before (auth penalty, up to 15 s), which would make
 * the suite slow without testing anything more.
 */
async function imapLogin(server: ForegroundServer | undefined, user: string, password: string): Promise<boolean> {
  clients++;
  const r = await runClient(CURL, ['-s', '-S', '--interface', `127.0.${1 + Math.floor(clients / 250)}.${1 + (clients % 250)}`, '-u', `${user}:${password}`, `imap://127.0.0.1:${server!.port}/`]);
  if (r.code === 0) return true;
  if (r.code === 67) return false;
  throw new Error(`curl exited ${r.code} (${user} ${server!.port}): ${r.stderr}\n${server!.daemon.output().slice(-2000)}`);
}

forEachDialect('Dovecot IMAP logins with service tokens', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  let co: Awaited<ReturnType<typeof buildDirectoryCo>>;
  const services = { imap: '', wiki: '', files: '', mail: '', git: '' };

  before(async () => {
    co = await buildDirectoryCo(t, slapd);
    services.imap = (await buildTokenService(t, co, { name: 'IMAP', shortLabel: IMAP_LABEL, attribute: 'serviceEntries' })).id;
    services.wiki = (await buildTokenService(t, co, { name: 'Wiki', shortLabel: 'wiki', attribute: 'serviceEntries' })).id;
    services.files = (await buildTokenService(t, co, { name: 'Files', shortLabel: 'files', attribute: 'userPassword' })).id;
    services.mail = (await buildTokenService(t, co, { name: 'Mail', shortLabel: 'mail', attribute: 'voPersonApplicationPassword' })).id;
    services.git = (await buildTokenService(t, co, { name: 'Git', shortLabel: 'git', attribute: 'voPersonApplicationPassword' })).id;
  });

  /**
   * A person with a token of each service, and a revoked token of the IMAP and mail services, all
   * provisioned. (Revoked first: Dovecot checks only the first value of the mail attribute.)
   */
  async function personWithTokens() {
    const person = await buildMember(t, co.coId);
    const revokedImap = await issueToken(t, co.coId, person.id, services.imap, 'old');
    const revokedMail = await issueToken(t, co.coId, person.id, services.mail, 'old');
    await withdrawToken(t, co.coId, person.id, revokedImap.id);
    await withdrawToken(t, co.coId, person.id, revokedMail.id);
    const imap = await issueToken(t, co.coId, person.id, services.imap);
    const mail = await issueToken(t, co.coId, person.id, services.mail);
    const git = await issueToken(t, co.coId, person.id, services.git);
    const wiki = await issueToken(t, co.coId, person.id, services.wiki);
    const files = await issueToken(t, co.coId, person.id, services.files);
    return { person, imap, mail, git, wiki, files, revokedImap, revokedMail };
  }

  // Refused logins run side by side: Dovecot answers each after auth_failure_delay (2 s).
  describe('(a) auth_bind at the IMAP service’s own entries', () => {
    it('logs in with the IMAP token; not with a wrong token, the same person’s tokens of other services, a revoked token, or as someone else', async () => {
      const { person, imap, mail, git, wiki, files, revokedImap } = await personWithTokens();
      const u = person.username;
      // The other services' tokens are good where they belong: the Wiki token at the Wiki service
      // entry, the Files token at the person's own entry (userPassword).
      assert.equal(await ldapwhoamiBinds(slapd.url, `uid=${u},${serviceSubtree('wiki')}`, wiki.secret), true);
      assert.equal(await ldapwhoamiBinds(slapd.url, `uid=${u},${PEOPLE}`, files.secret), true);
      assert.equal(await imapLogin(dovecot.bind, u, imap.secret), true);
      const refused = await Promise.all([
        imapLogin(dovecot.bind, u, withLastCharacterChanged(imap.secret)),
        imapLogin(dovecot.bind, u, wiki.secret),
        imapLogin(dovecot.bind, u, files.secret),
        imapLogin(dovecot.bind, u, mail.secret),
        imapLogin(dovecot.bind, u, git.secret),
        imapLogin(dovecot.bind, u, revokedImap.secret),
        imapLogin(dovecot.bind, 'nobody', imap.secret),
      ]);
      assert.deepEqual(refused, [false, false, false, false, false, false, false]);
      await withdrawToken(t, co.coId, person.id, imap.id);
      assert.equal(await imapLogin(dovecot.bind, u, imap.secret), false, 'revoked: refused at once');
    });
  });

  describe('(b) voPersonApplicationPassword;app-mail, checked by Dovecot', () => {
    it('logs in with the mail service’s token; not with a wrong token, another service’s token, a revoked token, or as someone else', async () => {
      const { person, imap, mail, git, revokedMail } = await personWithTokens();
      const u = person.username;
      assert.equal(await imapLogin(dovecot.app, u, mail.secret), true);
      const refused = await Promise.all([
        imapLogin(dovecot.app, u, withLastCharacterChanged(mail.secret)),
        imapLogin(dovecot.app, u, imap.secret),
        imapLogin(dovecot.app, u, git.secret),
        imapLogin(dovecot.app, u, revokedMail.secret),
        imapLogin(dovecot.app, 'nobody', mail.secret),
      ]);
      assert.deepEqual(refused, [false, false, false, false, false]);
    });

    it('checks only the first value of the attribute: a second token of the service works only once the first is gone', async () => {
      const { person, mail } = await personWithTokens();
      const mail2 = await issueToken(t, co.coId, person.id, services.mail, 'phone');
      assert.equal(await imapLogin(dovecot.app, person.username, mail2.secret), false);
      assert.match(dovecot.app!.daemon.output(), new RegExp(`ldap\\(${person.username},.*Multiple values found for 'password', using value`));
      await withdrawToken(t, co.coId, person.id, mail.id);
      assert.equal(await imapLogin(dovecot.app, person.username, mail2.secret), true);
    });
  });
});
