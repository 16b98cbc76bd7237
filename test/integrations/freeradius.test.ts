// docs/integrations/freeradius.md: a real FreeRADIUS 3.2 answers PAP requests from radtest, with
// rlm_rest asking Tessera (its forward authentication endpoint) and, as the alternative, rlm_ldap
// binding to a throwaway slapd that Tessera's LDAP targets fill.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { findFreePort, requireCommand, requireFile } from '../support/system-packages.ts';
import {
  PEOPLE,
  buildDirectoryCo,
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

let slapd: SlapdInstance;

before(async () => {
  requireCommand(FREERADIUS, 'freeradius');
  requireCommand(RADTEST, 'freeradius-utils');
  requireFile('/usr/lib/freeradius/rlm_rest.so', 'freeradius-rest');
  requireFile('/usr/lib/freeradius/rlm_ldap.so', 'freeradius-ldap');
  slapd = await startSlapd();
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

  before(async () => {
    const tessera = await listenOnLoopback(t);
    co = await buildDirectoryCo(t, slapd);
    vpn = (await buildTokenService(t, co, { name: 'VPN', attribute: 'userPassword' })).id;
    wiki = (await buildTokenService(t, co, { name: 'Wiki', attribute: 'voPersonApplicationPassword' })).id;
    const key = await verificationKey(t, co.coId, vpn, 'radius');

    // A copy of Debian's configuration with only the recipe's modules and virtual servers.
    run = await runDirectory('freeradius');
    const raddb = join(run.path, 'raddb');
    await cp(SYSTEM_RADDB, raddb, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    for (const dir of ['mods-enabled', 'sites-enabled']) {
      for (const name of await readdir(join(raddb, dir))) await rm(join(raddb, dir, name));
    }
    await writeConfig(join(raddb, 'mods-enabled', 'tessera_rest'), await renderRecipe('freeradius-rest.conf', { TESSERA_URL: tessera.url }));
    await writeConfig(join(raddb, 'mods-enabled', 'tessera_ldap'), await renderRecipe('freeradius-ldap.conf', { LDAP_URL: slapd.url, SEARCH_DN: slapd.rootDn, SEARCH_PASSWORD: slapd.rootPassword, PEOPLE_DN: PEOPLE }));
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
    describe(server === 'rest' ? 'rlm_rest and the verification API' : 'rlm_ldap, binding as the person', () => {
      it('accepts the token; rejects a wrong token, another service’s token, a revoked token and someone else', async () => {
        const person = await buildMember(t, co.coId);
        const revoked = await issueToken(t, co.coId, person.id, vpn, 'old');
        await withdrawToken(t, co.coId, person.id, revoked.id);
        const token = await issueToken(t, co.coId, person.id, vpn);
        const other = await issueToken(t, co.coId, person.id, wiki);
        const u = person.username;
        assert.equal(await accepted(server, u, token.secret), true);
        // Rejects come after FreeRADIUS's reject_delay (1 s): side by side.
        const rejected = await Promise.all([
          accepted(server, u, withLastCharacterChanged(token.secret)),
          accepted(server, u, other.secret),
          accepted(server, u, revoked.secret),
          accepted(server, 'nobody', token.secret),
        ]);
        assert.deepEqual(rejected, [false, false, false, false]);
        await withdrawToken(t, co.coId, person.id, token.id);
        assert.equal(await accepted(server, u, token.secret), false, 'revoked: rejected at once');
      });
    });
  }
});
