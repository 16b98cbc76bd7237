// Configuring the two LDAP target types: what createTarget/updateTarget/deleteTarget accept and
// refuse, the bind password at rest, and start-up without the plugins the token provisioner needs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openRuntime } from '../../cli/runtime.ts';
import { DEFAULT_PLUGINS } from '../../config/config.ts';
import { SYSTEM_ACTOR } from '../../core/auth/actor.ts';
import { AppError } from '../../core/errors/app-error.ts';
import { resolvePlugins } from '../../core/plugins/plugin.ts';
import { createTarget, deleteTarget, unsealedTargetsOf, updateTarget } from '../../core/provisioning/target.service.ts';
import type { TargetInput } from '../../core/provisioning/target.schema.ts';
import { buildCo as buildBareCo, useTestApp, forEachDialect, testConfig } from '../../../test/support/test-app.ts';
import { addLdapServer, ldapServerContext } from '../../../test/support/ldap-servers.ts';
import { assignLdapServer } from '../ldap-provisioner/ldap-server.service.ts';
import type { LdapProvisionerTables } from '../ldap-provisioner/ldap-entry-claim.table.ts';
import { bundledPlugins } from '../catalogue.ts';
import { ldapProvisionerPlugin } from '../ldap-provisioner/ldap-provisioner.plugin.ts';
import { buildService } from '../service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens/service-tokens.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from './ldap-service-token-provisioner.plugin.ts';

const PLUGINS = [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()];

/** One LDAP server per test database, assigned to every CO the tests make (`buildCo` below): LDAP targets name it. */
let currentServerId = '';
const serverOf = new WeakMap<object, string>();

async function buildCo(t: Parameters<typeof buildBareCo>[0]): Promise<Awaited<ReturnType<typeof buildBareCo>>> {
  const co = await buildBareCo(t);
  let serverId = serverOf.get(t.ctx);
  if (serverId) await assignLdapServer(ldapServerContext(t.ctx), SYSTEM_ACTOR, serverId, co.id);
  else serverOf.set(t.ctx, (serverId = await addLdapServer(t.ctx, { url: 'ldap://127.0.0.1:389', bindDn: 'cn=admin,dc=example,dc=org', bindPassword: 'bind-secret-1', subtrees: ['dc=example,dc=org'], coIds: [co.id] })));
  currentServerId = serverId;
  return co;
}

function ldapInput(overrides: Partial<TargetInput> & { config?: Record<string, unknown> } = {}): TargetInput {
  return {
    provisionerType: 'ldap',
    description: 'Directory',
    mode: 'automatic',
    ordinal: 10,
    retryIntervalSeconds: 60,
    maxRetries: 10,
    provisionGroupId: null,
    ...overrides,
    config: { serverId: currentServerId, baseDn: 'ou=people,dc=example,dc=org', voPerson: true, ...overrides.config },
  };
}

function tokenInput(ldapTargetId: string, serviceId: string, overrides: Partial<TargetInput> & { config?: Record<string, unknown> } = {}): TargetInput {
  return { ...ldapInput({ provisionerType: 'ldap-service-token', description: 'Wiki tokens', ordinal: 20, ...overrides }), config: { ldapTargetId, serviceId, ...overrides.config } };
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; field: string | undefined; message: string }> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  assert.fail('expected a refusal');
}

forEachDialect('LDAP target settings', (dialect) => {
  const t = useTestApp(dialect, { plugins: PLUGINS });

  it('keeps the bind password encrypted at rest, in the server, never in the target, and never shows it back', async () => {
    const co = await buildCo(t);
    const target = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput({ config: { bindPassword: 'smuggled', url: 'ldap://10.0.0.1:22' } }));
    assert.deepEqual([target.config.bindPassword, target.config.url], [undefined, undefined], 'a target cannot carry a credential or an address');
    const row = await t.ctx.db.selectFrom('provisioning_target').select('config').where('id', '=', target.id).executeTakeFirstOrThrow();
    assert.ok(!row.config.includes('bind-secret-1') && !row.config.includes('smuggled'), 'no password in the target');
    const server = await t.ctx.db.withTables<LdapProvisionerTables>().selectFrom('ldap_server').select('bind_password').where('id', '=', currentServerId).executeTakeFirstOrThrow();
    assert.match(server.bind_password, /^v1:/);
    assert.equal(t.ctx.secretBox.open(server.bind_password), 'bind-secret-1');
    await updateTarget(t.ctx, SYSTEM_ACTOR, co.id, target.id, ldapInput({ description: 'Renamed' }));
    const [seen] = await unsealedTargetsOf(t.ctx, t.ctx.db, co.id);
    assert.equal(seen!.config.bindPassword, 'bind-secret-1', 'the provisioner gets it from the server');
  });

  it('refuses an LDAP target whose DN identifier type the CO does not know, and invalid settings', async () => {
    const co = await buildCo(t);
    assert.deepEqual(await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput({ config: { dnIdentifierType: 'badge' } }))), {
      code: 'IDENTIFIER_TYPE_UNKNOWN',
      field: 'config.dnIdentifierType',
      message: 'Identifier type "badge" is not defined in this CO (known: uid, eppn, mail, oidcsub, epuid, orcid, network, enterprise)',
    });
    const bad = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput({ config: { baseDn: 'people' } })));
    assert.equal(bad.code, 'VALIDATION_FAILED');
    assert.equal(bad.field, 'config.baseDn');
    // The server's URL is the platform's: a CO admin names an assigned server, and an unassigned one is refused.
    const unassigned = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput({ config: { serverId: 'no-such-server' } })));
    assert.deepEqual([unassigned.code, unassigned.field], ['LDAP_SERVER_NOT_ASSIGNED', 'config.serverId']);
  });

  it('refuses a token target ordered before its LDAP target, both when created and when either moves', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput({ ordinal: 10 }));
    for (const ordinal of [5, 10]) {
      const r = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(ldap.id, service.id, { ordinal })));
      assert.equal(r.code, 'ORDERED_BEFORE_LDAP_TARGET');
      assert.equal(r.field, 'ordinal');
      assert.match(r.message, new RegExp(`Token target "Wiki tokens" \\(order ${ordinal}\\) must run after its LDAP target "Directory" \\(order 10\\)`));
    }
    const tokens = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(ldap.id, service.id, { ordinal: 11 }));
    assert.equal((await refusal(updateTarget(t.ctx, SYSTEM_ACTOR, co.id, tokens.id, tokenInput(ldap.id, service.id, { ordinal: 9 })))).field, 'ordinal');
    const moved = await refusal(updateTarget(t.ctx, SYSTEM_ACTOR, co.id, ldap.id, ldapInput({ ordinal: 30 })));
    assert.equal(moved.code, 'ORDERED_BEFORE_LDAP_TARGET');
    assert.equal(moved.field, 'ordinal');
    await updateTarget(t.ctx, SYSTEM_ACTOR, co.id, ldap.id, ldapInput({ ordinal: 3 }));
  });

  it('refuses an LDAP target or a service of another CO, a target that is not LDAP, and voPerson passwords without voPerson', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const service = await buildService(t, co.id);
    const foreignService = await buildService(t, other.id);
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput());
    const foreignLdap = await createTarget(t.ctx, SYSTEM_ACTOR, other.id, ldapInput());
    const foreign = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(foreignLdap.id, service.id)));
    assert.deepEqual([foreign.code, foreign.field], ['LDAP_TARGET_NOT_FOUND', 'config.ldapTargetId']);
    const svc = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(ldap.id, foreignService.id)));
    assert.deepEqual([svc.code, svc.field], ['SERVICE_NOT_FOUND', 'config.serviceId']);
    const tokens = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(ldap.id, service.id));
    const notLdap = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(tokens.id, service.id, { ordinal: 30 })));
    assert.deepEqual([notLdap.code, notLdap.field], ['NOT_AN_LDAP_TARGET', 'config.ldapTargetId']);
    const plain = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput({ description: 'Plain', ordinal: 1, config: { voPerson: false } }));
    const vo = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(plain.id, service.id, { config: { attribute: 'voPersonApplicationPassword' } })));
    assert.deepEqual([vo.code, vo.field], ['LDAP_TARGET_WITHOUT_VOPERSON', 'config.attribute']);
    const ok = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(ldap.id, service.id, { ordinal: 40, config: { attribute: 'voPersonApplicationPassword' } }));
    assert.equal(ok.config.attribute, 'voPersonApplicationPassword');
    assert.equal(tokens.config.attribute, 'userPassword', 'userPassword by default');
  });

  it('refuses service entries outside the subtrees the LDAP server may write for the CO, such as another CO’s service subtree', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput());
    for (const serviceBaseDn of ['ou=mail,ou=services,dc=other,dc=org', 'dc=org', 'ou=mail,ou=services,dc=example,dc=org,dc=more']) {
      const r = await refusal(createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(ldap.id, service.id, { config: { attribute: 'serviceEntries', serviceBaseDn } })));
      assert.deepEqual([r.code, r.field], ['SERVICE_SUBTREE_OUTSIDE_SUBTREES', 'config.serviceBaseDn'], serviceBaseDn);
      assert.match(r.message, /outside the subtrees the LDAP server of "Directory" may write for this CO \(dc=example,dc=org\)/);
    }
    const inside = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(ldap.id, service.id, { config: { attribute: 'serviceEntries', serviceBaseDn: 'OU=Mail,ou=services,DC=example,dc=org' } }));
    assert.equal(inside.config.attribute, 'serviceEntries', 'inside the server’s subtree, compared without regard to case');
    const moved = await refusal(updateTarget(t.ctx, SYSTEM_ACTOR, co.id, inside.id, tokenInput(ldap.id, service.id, { config: { attribute: 'serviceEntries', serviceBaseDn: 'ou=mail,ou=services,dc=other,dc=org' } })));
    assert.equal(moved.code, 'SERVICE_SUBTREE_OUTSIDE_SUBTREES', 'and when it is moved');
  });

  it('keeps an LDAP target that a token target writes into', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, ldapInput());
    const tokens = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, tokenInput(ldap.id, service.id));
    const r = await refusal(deleteTarget(t.ctx, SYSTEM_ACTOR, co.id, ldap.id));
    assert.equal(r.code, 'LDAP_TARGET_NOT_FOUND');
    assert.match(r.message, /Token target "Wiki tokens" needs an LDAP target/);
    await deleteTarget(t.ctx, SYSTEM_ACTOR, co.id, tokens.id);
    await deleteTarget(t.ctx, SYSTEM_ACTOR, co.id, ldap.id);
  });
});

describe('LDAP plugins at start-up', () => {
  it('are bundled and enabled by default', () => {
    const ids = resolvePlugins(bundledPlugins(testConfig()), DEFAULT_PLUGINS.split(',')).map((p) => p.id);
    assert.deepEqual(ids, ['service-tokens', 'ldap-provisioner', 'ldap-service-token-provisioner']);
  });

  it('refuse to start the token provisioner without the LDAP provisioner or service tokens', () => {
    assert.throws(() => resolvePlugins(bundledPlugins(testConfig()), ['service-tokens', 'ldap-service-token-provisioner']), /Plugin "ldap-service-token-provisioner" needs plugin "ldap-provisioner", which is not enabled/);
    assert.throws(() => resolvePlugins(bundledPlugins(testConfig()), ['ldap-provisioner', 'ldap-service-token-provisioner']), /Plugin "ldap-service-token-provisioner" needs plugin "service-tokens", which is not enabled/);
    assert.throws(
      () => openRuntime({ TESSERA_PLUGINS: 'service-tokens,ldap-service-token-provisioner', TESSERA_SECRET_KEY: 'k'.repeat(40), TESSERA_DATABASE_URL: '/nonexistent/never-opened.sqlite' }),
      /needs plugin "ldap-provisioner"/,
    );
  });
});
