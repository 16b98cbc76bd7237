// docs/integrations/dovecot.md: a real Dovecot 2.3 logs people in over IMAP (curl is the client)
// with tokens Tessera provisioned into a throwaway slapd, for the mail service (short label `mail`)
// of a CO: (a) searching the mail service's own subtree (ou=mail,ou=services) with its search
// account (cn=mail,ou=service-accounts) and binding as the service entry found, (b) looking up
// voPersonApplicationPassword;app-mail and checking the hash itself. Each recipe has a CO of its own
// (a short label names one service per CO).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { addBindAccount, ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { imapLogin as curlImapLogin, requireDovecot, startDovecot } from '../support/dovecot.ts';
import {
  PEOPLE,
  buildDirectoryCo,
  searchAccountDn,
  serviceSubtree,
  buildMember,
  buildTokenService,
  issueToken,
  runDirectory,
  withdrawToken,
  type ForegroundServer,
} from '../support/integrations.ts';
import { forEachDialect, useTestApp } from '../support/test-app.ts';
import { withLastCharacterChanged } from '../support/altered.ts';

/** The mail service's short label, in both recipes: ou=mail,ou=services / cn=mail,ou=service-accounts (a), app-mail (b). */
const MAIL = 'mail';

let slapd: SlapdInstance;
let run: Awaited<ReturnType<typeof runDirectory>>;
const dovecot: Partial<Record<'bind' | 'app', ForegroundServer>> = {};

before(async () => {
  requireDovecot();
  slapd = await startSlapd();
  run = await runDirectory('dovecot');
  const searchDn = searchAccountDn(MAIL);
  const searchPassword = await addBindAccount(slapd, searchDn);
  for (const name of ['bind', 'app'] as const) await mkdir(join(run.path, name));
  dovecot.bind = await startDovecot(join(run.path, 'bind'), { recipe: 'dovecot-ldap-bind.conf.ext', values: { LDAP_URI: slapd.url, SEARCH_DN: searchDn, SEARCH_PASSWORD: searchPassword, SERVICE_DN: serviceSubtree(MAIL) } });
  dovecot.app = await startDovecot(join(run.path, 'app'), { recipe: 'dovecot-ldap-app.conf.ext', values: { LDAP_URI: slapd.url, PEOPLE_DN: PEOPLE, LOOKUP_DN: slapd.rootDn, LOOKUP_PASSWORD: slapd.rootPassword, SERVICE_LABEL: MAIL } });
});

after(async () => {
  await dovecot.bind?.stop();
  await dovecot.app?.stop();
  await slapd?.stop();
  await run?.remove();
});

let clients = 0;

/**
 * An IMAP login and a LIST (test/support/dovecot.ts), each from its own loopback address
 * (127.0.1.x): Dovecot delays logins from an address that failed before (auth penalty, up to
 * 15 s), which would make the suite slow without testing anything more.
 */
async function imapLogin(server: ForegroundServer | undefined, user: string, password: string): Promise<boolean> {
  clients++;
  return curlImapLogin(server!, user, password, `127.0.${1 + Math.floor(clients / 250)}.${1 + (clients % 250)}`);
}

forEachDialect('Dovecot IMAP logins with service tokens', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  // (a): the mail service in service entries mode, beside services whose tokens it must refuse.
  let coA: Awaited<ReturnType<typeof buildDirectoryCo>>;
  const a = { mail: '', wiki: '', files: '', webmail: '', git: '' };
  // (b): the mail service writing voPersonApplicationPassword;app-mail, beside others.
  let coB: Awaited<ReturnType<typeof buildDirectoryCo>>;
  const b = { mail: '', git: '', calendar: '' };

  before(async () => {
    coA = await buildDirectoryCo(t, slapd);
    a.mail = (await buildTokenService(t, coA, { name: 'Mail', shortLabel: MAIL, attribute: 'serviceEntries' })).id;
    a.wiki = (await buildTokenService(t, coA, { name: 'Wiki', shortLabel: 'wiki', attribute: 'serviceEntries' })).id;
    a.files = (await buildTokenService(t, coA, { name: 'Files', shortLabel: 'files', attribute: 'userPassword' })).id;
    a.webmail = (await buildTokenService(t, coA, { name: 'Webmail', shortLabel: 'webmail', attribute: 'voPersonApplicationPassword' })).id;
    a.git = (await buildTokenService(t, coA, { name: 'Git', shortLabel: 'git', attribute: 'voPersonApplicationPassword' })).id;
    coB = await buildDirectoryCo(t, slapd);
    b.mail = (await buildTokenService(t, coB, { name: 'Mail', shortLabel: MAIL, attribute: 'voPersonApplicationPassword' })).id;
    b.git = (await buildTokenService(t, coB, { name: 'Git', shortLabel: 'git', attribute: 'voPersonApplicationPassword' })).id;
    b.calendar = (await buildTokenService(t, coB, { name: 'Calendar', shortLabel: 'calendar', attribute: 'serviceEntries' })).id;
  });

  /**
   * A person of the CO with a token of each service and a revoked token of the mail service, all
   * provisioned. (Revoked first: Dovecot checks only the first value of the mail attribute.)
   */
  async function personWithTokens<S extends { mail: string }>(coId: string, services: S) {
    const person = await buildMember(t, coId);
    const revokedMail = await issueToken(t, coId, person.id, services.mail, 'old');
    await withdrawToken(t, coId, person.id, revokedMail.id);
    const tokens = {} as Record<keyof S, { id: string; secret: string }>;
    for (const [name, serviceId] of Object.entries(services) as Array<[keyof S, string]>) tokens[name] = await issueToken(t, coId, person.id, serviceId);
    return { person, revokedMail, ...tokens };
  }

// Refused logins run side by side: Dovecot answers each after auth_failure_delay (2 s).
  describe('(a) auth_bind at the mail service’s own entries', () => {
    it('logs in with the mail token; not with a wrong token, the same person’s tokens of other services, a revoked token, or as someone else', async () => {
      const { person, mail, webmail, git, wiki, files, revokedMail } = await personWithTokens(coA.coId, a);
      const u = person.username;
      // The other services' tokens are good where they belong: the Wiki token at the Wiki service
      // entry, the Files token at the person's own entry (userPassword).
      assert.equal(await ldapwhoamiBinds(slapd.url, `uid=${u},${serviceSubtree('wiki')}`, wiki.secret), true);
      assert.equal(await ldapwhoamiBinds(slapd.url, `uid=${u},${PEOPLE}`, files.secret), true);
      assert.equal(await imapLogin(dovecot.bind, u, mail.secret), true);
      const refused = await Promise.all([
        imapLogin(dovecot.bind, u, withLastCharacterChanged(mail.secret)),
        imapLogin(dovecot.bind, u, wiki.secret),
        imapLogin(dovecot.bind, u, files.secret),
        imapLogin(dovecot.bind, u, webmail.secret),
        imapLogin(dovecot.bind, u, git.secret),
        imapLogin(dovecot.bind, u, revokedMail.secret),
        imapLogin(dovecot.bind, 'nobody', mail.secret),
      ]);
      assert.deepEqual(refused, [false, false, false, false, false, false, false]);
      await withdrawToken(t, coA.coId, person.id, mail.id);
      assert.equal(await imapLogin(dovecot.bind, u, mail.secret), false, 'revoked: refused at once');
    });
  });

  describe('(b) voPersonApplicationPassword;app-mail, checked by Dovecot', () => {
    it('logs in with the mail service’s token; not with a wrong token, another service’s token, a revoked token, or as someone else', async () => {
      const { person, calendar, mail, git, revokedMail } = await personWithTokens(coB.coId, b);
      const u = person.username;
      assert.equal(await imapLogin(dovecot.app, u, mail.secret), true);
      const refused = await Promise.all([
        imapLogin(dovecot.app, u, withLastCharacterChanged(mail.secret)),
        imapLogin(dovecot.app, u, calendar.secret),
        imapLogin(dovecot.app, u, git.secret),
        imapLogin(dovecot.app, u, revokedMail.secret),
        imapLogin(dovecot.app, 'nobody', mail.secret),
      ]);
      assert.deepEqual(refused, [false, false, false, false, false]);
    });

    it('checks only the first value of the attribute: a second token of the service works only once the first is gone', async () => {
      const { person, mail } = await personWithTokens(coB.coId, b);
      const mail2 = await issueToken(t, coB.coId, person.id, b.mail, 'phone');
      assert.equal(await imapLogin(dovecot.app, person.username, mail2.secret), false);
      assert.match(dovecot.app!.daemon.output(), new RegExp(`ldap\\(${person.username},.*Multiple values found for 'password', using value`));
      await withdrawToken(t, coB.coId, person.id, mail.id);
      assert.equal(await imapLogin(dovecot.app, person.username, mail2.secret), true);
    });
  });
});
