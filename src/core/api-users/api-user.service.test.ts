import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { SYSTEM_ACTOR, isCoAdmin, isPlatformAdmin } from '../auth/actor.ts';
import { ensurePlatformCo } from '../cos/co.service.ts';
import type { AppError } from '../errors/app-error.ts';
import { actorFor, buildCo, buildPerson, useTestApp, forEachDialect } from '../../../test/support/test-app.ts';
import type { ApiUserInput } from './api-user.schema.ts';
import { authenticateApiUser, createApiUser, listApiUsers, setApiUserStatus } from './api-user.service.ts';

const HOUR = 3600 * 1000;

const isError = (code: string, status: number, field?: string) => (e: AppError) => {
  assert.equal(e.code, code);
  assert.equal(e.status, status);
  if (field !== undefined) assert.equal(e.field, field);
  return true;
};

let seq = 0;
function input(overrides: Partial<ApiUserInput> = {}): ApiUserInput {
  seq += 1;
  return { username: `svc-${seq}-${Math.random().toString(36).slice(2, 8)}`, privileged: false, allowedAddresses: '', ...overrides };
}

forEachDialect('API users', (dialect) => {
  const t = useTestApp(dialect);

  const auth = (username: string, key: string, address = '127.0.0.1') => authenticateApiUser(t.ctx.db, t.clock.now(), username, key, address);

  it('returns the key once and stores only its hash', async () => {
    const co = await buildCo(t);
    const { apiUser, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input({ privileged: true }));
    assert.match(key, /^tsk_[A-Za-z0-9_-]{43}$/);
    assert.equal(apiUser.privileged, true);
    assert.equal(apiUser.status, 'active');
    assert.ok(!JSON.stringify(apiUser).includes(key), 'the returned record does not carry the key');
    assert.ok(!Object.keys(apiUser).some((k) => /hash|key/i.test(k)), 'nor its hash');

    // Not one column of any API user row, nor any history record, holds the key or its base64 part.
    const secret = key.slice(4);
    const rows = await t.ctx.db.selectFrom('api_user').selectAll().execute();
    for (const row of rows) for (const value of Object.values(row)) assert.ok(!String(value).includes(secret), 'key stored in api_user');
    const history = await t.ctx.db.selectFrom('history_record').selectAll().execute();
    for (const row of history) for (const value of Object.values(row)) assert.ok(!String(value).includes(secret), 'key stored in history_record');
    const own = rows.find((r) => r.id === apiUser.id)!;
    assert.equal(own.key_hash, `sha256:${createHash('sha256').update(key).digest('hex')}`);

    const listed = await listApiUsers(t.ctx, SYSTEM_ACTOR, co.id);
    assert.deepEqual(listed.map((u) => u.id), [apiUser.id]);
    assert.ok(!JSON.stringify(listed).includes(secret));
  });

  it('authenticates the right key only, and not once suspended', async () => {
    const co = await buildCo(t);
    const { apiUser, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input());
    const actor = await auth(apiUser.username, key);
    assert.deepEqual(actor, { kind: 'api', apiUserId: apiUser.id, label: `API user ${apiUser.username}`, coId: co.id, platform: false, privileged: false });
    assert.equal(await auth(apiUser.username, `${key}x`), undefined);
    assert.equal(await auth(apiUser.username, key.slice(0, -1)), undefined);
    assert.equal(await auth(apiUser.username, ''), undefined);
    assert.equal(await auth('no-such-user', key), undefined);

    await setApiUserStatus(t.ctx, SYSTEM_ACTOR, co.id, apiUser.id, 'suspended');
    assert.equal(await auth(apiUser.username, key), undefined);
    await setApiUserStatus(t.ctx, SYSTEM_ACTOR, co.id, apiUser.id, 'active');
    assert.ok(await auth(apiUser.username, key));
    const history = await t.ctx.db.selectFrom('history_record').select('comment').where('co_id', '=', co.id).where('action', 'like', 'API_USER_%').orderBy('created_at').execute();
    assert.deepEqual(history.map((h) => h.comment), [
      `API user ${apiUser.username} created`,
      `API user ${apiUser.username} suspended`,
      `API user ${apiUser.username} active`,
    ]);
  });

  it('authenticates only within the validity window', async () => {
    const co = await buildCo(t);
    const now = t.clock.now().getTime();
    const { apiUser, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input({ validFrom: new Date(now + HOUR).toISOString(), validThrough: new Date(now + 3 * HOUR).toISOString() }));
    assert.equal(await auth(apiUser.username, key), undefined, 'not yet valid');
    t.clock.advance(HOUR);
    assert.ok(await auth(apiUser.username, key), 'valid from the first instant');
    t.clock.advance(2 * HOUR - 1);
    assert.ok(await auth(apiUser.username, key), 'valid until the last instant');
    t.clock.advance(1);
    assert.equal(await auth(apiUser.username, key), undefined, 'valid_through is exclusive');
  });

  it('authenticates only from allowed addresses: IPv4, IPv6, CIDR ranges and IPv4-mapped IPv6', async () => {
    const co = await buildCo(t);
    const { apiUser, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input({ allowedAddresses: '192.0.2.10, 198.51.100.0/24, 2001:db8::1, 2001:db8:aa::/48' }));
    const allowed = async (address: string) => (await auth(apiUser.username, key, address)) !== undefined;
    assert.equal(await allowed('192.0.2.10'), true);
    assert.equal(await allowed('192.0.2.11'), false);
    assert.equal(await allowed('198.51.100.1'), true);
    assert.equal(await allowed('198.51.100.255'), true);
    assert.equal(await allowed('198.51.101.1'), false);
    assert.equal(await allowed('::ffff:192.0.2.10'), true);
    assert.equal(await allowed('::ffff:198.51.100.77'), true);
    assert.equal(await allowed('::ffff:203.0.113.1'), false);
    assert.equal(await allowed('2001:db8::1'), true);
    assert.equal(await allowed('2001:db8::2'), false);
    assert.equal(await allowed('2001:db8:aa:1::5'), true);
    assert.equal(await allowed('2001:db8:ab::5'), false);
    assert.equal(await allowed('127.0.0.1'), false);
    assert.equal(await allowed('::1'), false);

    const open = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input({ allowedAddresses: '' }));
    assert.ok(await auth(open.apiUser.username, open.key, '203.0.113.9'));
    assert.ok(await auth(open.apiUser.username, open.key, '2001:db8:ffff::1'));
  });

  it('refuses, rather than fails, when an allowed-address entry cannot be parsed', async () => {
    const co = await buildCo(t);
    const { apiUser, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input({ allowedAddresses: '999.1.1.1, 10.0.0.0/40, 10.0.0.0/8' }));
    assert.equal(await auth(apiUser.username, key, '192.0.2.1'), undefined);
    assert.ok(await auth(apiUser.username, key, '10.1.2.3'), 'the valid entry still counts');
  });

  it('marks API users of the platform CO as platform users', async () => {
    const platform = await ensurePlatformCo(t.ctx);
    const co = await buildCo(t);
    const p = await createApiUser(t.ctx, SYSTEM_ACTOR, platform.id, input({ privileged: true }));
    const actor = (await auth(p.apiUser.username, p.key))!;
    assert.equal(actor.platform, true);
    assert.equal(actor.coId, platform.id);
    assert.equal(isPlatformAdmin(actor), true);
    assert.equal(isCoAdmin(actor, co.id), true);

    const local = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input({ privileged: true }));
    const localActor = (await auth(local.apiUser.username, local.key))!;
    assert.equal(localActor.platform, false);
    assert.equal(isPlatformAdmin(localActor), false);
    assert.equal(isCoAdmin(localActor, co.id), true);
    assert.equal(isCoAdmin(localActor, platform.id), false);
  });

  it('keeps usernames unique per CO and API user management to people who administer the CO', async () => {
    const co = await buildCo(t);
    const other = await buildCo(t);
    const first = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input());
    await assert.rejects(createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input({ username: first.apiUser.username })), isError('API_USERNAME_TAKEN', 409, 'username'));
    // Another CO may use the name: its admins learn nothing of this CO's names from a 409.
    const twin = await createApiUser(t.ctx, SYSTEM_ACTOR, other.id, input({ username: first.apiUser.username }));
    assert.equal(twin.apiUser.username, first.apiUser.username);

    const admin = await buildPerson(t, co.id, { admin: true });
    const outsider = await buildPerson(t, other.id, { admin: true });
    const adminActor = await actorFor(t, admin.username);
    const outsiderActor = await actorFor(t, outsider.username);
    const made = await createApiUser(t.ctx, adminActor, co.id, input());
    const history = await t.ctx.db.selectFrom('history_record').select(['actor_label', 'actor_person_id']).where('co_id', '=', co.id).where('action', '=', 'API_USER_CREATED').where('actor_person_id', '=', admin.id).execute();
    assert.deepEqual(history, [{ actor_label: admin.username, actor_person_id: admin.id }]);

    await assert.rejects(createApiUser(t.ctx, outsiderActor, co.id, input()), isError('FORBIDDEN', 403));
    await assert.rejects(listApiUsers(t.ctx, outsiderActor, co.id), isError('FORBIDDEN', 403));
    await assert.rejects(setApiUserStatus(t.ctx, outsiderActor, co.id, made.apiUser.id, 'suspended'), isError('FORBIDDEN', 403));
    // Through their own CO with this CO's API user id: not found, and nothing changes.
    await assert.rejects(setApiUserStatus(t.ctx, outsiderActor, other.id, made.apiUser.id, 'suspended'), isError('API_USER_NOT_FOUND', 404));
    assert.equal((await t.ctx.db.selectFrom('api_user').select('status').where('id', '=', made.apiUser.id).executeTakeFirstOrThrow()).status, 'active');

    // An API user, even privileged, cannot make more API users.
    const privileged = (await auth(first.apiUser.username, first.key))!;
    const priv = await createApiUser(t.ctx, SYSTEM_ACTOR, co.id, input({ privileged: true }));
    const privActor = (await auth(priv.apiUser.username, priv.key))!;
    await assert.rejects(createApiUser(t.ctx, privileged, co.id, input()), isError('FORBIDDEN', 403));
    await assert.rejects(createApiUser(t.ctx, privActor, co.id, input()), isError('FORBIDDEN', 403));
    await assert.rejects(listApiUsers(t.ctx, privActor, co.id), isError('FORBIDDEN', 403));
  });
});
