// Tessera knows what the directory can check: a slapd without the argon2 and pw-pbkdf2 modules is
// probed when a token target is saved and periodically; a scheme it cannot verify is refused, a
// scheme changed later is warned about on the target's page, and a scheme whose values exceed
// voPersonApplicationPassword's 128 octets is refused for that attribute. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Client } from 'ldapts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { AppError } from '../../src/core/errors/app-error.ts';
import { createTarget, unsealedTargetsOf } from '../../src/core/provisioning/target.service.ts';
import type { TargetInput } from '../../src/core/provisioning/target.schema.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { probeAllDirectories } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token.provisioner.ts';
import { PROBE_PREFIX, schemeValueOctets } from '../../src/plugins/ldap-service-token-provisioner/scheme-probe.ts';
import type { SchemeProbeTables } from '../../src/plugins/ldap-service-token-provisioner/scheme-probe.table.ts';
import type { PasswordScheme } from '../../src/plugins/service-tokens/hashing/password-schemes.ts';
import type { ServiceTokenTables } from '../../src/plugins/service-tokens/service-token.table.ts';
import { buildService, enableTokens } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { buildApiUser, buildCo, buildPerson, createTestApp, forEachDialect, signIn, type TestApp } from '../support/test-app.ts';
import { addLdapServer } from '../support/ldap-servers.ts';

const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;

forEachDialect('What the directory can check', (dialect) => {
  let t: TestApp;
  let bare: SlapdInstance;
  let full: SlapdInstance;

  before(async () => {
    [bare, full] = await Promise.all([startSlapd({ withoutModules: ['argon2.la', 'pw-pbkdf2.la'] }), startSlapd()]);
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });
  });
  after(async () => {
    await t?.close();
    await Promise.all([bare?.stop(), full?.stop()]);
  });

  const base = { mode: 'automatic' as const, retryIntervalSeconds: 30, maxRetries: 10, provisionGroupId: null };

  async function setup(slapd: { url: string; rootDn: string; rootPassword: string }, scheme: PasswordScheme) {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { storageScheme: scheme });
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, {
      ...base,
      provisionerType: 'ldap',
      description: 'Directory',
      ordinal: 10,
      config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [co.id] }), baseDn: PEOPLE, voPerson: true },
    });
    const tokenTarget = (attribute = 'userPassword'): TargetInput => ({ ...base, provisionerType: 'ldap-service-token', description: 'Tokens', ordinal: 20, config: { ldapTargetId: ldap.id, serviceId: service.id, attribute } });
    return { coId: co.id, serviceId: service.id, ldapId: ldap.id, tokenTarget };
  }

  async function refusal(promise: Promise<unknown>): Promise<AppError> {
    try {
      await promise;
    } catch (e) {
      if (e instanceof AppError) return e;
      throw e;
    }
    assert.fail('expected a refusal');
  }

  async function targetPage(coId: string, targetId: string): Promise<string> {
    const admin = await buildPerson(t, coId, { admin: true });
    const browser = await signIn(t, admin.username);
    const res = await t.app.inject({ method: 'GET', url: `/cos/${coId}/provisioning-targets/${targetId}`, headers: browser.headers });
    assert.equal(res.statusCode, 200);
    return res.body;
  }

  async function probeEntries(slapd: SlapdInstance): Promise<number> {
    const root = new Client({ url: slapd.url });
    try {
      await root.bind(slapd.rootDn, slapd.rootPassword);
      return (await root.search(PEOPLE, { scope: 'one', filter: `(cn=${PROBE_PREFIX}*)` })).searchEntries.length;
    } finally {
      await root.unbind();
    }
  }

  it('refuses a token target whose service stores a scheme the directory cannot check, naming the module', async () => {
    for (const [scheme, prefix, module] of [['ARGON2ID', '{ARGON2}', 'argon2'], ['PBKDF2-SHA512', '{PBKDF2-SHA512}', 'pw-pbkdf2']] as const) {
      const s = await setup(bare, scheme);
      const e = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, s.coId, s.tokenTarget()));
      assert.deepEqual([e.code, e.status, e.field], ['SCHEME_NOT_VERIFIED_BY_DIRECTORY', 422, 'config.serviceId']);
      assert.match(e.message, new RegExp(`cannot check \\${prefix} values.*every bind with its tokens would fail \\(it checks: \\{SSHA512\\}, \\{CRYPT\\}, \\{SSHA\\}, plain text\\).*load slapd's ${module} module`));
    }
    // Over the API too.
    const s = await setup(bare, 'ARGON2ID');
    const api = await buildApiUser(t, s.coId, true);
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/cos/${s.coId}/provisioning-targets`, headers: { authorization: api.authorization }, payload: s.tokenTarget() });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().error.code, 'SCHEME_NOT_VERIFIED_BY_DIRECTORY');
    assert.equal(await probeEntries(bare), 0, 'the probe entry is removed');
  });

  it('shows on the target page what the directory checks, and warns once the service moves to a scheme it cannot check', async () => {
    const s = await setup(bare, 'SSHA512');
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, s.coId, s.tokenTarget());
    const ok = await targetPage(s.coId, target.id);
    assert.match(ok, /<h2 id="checks">Checks<\/h2>/);
    assert.match(ok, /the directory checks \{SSHA512\}, \{CRYPT\}, \{SSHA\}, plain text\./);
    assert.doesNotMatch(ok, /Warning:/);

    await enableTokens(t, s.coId, s.serviceId, { storageScheme: 'ARGON2ID' });
    const db = t.ctx.db.withTables<ServiceTokenTables & SchemeProbeTables>();
    const before = await db.selectFrom('ldap_scheme_probe').select('checked_at').where('ldap_target_id', '=', s.ldapId).executeTakeFirstOrThrow();
    t.clock.advance(60_000);
    assert.ok((await probeAllDirectories(db, (coId) => unsealedTargetsOf(t.ctx, t.ctx.db, coId), t.clock.now())) >= 1);
    const again = await db.selectFrom('ldap_scheme_probe').select('checked_at').where('ldap_target_id', '=', s.ldapId).executeTakeFirstOrThrow();
    assert.notEqual(again.checked_at, before.checked_at, 'the periodic probe probed again');
    const warned = await targetPage(s.coId, target.id);
    assert.match(warned, /role="alert">Warning: The directory at LDAP target &quot;Directory&quot; cannot check \{ARGON2\} values/);
    assert.equal(await probeEntries(bare), 0);
  });

  it('refuses per-service passwords of a scheme whose values exceed voPersonApplicationPassword’s 128 octets', async () => {
    assert.equal(await schemeValueOctets('PBKDF2-SHA512'), 130);
    const s = await setup(full, 'PBKDF2-SHA512');
    const e = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, s.coId, s.tokenTarget('voPersonApplicationPassword')));
    assert.deepEqual([e.code, e.field], ['SCHEME_VALUES_TOO_LONG', 'config.attribute']);
    assert.match(e.message, /\{PBKDF2-SHA512\} values \(130 octets\) are longer than voPersonApplicationPassword allows \(128 octets/);
    // userPassword has no such bound, and a full slapd checks the scheme.
    await createTarget(t.ctx, SYSTEM_ACTOR, s.coId, s.tokenTarget('userPassword'));
    for (const scheme of ['SSHA512', 'CRYPT-SHA512', 'ARGON2ID', 'SSHA'] as const) assert.ok((await schemeValueOctets(scheme)) <= 128, scheme);
  });

  it('saves a target whose directory cannot be reached, and says the schemes are unknown', async () => {
    const s = await setup({ url: 'ldap://127.0.0.1:9', rootDn: `cn=admin,${SUFFIX}`, rootPassword: 'secret-1' }, 'SSHA512');
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, s.coId, s.tokenTarget());
    assert.match(await targetPage(s.coId, target.id), /Warning: The directory could not be probed at .*ECONNREFUSED.*Which password schemes it checks is unknown\./);
  });
});
