import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../../core/auth/actor.ts';
import { actorFor, buildCo, buildPerson, createTestApp, useTestApp, forEachDialect, signIn, type TestApp } from '../../../../test/support/test-app.ts';
import { startSmtpServer, type SmtpInstance } from '../../../../test/support/smtp.ts';
import { buildService, enableTokens, tokenContext } from '../service-token.test-support.ts';
import { serviceTokensPlugin } from '../service-tokens.plugin.ts';
import { generateServiceToken } from '../tokens/service-token.service.ts';
import { sweepExpiredTokens } from '../tokens/token-expiry.service.ts';
import { revokeServiceToken } from '../tokens/token-revocation.service.ts';
import { sweepExpiryWarnings } from './expiry-warnings.ts';

const DAY = 86_400_000;

forEachDialect('service token notices by email', (dialect) => {
  let t: TestApp;
  let smtp: SmtpInstance;
  const secrets: string[] = [];
  before(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({ dialect, plugins: [serviceTokensPlugin()], config: { smtpUrl: smtp.url } });
  });
  after(async () => {
    // No message ever carried a secret.
    for (const m of smtp.messages) for (const s of secrets) assert.ok(!m.text.includes(s), 'a secret was emailed');
    await t.close();
    await smtp.stop();
  });

  async function deliver(): Promise<void> {
    while ((await t.registry.delivery!.runOnce()) > 0);
  }

  async function scenario(opts: { notices?: Array<'created' | 'revoked' | 'expiring'> } = {}) {
    const co = await buildCo(t, `Astro <${Math.random().toString(36).slice(2, 6)}>`);
    const service = await buildService(t, co.id, { name: 'Mail & <Calendar>' });
    await enableTokens(t, co.id, service.id, { maxLifetimeDays: 90, ...(opts.notices ? { notices: opts.notices } : {}) });
    const email = `p${Math.random().toString(36).slice(2, 8)}@example.org`;
    const person = await buildPerson(t, co.id, { given: 'Noor', email });
    return { co, service, person, email, actor: await actorFor(t, person.username) };
  }

  const to = (email: string) => smtp.messages.filter((m) => m.to.includes(email));

  it('tells the person a token was created, by themselves or by an admin on their behalf', async () => {
    const s = await scenario();
    const mine = await generateServiceToken(tokenContext(t), s.actor, s.co.id, s.person.id, { serviceId: s.service.id, label: 'laptop' });
    const admin = await buildPerson(t, s.co.id, { admin: true, username: `admin-${s.person.username}` });
    const theirs = await generateServiceToken(tokenContext(t), await actorFor(t, admin.username), s.co.id, s.person.id, { serviceId: s.service.id, label: 'set up by IT' });
    secrets.push(mine.secret, theirs.secret);
    await deliver();
    const got = to(s.email);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.subject, 'A service token for Mail & <Calendar> was created');
    assert.ok(got[0]!.text.includes('You created a service token'));
    assert.ok(got[0]!.text.includes(mine.token.displayHint));
    assert.ok(got[1]!.text.includes(`${admin.username} created a service token for you`));
    assert.ok(got[1]!.text.includes('on your behalf'));
    assert.ok(got[1]!.text.includes('Mail &amp; &lt;Calendar>'), 'names are escaped in the HTML part');
    assert.ok(!got[1]!.text.includes('<Calendar>') || got[1]!.text.includes('Subject:'), 'raw markup only in plain text');
  });

  it('tells the person a token was revoked, by whom and why', async () => {
    const s = await scenario();
    const g = await generateServiceToken(tokenContext(t), s.actor, s.co.id, s.person.id, { serviceId: s.service.id, label: 'phone' });
    secrets.push(g.secret);
    await revokeServiceToken(tokenContext(t), SYSTEM_ACTOR, s.co.id, s.person.id, g.token.id, 'phone lost');
    await deliver();
    const revoked = to(s.email).filter((m) => m.subject.includes('revoked'));
    assert.equal(revoked.length, 1);
    assert.ok(revoked[0]!.text.includes('system revoked your service token “phone”'));
    assert.ok(revoked[0]!.text.includes('Reason: phone lost.'));
  });

  it('warns 30, 7 and 1 days before expiry, each exactly once', async () => {
    const s = await scenario();
    const g = await generateServiceToken(tokenContext(t), s.actor, s.co.id, s.person.id, { serviceId: s.service.id, label: 'cluster', lifetimeDays: 40 });
    secrets.push(g.secret);
    const start = t.clock.now().getTime();
    const warnings = () => to(s.email).filter((m) => m.subject.includes('expires in'));
    await sweepExpiryWarnings(tokenContext(t));
    await deliver();
    assert.equal(warnings().length, 0, 'nothing at creation');
    for (const [at, subject] of [
      [10 * DAY + 60_000, 'expires in 30 days'],
      [33 * DAY + 60_000, 'expires in 7 days'],
      [39 * DAY + 60_000, 'expires in 1 day'],
    ] as const) {
      t.clock.set(new Date(start + at));
      await sweepExpiryWarnings(tokenContext(t));
      await sweepExpiryWarnings(tokenContext(t));
      await deliver();
      assert.ok(warnings().at(-1)!.subject.endsWith(subject), subject);
    }
    assert.equal(warnings().length, 3);
    assert.ok(warnings()[0]!.text.includes(`/cos/${s.co.id}/people/${s.person.id}/service-tokens`), 'links to the token page');
    t.clock.set(new Date(start + 41 * DAY));
    await sweepExpiryWarnings(tokenContext(t));
    assert.equal(await sweepExpiredTokens(tokenContext(t)) >= 1, true);
    await deliver();
    assert.equal(warnings().length, 3);
  });

  it('sends nothing for a notice type turned off for the service', async () => {
    const s = await scenario({ notices: ['revoked'] });
    const g = await generateServiceToken(tokenContext(t), s.actor, s.co.id, s.person.id, { serviceId: s.service.id, label: 'quiet', lifetimeDays: 20 });
    secrets.push(g.secret);
    t.clock.advance(19 * DAY + 60_000);
    await sweepExpiryWarnings(tokenContext(t));
    await deliver();
    assert.equal(to(s.email).length, 0);
    const notes = await t.ctx.db.selectFrom('notification').select('kind').where('person_id', '=', s.person.id).execute();
    assert.deepEqual(notes, []);
  });

  it('keeps events working while the SMTP server is down and delivers every queued message once afterwards', async () => {
    const s = await scenario();
    await smtp.stop();
    const a = await generateServiceToken(tokenContext(t), s.actor, s.co.id, s.person.id, { serviceId: s.service.id, label: 'a' });
    const b = await generateServiceToken(tokenContext(t), s.actor, s.co.id, s.person.id, { serviceId: s.service.id, label: 'b' });
    secrets.push(a.secret, b.secret);
    await revokeServiceToken(tokenContext(t), s.actor, s.co.id, s.person.id, a.token.id);
    await t.registry.delivery!.runOnce();
    const queued = await t.ctx.db.selectFrom('outbound_email').select(['state', 'attempts', 'last_error']).where('to_address', '=', s.email).execute();
    assert.equal(queued.length, 3);
    assert.ok(queued.every((q) => q.state === 'pending' && q.attempts === 1 && q.last_error), 'waiting for a retry with the error kept');
    const admin = await buildPerson(t, s.co.id, { admin: true });
    const page = await t.app.inject({ method: 'GET', url: `/cos/${s.co.id}/failures`, headers: (await signIn(t, admin.username)).headers });
    assert.ok(page.body.includes(s.email), 'failing deliveries are visible to CO admins');
    await smtp.start();
    t.clock.advance(10 * 60_000);
    await deliver();
    assert.equal(to(s.email).length, 3);
    const after = await t.ctx.db.selectFrom('outbound_email').select('state').where('to_address', '=', s.email).execute();
    assert.ok(after.every((q) => q.state === 'sent'));
  });
});

describe('notices without SMTP', () => {
  const t = useTestApp('sqlite', { plugins: [serviceTokensPlugin()] });

  it('appear in the person’s notification list and nothing fails', async () => {
    assert.equal(t.registry.delivery, undefined);
    const co = await buildCo(t);
    const service = await buildService(t, co.id, { name: 'Wiki' });
    await enableTokens(t, co.id, service.id);
    const person = await buildPerson(t, co.id, { email: 'x@example.org' });
    const g = await generateServiceToken(tokenContext(t), await actorFor(t, person.username), co.id, person.id, { serviceId: service.id, label: 'l' });
    const emails = await t.ctx.db.selectFrom('outbound_email').selectAll().execute();
    assert.equal(emails.length, 0);
    const browser = await signIn(t, person.username);
    const page = await t.app.inject({ method: 'GET', url: '/notifications', headers: browser.headers });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes('A service token for Wiki was created'));
    assert.ok(!page.body.includes(g.secret));
    assert.ok(/Notifications<span[^>]*> 1<\/span>/.test(page.body), 'unread count in the top bar');
    const res = await t.app.inject({ method: 'POST', url: '/notifications/read', headers: { ...browser.headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${encodeURIComponent(browser.csrf)}` });
    assert.equal(res.statusCode, 303);
    const unread = await t.ctx.db.selectFrom('notification').select('read_at').where('person_id', '=', person.id).execute();
    assert.ok(unread.every((n) => n.read_at !== null));
  });

  it('handles a token that expired while Tessera was stopped as soon as its worker starts', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id);
    const person = await buildPerson(t, co.id);
    const g = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: 'short', lifetimeDays: 1 });
    t.clock.advance(2 * DAY);
    const stop = t.registry.startBackground();
    await stop();
    const row = (await t.db.selectFrom('service_token').selectAll().where('id', '=', g.token.id).executeTakeFirstOrThrow());
    assert.ok(row.expiry_handled_at, 'the expiry was handled at start-up');
    const history = await t.ctx.db.selectFrom('history_record').select('action').where('person_id', '=', person.id).where('action', '=', 'SERVICE_TOKEN_EXPIRED').execute();
    assert.equal(history.length, 1);
  });
});
