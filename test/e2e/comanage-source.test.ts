// End to end: a COmanage Registry SqlProvisioner target (MariaDB) as the source of a CO, provisioned
// to a real slapd. A run brings people in and provisioning writes their entries; tokens made in
// Tessera bind and survive source updates; a re-run changes nothing; a dry run writes nothing; a
// person removed at the source is suspended and their token stops binding, and binds again when
// COmanage brings them back. Tessera on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { addSource, runSource } from '../../src/core/sources/source.service.ts';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import type { ComanageConnection } from '../../src/core/sources/comanage-sql/comanage-connection.ts';
import { createSpTables, insertSp, openComanage, spTime } from '../support/comanage-sp.ts';
import { createMariadbDatabase, startMariadb, type MariadbInstance } from '../support/mariadb.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildApiUser, buildCo, createTestApp, everyRow, forEachDialect, type TestApp } from '../support/test-app.ts';
import { ensurePlatformCo } from '../../src/core/cos/co.service.ts';
import { addLdapServer } from '../support/ldap-servers.ts';

const PEOPLE = 'ou=people,dc=example,dc=org';

forEachDialect('COmanage source to slapd', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;
  let maria: MariadbInstance;
  let conn: ComanageConnection;
  let url: string;

  before(async () => {
    requireCommand('/usr/bin/ldapwhoami', 'ldap-utils');
    [slapd, maria] = await Promise.all([startSlapd(), startMariadb()]);
    url = await createMariadbDatabase(maria.url);
    conn = await openComanage(url);
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  });
  after(async () => {
    await conn?.close();
    await t?.close();
    await Promise.all([slapd?.stop(), maria?.stop()]);
  });

  const binds = (uid: string, password: string) => ldapwhoamiBinds(slapd.url, buildDn('uid', uid, PEOPLE), password);

  async function comanagePerson(id: number, uid: string, given: string, family: string, modified: string): Promise<void> {
    const s = { created: modified, modified };
    await insertSp(conn.db, 'co_people', [{ id, status: 'A', ...s }]);
    await insertSp(conn.db, 'names', [{ id, co_person_id: id, given, family, type: 'official', primary_name: true, ...s }]);
    await insertSp(conn.db, 'identifiers', [{ id, co_person_id: id, identifier: uid, type: 'uid', login: true, status: 'A', ...s }]);
    await insertSp(conn.db, 'email_addresses', [{ id, co_person_id: id, mail: `${uid}@example.org`, type: 'official', verified: true, ...s }]);
  }
  async function removeComanagePerson(id: number): Promise<void> {
    for (const table of ['names', 'identifiers', 'email_addresses']) await sql`delete from ${sql.table(`sp_${table}`)} where co_person_id = ${id}`.execute(conn.db);
    await sql`delete from sp_co_people where id = ${id}`.execute(conn.db);
  }

  it('provisions what the source brings, keeps local tokens through updates, and suspends people removed at the source', async () => {
    await createSpTables(conn, 'v4');
    const past = spTime(t.clock.now(), -1);
    await comanagePerson(1, 'ada', 'Ada', 'Lovelace-Ñ', past);
    await comanagePerson(2, 'bob', 'Bob', 'Øster', past);

    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { storageScheme: 'SSHA512', maxTokensPerPerson: 3 });
    const api = await buildApiUser(t, co.id, true);
    const create = async (body: Record<string, unknown>) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${co.id}/provisioning-targets`, headers: { authorization: api.authorization }, payload: body });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string };
    };
    const ldap = await create({ provisionerType: 'ldap', description: 'Directory', ordinal: 10, config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [co.id] }), baseDn: PEOPLE } });
    await create({ provisionerType: 'ldap-service-token', description: 'Tokens', ordinal: 20, config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'userPassword' } });

    // Added through the REST API by a platform API user (its URL names a host Tessera connects to), run from the CO's API: the first run is a full one.
    const platformApi = await buildApiUser(t, (await ensurePlatformCo(t.ctx)).id, true);
    const added = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${co.id}/sources`, headers: { authorization: platformApi.authorization }, payload: { kind: 'comanage-sql', name: 'registry', settings: { databaseUrl: url } } });
    assert.equal(added.statusCode, 201, added.body);
    const source = added.json() as { id: string; settings: string };
    assert.ok(!source.settings.includes(new URL(url).password || '\u0000'), 'the password is never shown');
    const first = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${co.id}/sources/${source.id}/runs`, headers: { authorization: api.authorization }, payload: {} });
    assert.equal(first.statusCode, 200, first.body);
    assert.equal((first.json() as { counts: { people: { added: number } } }).counts.people.added, 2);
    await t.worker.drain();

    const personId = async (ext: string) => (await t.db.selectFrom('co_person').select('id').where('co_id', '=', co.id).where('external_id', '=', ext).executeTakeFirstOrThrow()).id;
    const ada = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, await personId('1'), { serviceId: service.id, label: 'laptop' });
    const bob = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, await personId('2'), { serviceId: service.id, label: 'phone' });
    await t.worker.drain();
    assert.equal(await binds('ada', ada.secret), true);
    assert.equal(await binds('bob', bob.secret), true);

    // A change at the source: Ada's name. An incremental run updates her; her token stays and binds.
    t.clock.advance(60_000);
    await sql`update sp_names set family = ${'Byron'}, modified = ${spTime(t.clock.now())} where co_person_id = 1`.execute(conn.db);
    const before = await everyRow(t.db);
    const dry = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id, { dryRun: true });
    assert.deepEqual(dry.diff.people.changed.map((p) => p.externalId), ['1']);
    assert.deepEqual(await everyRow(t.db), before, 'a dry run writes nothing');
    const update = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id);
    assert.equal(update.counts.mode, 'incremental');
    assert.equal(update.counts.people.changed, 1);
    await t.worker.drain();
    assert.equal(await binds('ada', ada.secret), true, 'a token made in Tessera survives a source update');
    assert.equal((await t.db.selectFrom('name').select('family').where('person_id', '=', await personId('1')).executeTakeFirstOrThrow()).family, 'Byron');

    // A re-run finds nothing to do and queues nothing.
    const jobs = async () => Number((await t.db.selectFrom('provisioning_job').select((eb) => eb.fn.countAll().as('n')).where('co_id', '=', co.id).executeTakeFirstOrThrow()).n);
    const jobsBefore = await jobs();
    const rerun = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id, { full: true });
    assert.deepEqual(rerun.counts.people, { added: 0, changed: 0, suspended: 0, unchanged: 2 });
    assert.equal(await jobs(), jobsBefore);

    // Bob leaves COmanage: suspended, his token stops binding; back, it binds again.
    await removeComanagePerson(2);
    const removal = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id, { full: true });
    assert.deepEqual(removal.diff.people.suspended.map((p) => p.externalId), ['2']);
    await t.worker.drain();
    assert.equal(await binds('bob', bob.secret), false, 'a person removed at the source is cut off');
    assert.equal(await binds('ada', ada.secret), true);
    t.clock.advance(60_000);
    await comanagePerson(2, 'bob', 'Bob', 'Øster', spTime(t.clock.now()));
    await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id, { full: true });
    await t.worker.drain();
    assert.equal(await binds('bob', bob.secret), true, 'back at the source, his unrevoked token works again');
  });
});
