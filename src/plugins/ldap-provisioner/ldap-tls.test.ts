// LDAP over TLS against real slapd servers with certificates from a throwaway CA (openssl): ldaps://
// and StartTLS with the target's CA bundle, hostname verification, the job errors for an unknown
// CA, a wrong host name and an expired certificate, and the target page's plaintext-bind warning.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../core/auth/actor.ts';
import { personProvisioningStates } from '../../core/provisioning/provisioning.service.ts';
import { startSlapd, type SlapdInstance } from '../../../test/support/slapd.ts';
import { createTestCa, type TestCa } from '../../../test/support/tls-ca.ts';
import { buildApiUser, buildCo, buildPerson, forEachDialect, signIn, useTestApp } from '../../../test/support/test-app.ts';
import { ldapConfigSchema, type LdapConfig } from './ldap-config.schema.ts';
import { addLdapServer } from '../../../test/support/ldap-servers.ts';
import { ensurePlatformCo } from '../../core/cos/co.service.ts';
import { connectionWarnings, LdapConnection } from './ldap-connection.ts';
import { ldapProvisionerPlugin } from './ldap-provisioner.plugin.ts';
import { ldapSettings } from './ldap-provisioner.test-support.ts';

const SUFFIX = 'dc=example,dc=org';

interface Servers {
  ca: TestCa;
  otherCa: TestCa;
  /** Certificate for 127.0.0.1 and localhost. */
  good: SlapdInstance;
  /** Certificate for ldap.elsewhere.example only. */
  wrongName: SlapdInstance;
  /** Certificate for 127.0.0.1, expired. */
  expired: SlapdInstance;
}

async function startServers(): Promise<Servers> {
  const ca = await createTestCa();
  const otherCa = await createTestCa('Someone Else CA');
  const [good, wrongName, expired] = await Promise.all([
    ca.issue('good', ['127.0.0.1', 'localhost']).then((tls) => startSlapd({ tls })),
    ca.issue('wrong-name', ['ldap.elsewhere.example']).then((tls) => startSlapd({ tls })),
    ca.issue('expired', ['127.0.0.1'], { expired: true }).then((tls) => startSlapd({ tls })),
  ]);
  return { ca, otherCa, good, wrongName, expired };
}

async function stopServers(s: Partial<Servers> | undefined): Promise<void> {
  await Promise.all([s?.good?.stop(), s?.wrongName?.stop(), s?.expired?.stop()]);
  await Promise.all([s?.ca?.remove(), s?.otherCa?.remove()]);
}

/** Opens a connection with these settings and reads the suffix entry; the error message if it fails. */
async function attempt(settings: LdapConfig): Promise<string> {
  const connection = new LdapConnection(settings);
  try {
    const entry = await connection.read(SUFFIX, ['dc']);
    return entry ? 'ok' : 'no entry';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await connection.close();
  }
}

describe('LDAP over TLS', () => {
  let s: Servers;
  before(async () => {
    s = await startServers();
  });
  after(() => stopServers(s));

  const settings = (slapd: SlapdInstance, overrides: Record<string, unknown>) =>
    ldapSettings({ bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, baseDn: `ou=people,${SUFFIX}`, ...overrides });

  it('binds over ldaps:// and over StartTLS with the target’s CA bundle', async () => {
    assert.equal(await attempt(settings(s.good, { url: s.good.ldapsUrl, tlsCaCertificates: s.ca.caPem })), 'ok');
    assert.equal(await attempt(settings(s.good, { url: s.good.url, startTls: true, tlsCaCertificates: s.ca.caPem })), 'ok');
  });

  it('names an unknown CA: no bundle (system CAs) or another CA’s bundle, ldaps:// and StartTLS alike', async () => {
    for (const extra of [{}, { tlsCaCertificates: s.otherCa.caPem }]) {
      const ldaps = await attempt(settings(s.good, { url: s.good.ldapsUrl, ...extra }));
      assert.match(ldaps, /^cannot connect to LDAP server ldaps:\/\/127\.0\.0\.1:\d+\/: TLS certificate rejected \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\): the server’s certificate is not signed by a trusted CA; add the CA that issued it to the CA bundle$/);
      const startTls = await attempt(settings(s.good, { url: s.good.url, startTls: true, ...extra }));
      assert.match(startTls, /^cannot connect to LDAP server ldap:\/\/127\.0\.0\.1:\d+\/ with StartTLS: TLS certificate rejected \(\w+\): the server’s certificate is not signed by a trusted CA/);
      assert.doesNotMatch(ldaps + startTls, new RegExp(s.good.rootPassword), 'the bind password is never in an error');
    }
  });

  it('checks the host name by default, names a mismatch, and accepts it only when the check is turned off', async () => {
    const message = await attempt(settings(s.wrongName, { url: s.wrongName.ldapsUrl, tlsCaCertificates: s.ca.caPem }));
    assert.match(message, /TLS certificate rejected \(ERR_TLS_CERT_ALTNAME_INVALID\): the server’s certificate is not issued for the host name in the URL; use the name the certificate names \(IP: 127\.0\.0\.1 is not in the cert's list: \)$/);
    assert.equal(await attempt(settings(s.wrongName, { url: s.wrongName.ldapsUrl, tlsCaCertificates: s.ca.caPem, tlsVerifyHostname: false })), 'ok');
    const viaStartTls = await attempt(settings(s.wrongName, { url: s.wrongName.url, startTls: true, tlsCaCertificates: s.ca.caPem }));
    assert.match(viaStartTls, /with StartTLS: TLS certificate rejected \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
  });

  it('names an expired certificate, even with the hostname check off', async () => {
    for (const tlsVerifyHostname of [true, false]) {
      const message = await attempt(settings(s.expired, { url: s.expired.ldapsUrl, tlsCaCertificates: s.ca.caPem, tlsVerifyHostname }));
      assert.match(message, /TLS certificate rejected \(CERT_HAS_EXPIRED\): the server’s certificate has expired; the directory’s administrator must renew it$/);
    }
  });

  it('refuses a CA bundle that is no PEM certificate, and keeps a valid one as its lines', () => {
    const base = { serverId: 'server-1', url: 'ldaps://ldap.example.org', bindDn: 'cn=admin,dc=example,dc=org', bindPassword: 'x', baseDn: 'dc=example,dc=org', subtrees: ['dc=example,dc=org'] };
    const bad = ldapConfigSchema.safeParse({ ...base, tlsCaCertificates: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----' });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues.map((i) => [i.path.join('.'), i.message.startsWith('Not a PEM certificate bundle')]), [['tlsCaCertificates', true]]);
    const none = ldapConfigSchema.safeParse({ ...base, tlsCaCertificates: 'hello' });
    assert.equal(none.error?.issues[0]?.message, 'Not a PEM certificate bundle: No PEM certificate (-----BEGIN CERTIFICATE-----) found');
    const good = ldapConfigSchema.parse({ ...base, tlsCaCertificates: s.ca.caPem });
    assert.equal(`${good.tlsCaCertificates.join('\n')}\n`, s.ca.caPem);
    assert.equal(good.tlsVerifyHostname, true, 'hostname verification is on by default');
  });

  it('warns about simple binds without TLS to another machine, and only then', () => {
    const warn = (overrides: Record<string, unknown>) => connectionWarnings(ldapSettings(overrides));
    assert.deepEqual(warn({ url: 'ldap://ldap.example.org' }), [
      'The bind password goes to ldap.example.org without TLS: anyone on the network path can read it. Use an ldaps:// URL or StartTLS.',
    ]);
    assert.equal(warn({ url: 'ldap://192.0.2.7:389' }).length, 1);
    for (const url of ['ldap://127.0.0.1:389', 'ldap://localhost', 'ldap://[::1]:389', 'ldaps://ldap.example.org']) assert.deepEqual(warn({ url }), [], url);
    assert.deepEqual(warn({ url: 'ldap://ldap.example.org', startTls: true }), []);
    assert.deepEqual(warn({ url: 'ldaps://ldap.example.org', tlsVerifyHostname: false }), [
      'The host name in the certificate is not checked: any certificate from a trusted CA is accepted for this server.',
    ]);
  });
});

forEachDialect('LDAP over TLS through the worker and the target page', (dialect) => {
  const t = useTestApp(dialect, { plugins: [ldapProvisionerPlugin()] });
  let s: Servers;
  before(async () => {
    s = await startServers();
  });
  after(() => stopServers(s));

  /** An LDAP server with the connection settings in `config`, assigned to the CO, and an LDAP target of the CO on it; returns both ids. */
  async function targetWith(coId: string, config: Record<string, unknown>): Promise<{ targetId: string; serverId: string }> {
    const text = (name: string) => String(config[name] ?? '');
    const baseDn = text('baseDn');
    const serverId = await addLdapServer(t.ctx, { url: text('url'), bindDn: text('bindDn'), bindPassword: text('bindPassword'), subtrees: [baseDn], coIds: [coId], tlsCaCertificates: text('tlsCaCertificates') });
    const api = await buildApiUser(t, coId, true);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/cos/${coId}/provisioning-targets`,
      headers: { authorization: api.authorization },
      payload: { provisionerType: 'ldap', description: 'Directory', ordinal: 10, retryIntervalSeconds: 30, config: { serverId, baseDn } },
    });
    assert.equal(res.statusCode, 201, res.body);
    return { targetId: (res.json() as { id: string }).id, serverId };
  }

  it('provisions over ldaps:// with the CA bundle; an expired certificate is the job’s error', async () => {
    const co = await buildCo(t);
    const common = { bindDn: s.good.rootDn, bindPassword: s.good.rootPassword, baseDn: `ou=people,${SUFFIX}`, tlsCaCertificates: s.ca.caPem };
    await targetWith(co.id, { ...common, url: s.good.ldapsUrl });
    const person = await buildPerson(t, co.id);
    await t.worker.drain();
    const states = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, co.id, person.id);
    assert.deepEqual(states.map((x) => [x.status, x.lastError]), [['provisioned', null]]);

    const other = await buildCo(t);
    await targetWith(other.id, { ...common, bindDn: s.expired.rootDn, bindPassword: s.expired.rootPassword, url: s.expired.ldapsUrl });
    const late = await buildPerson(t, other.id);
    await t.worker.drain();
    const failed = await personProvisioningStates(t.ctx, SYSTEM_ACTOR, other.id, late.id);
    assert.equal(failed[0]?.status, 'failed');
    assert.match(failed[0]?.lastError ?? '', /^cannot connect to LDAP server ldaps:\/\/127\.0\.0\.1:\d+\/: TLS certificate rejected \(CERT_HAS_EXPIRED\): the server’s certificate has expired/);
  });

  it('shows the plaintext-bind warning on the page of a server that needs it, not on others (platform admins only)', async () => {
    const co = await buildCo(t);
    const platform = await ensurePlatformCo(t.ctx);
    const browser = await signIn(t, (await buildPerson(t, platform.id, { admin: true })).username);
    const common = { bindDn: 'cn=admin,dc=example,dc=org', bindPassword: 'secret', baseDn: `ou=people,${SUFFIX}` };
    const plain = await targetWith(co.id, { ...common, url: 'ldap://ldap.example.org' });
    const page = async (id: string) => (await t.app.inject({ method: 'GET', url: `/platform/ldap-servers/${id}`, headers: browser.headers })).body;
    assert.match(await page(plain.serverId), /<p class="flash flash-error" role="note"><strong>Warning:<\/strong> The bind password goes to ldap\.example\.org without TLS/);
    const safe = await targetWith(co.id, { ...common, url: 'ldaps://ldap.example.org', tlsCaCertificates: s.ca.caPem });
    const safePage = await page(safe.serverId);
    assert.match(safePage, /CA certificates \(PEM\)/);
    assert.doesNotMatch(safePage, /Warning:/);
  });
});
