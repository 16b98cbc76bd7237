// What an operator watches: the outbox per target (depth, oldest age, outcomes, retries), the
// directory's reachability, token verifications by result, the email queue, and /readyz; and the
// provisioning log lines carry the CO, target and job ids but never a password.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { startSlapd, type SlapdInstance } from '../../../test/support/slapd.ts';
import { buildApiUser, buildCo, buildPerson, forEachDialect, useTestApp } from '../../../test/support/test-app.ts';
import { newId } from '../../db/ids.ts';
import { ldapProvisionerPlugin } from '../../plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { buildService, enableTokens, tokenContext } from '../../plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../../plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../../plugins/service-tokens/tokens/service-token.service.ts';
import { createVerifierKey } from '../../plugins/service-tokens/verification/verification-keys.service.ts';
import { insertOutboundEmail } from '../notifications/notification.repository.ts';
import { addLdapServer } from '../../../test/support/ldap-servers.ts';

/** The value of one sample of the Prometheus text, or undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

forEachDialect('Operations metrics and readiness', (dialect) => {
  let slapd: SlapdInstance;
  before(async () => {
    slapd = await startSlapd();
  });
  after(() => slapd?.stop());
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin()] });

  const metrics = async () => (await t.app.inject({ method: 'GET', url: '/metrics' })).body;

  it('shows each target’s outbox, its outcomes and retries, and whether its directory answers', async () => {
    const co = await buildCo(t);
    const api = await buildApiUser(t, co.id, true);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/cos/${co.id}/provisioning-targets`,
      headers: { authorization: api.authorization },
      payload: { provisionerType: 'ldap', description: 'Directory', ordinal: 10, retryIntervalSeconds: 30, config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: ['ou=people,dc=example,dc=org'], coIds: [co.id] }), baseDn: `ou=people,dc=example,dc=org` } },
    });
    assert.equal(res.statusCode, 201, res.body);
    const targetId = (res.json() as { id: string }).id;
    const labels = `target_id="${targetId}",provisioner="ldap"`;

    const idle = await metrics();
    assert.equal(sample(idle, 'tessera_outbox_depth', labels), 0, 'a target without jobs reports zero');
    assert.equal(sample(idle, 'tessera_directory_up', `target_id="${targetId}"`), undefined, 'not tried yet');

    await buildPerson(t, co.id);
    await buildPerson(t, co.id);
    t.clock.advance(42_000);
    const waiting = await metrics();
    assert.equal(sample(waiting, 'tessera_outbox_depth', labels), 2);
    assert.equal(sample(waiting, 'tessera_outbox_oldest_pending_age_seconds', labels), 42);
    assert.equal(sample(waiting, 'tessera_provisioning_jobs', `${labels},state="pending"`), 2);

    await t.worker.drain();
    const done = await metrics();
    assert.equal(sample(done, 'tessera_outbox_depth', labels), 0);
    assert.equal(sample(done, 'tessera_outbox_oldest_pending_age_seconds', labels), 0);
    assert.equal(sample(done, 'tessera_provisioning_jobs', `${labels},state="succeeded"`), 2);
    assert.equal(sample(done, 'tessera_directory_up', `target_id="${targetId}"`), 1);

    let during = '';
    await slapd.restart(async () => {
      const person = await buildPerson(t, co.id);
      await t.worker.drain();
      during = await metrics();
      const failure = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'provisioning job failed' && l.personId === person.id);
      assert.ok(failure, 'the failure is logged');
      assert.equal(failure.coId, co.id);
      assert.equal(failure.targetId, targetId);
      assert.equal(typeof failure.jobId, 'string');
      assert.match(String(failure.error), /cannot connect to LDAP server/);
    });
    assert.equal(sample(during, 'tessera_directory_up', `target_id="${targetId}"`), 0);
    assert.equal(sample(during, 'tessera_outbox_depth', labels), 1);
    assert.equal(sample(during, 'tessera_provisioning_jobs_retrying', labels), 1);
    assert.ok(!during.includes(co.id), 'no CO ids in labels');
    for (const line of t.logs) assert.ok(!line.includes(slapd.rootPassword), 'no log line holds the bind password');
    const succeeded = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'provisioning job succeeded');
    assert.ok(succeeded.length >= 2 && succeeded.every((l) => l.coId === co.id && l.targetId === targetId && typeof l.jobId === 'string'));
  });

  it('counts token verifications and their latency by result', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id);
    const person = await buildPerson(t, co.id);
    const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'mail');
    const { secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'laptop' });
    const before = await metrics();
    const verify = async (authorization: string, token: string) =>
      (await t.app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization }, payload: { identifier: person.username, token } })).statusCode;
    assert.equal(await verify(`Bearer ${key}`, secret), 200);
    assert.equal(await verify(`Bearer ${key}`, secret), 200);
    assert.equal(await verify(`Bearer ${key}`, `${secret}x`), 200);
    assert.equal(await verify('Bearer tsv_wrong', secret), 401);
    const after = await metrics();
    const delta = (name: string, result: string) => (sample(after, name, `result="${result}"`) ?? 0) - (sample(before, name, `result="${result}"`) ?? 0);
    assert.equal(delta('tessera_token_verifications_total', 'valid'), 2);
    assert.equal(delta('tessera_token_verifications_total', 'invalid'), 1);
    assert.equal(delta('tessera_token_verifications_total', 'unauthenticated'), 1);
    assert.equal(delta('tessera_token_verification_duration_seconds_count', 'valid'), 2);
    assert.equal(delta('tessera_token_verification_duration_seconds_bucket', 'valid",le="+Inf'), 2);
    assert.ok((sample(after, 'tessera_token_verification_duration_seconds_sum', 'result="valid"') ?? 0) > 0);
    assert.ok(!after.includes(secret) && !after.includes(person.username), 'no secrets or identifiers in metrics');
  });

  it('shows the email queue’s depth and the age of its oldest email', async () => {
    const co = await buildCo(t);
    const before = sample(await metrics(), 'tessera_email_queue_depth') ?? 0;
    const now = t.clock.now().toISOString();
    const email = { co_id: co.id, notification_id: null, to_address: 'a@example.org', subject: 's', text_body: 't', html_body: '<p>t</p>', attempts: 0, run_after: now, locked_until: null, last_error: null, created_at: now, sent_at: null };
    await insertOutboundEmail(t.ctx.db, { ...email, id: newId(), state: 'pending' });
    await insertOutboundEmail(t.ctx.db, { ...email, id: newId(), state: 'sent', sent_at: now });
    t.clock.advance(7_000);
    const text = await metrics();
    assert.equal(sample(text, 'tessera_email_queue_depth'), before + 1);
    assert.ok((sample(text, 'tessera_email_oldest_pending_age_seconds') ?? 0) >= 7);
    assert.ok((sample(text, 'tessera_emails', 'state="sent"') ?? 0) >= 1);
    assert.equal(sample(text, 'tessera_metrics_collector_errors'), 0);
    for (const line of text.trim().split('\n')) assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-+0-9.eInf]+)$/, `a Prometheus text line: ${line}`);
  });

  it('/readyz: ready when the database answers and every migration is applied; 503 naming what is wrong otherwise', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', database: 'reachable', pendingMigrations: [] });

    const row = await sql<{ name: string; timestamp: string }>`SELECT name, timestamp FROM tessera_migration_service_tokens`.execute(t.ctx.db);
    await sql`DELETE FROM tessera_migration_service_tokens`.execute(t.ctx.db);
    try {
      const pending = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(pending.statusCode, 503);
      assert.deepEqual(pending.json(), { status: 'unavailable', database: 'reachable', pendingMigrations: row.rows.map((r) => `service-tokens/${r.name}`) });
    } finally {
      for (const r of row.rows) await sql`INSERT INTO tessera_migration_service_tokens (name, timestamp) VALUES (${r.name}, ${r.timestamp})`.execute(t.ctx.db);
    }

    await sql`ALTER TABLE co RENAME TO co_offline`.execute(t.ctx.db);
    try {
      const down = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(down.statusCode, 503);
      assert.deepEqual(down.json(), { status: 'unavailable', database: 'unreachable' });
    } finally {
      await sql`ALTER TABLE co_offline RENAME TO co`.execute(t.ctx.db);
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});
