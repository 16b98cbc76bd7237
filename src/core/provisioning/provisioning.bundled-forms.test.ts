import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildCo, buildPerson, useTestApp, forEachDialect, signIn, type Browser } from '../../../test/support/test-app.ts';
import { fieldMessage, fieldValue, followRedirect, get, post } from '../../../test/support/web-pages.ts';
import { ldapProvisionerPlugin } from '../../plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../plugins/service-tokens/service-tokens.plugin.ts';
import { addLdapServer } from '../../../test/support/ldap-servers.ts';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import type { Co } from '../cos/co.service.ts';
import { coServiceInput } from '../co-services/co-service.schema.ts';
import { createService } from '../co-services/co-service.service.ts';

/**
 * The target form is generic: these tests hold it to the bundled provisioners' real settings, so a
 * change to their schemas that the form cannot render shows up here. No directory is contacted:
 * creating a target only stores it.
 */
forEachDialect('Provisioning target forms of the bundled provisioners', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  let co: Co;
  let admin: Browser;
  before(async () => {
    co = await buildCo(t, 'Physics');
    admin = await signIn(t, (await buildPerson(t, co.id, { admin: true })).username);
  });

  const targetsUrl = () => `/cos/${co.id}/provisioning-targets`;
  const common = { description: '', mode: 'manual', ordinal: '10', retryIntervalSeconds: '60', maxRetries: '3', provisionGroupId: '' };

  it('creates an LDAP target from its generic form: an assigned server, a base DN inside its subtrees, checkboxes and attribute choices', async () => {
    const serverId = await addLdapServer(t.ctx, { name: 'Campus directory', url: 'ldaps://ldap.example.org:636', bindDn: 'cn=tessera,dc=example,dc=org', bindPassword: 'ldap-bind-secret', subtrees: ['ou=people,dc=example,dc=org'], coIds: [co.id] });
    const chooser = await get(t, `${targetsUrl()}/new`, admin);
    assert.match(chooser.body, /<option value="ldap"[^>]*>LDAP<\/option>/);
    assert.match(chooser.body, /<option value="ldap-service-token"[^>]*>LDAP service tokens<\/option>/);
    const form = await get(t, `${targetsUrl()}/new?provisionerType=ldap`, admin);
    assert.equal(form.statusCode, 200);
    for (const attribute of ['cn', 'mail', 'isMemberOf', 'voPersonStatus']) assert.match(form.body, new RegExp(`name="config.attributes" value="${attribute}" checked`));
    assert.match(form.body, new RegExp(`<select id="f-config.serverId"[^>]*>.*<option value="${serverId}">Campus directory [^(]*\\(ou=people,dc=example,dc=org\\)</option>`, 's'));
    // A CO admin chooses a server; where it is and how Tessera binds there are not theirs to see or set.
    for (const field of ['url', 'bindDn', 'bindPassword', 'startTls', 'tlsCaCertificates']) assert.doesNotMatch(form.body, new RegExp(`name="config.${field}"`));
    assert.ok(!form.body.includes('ldap.example.org') && !form.body.includes('cn=tessera'));
    assert.equal(fieldValue(form.body, 'f-config.dnAttribute'), 'uid');

    const values = {
      ...common,
      provisionerType: 'ldap',
      description: 'Directory',
      'config.serverId': serverId,
      'config.baseDn': 'ou=people,dc=example,dc=org',
      'config.dnAttribute': 'uid',
      'config.dnIdentifierType': 'uid',
      'config.voPerson': 'on',
      'config.isMemberOfFormat': 'group',
    };
    const badDn = await post(t, targetsUrl(), admin, { ...values, 'config.baseDn': 'not a dn' });
    assert.equal(badDn.statusCode, 400);
    assert.match(fieldMessage(badDn.body, 'f-config.baseDn') ?? '', /Not a valid base DN/);
    const outside = await post(t, targetsUrl(), admin, { ...values, 'config.baseDn': 'ou=people,dc=other,dc=org' });
    assert.equal(outside.statusCode, 422);
    assert.match(fieldMessage(outside.body, 'f-config.baseDn') ?? '', /must lie inside one of the subtrees of LDAP server "Campus directory": ou=people,dc=example,dc=org/);

    const params = new URLSearchParams({ _csrf: admin.csrf, ...values, 'config.url': 'ldap://10.0.0.1:22', 'config.bindPassword': 'smuggled' });
    for (const attribute of ['cn', 'sn', 'mail', 'uid', 'voPersonStatus']) params.append('config.attributes', attribute);
    const res = await t.app.inject({ method: 'POST', url: targetsUrl(), headers: { ...admin.headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: params.toString() });
    const page = await followRedirect(t, res, admin);
    assert.match(page.body, /Provisioning target Directory created\./);
    const row = await t.ctx.db.selectFrom('provisioning_target').selectAll().where('co_id', '=', co.id).where('provisioner_type', '=', 'ldap').executeTakeFirstOrThrow();
    const config = JSON.parse(row.config) as Record<string, unknown>;
    assert.deepEqual([config.serverId, config.voPerson, config.eduPerson, config.attributes], [serverId, true, false, ['cn', 'sn', 'mail', 'uid', 'voPersonStatus']]);
    assert.deepEqual([config.url, config.bindPassword], [undefined, undefined], 'fields a CO admin may not set are dropped');
    assert.ok(!row.config.includes('ldap-bind-secret') && !row.config.includes('smuggled'));
    assert.ok(!page.body.includes('ldap-bind-secret') && !page.body.includes('ldap.example.org'));
  });

  it('offers the CO’s LDAP targets and services to a token target, and shows its ordering rule on the order field', async () => {
    const ldap = await t.ctx.db.selectFrom('provisioning_target').select('id').where('co_id', '=', co.id).where('provisioner_type', '=', 'ldap').executeTakeFirstOrThrow();
    const service = await createService(t.ctx, SYSTEM_ACTOR, co.id, coServiceInput.parse({ name: 'Wiki', shortLabel: 'wiki' }));
    const form = await get(t, `${targetsUrl()}/new?provisionerType=ldap-service-token`, admin);
    assert.match(form.body, new RegExp(`<select id="f-config.ldapTargetId"[^>]*>.*<option value="${ldap.id}">Directory \\(LDAP\\)</option>`));
    assert.match(form.body, new RegExp(`<select id="f-config.serviceId"[^>]*>.*<option value="${service.id}">Wiki</option>`));

    const values = { ...common, provisionerType: 'ldap-service-token', description: 'Wiki tokens', 'config.ldapTargetId': ldap.id, 'config.serviceId': service.id, 'config.attribute': 'userPassword' };
    const early = await post(t, targetsUrl(), admin, { ...values, ordinal: '5' });
    assert.equal(early.statusCode, 422);
    assert.match(fieldMessage(early.body, 'f-ordinal') ?? '', /must run after its LDAP target "Directory"/);
    const page = await followRedirect(t, await post(t, targetsUrl(), admin, { ...values, ordinal: '20' }), admin);
    assert.match(page.body, /Provisioning target Wiki tokens created\./);
    assert.ok(page.body.includes('Directory (LDAP)') && page.body.includes('Wiki'), 'the target page names what the ids point at');
  });
});
