// docs/integrations/freeradius.md: a real FreeRADIUS 3.2 answers PAP requests from radtest, with
// rlm_rest asking Tessera (its forward authentication endpoint) and, as the alternative, rlm_ldap
// searching the VPN service's own subtree of a throwaway slapd (Tessera's service entries) with
// the service's search account and binding as the entry found.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { addBindAccount, ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { findFreePort, requireCommand, requireFile } from '../support/system-packages.ts';
import {
  PEOPLE,
  buildDirectoryCo,
  searchAccountDn,
  serviceSubtree,
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
import { forEachDialect, useTestApp } from '../support/test-app.ts';
import { withLastCharacterChanged } from '../support/altered.ts';

const FREERADIUS = '/usr/sbin/freeradius';
const RADTEST = '/usr/bin/radtest';
const SYSTEM_RADDB = '/etc/freeradius/3.0';
const SECRET = randomBytes(12).toString('hex');
/** The VPN service's short label: rlm_ldap searches ou=vpn,ou=services with cn=vpn,ou=service-accounts. */
const VPN_LABEL = 'vpn';

let slapd: SlapdInstance;
/** The VPN service's search account, one for the directory both dialects' apps fill. */
const searchDn = searchAccountDn(VPN_LABEL);
let searchPassword: string;

before(async () => {
  requireCommand(FREERADIUS, 'freeradius');
  requireCommand(RADTEST, 'freeradius-utils');
  requireFile('/usr/lib/freeradius/rlm_rest.so', 'freeradius-rest');
  requireFile('/usr/lib/freeradius/rlm_ldap.so', 'freeradius-ldap');
  slapd = await startSlapd();
  searchPassword = await addBindAccount(slapd, searchDn);
});

after(async () => {
  await slapd?.stop();
});

forEachDialect('FreeRADIUS PAP with service tokens', (dialect) => {
  // Registered first so it runs first: rlm_rest keeps a connection to Tessera open, and the app
  // waits for its connections to end when it closes.
  after(async () => {
    await radius?.stop();
    await run?.remove();
  });
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  let run: Awaited<ReturnType<typeof runDirectory>>;
  let radius: ForegroundServer;
  const ports = { rest: 0, ldap: 0 };
  let co: Awaited<ReturnType<typeof buildDirectoryCo>>;
  let vpn: string;
  let wiki: string;
  let files: string;
  let mail: string;

  before(async () => {
    const tessera = await listenOnLoopback(t);
    co = await buildDirectoryCo(t, slapd);
    vpn = (await buildTokenService(t, co, { name: 'VPN', shortLabel: VPN_LABEL, attribute: 'serviceEntries' })).id;
    // The same person's tokens of other services: in the Wiki's service entries, in the person's
    // own entry (userPassword), in voPersonApplicationPassword;app-mail.
    wiki = (await buildTokenService(t, co, { name: 'Wiki', shortLabel: 'wiki', attribute: 'serviceEntries' })).id;
    files = (await buildTokenService(t, co, { name: 'Files', shortLabel: 'files', attribute: 'userPassword' })).id;
    mail = (await buildTokenService(t, co, { name: 'Mail', shortLabel: 'mail', attribute: 'voPersonApplicationPassword' })).id;
    const key = await verificationKey(t, co.coId, vpn, 'radius');

    // A copy of Debian's configuration with only the recipe's modules and virtual servers.
    run = await runDirectory('freeradius');
    const raddb = join(run.path, 'raddb');
    await cp(SYSTEM_RADDB, raddb, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    for (const dir of ['mods-enabled', 'sites-enabled']) {
      for (const name of await readdir(join(raddb, dir))) await rm(join(raddb, dir, name));
    }
    await writeConfig(join(raddb, 'mods-enabled', 'tessera_rest'), await renderRecipe('freeradius-rest.conf', { TESSERA_URL: tessera.url }));
    await writeConfig(join(raddb, 'mods-enabled', 'tessera_ldap'), await renderRecipe('freeradius-ldap.conf', { LDAP_URL: slapd.url, SEARCH_DN: searchDn, SEARCH_PASSWORD: searchPassword, SERVICE_DN: serviceSubtree(VPN_LABEL) }));
    radius = await startForegroundServer({
      name: 'freeradius',
      cwd: run.path,
      configure: async (port) => {
        ports.rest = port;
        ports.ldap = await findFreePort();
        const site = await renderRecipe('freeradius-site.conf', { REST_PORT: ports.rest, LDAP_PORT: ports.ldap, RADIUS_SECRET: SECRET, VERIFICATION_KEY: key });
        await writeConfig(join(raddb, 'sites-enabled', 'tessera'), site);
        return { command: FREERADIUS, args: ['-X', '-d', raddb] };
      },
      ready: async (_port, daemon) => daemon.output().includes('Ready to process requests'),
    });
  });

  /** radtest (PAP): true on Access-Accept, false on Access-Reject. */
  async function accepted(server: 'rest' | 'ldap', user: string, password: string): Promise<boolean> {
    const r = await runClient(RADTEST, ['-t', 'pap', user, password, `127.0.0.1:${ports[server]}`, '0', SECRET]);
    if (/Received Access-Accept/.test(r.stdout)) return true;
    if (/Received Access-Reject/.test(r.stdout)) return false;
    throw new Error(`radtest: no answer (exit ${r.code})\n${r.stdout}${r.stderr}\n${radius.daemon.output().slice(-3000)}`);
  }

  for (const server of ['rest', 'ldap'] as const) {
    describe(server === 'rest' ? 'rlm_rest and the verification API' : 'rlm_ldap, binding at the VPN service’s own entries', () => {
      it('accepts the token; rejects a wrong token, the same person’s tokens of other services, a revoked token and someone else', async () => {
        const person = await buildMember(t, co.coId);
        const revoked = await issueToken(t, co.coId, person.id, vpn, 'old');
        await withdrawToken(t, co.coId, person.id, revoked.id);
        const token = await issueToken(t, co.coId, person.id, vpn);
        const others = [await issueToken(t, co.coId, person.id, wiki), await issueToken(t, co.coId, person.id, files), await issueToken(t, co.coId, person.id, mail)];
        const u = person.username;
        // The Wiki and Files tokens are good where they belong (their service entry, the person's entry).
        assert.equal(await ldapwhoamiBinds(slapd.url, `uid=${u},${serviceSubtree('wiki')}`, others[0]!.secret), true);
        assert.equal(await ldapwhoamiBinds(slapd.url, `uid=${u},${PEOPLE}`, others[1]!.secret), true);
        assert.equal(await accepted(server, u, token.secret), true);
        // Rejects come after FreeRADIUS's reject_delay (1 s): side by side.
        const rejected = await Promise.all([
          accepted(server, u, withLastCharacterChanged(token.secret)),
          ...others.map((other) => accepted(server, u, other.secret)),
          accepted(server, u, revoked.secret),
          accepted(server, 'nobody', token.secret),
        ]);
        assert.deepEqual(rejected, [false, false, false, false, false, false]);
        await withdrawToken(t, co.coId, person.id, token.id);
        assert.equal(await accepted(server, u, token.secret), false, 'revoked: rejected at once');
      });
    });
  }
});
