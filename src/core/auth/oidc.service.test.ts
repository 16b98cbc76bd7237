import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { randomPKCECodeVerifier, type CustomFetch } from 'openid-client';
import { loadConfig } from '../../config/config.ts';
import { oidcConfig, op, providerAccount, REDIRECT_URI, useOidcProvider } from '../../../test/support/oidc-fixture.ts';
import { createOidcService, decodeTransaction, encodeTransaction, OidcSignInError, type OidcService, type OidcTransaction } from './oidc.service.ts';


useOidcProvider();

describe('OpenID Connect service', () => {
  /** Runs the browser's part: begin, the provider's login, and the callback URL it leads to. */
  async function authorize(service: OidcService, as: string): Promise<{ callback: URL; transaction: OidcTransaction }> {
    const { url, transaction } = await service.beginSignIn('/', new Date());
    return { callback: await op().authorize(url, { as }), transaction };
  }

  async function refusal(promise: Promise<unknown>): Promise<OidcSignInError> {
    try {
      await promise;
    } catch (err) {
      assert.ok(err instanceof OidcSignInError, `not an OidcSignInError: ${String(err)}`);
      return err;
    }
    assert.fail('the sign-in was accepted');
  }

  /** A fetch that lets a test rewrite the ID token in the token endpoint's answer (a forged answer). */
  function tamperingFetch(tamper: { with?: (claims: Record<string, unknown>) => Record<string, unknown>; key?: 'provider' | 'foreign' }): CustomFetch {
    return async (url, options) => {
      const response = await fetch(url, options as RequestInit);
      if (!tamper.with || new URL(url).pathname !== '/token' || !response.ok) return response;
      const body = (await response.json()) as { id_token: string };
      const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      body.id_token = op().signIdToken(tamper.with(claims), tamper.key);
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
    };
  }

  it('accepts a re-signed but unchanged ID token (the tampering fetch itself changes nothing)', async () => {
    const sub = providerAccount({ preferred_username: 'control' });
    const tamper = { with: (c: Record<string, unknown>) => c };
    const service = createOidcService({ config: oidcConfig(), redirectUri: REDIRECT_URI, fetch: tamperingFetch(tamper) });
    const { callback, transaction } = await authorize(service, sub);
    assert.deepEqual(await service.completeSignIn(callback, transaction), { username: 'control' });
  });

  const forgeries: Array<[string, (c: Record<string, unknown>) => Record<string, unknown>, ('provider' | 'foreign')?]> = [
    ['for another audience', (c) => ({ ...c, aud: 'another-client' })],
    ['with another nonce', (c) => ({ ...c, nonce: 'a-nonce-of-another-sign-in' })],
    ['from another issuer', (c) => ({ ...c, iss: 'https://evil.example' })],
    ['that has expired', (c) => ({ ...c, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['signed with another key', (c) => c, 'foreign'],
  ];
  for (const [what, change, key] of forgeries) {
    it(`refuses an ID token ${what}`, async () => {
      const sub = providerAccount({ preferred_username: 'forged' });
      const tamper = { with: change, key };
      const service = createOidcService({ config: oidcConfig(), redirectUri: REDIRECT_URI, fetch: tamperingFetch(tamper) });
      const { callback, transaction } = await authorize(service, sub);
      const err = await refusal(service.completeSignIn(callback, transaction));
      assert.equal(err.code, 'OIDC_RESPONSE_REJECTED');
      assert.equal(err.status, 401);
    });
  }

  it('refuses a transaction with another code verifier or nonce', async () => {
    const sub = providerAccount({ preferred_username: 'verifier' });
    const service = createOidcService({ config: oidcConfig(), redirectUri: REDIRECT_URI });
    const a = await authorize(service, sub);
    const wrongVerifier = await refusal(service.completeSignIn(a.callback, { ...a.transaction, codeVerifier: randomPKCECodeVerifier() }));
    assert.equal(wrongVerifier.code, 'OIDC_RESPONSE_REJECTED');
    assert.match(wrongVerifier.reason, /invalid_grant/);

    const b = await authorize(service, sub);
    const wrongNonce = await refusal(service.completeSignIn(b.callback, { ...b.transaction, nonce: 'another-nonce' }));
    assert.equal(wrongNonce.code, 'OIDC_RESPONSE_REJECTED');
  });

  it('takes the username from `sub` by default, from the ID token, without asking UserInfo', async () => {
    const sub = providerAccount({});
    const service = createOidcService({ config: oidcConfig({ usernameClaim: 'sub' }), redirectUri: REDIRECT_URI });
    const before = op().requests.userinfo;
    const { callback, transaction } = await authorize(service, sub);
    assert.deepEqual(await service.completeSignIn(callback, transaction), { username: sub });
    assert.equal(op().requests.userinfo, before);
  });

  it('reads another claim (eduPersonPrincipalName) from UserInfo, and refuses one that is not a string', async () => {
    const service = createOidcService({ config: oidcConfig({ usernameClaim: 'eduPersonPrincipalName' }), redirectUri: REDIRECT_URI });
    const good = await authorize(service, providerAccount({ eduPersonPrincipalName: 'eve@example.edu' }));
    assert.deepEqual(await service.completeSignIn(good.callback, good.transaction), { username: 'eve@example.edu' });

    const numeric = await authorize(service, providerAccount({ eduPersonPrincipalName: 42 }));
    const err = await refusal(service.completeSignIn(numeric.callback, numeric.transaction));
    assert.equal(err.code, 'OIDC_USERNAME_MISSING');
    assert.equal(err.reason, 'username claim eduPersonPrincipalName is a number');
  });

  it('works as a public client (PKCE, no secret) and with the discovery document’s URL as issuer', async () => {
    const sub = providerAccount({ preferred_username: 'public' });
    const service = createOidcService({
      config: oidcConfig({ clientId: 'tessera-public', clientSecret: undefined, issuer: `${op().issuer}/.well-known/openid-configuration` }),
      redirectUri: REDIRECT_URI,
    });
    const { callback, transaction } = await authorize(service, sub);
    assert.deepEqual(await service.completeSignIn(callback, transaction), { username: 'public' });
  });

  it('discovers once and keeps it; a failed discovery is tried again on the next sign-in', async () => {
    const before = op().requests.discovery;
    const service = createOidcService({ config: oidcConfig(), redirectUri: REDIRECT_URI });
    await service.beginSignIn('/', new Date());
    await service.beginSignIn('/', new Date());
    assert.equal(op().requests.discovery, before + 1);

    let failures = 1;
    const flaky: CustomFetch = async (url, options) => {
      if (failures-- > 0) throw new TypeError('fetch failed');
      return fetch(url, options as RequestInit);
    };
    const recovering = createOidcService({ config: oidcConfig(), redirectUri: REDIRECT_URI, fetch: flaky });
    const down = await refusal(recovering.beginSignIn('/', new Date()));
    assert.equal(down.code, 'OIDC_PROVIDER_UNAVAILABLE');
    assert.equal(down.status, 503);
    const { url } = await recovering.beginSignIn('/', new Date());
    assert.equal(url.origin, op().issuer);
  });

  it('answers 503 when the token endpoint cannot be reached', async () => {
    const sub = providerAccount({ preferred_username: 'unreachable' });
    let tokenEndpointDown = false;
    const service = createOidcService({
      config: oidcConfig(),
      redirectUri: REDIRECT_URI,
      fetch: async (url, options) => {
        if (tokenEndpointDown && new URL(url).pathname === '/token') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
        return fetch(url, options as RequestInit);
      },
    });
    const { callback, transaction } = await authorize(service, sub);
    tokenEndpointDown = true;
    const err = await refusal(service.completeSignIn(callback, transaction));
    assert.equal(err.code, 'OIDC_PROVIDER_UNAVAILABLE');
    assert.match(err.reason, /ECONNREFUSED/);
  });

  it('keeps a transaction ten minutes and reads only well-formed ones', () => {
    const now = new Date('2026-11-28T10:00:00.000Z');
    const transaction: OidcTransaction = { state: 's', nonce: 'n', codeVerifier: 'v', next: '/cos', startedAt: now.toISOString() };
    const encoded = encodeTransaction(transaction);
    assert.deepEqual(decodeTransaction(encoded, new Date(now.getTime() + 9 * 60_000)), transaction);
    assert.equal(decodeTransaction(encoded, new Date(now.getTime() + 11 * 60_000)), undefined);
    assert.equal(decodeTransaction('not json', now), undefined);
    assert.equal(decodeTransaction(JSON.stringify({ ...transaction, state: 7 }), now), undefined);
    assert.equal(decodeTransaction('null', now), undefined);
  });
});

describe('OpenID Connect configuration', () => {
  const base = { TESSERA_SECRET_KEY: 'k'.repeat(40) };

  it('is off without an issuer, and reads every variable with its default', () => {
    assert.equal(loadConfig(base).oidc, undefined);
    assert.deepEqual(loadConfig({ ...base, TESSERA_OIDC_ISSUER: 'https://login.example.org', TESSERA_OIDC_CLIENT_ID: 'tessera' }).oidc, {
      issuer: 'https://login.example.org',
      clientId: 'tessera',
      clientSecret: undefined,
      usernameClaim: 'sub',
      identifierType: 'oidcsub',
      name: 'OpenID Connect',
      scopes: ['openid', 'profile', 'email'],
    });
    const full = loadConfig({
      ...base,
      TESSERA_OIDC_ISSUER: 'https://login.example.org/realms/x/.well-known/openid-configuration',
      TESSERA_OIDC_CLIENT_ID: 'tessera',
      TESSERA_OIDC_CLIENT_SECRET: 'secret',
      TESSERA_OIDC_USERNAME_CLAIM: 'eduPersonPrincipalName',
      TESSERA_OIDC_IDENTIFIER_TYPE: 'eppn',
      TESSERA_OIDC_NAME: 'Example University',
      TESSERA_OIDC_SCOPES: 'openid  eduperson',
    }).oidc;
    assert.equal(full?.usernameClaim, 'eduPersonPrincipalName');
    assert.equal(full?.identifierType, 'eppn');
    assert.deepEqual(full?.scopes, ['openid', 'eduperson']);
  });

  it('refuses an issuer without client id, plain http to another machine, and scopes without openid', () => {
    assert.throws(() => loadConfig({ ...base, TESSERA_OIDC_ISSUER: 'https://login.example.org' }), /TESSERA_OIDC_CLIENT_ID/);
    assert.throws(() => loadConfig({ ...base, TESSERA_OIDC_ISSUER: 'http://login.example.org', TESSERA_OIDC_CLIENT_ID: 'c' }), /must use https/);
    assert.ok(loadConfig({ ...base, TESSERA_OIDC_ISSUER: 'http://127.0.0.1:8081', TESSERA_OIDC_CLIENT_ID: 'c' }).oidc);
    assert.throws(() => loadConfig({ ...base, TESSERA_OIDC_ISSUER: 'https://login.example.org', TESSERA_OIDC_CLIENT_ID: 'c', TESSERA_OIDC_SCOPES: 'profile email' }), /must include openid/);
  });

  it('needs the identifier type of a username claim other than sub, and of the trusted header', () => {
    const oidc = { ...base, TESSERA_OIDC_ISSUER: 'https://login.example.org', TESSERA_OIDC_CLIENT_ID: 'c' };
    assert.throws(() => loadConfig({ ...oidc, TESSERA_OIDC_USERNAME_CLAIM: 'preferred_username' }), /TESSERA_OIDC_IDENTIFIER_TYPE: required when TESSERA_OIDC_USERNAME_CLAIM is not sub/);
    assert.equal(loadConfig({ ...oidc, TESSERA_OIDC_USERNAME_CLAIM: 'preferred_username', TESSERA_OIDC_IDENTIFIER_TYPE: 'eppn' }).oidc?.identifierType, 'eppn');
    assert.throws(() => loadConfig({ ...base, TESSERA_TRUSTED_HEADER: 'X-Remote-User' }), /TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE: required/);
    assert.throws(() => loadConfig({ ...base, TESSERA_TRUSTED_HEADER: 'X-Remote-User', TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE: 'not a type!' }), /TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE/);
  });
});
