// End to end: a COmanage Registry v4 database (MariaDB under the SQLite run, PostgreSQL under the
// PostgreSQL run) is imported, Tessera's LDAP targets take over the entries COmanage provisioned
// at the DNs of cm_co_ldap_provisioner_dns, and a real slapd accepts binds with the imported
// legacy tokens and the imported {SSHA} and {CRYPT} PasswordAuthenticator hashes.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Client } from 'ldapts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { requestReprovision } from '../../src/core/provisioning/provisioning.service.ts';
import { systemClock } from '../../src/core/clock.ts';
import { importComanage, type CoReport, type ImportOptions } from '../../src/import/comanage/comanage-import.service.ts';
import { openComanageReader } from '../../src/import/comanage/comanage-reader.ts';
import { connectComanage, createComanageSchema } from '../../src/import/comanage/comanage-fixture.test-support.ts';
import { SEED, seedComanage } from '../../src/import/comanage/comanage-seed.test-support.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildApiUser, createTestApp, forEachDialect, type TestApp } from '../support/test-app.ts';
import { addLdapServer } from '../support/ldap-servers.ts';
import { createDatabase, startPostgres, type PostgresInstance } from '../support/postgres.ts';
import { createMariadbDatabase, startMariadb, type MariadbInstance } from '../support/mariadb.ts';

const SUFFIX = 'dc=example,dc=org';
const PEOPLE = SEED.baseDn;
const ACCOUNTS = `ou=accounts,ou=services,${SUFFIX}`;

forEachDialect('COmanage import end to end', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;
  let root: Client;
  let source: PostgresInstance | MariadbInstance;
  let url: string;
  let coId: string;
  let ldapTargetId: string;
  const binds = (dn: string, password: string) => ldapwhoamiBinds(slapd.url, dn, password);
  const options = (): ImportOptions => ({ coIds: [SEED.co.id], tokenScheme: 'ARGON2ID', passwordsService: 'accounts', dryRun: false, ...(ldapTargetId ? { ldapTargets: [{ cmTargetId: 1110, tesseraTargetId: ldapTargetId }] } : {}) });
  const runImport = async (): Promise<CoReport> => {
    const reader = await openComanageReader(url);
    try {
      const [report] = await importComanage(t.db, systemClock, reader, options());
      assert.equal(report!.error, undefined, report!.error);
      return report!;
    } finally {
      await reader.close();
    }
  };
  const provision = async () => {
    const batch = await requestReprovision(t.ctx, SYSTEM_ACTOR, coId);
    for (let i = 0; i < 50 && (await t.worker.runOnce()) > 0; i++);
    return batch;
  };
  const uuidOf = async (dn: string) => String((await root.search(dn, { scope: 'base', attributes: ['entryUUID'] })).searchEntries[0]?.entryUUID ?? '');
  const userPasswords = async (dn: string) => {
    const [e] = (await root.search(dn, { scope: 'base', attributes: ['userPassword'] })).searchEntries;
    const v = e?.userPassword;
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
  };

  before(async () => {
    requireCommand('/usr/bin/ldapwhoami', 'ldap-utils');
    slapd = await startSlapd();
    root = new Client({ url: slapd.url, timeout: 5_000 });
    await root.bind(slapd.rootDn, slapd.rootPassword);
    // The entries COmanage's LdapProvisioner wrote, with its "(CRYPT)" value no server understands.
    for (const [uid, cn] of [['ada', 'Ada Lovelace'], ['zoë', 'Zoë Ærøskøbing-Łukasiewicz']] as const) {
      await root.add(`uid=${uid},${PEOPLE}`, { objectClass: ['inetOrgPerson'], uid: [uid], cn: [cn], sn: [cn.split(' ')[1]!], userPassword: [`(CRYPT)${SEED.zoeBcrypt.hash}`] });
    }
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
    if (dialect === 'sqlite') {
      source = await startMariadb();
      url = await createMariadbDatabase(source.url);
    } else {
      source = await startPostgres();
      url = await createDatabase(source.url);
    }
    await createComanageSchema(url);
    const cm = await connectComanage(url);
    await seedComanage(cm);
    await cm.close();
  });
  after(async () => {
    await t?.close();
    await root?.unbind().catch(() => undefined);
    await slapd?.stop();
    await source?.stop();
  });

  it('imports, then provisions into the entries COmanage made: same DNs, same entries, imported tokens and passwords bind', async () => {
    const first = await runImport();
    coId = first.coId!;
    const api = await buildApiUser(t, coId, true);
    const services = await t.db.selectFrom('co_service').select(['id', 'short_label']).where('co_id', '=', coId).execute();
    const serviceId = (label: string) => services.find((s) => s.short_label === label)!.id;
    const create = async (body: Record<string, unknown>) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${coId}/provisioning-targets`, headers: { authorization: api.authorization }, payload: body });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { id: string }).id;
    };
    const serverId = await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [SUFFIX], coIds: [coId] });
    ldapTargetId = await create({ provisionerType: 'ldap', description: 'Directory', ordinal: 10, retryIntervalSeconds: 30, config: { serverId, baseDn: PEOPLE } });
    await create({ provisionerType: 'ldap-service-token', description: 'Mail tokens', ordinal: 20, retryIntervalSeconds: 30, config: { ldapTargetId, serviceId: serviceId('mail'), attribute: 'userPassword' } });
    await create({ provisionerType: 'ldap-service-token', description: 'Account passwords', ordinal: 30, retryIntervalSeconds: 30, config: { ldapTargetId, serviceId: serviceId('accounts'), attribute: 'serviceEntries', serviceBaseDn: ACCOUNTS, createServiceSubtree: true } });

    // The second run keeps COmanage's DNs for the target; Bob's unescaped DN is not carried over.
    const second = await runImport();
    assert.equal(second.counts['ldap-dn']!.added, 2);
    assert.match(second.skipped.find((s) => s.kind === 'ldap-dn')?.reason ?? '', /is not a DN \(COmanage wrote the identifier unescaped\); Tessera provisions the person at uid=bob\\,admin\\\+x,ou=people/);
    const adaUuid = await uuidOf(`uid=ada,${PEOPLE}`);
    const zoeUuid = await uuidOf(`uid=zoë,${PEOPLE}`);

    await provision();
    const states = await t.db.selectFrom('provisioning_state').innerJoin('identifier', 'identifier.person_id', 'provisioning_state.person_id').select(['identifier.identifier', 'target_key', 'provisioning_state.status', 'last_error']).where('target_id', '=', ldapTargetId).where('identifier.type', '=', 'uid').execute();
    const stateOf = (uid: string) => states.find((s) => s.identifier === uid);
    assert.equal(stateOf('ada')?.target_key, `uid=ada,${PEOPLE}`, 'the DN of cm_co_ldap_provisioner_dns');
    assert.equal(stateOf('zoë')?.target_key, `uid=zoë,${PEOPLE}`);
    assert.equal(stateOf('ada')?.status, 'provisioned', stateOf('ada')?.last_error ?? '');
    assert.equal(await uuidOf(`uid=ada,${PEOPLE}`), adaUuid, 'adopted, not recreated');
    assert.equal(await uuidOf(`uid=zoë,${PEOPLE}`), zoeUuid);
    const owned = await t.db.withTables<{ ldap_owned_entry: { origin: string; dn: string } }>().selectFrom('ldap_owned_entry').select(['origin', 'dn']).execute();
    assert.ok(owned.some((o) => o.origin === 'adopted' && o.dn === `uid=ada,${PEOPLE}`));
    assert.ok(!(await userPasswords(`uid=zoë,${PEOPLE}`)).some((v) => v.startsWith('(CRYPT)')), 'COmanage\'s "(CRYPT)" value is not kept');

    assert.equal(await binds(`uid=zoë,${PEOPLE}`, SEED.zoeMailToken), true, 'the imported legacy token binds');
    assert.equal(await binds(`uid=zoë,${PEOPLE}`, 'Zoe8Mai1'), false);
    assert.equal(await binds(`uid=ada,${ACCOUNTS}`, SEED.adaSshaPassword), true, 'the imported {SSHA} password binds');
    assert.equal(await binds(`uid=ada,${ACCOUNTS}`, SEED.adaCryptPassword), true, 'the imported {CRYPT} sha512-crypt password binds');
    assert.equal(await binds(`uid=zoë,${ACCOUNTS}`, SEED.zoeBcrypt.password), true, 'the imported {CRYPT} bcrypt password binds');
    assert.equal(await binds(`uid=zoë,${ACCOUNTS}`, 'plaintext-pw'), false, 'plaintext passwords are not imported');
  });

  it('a re-run changes nothing, in Tessera or in the directory', async () => {
    const before = await userPasswords(`uid=zoë,${PEOPLE}`);
    const report = await runImport();
    for (const [kind, c] of Object.entries(report.counts)) assert.deepEqual([kind, c.added, c.changed, c.removed], [kind, 0, 0, 0]);
    await provision();
    assert.deepEqual(await userPasswords(`uid=zoë,${PEOPLE}`), before);
    assert.equal(await binds(`uid=zoë,${PEOPLE}`, SEED.zoeMailToken), true);
  });

  it('a person removed at the source is suspended and their tokens stop; a token made in Tessera survives; they come back with their tokens', async () => {
    const zoe = await t.db.selectFrom('identifier').select('person_id').where('co_id', '=', coId).where('identifier', '=', 'zoë').executeTakeFirstOrThrow();
    const mail = await t.db.selectFrom('co_service').select('id').where('co_id', '=', coId).where('short_label', '=', 'mail').executeTakeFirstOrThrow();
    const made = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, coId, zoe.person_id, { serviceId: mail.id, label: 'made in Tessera' });
    await provision();
    assert.equal(await binds(`uid=zoë,${PEOPLE}`, made.secret), true);

    const cm = await connectComanage(url);
    await cm.query('update cm_co_people set deleted = ? where id = ?', [true, 11]);
    await runImport();
    await provision();
    assert.equal((await t.db.selectFrom('co_person').select('status').where('id', '=', zoe.person_id).executeTakeFirstOrThrow()).status, 'suspended');
    assert.equal(await binds(`uid=zoë,${PEOPLE}`, SEED.zoeMailToken), false, 'her imported token stops');
    assert.equal(await binds(`uid=zoë,${PEOPLE}`, made.secret), false, 'and the one made in Tessera');

    await cm.query('update cm_co_people set deleted = ? where id = ?', [false, 11]);
    await cm.close();
    await runImport();
    await provision();
    assert.equal(await binds(`uid=zoë,${PEOPLE}`, SEED.zoeMailToken), true, 'back: the imported token works again');
    assert.equal(await binds(`uid=zoë,${PEOPLE}`, made.secret), true, 'and the token made in Tessera survived the source update');
  });
});
