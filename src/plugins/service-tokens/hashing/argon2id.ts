// `{ARGON2}` as OpenLDAP's argon2 module writes and checks it: the scheme prefix followed by the
// PHC string of the reference implementation, `$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>`
// (unpadded standard base64).
//
// Debian's slapd links the module with libargon2: it writes argon2i (m=4096,t=3,p=1) and checks
// argon2i, argon2d and argon2id by the string's own prefix. Builds linked with libsodium write
// argon2id and check only p=1 — one reason Tessera uses a single lane. Tessera writes argon2id and
// reads all three variants, so hashes a directory made keep working.

import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { RandomSource } from '../formats/random-source.ts';

export interface Argon2Parameters {
  /** Memory in KiB (`m=`). */
  memoryKiB: number;
  /** Passes over memory (`t=`). */
  passes: number;
  /** Lanes (`p=`). */
  parallelism: number;
}

/**
 * OWASP's Password Storage Cheat Sheet lists m=19456 KiB (19 MiB), t=2, p=1 as a minimum for
 * argon2id. Every LDAP bind makes slapd pay this once, per concurrent bind, so it is kept there.
 */
export const ARGON2_DEFAULT_PARAMETERS: Readonly<Argon2Parameters> = Object.freeze({ memoryKiB: 19_456, passes: 2, parallelism: 1 });
export const ARGON2_SALT_BYTES = 16;
export const ARGON2_HASH_BYTES = 32;
/** The most a stored value may ask for; more is refused rather than computed. */
export const ARGON2_LIMITS: Readonly<Argon2Parameters> = Object.freeze({ memoryKiB: 262_144, passes: 16, parallelism: 8 });

// The const enum of @node-rs/argon2 is erased by tsx/esbuild, so its value is written out here.
const ARGON2ID = 2 as Algorithm;

const PHC = /^\$argon2(?:id|i|d)\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{11,}$/;

function checkParameters(p: Argon2Parameters): boolean {
  return (
    Number.isInteger(p.memoryKiB) && Number.isInteger(p.passes) && Number.isInteger(p.parallelism) &&
    p.parallelism >= 1 && p.parallelism <= ARGON2_LIMITS.parallelism &&
    p.passes >= 1 && p.passes <= ARGON2_LIMITS.passes &&
    p.memoryKiB >= 8 * p.parallelism && p.memoryKiB <= ARGON2_LIMITS.memoryKiB
  );
}

/** The value after the `{ARGON2}` prefix. */
export async function hashArgon2id(secret: Uint8Array, random: RandomSource, parameters: Argon2Parameters = ARGON2_DEFAULT_PARAMETERS): Promise<string> {
  if (!checkParameters(parameters)) throw new RangeError('Argon2 parameters out of range');
  return hash(secret, {
    algorithm: ARGON2ID,
    memoryCost: parameters.memoryKiB,
    timeCost: parameters.passes,
    parallelism: parameters.parallelism,
    outputLen: ARGON2_HASH_BYTES,
    salt: Buffer.from(random(ARGON2_SALT_BYTES)),
  });
}

/** Reads the parameters of a value after the `{ARGON2}` prefix; null when it is not one. */
export function parseArgon2(encoded: string): Argon2Parameters | null {
  const m = PHC.exec(encoded);
  if (!m) return null;
  return { memoryKiB: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) };
}

/** Checks a value after the `{ARGON2}` prefix; false for anything malformed or over the limits. */
export async function verifyArgon2(secret: Uint8Array, encoded: string): Promise<boolean> {
  const parameters = parseArgon2(encoded);
  if (!parameters || !checkParameters(parameters)) return false;
  return verify(encoded, secret);
}
