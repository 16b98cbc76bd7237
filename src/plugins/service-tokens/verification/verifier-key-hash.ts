import { hash } from 'node:crypto';

/** The key is `tsv_<verifier id without dashes>_<secret>`: the id finds the row, the secret proves it. */
export const VERIFIER_KEY_PATTERN = /^tsv_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/** SHA-256 of a verification key, hex: what `service_verifier.key_hash` holds (the key is 256 random bits). */
export function hashVerifierKey(key: string): string {
  // The one-shot form: a third of the cost of createHash, and it runs on every verification.
  return hash('sha256', key, 'hex');
}
