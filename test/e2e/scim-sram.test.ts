// End to end: SURF's SRAM (SBS) pushes a collaboration over SCIM as its documentation and code
// describe it — lookups by `externalId eq "<uuid>@sram.surf.nl"`, POST then PUT/DELETE to
// `{base}{meta.location}` (relative locations), an X-Service header, no PATCH, "" for absent values,
// collaborations and groups as Groups with full member lists, and a periodic sweep that pages
// /Users and /Groups and deletes every listed object it does not own. Each step ends in slapd:
// who holds a token that binds. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { addMembership } from '../../src/core/groups/group.service.ts';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { directoryFor, filter, PEOPLE, scimSource, tokenOf, type ScimClient } from '../support/scim.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildCo, buildPerson, createTestApp, forEachDialect, type TestApp } from '../support/test-app.ts';

const SRAM_USER = 'urn:mace:surf.nl:sram:scim:extension:User';
const SRAM_GROUP = 'urn:mace:surf.nl:sram:scim:extension:Group';
const X_SERVICE = { 'x-service': 'tessera-test-service' };

/** A User as SBS's user_template renders it ("" where SRAM has no value). */
function sramUser(uid: string, given: string, family: string) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', SRAM_USER],
    externalId: `${randomUUID()}@sram.surf.nl`,
    userName: uid,
    name: { givenName: given, familyName: family },
    displayName: `${given} ${family}`,
    active: true,
    emails: [{ primary: true, value: `${uid}@example.org` }],
    x509Certificates: [],
    [SRAM_USER]: { eduPersonUniqueId: `${randomUUID()}@sram.surf.nl`, voPersonExternalId: '', voPersonExternalAffiliation: '', eduPersonScopedAffiliation: '' },
  };
}

function sramGroup(name: string, urn: string, memberIds: string[]) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', SRAM_GROUP],
    externalId: `${randomUUID()}@sram.surf.nl`,
    displayName: name,
    members: memberIds.map((value) => ({ value })),
    [SRAM_GROUP]: { description: `${name} of the collaboration`, urn, labels: [] },
  };
}

/** SRAM's remote copy of what it created: the response body, kept to PUT and DELETE `{base}{meta.location}`. */
interface Remote {
  body: Record<string, unknown>;
  location: string;
  id: string;
}

/** SBS's create: look up by externalId, POST when absent, keep the response. */
async function provision(sram: ScimClient, endpoint: 'Users' | 'Groups', body: Record<string, unknown>): Promise<Remote> {
  const lookup = await sram.send('GET', `/${endpoint}?${filter(`externalId eq "${String(body.externalId)}"`)}`, undefined, X_SERVICE);
  assert.equal(lookup.status, 200);
  assert.equal(lookup.body.totalResults, 0);
  const res = await sram.send('POST', `/${endpoint}`, body, X_SERVICE);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const location = (res.body.meta as { location: string }).location;
  assert.equal(location, `/${endpoint}/${String(res.body.id)}`, 'meta.location is relative for SRAM');
  return { body: res.body, location, id: String(res.body.id) };
}

/** SBS's sweep: page through an endpoint with startIndex until a short page; every id listed. */
async function sweepList(sram: ScimClient, endpoint: 'Users' | 'Groups', count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let startIndex = 1; ; startIndex += count) {
    const page = await sram.send('GET', `/${endpoint}?startIndex=${startIndex}&count=${count}`, undefined, X_SERVICE);
    assert.equal(page.status, 200);
    const resources = page.body.Resources as Array<{ id: string }>;
    assert.equal(page.body.itemsPerPage, resources.length, 'itemsPerPage is what the page holds');
    ids.push(...resources.map((r) => r.id));
    if (resources.length < count) {
      assert.ok(Number(page.body.totalResults) < startIndex + count, 'a short page promises nothing more');
      return ids;
    }
  }
}

forEachDialect('SCIM: SRAM', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;

  before(async () => {
    requireCommand('/usr/bin/ldapwhoami', 'ldap-utils');
    slapd = await startSlapd();
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()], config: { publicUrl: 'http://tessera.test' } });
  });
  after(async () => {
    await t?.close();
    await slapd?.stop();
  });

  it('creates, updates, deactivates, changes memberships and sweeps; tokens bind for exactly the right people', async () => {
    const co = await buildCo(t);
    const sram = await scimSource(t, co.id, { name: 'SRAM', relativeLocation: true });
    const other = await scimSource(t, co.id, { name: 'Entra' });
    const local = await buildPerson(t, co.id, { given: 'Lou', family: 'Local', username: `lou-${dialect}` });
    const otherUser = await other.send('POST', '/Users', { userName: `olga-${dialect}`, name: { givenName: 'Olga', familyName: 'Other' } });
    assert.equal(otherUser.status, 201);
    assert.match(String((otherUser.body.meta as { location: string }).location), /^http:\/\/tessera\.test\/scim\/v2\/.+\/Users\//, 'absolute locations for other sources');

    // Users, then the collaboration and one of its groups, with full member lists.
    const alice = await provision(sram, 'Users', sramUser(`alice-${dialect}`, 'Alice', 'Zoë'));
    const bob = await provision(sram, 'Users', sramUser(`bob-${dialect}`, 'Bob', 'Brown'));
    const carol = await provision(sram, 'Users', sramUser(`carol-${dialect}`, 'Carol', 'Clark'));
    const collab = await provision(sram, 'Groups', sramGroup(`Research ${dialect}`, 'uni:research', [alice.id, bob.id, carol.id]));
    const staff = await provision(sram, 'Groups', sramGroup(`Research staff ${dialect}`, 'uni:research:staff', [alice.id]));
    assert.deepEqual((collab.body.members as Array<{ value: string }>).map((m) => m.value).sort(), [alice.id, bob.id, carol.id].sort());

    // The service is open to the collaboration's members; a local membership of the same group coexists.
    const { serviceId } = await directoryFor(t, slapd, co.id, { groupId: collab.id });
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, collab.id, { personId: local.id, member: true, owner: false });
    const secrets = {
      alice: await tokenOf(t, co.id, alice.id, serviceId),
      bob: await tokenOf(t, co.id, bob.id, serviceId),
      carol: await tokenOf(t, co.id, carol.id, serviceId),
      local: await tokenOf(t, co.id, local.id, serviceId),
    };
    const binds = async (uid: string, secret: string) => ldapwhoamiBinds(slapd.url, buildDn('uid', uid, PEOPLE), secret);
    const holders = async () => ({
      alice: await binds(`alice-${dialect}`, secrets.alice),
      bob: await binds(`bob-${dialect}`, secrets.bob),
      carol: await binds(`carol-${dialect}`, secrets.carol),
      local: await binds(`lou-${dialect}`, secrets.local),
    });
    await t.worker.drain();
    assert.deepEqual(await holders(), { alice: true, bob: true, carol: true, local: true });

    // Update: SBS PUTs the whole user to {base}{meta.location}; "" stays absent.
    const renamed = { ...alice.body, name: { givenName: 'Alice', familyName: 'Zoë-Smith' }, displayName: 'Alice Zoë-Smith', emails: [{ primary: true, value: '' }] };
    delete (renamed as Record<string, unknown>).meta;
    const put = await sram.send('PUT', alice.location, renamed, X_SERVICE);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((put.body.name as { familyName: string }).familyName, 'Zoë-Smith');
    assert.deepEqual(put.body.emails, []);

    // Deactivate and back.
    assert.equal((await sram.send('PUT', bob.location, { ...bob.body, meta: undefined, active: false }, X_SERVICE)).status, 200);
    await t.worker.drain();
    assert.deepEqual(await holders(), { alice: true, bob: false, carol: true, local: true });
    assert.equal((await sram.send('PUT', bob.location, { ...bob.body, meta: undefined, active: true }, X_SERVICE)).status, 200);
    await t.worker.drain();
    assert.equal((await holders()).bob, true, "bob's token works again");

    // Membership change: the full list without bob; the local member stays.
    const shorter = await sram.send('PUT', collab.location, { ...collab.body, meta: undefined, members: [{ value: alice.id }, { value: carol.id }] }, X_SERVICE);
    assert.equal(shorter.status, 200, JSON.stringify(shorter.body));
    await t.worker.drain();
    assert.deepEqual(await holders(), { alice: true, bob: false, carol: true, local: true });

    // Delete: suspended and detached — gone from SCIM, kept (suspended) in Tessera.
    assert.equal((await sram.send('DELETE', bob.location, undefined, X_SERVICE)).status, 204);
    assert.equal((await sram.send('GET', bob.location, undefined, X_SERVICE)).status, 404);
    const bobRow = await t.db.selectFrom('co_person').select(['status', 'source_id']).where('id', '=', bob.id).executeTakeFirstOrThrow();
    assert.deepEqual(bobRow, { status: 'suspended', source_id: null });

    // The sweep: SBS lost carol and the staff group from its records; it deletes what it lists and does not own.
    const known = new Set([alice.id, collab.id]);
    const listedUsers = await sweepList(sram, 'Users', 1);
    assert.deepEqual(listedUsers.sort(), [alice.id, carol.id].sort(), 'only its own users: not the local person, not the other source’s');
    const listedGroups = await sweepList(sram, 'Groups', 1);
    assert.deepEqual(listedGroups.sort(), [collab.id, staff.id].sort());
    for (const id of listedUsers) if (!known.has(id)) assert.equal((await sram.send('DELETE', `/Users/${id}`, undefined, X_SERVICE)).status, 204);
    for (const id of listedGroups) if (!known.has(id)) assert.equal((await sram.send('DELETE', `/Groups/${id}`, undefined, X_SERVICE)).status, 204);
    const beyond = await sram.send('GET', '/Users?startIndex=50&count=10', undefined, X_SERVICE);
    assert.deepEqual([beyond.body.totalResults, beyond.body.itemsPerPage, beyond.body.Resources], [1, 0, []]);

    await t.worker.drain();
    assert.deepEqual(await holders(), { alice: true, bob: false, carol: false, local: true });
    const olga = await t.db.selectFrom('co_person').select('status').where('id', '=', String(otherUser.body.id)).executeTakeFirstOrThrow();
    assert.equal(olga.status, 'active', "the other source's user is untouched by SRAM's sweep");
    const history = await t.db.selectFrom('history_record').select('actor_label').where('co_id', '=', co.id).where('person_id', '=', carol.id).execute();
    assert.ok(history.some((h) => h.actor_label === 'source SRAM'), 'history names the source as the actor');
  });
});
