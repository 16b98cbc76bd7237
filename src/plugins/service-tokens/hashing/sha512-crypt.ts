// SHA-512-based crypt(3), "$6$", after Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512"
// (https://www.akkadia.org/drepper/SHA-crypt.txt), written from the specification's prose.
//
// slapd checks `{CRYPT}` values by calling the system crypt(3). On Debian 12 that is libxcrypt,
// which is stricter than the specification: it rejects (answers "*0" to) a rounds count outside
// 1000..999999999 or with a leading zero or sign, and any setting holding a byte outside printable
// ASCII or one of ! * : ; \ (its salt may use the rest of printable ASCII, such as '_'). The
// default here follows libxcrypt, so a value this module accepts is one slapd accepts; `spec: true`
// follows the specification's reference (clamps rounds, any salt byte but '$') and exists for its
// published test vectors.

import crypto from 'node:crypto';

/** The alphabet of crypt(3)'s base64, in value order. */
export const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SHA512_CRYPT_DEFAULT_ROUNDS = 5000;
export const SHA512_CRYPT_MIN_ROUNDS = 1000;
export const SHA512_CRYPT_MAX_ROUNDS = 999_999_999;
export const SHA512_CRYPT_MAX_SALT_LENGTH = 16;
/** Length of the encoded 64-byte digest. */
export const SHA512_CRYPT_DIGEST_LENGTH = 86;

const PREFIX = '$6$';
const ROUNDS_PREFIX = 'rounds=';
/** What libxcrypt refuses anywhere in a setting (found by trying every byte). */
const BAD_SETTING_CHAR = /[^\x21-\x7e]|[!*:;\\]/;

export interface Sha512CryptSetting {
  rounds: number;
  /** Whether the setting named the rounds; crypt(3) then repeats `rounds=N$` in its output. */
  roundsExplicit: boolean;
  /** At most 16 characters; longer salts are cut, as crypt(3) does. */
  salt: string;
}

export interface Sha512CryptOptions {
  /** Follow the specification's reference code instead of the system crypt(3); see the file comment. */
  spec?: boolean;
}

/**
 * Reads the setting part of a `$6$` string (`$6$[rounds=N$]salt[$...]`); anything after the salt's
 * terminating `$` is ignored, so a complete hash may be passed. Returns null where crypt(3) fails.
 */
export function parseSha512CryptSetting(setting: string, options: Sha512CryptOptions = {}): Sha512CryptSetting | null {
  if (!setting.startsWith(PREFIX)) return null;
  if (!options.spec && BAD_SETTING_CHAR.test(setting)) return null;
  let rest = setting.slice(PREFIX.length);
  let rounds = SHA512_CRYPT_DEFAULT_ROUNDS;
  let roundsExplicit = false;
  if (rest.startsWith(ROUNDS_PREFIX)) {
    const match = /^(\d+)\$/.exec(rest.slice(ROUNDS_PREFIX.length));
    if (options.spec) {
      // The reference takes `rounds=` as part of the salt unless a number and '$' follow.
      if (match?.[1] !== undefined) {
        const n = Number(match[1]);
        rounds = Math.min(Math.max(n, SHA512_CRYPT_MIN_ROUNDS), SHA512_CRYPT_MAX_ROUNDS);
        roundsExplicit = true;
        rest = rest.slice(ROUNDS_PREFIX.length + match[0].length);
      }
    } else {
      if (match?.[1] === undefined || match[1].startsWith('0')) return null;
      const n = Number(match[1]);
      if (n < SHA512_CRYPT_MIN_ROUNDS || n > SHA512_CRYPT_MAX_ROUNDS) return null;
      rounds = n;
      roundsExplicit = true;
      rest = rest.slice(ROUNDS_PREFIX.length + match[0].length);
    }
  }
  const end = rest.indexOf('$');
  const salt = (end === -1 ? rest : rest.slice(0, end)).slice(0, SHA512_CRYPT_MAX_SALT_LENGTH);
  return { rounds, roundsExplicit, salt };
}

/** The `$6$[rounds=N$]salt` prefix of a hash with these parameters. */
export function formatSha512CryptSetting(setting: Sha512CryptSetting): string {
  return PREFIX + (setting.roundsExplicit ? `${ROUNDS_PREFIX}${setting.rounds}$` : '') + setting.salt;
}

/**
 * crypt(key, setting) for `$6$`. Throws a RangeError where the system crypt(3) would fail
 * (see the file comment). The key is taken as UTF-8 when a string. Runs on the calling thread:
 * about 10 ms for 5000 rounds; servers should prefer `sha512CryptAsync`.
 */
export function sha512Crypt(key: string | Uint8Array, setting: string, options: Sha512CryptOptions = {}): string {
  const { parsed, state } = start(key, setting, options);
  runRounds(state, 0, parsed.rounds);
  return finish(parsed, state);
}

/** `sha512Crypt`, giving the event loop a turn every 1000 rounds so other requests are not held up. */
export async function sha512CryptAsync(key: string | Uint8Array, setting: string, options: Sha512CryptOptions = {}): Promise<string> {
  const { parsed, state } = start(key, setting, options);
  for (let done = 0; done < parsed.rounds; done += ROUNDS_PER_TURN) {
    if (done > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    runRounds(state, done, Math.min(done + ROUNDS_PER_TURN, parsed.rounds));
  }
  return finish(parsed, state);
}

const ROUNDS_PER_TURN = 1000;

interface RoundState {
  /** The P sequence (from the key). */
  p: Buffer;
  /** The S sequence (from the salt). */
  s: Buffer;
  /** The digest of the previous round; digest A before the first. */
  c: Buffer;
  /** Scratch space for one round's input: at most C + S + P + P. */
  input: Buffer;
}

// crypto.hash (one call, no Hash object) halves the time of the rounds; Node before 20.12 lacks it.
const oneShotSha512: (data: Uint8Array) => Buffer =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha512', data, 'buffer')
    : (data) => crypto.createHash('sha512').update(data).digest();

function start(key: string | Uint8Array, setting: string, options: Sha512CryptOptions): { parsed: Sha512CryptSetting; state: RoundState } {
  const parsed = parseSha512CryptSetting(setting, options);
  if (!parsed) throw new RangeError('Not a valid $6$ (sha512-crypt) setting');
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const salt = Buffer.from(parsed.salt, 'latin1');

  // Digest B: key, salt, key.
  const b = crypto.createHash('sha512').update(k).update(salt).update(k).digest();

  // Digest A: key, salt, then B for each full 64 bytes of key length plus its first (length mod 64)
  // bytes, then for each bit of the key length from the lowest up, B for a one and the key for a zero.
  const a = crypto.createHash('sha512').update(k).update(salt);
  let n = k.length;
  for (; n >= 64; n -= 64) a.update(b);
  a.update(b.subarray(0, n));
  for (let bits = k.length; bits > 0; bits >>>= 1) a.update(bits & 1 ? b : k);
  const c = a.digest();

  // Digest DP: the key as many times as it is long; P is that digest stretched to the key length.
  const dp = crypto.createHash('sha512');
  for (let i = 0; i < k.length; i++) dp.update(k);
  const p = repeatTo(dp.digest(), k.length);

  // Digest DS: the salt 16 + A[0] times; S is that digest cut to the salt length.
  const ds = crypto.createHash('sha512');
  for (let i = 0; i < 16 + c[0]!; i++) ds.update(salt);
  const s = repeatTo(ds.digest(), salt.length);

  return { parsed, state: { p, s, c, input: Buffer.alloc(64 + s.length + 2 * p.length) } };
}

// Each round alternately starts with P or the previous digest, adds S unless the round number is a
// multiple of 3, P unless a multiple of 7, and ends with the other of P and the previous digest.
function runRounds(state: RoundState, from: number, to: number): void {
  const { p, s, input } = state;
  let c = state.c;
  for (let i = from; i < to; i++) {
    const odd = (i & 1) === 1;
    let at = (odd ? p : c).copy(input, 0);
    if (i % 3 !== 0) at += s.copy(input, at);
    if (i % 7 !== 0) at += p.copy(input, at);
    at += (odd ? c : p).copy(input, at);
    c = oneShotSha512(input.subarray(0, at));
  }
  state.c = c;
}

function finish(parsed: Sha512CryptSetting, state: RoundState): string {
  return `${formatSha512CryptSetting(parsed)}$${encodeDigest(state.c)}`;
}

/** `length` bytes made of `block` repeated (the specification's P and S sequences). */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
}

// The byte order of the encoded digest, three bytes to four characters, from the specification.
const ENCODING_ORDER: ReadonlyArray<readonly [number, number, number]> = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

function encodeDigest(d: Buffer): string {
  let out = '';
  const put = (value: number, chars: number) => {
    for (let i = 0; i < chars; i++, value >>>= 6) out += CRYPT_ALPHABET[value & 0x3f];
  };
  for (const [x, y, z] of ENCODING_ORDER) put((d[x]! << 16) | (d[y]! << 8) | d[z]!, 4);
  put(d[63]!, 2);
  return out;
}
