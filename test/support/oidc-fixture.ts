// The OpenID provider the sign-in tests talk to (oidc-provider on a loopback port), with the
// settings Tessera is given for it. Call useOidcProvider() at the top of a test file.
import { after, before } from 'node:test';
import type { OidcConfig } from '../../src/config/config.ts';
import { startOidcProvider, type TestOidcProvider } from './oidc-provider.ts';

export const PUBLIC_URL = 'http://tessera.test';
export const REDIRECT_URI = `${PUBLIC_URL}/auth/oidc/callback`;
export const CLIENT_SECRET = 'tessera-client-secret-for-tests';

let provider: TestOidcProvider | undefined;

/** Starts the provider before the file's tests and stops it after them. */
export function useOidcProvider(): void {
  before(async () => {
    provider = await startOidcProvider({
      clients: [
        { client_id: 'tessera', client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] },
        { client_id: 'tessera-public', redirect_uris: [REDIRECT_URI] },
      ],
    });
  });
  after(() => provider?.stop());
}

/** The running provider (inside hooks and tests). */
export function op(): TestOidcProvider {
  if (!provider) throw new Error('the OpenID provider starts in before(); call useOidcProvider() first');
  return provider;
}

/** Tessera's OIDC settings for the provider: a confidential client, usernames from preferred_username as eppn identifiers. */
export function oidcConfig(overrides: Partial<OidcConfig> = {}): OidcConfig {
  return {
    issuer: op().issuer,
    clientId: 'tessera',
    clientSecret: CLIENT_SECRET,
    usernameClaim: 'preferred_username',
    identifierType: 'eppn',
    name: 'Example University',
    scopes: ['openid', 'profile', 'email'],
    ...overrides,
  };
}

let accounts = 0;
/** An account at the provider with an opaque subject and the given claims. */
export function providerAccount(claims: Record<string, unknown>): string {
  const sub = `subject-${++accounts}-${Date.now()}`;
  op().setAccount(sub, claims);
  return sub;
}
