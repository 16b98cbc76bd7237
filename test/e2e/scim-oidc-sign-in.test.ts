// End to end: a person SRAM has just pushed over SCIM signs in with SRAM's OpenID Connect (the
// `sub` claim is their eduPersonUniqueId, stored as an `oidcsub` login identifier) and generates
// a token on their page at once; the token binds in slapd. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { ldapProvisionerPlugin } from '../../src/plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../../src/plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { oidcConfig, op, PUBLIC_URL, REDIRECT_URI, useOidcProvider } from '../support/oidc-fixture.ts';
import { directoryFor, PEOPLE, scimSource } from '../support/scim.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { buildCo, createTestApp, forEachDialect, form, type TestApp } from '../support/test-app.ts';

useOidcProvider();

/** A browser's cookie jar for Tessera. */
class Browser {
  readonly cookies = new Map<string, string>();
  store(response: LightMyRequestResponse): void {
    for (const c of response.cookies as Array<{ name: string; value: string; maxAge?: number }>) {
      if (c.value === '' || c.maxAge === 0) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }
  get headers(): { cookie: string } {
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }
}

forEachDialect('SCIM: a pushed person signs in with OIDC', (dialect) => {
  let t: TestApp;
  let slapd: SlapdInstance;

  before(async () => {
    requireCommand('/usr/bin/ldapwhoami', 'ldap-utils');
    slapd = await startSlapd();
    t = await createTestApp({
      dialect,
      plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()],
      config: { publicUrl: PUBLIC_URL, oidc: oidcConfig({ usernameClaim: 'sub', identifierType: 'oidcsub' }) },
    });
  });
  after(async () => {
    await t?.close();
    await slapd?.stop();
  });

  it('signs in by sub = eduPersonUniqueId and generates a token that binds', async () => {
    const co = await buildCo(t);
    const { serviceId } = await directoryFor(t, slapd, co.id);
    const sram = await scimSource(t, co.id, { name: 'SRAM', relativeLocation: true });
    const epuid = `${randomUUID()}@sram.surf.nl`;
    const uid = `newcomer-${dialect}`;
    const pushed = await sram.send('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:mace:surf.nl:sram:scim:extension:User'],
      externalId: `${randomUUID()}@sram.surf.nl`,
      userName: uid,
      name: { givenName: 'Nova', familyName: 'Comer' },
      emails: [{ primary: true, value: `${uid}@example.org` }],
      'urn:mace:surf.nl:sram:scim:extension:User': { eduPersonUniqueId: epuid },
    });
    assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
    const personId = String(pushed.body.id);
    op().setAccount(epuid, { name: 'Nova Comer' });

    const browser = new Browser();
    const get = async (url: string) => {
      const res = await t.app.inject({ method: 'GET', url, headers: browser.headers });
      browser.store(res);
      return res;
    };
    const start = await get('/auth/oidc/start?next=%2Fcos');
    assert.equal(start.statusCode, 302, start.body.slice(0, 300));
    const callback = await op().authorize(String(start.headers.location), { as: epuid });
    assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
    const done = await get(callback.pathname + callback.search);
    assert.equal(done.statusCode, 303, done.body.slice(0, 300));

    const page = await get(`/cos/${co.id}/people/${personId}/service-tokens`);
    assert.equal(page.statusCode, 200, 'the person reaches their own tokens page');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const nonce = /name="nonce" value="([^"]+)"/.exec(page.body)![1]!;
    const body = form({ _csrf: csrf, serviceId, label: 'laptop', lifetimeDays: '', nonce });
    const generated = await t.app.inject({ method: 'POST', url: `/cos/${co.id}/people/${personId}/service-tokens/generate`, headers: { ...browser.headers, ...body.headers }, payload: body.payload });
    assert.equal(generated.statusCode, 200, generated.body.slice(0, 500));
    const secret = /<p class="secret" id="token-secret">([^<]+)<\/p>/.exec(generated.body)?.[1];
    assert.ok(secret, 'the page shows the token once');
    await t.worker.drain();
    assert.equal(await ldapwhoamiBinds(slapd.url, buildDn('uid', uid, PEOPLE), secret), true);
  });
});
