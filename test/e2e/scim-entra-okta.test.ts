// End to end: Microsoft Entra ID and Okta provision over SCIM as their documentation shows
// (Entra ID's "Develop a SCIM endpoint" request sequence; Okta's SCIM 2.0 provisioning guide):
// lookups before create, capitalised PATCH ops and "False" as a string (Entra ID), the connection
// test `GET /Users?startIndex=1&count=2` and `members[value eq "id"]` (Okta), deactivation by
// `active:false`, group membership changes, then deletion. Each step ends in slapd. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { directoryFor, filter, patchOp, PEOPLE, scimSource, tokenOf } from '../support/scim.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildCo, createTestApp, forEachDialect, type TestApp } from '../support/test-app.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

forEachDialect('SCIM: Entra ID and Okta', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;
  const binds = (uid: string, secret: string) => ldapwhoamiBinds(slapd.url, buildDn('uid', uid, PEOPLE), secret);

  before(async () => {
    requireCommand('/usr/bin/ldapwhoami', 'ldap-utils');
    slapd = await startSlapd();
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()], config: { publicUrl: 'http://tessera.test' } });
  });
  after(async () => {
    await t?.close();
    await slapd?.stop();
  });

  it('Entra ID: lookup, create, PATCH with capitalised ops, "False", group add/remove of one member, soft then hard delete', async () => {
    const co = await buildCo(t);
    const entra = await scimSource(t, co.id, { name: 'Entra ID' });
    const { serviceId } = await directoryFor(t, slapd, co.id);
    const user = (n: string) => ({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
      externalId: `ext-${n}-${dialect}`,
      userName: `Test_User_${n}_${dialect}@contoso.example`,
      active: true,
      emails: [{ primary: true, type: 'work', value: `${n}@contoso.example` }],
      meta: { resourceType: 'User' },
      name: { formatted: `Given ${n} Family`, familyName: 'Family', givenName: `Given${n}` },
      roles: [],
      [ENTERPRISE]: { employeeNumber: '1', department: 'Research' },
    });
    const created: Record<string, string> = {};
    for (const n of ['one', 'two']) {
      const u = user(n);
      const lookup = await entra.send('GET', `/Users?${filter(`userName eq "${u.userName}"`)}`);
      assert.deepEqual([lookup.status, lookup.body.totalResults, lookup.body.Resources], [200, 0, []]);
      const res = await entra.send('POST', '/Users', u);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.headers.location, `http://tessera.test/scim/v2/${entra.sourceId}/Users/${String(res.body.id)}`);
      created[n] = String(res.body.id);
      // Entra ID finds it again by userName, in another case.
      const again = await entra.send('GET', `/Users?${filter(`userName eq "${u.userName.toUpperCase()}"`)}`);
      assert.deepEqual((again.body.Resources as Array<{ id: string }>).map((r) => r.id), [created[n]]);
    }
    const uid = (n: string) => `Test_User_${n}_${dialect}@contoso.example`;
    const secrets = { one: await tokenOf(t, co.id, created.one!, serviceId), two: await tokenOf(t, co.id, created.two!, serviceId) };
    await t.worker.drain();
    assert.deepEqual([await binds(uid('one'), secrets.one), await binds(uid('two'), secrets.two)], [true, true]);

    const update = await entra.send('PATCH', `/Users/${created.one}`, patchOp(
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updated@contoso.example' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ));
    assert.equal(update.status, 200, JSON.stringify(update.body));
    assert.deepEqual(update.body.emails, [{ value: 'updated@contoso.example', type: 'work', primary: true }]);
    assert.equal((update.body.name as { familyName: string }).familyName, 'updatedFamilyName');

    // Groups: lookup by displayName without members, create empty, add two, remove one with a value list.
    const lookup = await entra.send('GET', `/Groups?excludedAttributes=members&${filter(`displayName eq "Group ${dialect}"`)}`);
    assert.deepEqual([lookup.status, lookup.body.totalResults], [200, 0]);
    const group = await entra.send('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: `g-${dialect}`, displayName: `Group ${dialect}`, meta: { resourceType: 'Group' }, members: [] });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    const gid = String(group.body.id);
    assert.equal((await entra.send('PATCH', `/Groups/${gid}`, patchOp({ op: 'Add', path: 'members', value: [{ value: created.one }, { value: created.two }] }))).status, 204);
    assert.equal((await entra.send('PATCH', `/Groups/${gid}`, patchOp({ op: 'Remove', path: 'members', value: [{ value: created.two }] }))).status, 204);
    const found = await entra.send('GET', `/Groups?excludedAttributes=members&${filter(`displayName eq "Group ${dialect}"`)}`);
    const listed = (found.body.Resources as Array<Record<string, unknown>>)[0]!;
    assert.equal(listed.id, gid);
    assert.equal(listed.members, undefined, 'excludedAttributes=members');
    const full = await entra.send('GET', `/Groups/${gid}`);
    assert.deepEqual((full.body.members as Array<{ value: string }>).map((m) => m.value), [created.one], 'Remove with a value list removed only that member');
    assert.equal((await entra.send('PATCH', `/Groups/${gid}`, patchOp({ op: 'Replace', path: 'displayName', value: `Group ${dialect} renamed` }))).status, 204);

    // Soft delete: "active":"False" as a string; tokens stop. Then DELETE.
    const soft = await entra.send('PATCH', `/Users/${created.two}`, patchOp({ op: 'Replace', path: 'active', value: 'False' }));
    assert.equal(soft.body.active, false);
    await t.worker.drain();
    assert.deepEqual([await binds(uid('one'), secrets.one), await binds(uid('two'), secrets.two)], [true, false]);
    assert.equal((await entra.send('DELETE', `/Users/${created.two}`)).status, 204);
    assert.equal((await entra.send('GET', `/Users/${created.two}`)).status, 404);
    assert.equal((await entra.send('DELETE', `/Groups/${gid}`)).status, 204);
    assert.equal((await entra.send('GET', `/Groups/${gid}`)).status, 404);
    await t.worker.drain();
    assert.deepEqual([await binds(uid('one'), secrets.one), await binds(uid('two'), secrets.two)], [true, false]);
  });

  it('Okta: connection test, lookup, create, PUT, deactivate, group push with members[value eq "id"]', async () => {
    const co = await buildCo(t);
    const okta = await scimSource(t, co.id, { name: 'Okta', contentType: 'application/json' });

    const probe = await okta.send('GET', '/Users?startIndex=1&count=2');
    assert.equal(probe.status, 200);
    assert.deepEqual(probe.body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });

    const ids: Record<string, string> = {};
    for (const n of ['ann', 'ben']) {
      const userName = `${n}.${dialect}@okta.example`;
      const lookup = await okta.send('GET', `/Users?${filter(`userName eq "${userName}"`)}&startIndex=1&count=100`);
      assert.equal(lookup.body.totalResults, 0);
      const res = await okta.send('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        name: { givenName: n.toUpperCase(), familyName: 'Okta' },
        emails: [{ primary: true, value: userName, type: 'work' }],
        displayName: `${n} Okta`,
        locale: 'en-US',
        groups: [],
        password: 'a password Okta may push, which Tessera ignores',
        active: true,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.externalId, undefined, 'no externalId sent, none shown');
      ids[n] = String(res.body.id);
    }
    const { serviceId } = await directoryFor(t, slapd, co.id);
    const secrets = { ann: await tokenOf(t, co.id, ids.ann!, serviceId), ben: await tokenOf(t, co.id, ids.ben!, serviceId) };
    await t.worker.drain();
    const holders = async () => [await binds(`ann.${dialect}@okta.example`, secrets.ann), await binds(`ben.${dialect}@okta.example`, secrets.ben)];
    assert.deepEqual(await holders(), [true, true]);

    const page = await okta.send('GET', '/Users?startIndex=1&count=2');
    assert.deepEqual([page.body.totalResults, page.body.itemsPerPage, page.body.startIndex], [2, 2, 1]);

    const current = await okta.send('GET', `/Users/${ids.ann}`);
    const put = await okta.send('PUT', `/Users/${ids.ann}`, { ...current.body, name: { givenName: 'Ann', familyName: 'Renamed' }, meta: undefined });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((put.body.name as { familyName: string }).familyName, 'Renamed');

    const group = await okta.send('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Okta group ${dialect}`, members: [] });
    assert.equal(group.status, 201);
    const gid = String(group.body.id);
    assert.equal((await okta.send('PATCH', `/Groups/${gid}`, patchOp({ op: 'add', path: 'members', value: [{ value: ids.ann, display: 'ann' }, { value: ids.ben, display: 'ben' }] }))).status, 204);
    assert.equal((await okta.send('PATCH', `/Groups/${gid}`, patchOp({ op: 'remove', path: `members[value eq "${ids.ann}"]` }))).status, 204);
    assert.equal((await okta.send('PATCH', `/Groups/${gid}`, patchOp({ op: 'replace', value: { id: gid, displayName: `Okta group ${dialect} 2` } }))).status, 204);
    const after = await okta.send('GET', `/Groups/${gid}`);
    assert.deepEqual([after.body.displayName, (after.body.members as Array<{ value: string }>).map((m) => m.value)], [`Okta group ${dialect} 2`, [ids.ben]]);

    const off = await okta.send('PATCH', `/Users/${ids.ben}`, patchOp({ op: 'replace', value: { active: false } }));
    assert.equal(off.body.active, false);
    await t.worker.drain();
    assert.deepEqual(await holders(), [true, false]);
  });
});
