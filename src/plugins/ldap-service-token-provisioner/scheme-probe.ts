// Which password schemes a directory can check. A directory without the `argon2` or `pw-pbkdf2`
// module stores `{ARGON2}` and `{PBKDF2-SHA512}` values as it is told, and then refuses every
// bind with them (49): Tessera would call the tokens provisioned and the verify API would call
// them valid. So Tessera asks the directory itself: it adds a probe entry holding one value per
// scheme, each the hash of its own random secret, binds with each secret, and removes the entry.
import { randomBytes } from 'node:crypto';
import { Client, InvalidCredentialsError } from 'ldapts';
import type { LdapConfig } from '../ldap-provisioner/ldap-config.schema.ts';
import { CONNECT_TIMEOUT_MS, describeLdapError, ldapErrorOf, LdapConnection, OPERATION_TIMEOUT_MS } from '../ldap-provisioner/ldap-connection.ts';
import { buildDn } from '../ldap-provisioner/ldap-dn.ts';
import { hashSecret, PASSWORD_SCHEMES, SCHEMES, type PasswordScheme } from '../service-tokens/hashing/password-schemes.ts';

/** What a probe found: the schemes the directory verified, or why it could not be asked. */
export interface SchemeProbe {
  /** ISO time of the probe. */
  checkedAt: string;
  /** Schemes whose value let the probe entry bind. Empty when `error` is set. */
  verified: PasswordScheme[];
  /** Why the directory could not be probed (unreachable, no right to add under the base DN). */
  error: string | null;
}

/** The probe entry's RDN value starts with this, then random hex. */
export const PROBE_PREFIX = 'tessera-scheme-probe-';

/**
 * The longest value voPersonApplicationPassword may hold: its syntax is
 * `1.3.6.1.4.1.1466.115.121.1.40{128}` in the voPerson schema (OpenLDAP ignores the bound, other
 * directories refuse longer values).
 */
export const VO_PERSON_APPLICATION_PASSWORD_MAX_OCTETS = 128;

/** Octets of a value of this scheme, for a 64-character token (the longest Tessera makes). */
export async function schemeValueOctets(scheme: PasswordScheme): Promise<number> {
  return Buffer.byteLength(await hashSecret('t'.repeat(64), scheme), 'utf8');
}

async function bindsWith(settings: Pick<LdapConfig, 'url' | 'startTls'>, dn: string, secret: string): Promise<boolean> {
  const { url, startTls } = settings;
  const servername = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const client = new Client({ url, connectTimeout: CONNECT_TIMEOUT_MS, timeout: OPERATION_TIMEOUT_MS, ...(/^ldaps:/i.test(url) ? { tlsOptions: { servername } } : {}) });
  try {
    if (startTls) await client.startTLS({ servername });
    await client.bind(dn, secret);
    return true;
  } catch (error) {
    if (error instanceof InvalidCredentialsError) return false;
    throw error;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/**
 * Probes the directory of an LDAP target: one add of `cn=tessera-scheme-probe-<random>,<base DN>`
 * (objectClass person) with a userPassword value per scheme, one bind per scheme (over StartTLS
 * when the target uses it), one delete in `finally`. The entry lives beside the people of the
 * target, where Tessera may write; should a crash leave it behind, it holds only hashes of random
 * secrets nobody knows. Binds go to the directory itself, so what it verifies is what its loaded
 * password modules verify. Never throws: a directory that cannot be reached or written gives a
 * result with `error`.
 */
export async function probeSchemes(settings: Pick<LdapConfig, 'url' | 'startTls' | 'bindDn' | 'bindPassword' | 'baseDn'>, now: Date): Promise<SchemeProbe> {
  const ldap = new LdapConnection(settings);
  const dn = buildDn('cn', `${PROBE_PREFIX}${randomBytes(6).toString('hex')}`, settings.baseDn);
  const checkedAt = now.toISOString();
  try {
    const secrets = new Map<PasswordScheme, string>();
    const values: string[] = [];
    for (const scheme of PASSWORD_SCHEMES) {
      const secret = `p${randomBytes(18).toString('base64url')}`;
      secrets.set(scheme, secret);
      values.push(await hashSecret(secret, scheme));
    }
    await ldap.add(dn, { objectClass: ['person'], cn: [dn.slice(3, dn.indexOf(','))], sn: ['Tessera scheme probe'], userPassword: values });
    const verified: PasswordScheme[] = [];
    for (const [scheme, secret] of secrets) if (await bindsWith(settings, dn, secret)) verified.push(scheme);
    return { checkedAt, verified, error: null };
  } catch (error) {
    return { checkedAt, verified: [], error: describeLdapError(ldapErrorOf(error)) };
  } finally {
    await ldap.del(dn).catch(() => undefined);
    await ldap.close();
  }
}

/** `{ARGON2}` and the like, for messages. */
export function schemePrefix(scheme: PasswordScheme): string {
  return SCHEMES[scheme].prefix ?? 'plain text';
}

/** What an administrator must load for a scheme, for messages. */
export function schemeRemedy(scheme: PasswordScheme): string {
  const module = SCHEMES[scheme].slapdModule;
  return module ? `load slapd's ${module} module (moduleload ${module}.la)` : 'check the directory’s password settings';
}
