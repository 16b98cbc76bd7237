import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import type { AppError } from '../../../core/errors/app-error.ts';
import { addMembership, createGroup } from '../../../core/groups/group.service.ts';
import { setPersonStatus } from '../../../core/people/person.service.ts';
import { buildProvisioningData } from '../../../core/provisioning/provisioning-data.ts';
import { setServiceStatus } from '../../../core/co-services/co-service.service.ts';
import { actorFor, buildApiUser, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../../test/support/test-app.ts';
import { verifySecret } from '../hashing/password-schemes.ts';
import { usableTokensOf } from '../provisioning/token-provisioning-data.ts';
import { buildService, enableTokens, tokenContext } from '../service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';
import { findSetting } from '../settings/token-setting.repository.ts';
import { settingInput } from '../settings/token-setting.schema.ts';
import { updateSetting } from '../settings/token-setting.service.ts';
import { generateServiceToken, listPersonTokens } from './service-token.service.ts';
import { revokePersonTokens, revokeServiceToken, revokeServiceTokens } from './token-revocation.service.ts';

const DAY = 86_400_000;

forEachDialect('service tokens', (dialect) => {
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin()] });

  async function scenario() {
    const co = await buildCo(t);
    const service = await buildService(t, co.id, { name: 'Mail' });
    await enableTokens(t, co.id, service.id);
    const person = await buildPerson(t, co.id, { given: 'Robin' });
    const actor = await actorFor(t, person.username);
    return { co, service, person, actor };
  }

  async function countRows(table: 'service_token' | 'history_record'): Promise<number> {
    const row = await t.db.selectFrom(table).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Every text value in every table, to prove a secret was stored nowhere. */
  async function everyStoredValue(): Promise<string> {
    const tables = ['co', 'co_person', 'identifier', 'name', 'email_address', 'co_group', 'co_group_member', 'co_service', 'history_record', 'api_user', 'service_token', 'service_token_setting'] as const;
    const parts: string[] = [];
    for (const table of tables) parts.push(JSON.stringify(await t.db.selectFrom(table).selectAll().execute()));
    return parts.join('\n');
  }

  it('has tokens disabled for a service until an admin enables them', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    const setting = await findSetting(t.db, co.id, service.id);
    assert.equal(setting.enabled, false);
    const person = await buildPerson(t, co.id);
    const before = await countRows('service_token');
    const historyBefore = await countRows('history_record');
    await assert.rejects(
      generateServiceToken(tokenContext(t), await actorFor(t, person.username), co.id, person.id, { serviceId: service.id, label: 'laptop' }),
      (e: AppError) => e.code === 'TOKENS_NOT_ENABLED' && e.status === 422,
    );
    assert.equal(await countRows('service_token'), before);
    assert.equal(await countRows('history_record'), historyBefore);
  });

  it('generates a token whose secret is returned once, stored only as a verifying hash, and recorded in history', async () => {
    const { co, service, person, actor } = await scenario();
    const { token, secret } = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'laptop' });
    assert.equal(token.state, 'active');
    assert.equal(token.label, 'laptop');
    assert.ok(secret.length >= 22);
    const row = await t.db.selectFrom('service_token').selectAll().where('id', '=', token.id).executeTakeFirstOrThrow();
    assert.match(row.hash, /^\{SSHA512\}/);
    assert.equal(await verifySecret(secret, row.hash), true);
    assert.equal(await verifySecret(`${secret}x`, row.hash), false);
    assert.ok(!(await everyStoredValue()).includes(secret), 'the secret is stored nowhere');
    assert.ok(!JSON.stringify(await listPersonTokens(tokenContext(t), actor, co.id, person.id)).includes(secret));
    assert.ok(!token.displayHint.includes(secret.slice(-8)), 'the hint shows at most a few characters');
    const history = await t.ctx.db.selectFrom('history_record').select(['action', 'comment', 'actor_label']).where('person_id', '=', person.id).where('action', '=', 'SERVICE_TOKEN_ASSIGNED').execute();
    assert.equal(history.length, 1);
    assert.match(history[0]!.comment, /^Token assigned for service Mail \(type .+\)/);
    assert.equal(history[0]!.actor_label, person.username);
  });

  it('refuses another CO’s service and another person, and writes nothing', async () => {
    const { co, person, actor } = await scenario();
    const other = await scenario();
    const neighbour = await buildPerson(t, co.id);
    const before = await countRows('service_token');
    await assert.rejects(generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: other.service.id, label: 'x' }), (e: AppError) => e.code === 'SERVICE_NOT_FOUND');
    await assert.rejects(generateServiceToken(tokenContext(t), actor, co.id, neighbour.id, { serviceId: (await buildService(t, co.id)).id, label: 'x' }), (e: AppError) => e.status === 403 || e.status === 404);
    await assert.rejects(generateServiceToken(tokenContext(t), actor, other.co.id, other.person.id, { serviceId: other.service.id, label: 'x' }), (e: AppError) => e.status === 404);
    await assert.rejects(listPersonTokens(tokenContext(t), actor, co.id, neighbour.id), (e: AppError) => e.status === 404);
    assert.equal(await countRows('service_token'), before);
  });

  it('lets a CO admin and a privileged API user act on behalf of a person, but not an unprivileged one', async () => {
    const { co, service, person } = await scenario();
    const admin = await buildPerson(t, co.id, { admin: true });
    const byAdmin = await generateServiceToken(tokenContext(t), await actorFor(t, admin.username), co.id, person.id, { serviceId: service.id, label: 'set up by IT' });
    assert.equal(byAdmin.token.createdBy, admin.username);
    const comment = await t.ctx.db.selectFrom('history_record').select('comment').where('person_id', '=', person.id).where('action', '=', 'SERVICE_TOKEN_ASSIGNED').executeTakeFirstOrThrow();
    assert.match(comment.comment, /on behalf of the person/);

    const privileged = await buildApiUser(t, co.id, true);
    const unprivileged = await buildApiUser(t, co.id, false);
    const { authenticateApiUser } = await import('../../../core/api-users/api-user.service.ts');
    const decode = (h: string) => Buffer.from(h.slice(6), 'base64').toString().split(':') as [string, string];
    const apiActor = (await authenticateApiUser(t.ctx.db, t.clock.now(), ...decode(privileged.authorization), '127.0.0.1'))!;
    const weakActor = (await authenticateApiUser(t.ctx.db, t.clock.now(), ...decode(unprivileged.authorization), '127.0.0.1'))!;
    await generateServiceToken(tokenContext(t), apiActor, co.id, person.id, { serviceId: service.id, label: 'via API' });
    await assert.rejects(generateServiceToken(tokenContext(t), weakActor, co.id, person.id, { serviceId: service.id, label: 'nope' }), (e: AppError) => e.status === 403);
    assert.equal((await listPersonTokens(tokenContext(t), weakActor, co.id, person.id)).length, 2, 'unprivileged API users still read');
  });

  it('honours "admins only" generation while letting the person revoke their own tokens', async () => {
    const { co, service, person, actor } = await scenario();
    await enableTokens(t, co.id, service.id, { generation: 'admins_only' });
    await assert.rejects(generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'x' }), (e: AppError) => e.code === 'GENERATION_ADMINS_ONLY');
    const { token } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'by admin' });
    await revokeServiceToken(tokenContext(t), actor, co.id, person.id, token.id, 'lost phone');
    const [revoked] = await listPersonTokens(tokenContext(t), actor, co.id, person.id);
    assert.equal(revoked!.state, 'revoked');
    assert.equal(revoked!.revokedReason, 'lost phone');
  });

  it('enforces the per-person maximum and replaces a token in one step', async () => {
    const { co, service, person, actor } = await scenario();
    await enableTokens(t, co.id, service.id, { maxTokensPerPerson: 2 });
    const a = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'a' });
    await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'b' });
    await assert.rejects(generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'c' }), (e: AppError) => e.code === 'TOKEN_LIMIT_REACHED' && e.status === 409);
    const c = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'c', replaceTokenId: a.token.id });
    const tokens = await listPersonTokens(tokenContext(t), actor, co.id, person.id);
    assert.deepEqual(tokens.filter((x) => x.state === 'active').map((x) => x.label).sort(), ['b', 'c']);
    assert.equal(tokens.find((x) => x.id === a.token.id)!.revokedReason, 'replaced');
    assert.ok(c.token.id);
  });

  it('keeps expiry within the maximum lifetime and defaults to it', async () => {
    const { co, service, person, actor } = await scenario();
    await enableTokens(t, co.id, service.id, { maxLifetimeDays: 30 });
    const now = t.clock.now().getTime();
    const d = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'default' });
    assert.equal(d.token.expiresAt, new Date(now + 30 * DAY).toISOString());
    const short = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'week', lifetimeDays: 7 });
    assert.equal(short.token.expiresAt, new Date(now + 7 * DAY).toISOString());
    await assert.rejects(generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'long', lifetimeDays: 31 }), (e: AppError) => e.code === 'EXPIRY_BEYOND_MAXIMUM' && e.field === 'lifetimeDays');
  });

  it('refuses a resubmitted form (same nonce): a token is shown once', async () => {
    const { co, service, person, actor } = await scenario();
    await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'once', nonce: 'form-nonce-123456' });
    await assert.rejects(generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'once', nonce: 'form-nonce-123456' }), (e: AppError) => e.code === 'TOKEN_ALREADY_SHOWN');
    assert.equal((await listPersonTokens(tokenContext(t), actor, co.id, person.id)).length, 1);
  });

  it('cuts tokens off with the person’s status, the group, the service and the setting, and brings them back (not revoked or expired ones)', async () => {
    const { co, service, person, actor } = await scenario();
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, co.id, { name: 'Mail users', description: '', status: 'active' });
    const keep = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'keep', lifetimeDays: 10 });
    const revoked = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'revoked' });
    const shortLived = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'short', lifetimeDays: 1 });
    await revokeServiceToken(tokenContext(t), actor, co.id, person.id, revoked.token.id);
    const usable = async () => (await usableTokensOf(t.db, co.id, (await t.ctx.db.selectFrom('co_person').select(['id', 'status']).where('id', '=', person.id).executeTakeFirstOrThrow()), t.clock.now())).map((x) => x.id).sort();
    assert.deepEqual(await usable(), [keep.token.id, shortLived.token.id].sort());

    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'suspended');
    assert.deepEqual(await usable(), []);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'grace_period');
    assert.equal((await usable()).length, 2);

    await setServiceStatus(t.ctx, SYSTEM_ACTOR, co.id, service.id, 'suspended');
    assert.deepEqual(await usable(), []);
    await setServiceStatus(t.ctx, SYSTEM_ACTOR, co.id, service.id, 'active');

    await updateSetting(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, settingInput.parse({ ...(await findSetting(t.db, co.id, service.id)), enabled: false }));
    assert.deepEqual(await usable(), []);
    await enableTokens(t, co.id, service.id);

    const { updateService } = await import('../../../core/co-services/co-service.service.ts');
    const { id: _i, coId: _c, createdAt: _a, updatedAt: _u, ...fields } = service;
    await updateService(t.ctx, SYSTEM_ACTOR, co.id, service.id, { ...fields, coGroupId: group.id });
    assert.deepEqual(await usable(), [], 'not in the service’s group');
    await addMembership(t.ctx, SYSTEM_ACTOR, co.id, group.id, { personId: person.id, member: true, owner: false, validThrough: new Date(t.clock.now().getTime() + 2 * DAY).toISOString() });
    assert.equal((await usable()).length, 2);

    t.clock.advance(DAY + 1000);
    assert.deepEqual(await usable(), [keep.token.id], 'the one-day token expired');
    t.clock.advance(DAY);
    assert.deepEqual(await usable(), [], 'the group membership ended');
    const states = Object.fromEntries((await listPersonTokens(tokenContext(t), SYSTEM_ACTOR, co.id, person.id)).map((x) => [x.label, x.state]));
    assert.deepEqual(states, { keep: 'suspended', revoked: 'revoked', short: 'expired' });
  });

  it('revokes all of a person’s tokens and all tokens of a service', async () => {
    const { co, service, person, actor } = await scenario();
    const other = await buildPerson(t, co.id);
    await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'a' });
    await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'b' });
    await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, other.id, { serviceId: service.id, label: 'c' });
    assert.equal(await revokePersonTokens(tokenContext(t), actor, co.id, person.id), 2);
    assert.equal(await revokePersonTokens(tokenContext(t), actor, co.id, person.id), 0);
    await assert.rejects(revokeServiceTokens(tokenContext(t), actor, co.id, service.id), (e: AppError) => e.status === 403);
    assert.equal(await revokeServiceTokens(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'compromised'), 1);
    const history = await t.ctx.db.selectFrom('history_record').select('comment').where('co_id', '=', co.id).where('action', '=', 'SERVICE_TOKEN_REVOKED').execute();
    assert.equal(history.length, 3);
    assert.ok(history.some((h) => h.comment.includes('(compromised)')));
  });

  it('puts the hashes of usable tokens, never secrets, into provisioning data', async () => {
    const { co, service, person, actor } = await scenario();
    const { secret, token } = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'p' });
    const data = await buildProvisioningData(t.ctx.db, t.ctx.clock, t.registry.contributors, co.id, person.id);
    const tokens = (data!.plugins['service-tokens'] as { tokens: Array<{ id: string; hash: string; serviceShortLabel: string }> }).tokens;
    assert.deepEqual(tokens.map((x) => x.id), [token.id]);
    assert.equal(tokens[0]!.serviceShortLabel, service.shortLabel);
    assert.equal(await verifySecret(secret, tokens[0]!.hash), true);
    assert.ok(!JSON.stringify(data).includes(secret));
  });

  it('applies the security floor to settings', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    const { TOKEN_TYPES } = await import('../formats/token-types.ts');
    const weak = TOKEN_TYPES.find((x) => !x.legacy && x.entropyBits < 80);
    const legacy = TOKEN_TYPES.find((x) => x.legacy)!;
    const strong = TOKEN_TYPES.find((x) => !x.legacy && x.entropyBits >= 128)!;
    if (weak) {
      await assert.rejects(enableTokens(t, co.id, service.id, { tokenType: weak.id, storageScheme: 'SSHA512' }), (e: AppError) => e.code === 'TOKEN_TYPE_TOO_WEAK_FOR_SCHEME' && e.field === 'storageScheme');
      assert.equal((await enableTokens(t, co.id, service.id, { tokenType: weak.id, storageScheme: 'ARGON2ID' })).storageScheme, 'ARGON2ID');
    }
    await assert.rejects(enableTokens(t, co.id, service.id, { tokenType: strong.id, storageScheme: 'PLAINTEXT', acknowledgePlaintext: true }), (e: AppError) => e.code === 'PLAINTEXT_REQUIRES_LEGACY_TYPE');
    await assert.rejects(enableTokens(t, co.id, service.id, { tokenType: legacy.id, storageScheme: 'PLAINTEXT' }), (e: AppError) => e.code === 'PLAINTEXT_NOT_ACKNOWLEDGED' && e.field === 'acknowledgePlaintext');
    const ok = await enableTokens(t, co.id, service.id, { tokenType: legacy.id, storageScheme: 'PLAINTEXT', acknowledgePlaintext: true });
    assert.equal(ok.plaintextAcknowledged, true);
    await assert.rejects(enableTokens(t, co.id, service.id, { tokenType: 'no-such-type' }), (e: AppError) => e.code === 'UNKNOWN_TOKEN_TYPE');
  });

  it('generates tokens of a custom type the admin defines, and keeps reading them after the type changes', async () => {
    const { co, service, person, actor } = await scenario();
    const customType = { label: null, alphabet: 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789', length: 26, groupSize: 5, prefix: 'git_', checksum: true };
    await enableTokens(t, co.id, service.id, { tokenType: 'custom', customType });
    const { secret, token } = await generateServiceToken(tokenContext(t), actor, co.id, person.id, { serviceId: service.id, label: 'custom' });
    assert.match(secret, /^git_([A-Z2-9]{5}-){6}[A-Z2-9]{3}$/, "prefix, then 26 random and 7 checksum characters in groups of 5");
    assert.equal(token.tokenType, 'custom');
    await enableTokens(t, co.id, service.id, { tokenType: 'custom', customType: { ...customType, length: 40, prefix: 'new_' } });
    const data = await buildProvisioningData(t.ctx.db, t.ctx.clock, t.registry.contributors, co.id, person.id);
    const hash = (data!.plugins['service-tokens'] as { tokens: Array<{ hash: string }> }).tokens[0]!.hash;
    assert.equal(await verifySecret(secret, hash), true);
    await assert.rejects(enableTokens(t, co.id, service.id, { tokenType: 'custom', customType: null }), (e: AppError) => e.code === 'UNKNOWN_TOKEN_TYPE' && e.field === 'customType.alphabet');
    await assert.rejects(
      enableTokens(t, co.id, service.id, { tokenType: 'custom', customType: { ...customType, length: 10 } }),
      (e: AppError) => e.code === 'TOKEN_TYPE_TOO_WEAK_FOR_SCHEME',
      '50 bits may not be stored with a fast hash',
    );
  });
});
