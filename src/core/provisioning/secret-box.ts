import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encrypts secrets kept in the database (LDAP bind passwords) with AES-256-GCM under a key derived
 * from TESSERA_SECRET_KEY. The stored form is `v1:<iv>:<tag>:<ciphertext>` in base64url; losing
 * the secret key makes these unreadable, by design.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', secretKey, 'tessera', 'secret-box v1', 32));
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  /** The plaintext; throws an Error naming the secret key when another key sealed it. */
  open(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // GCM's tag check failed: another key sealed it (a restore without the installation's key).
      throw new Error('cannot decrypt a stored secret (e.g. an LDAP bind password): the secret key (TESSERA_SECRET_KEY or its file) is not the one it was saved with; use that key, or enter the secret again');
    }
  }

  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith('v1:');
  }
}
