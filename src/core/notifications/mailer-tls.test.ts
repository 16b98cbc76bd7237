// Notices through an SMTP relay that speaks TLS with a certificate from its own CA (a real
// smtp-server, certificates made with openssl): smtps:// and STARTTLS with TESSERA_SMTP_CA_FILE,
// and a named error when the certificate is not trusted or not for the relay's name.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { startSmtpServer, type SmtpInstance } from '../../../test/support/smtp.ts';
import { createTestCa, type TestCa } from '../../../test/support/tls-ca.ts';
import { buildCo, forEachDialect, useTestApp } from '../../../test/support/test-app.ts';
import { loadConfig } from '../../config/config.ts';
import { newId } from '../../db/ids.ts';
import { insertOutboundEmail } from './notification.repository.ts';
import { smtpMailer } from './mailer.ts';

const EMAIL = { to: 'ada@example.org', subject: 'A notice', text: 'Hello', html: '<p>Hello</p>' };

describe('SMTP relay over TLS with its own CA', () => {
  let ca: TestCa;
  let smtps: SmtpInstance;
  let starttls: SmtpInstance;
  let wrongName: SmtpInstance;
  before(async () => {
    ca = await createTestCa('Mail CA');
    const cert = await ca.issue('relay', ['127.0.0.1']);
    const other = await ca.issue('relay-elsewhere', ['mail.elsewhere.example']);
    smtps = await startSmtpServer({ tls: { ...cert, mode: 'smtps' } });
    starttls = await startSmtpServer({ tls: { ...cert, mode: 'starttls' } });
    wrongName = await startSmtpServer({ tls: { ...other, mode: 'smtps' } });
  });
  after(async () => {
    await Promise.all([smtps?.stop(), starttls?.stop(), wrongName?.stop()]);
    await ca?.remove();
  });

  async function send(url: string, caPem: string | undefined): Promise<string> {
    const mailer = smtpMailer(url, 'Tessera <tessera@example.org>', { ca: caPem });
    try {
      await mailer.send(EMAIL);
      return 'sent';
    } catch (error) {
      return (error as Error).message;
    } finally {
      mailer.close();
    }
  }

  it('sends over smtps:// and STARTTLS when the CA is given', async () => {
    assert.equal(smtps.url.startsWith('smtps://'), true);
    assert.equal(await send(smtps.url, ca.caPem), 'sent');
    assert.equal(await send(starttls.url, ca.caPem), 'sent');
    assert.deepEqual([...smtps.messages, ...starttls.messages].map((m) => [m.to, m.subject]), [
      [['ada@example.org'], 'A notice'],
      [['ada@example.org'], 'A notice'],
    ]);
  });

  it('names an unknown CA and a wrong host name, and sends nothing', async () => {
    for (const url of [smtps.url, starttls.url]) {
      assert.match(await send(url, undefined), /^cannot send through 127\.0\.0\.1:\d+: TLS certificate rejected \(\w+\): the server’s certificate is not signed by a trusted CA/);
    }
    assert.match(await send(wrongName.url, ca.caPem), /^cannot send through 127\.0\.0\.1:\d+: TLS certificate rejected \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    assert.equal(smtps.messages.length + starttls.messages.length, 2, 'only the two of the first test');
    assert.equal(wrongName.messages.length, 0);
  });

  it('reads TESSERA_SMTP_CA_FILE, and lists a missing or empty one with the other problems', () => {
    const key = 'k'.repeat(40);
    assert.equal(loadConfig({ TESSERA_SECRET_KEY: key, TESSERA_SMTP_URL: smtps.url, TESSERA_SMTP_CA_FILE: ca.caFile }).smtpCa, ca.caPem);
    const empty = join(ca.caFile, '..', 'empty.pem');
    writeFileSync(empty, '');
    assert.throws(() => loadConfig({ TESSERA_SECRET_KEY: key, TESSERA_SMTP_CA_FILE: empty, TESSERA_PORT: 'eighty' }), {
      message: `Invalid configuration:\n  TESSERA_PORT: Invalid input: expected number, received NaN\n  TESSERA_SMTP_CA_FILE: ${empty} holds no PEM certificate`,
    });
    assert.throws(() => loadConfig({ TESSERA_SECRET_KEY: key, TESSERA_SMTP_CA_FILE: '/nonexistent/ca.pem' }), { message: /TESSERA_SMTP_CA_FILE: cannot read \/nonexistent\/ca\.pem: ENOENT/ });
  });
});

forEachDialect('email delivery through a TLS relay', (dialect) => {
  let ca: TestCa;
  let relay: SmtpInstance;
  before(async () => {
    ca = await createTestCa('Mail CA');
    relay = await startSmtpServer({ tls: { ...(await ca.issue('relay', ['127.0.0.1'])), mode: 'starttls' } });
  });
  const t = useTestApp(dialect, () => ({ config: { smtpUrl: relay.url, smtpCa: ca.caPem } }));
  after(async () => {
    await relay?.stop();
    await ca?.remove();
  });

  it('delivers a queued email with the configured CA', async () => {
    const co = await buildCo(t);
    const now = t.clock.now().toISOString();
    await insertOutboundEmail(t.ctx.db, {
      id: newId(),
      co_id: co.id,
      notification_id: null,
      to_address: 'grace@example.org',
      subject: 'Through TLS',
      text_body: 'Hi',
      html_body: '<p>Hi</p>',
      state: 'pending',
      attempts: 0,
      run_after: now,
      locked_until: null,
      last_error: null,
      created_at: now,
      sent_at: null,
    });
    assert.equal(await t.registry.delivery!.runOnce(), 1);
    assert.deepEqual(relay.messages.map((m) => [m.to, m.subject]), [[['grace@example.org'], 'Through TLS']]);
  });
});
