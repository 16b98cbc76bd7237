import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { crc32 } from './crc32.ts';
import { PASSWORD_SCHEMES, type PasswordScheme } from '../hashing/password-schemes.ts';
import type { RandomSource } from './random-source.ts';
import { customTokenType, customTokenTypeInput } from './token-type.schema.ts';
import {
  ALPHABETS,
  checkTokenFormat,
  DEFAULT_TOKEN_TYPE_ID,
  displayHint,
  findTokenType,
  generateToken,
  hintLength,
  makeTokenType,
  normalizeToken,
  storageRule,
  TOKEN_TYPES,
  type TokenType,
} from './token-types.ts';

function builtIn(id: string): TokenType {
  const type = findTokenType(id);
  assert.ok(type, id);
  return type;
}

/** A reproducible stream of uniform bytes (SHA-256 in counter mode). */
function seededRandom(seed: string): RandomSource {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (size) => {
    const blocks = [pool];
    let have = pool.length;
    while (have < size) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      blocks.push(block);
      have += block.length;
    }
    pool = Buffer.concat(blocks);
    const out = pool.subarray(0, size);
    pool = pool.subarray(size);
    return out;
  };
}

/** Hands out these bytes in order, as many as asked each time; fails when they run out. */
function scriptedRandom(bytes: number[]): RandomSource {
  let at = 0;
  return (size) => {
    assert.ok(at + size <= bytes.length, 'the script ran out of bytes');
    const out = Uint8Array.from(bytes.slice(at, at + size));
    at += size;
    return out;
  };
}

function randomPart(type: TokenType, token: string): string {
  return token.slice(type.prefix.length).replaceAll('-', '').slice(0, type.length);
}

/** Pearson's chi-square statistic of the character counts against a uniform distribution. */
function chiSquare(alphabet: string, text: string): number {
  const counts = new Map<string, number>([...alphabet].map((c) => [c, 0]));
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, alphabet.length, 'only alphabet characters');
  const expected = text.length / alphabet.length;
  let sum = 0;
  for (const n of counts.values()) sum += (n - expected) ** 2 / expected;
  return sum;
}

/** About ten standard deviations above the mean of the chi-square distribution. */
function generousThreshold(alphabetSize: number): number {
  const df = alphabetSize - 1;
  return df + 10 * Math.sqrt(2 * df);
}

describe('token types', () => {
  describe('built-in types', () => {
    it('have the documented entropy; the default and the phone type reach 128 bits', () => {
      const expected: Record<string, number> = {
        'base62-prefixed': 142,
        'phone-grouped': 140,
        'short-grouped': 60,
        'legacy-plain-8': 47,
        'legacy-plain-15': 89,
      };
      assert.deepEqual(Object.fromEntries(TOKEN_TYPES.map((t) => [t.id, t.entropyBits])), expected);
      for (const t of TOKEN_TYPES) assert.equal(t.entropyBits, Math.floor(t.length * Math.log2(t.alphabet.length)), t.id);
      assert.equal(DEFAULT_TOKEN_TYPE_ID, 'base62-prefixed');
      assert.ok(builtIn(DEFAULT_TOKEN_TYPE_ID).entropyBits >= 128);
      assert.ok(builtIn('phone-grouped').entropyBits >= 128);
      assert.ok(builtIn('short-grouped').entropyBits < 80, 'one type exercises the floor');
      assert.equal(findTokenType('nope'), undefined);
    });

    it('only the two reference types are legacy, and they use COmanage\'s alphabet and lengths', () => {
      assert.deepEqual(TOKEN_TYPES.filter((t) => t.legacy).map((t) => t.id), ['legacy-plain-8', 'legacy-plain-15']);
      for (const [id, length] of [['legacy-plain-8', 8], ['legacy-plain-15', 15]] as const) {
        const t = builtIn(id);
        assert.equal(t.length, length);
        assert.equal([...t.alphabet].sort().join(''), [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'].sort().join(''));
        assert.equal(t.prefix, '');
        assert.equal(t.checksum, false);
        assert.equal(t.groupSize, null);
      }
    });

    it('generate tokens of the documented shape that pass their own format check', () => {
      const shapes: Record<string, RegExp> = {
        'base62-prefixed': /^tst_[0-9A-Za-z]{30}$/,
        'phone-grouped': /^(?:[a-km-np-z2-9]{4}-){6}[a-km-np-z2-9]{4}$/,
        'short-grouped': /^(?:[a-km-np-z2-9]{4}-){2}[a-km-np-z2-9]{4}$/,
        'legacy-plain-8': /^[0-9A-Za-z]{8}$/,
        'legacy-plain-15': /^[0-9A-Za-z]{15}$/,
      };
      for (const type of TOKEN_TYPES) {
        const seen = new Set<string>();
        for (let i = 0; i < 200; i++) {
          const token = generateToken(type);
          assert.match(token, shapes[type.id]!, type.id);
          assert.equal(checkTokenFormat(type, token), null, token);
          seen.add(token);
        }
        assert.equal(seen.size, 200, `${type.id}: no repeats`);
      }
    });

    it('unambiguous alphabets leave out the look-alikes', () => {
      for (const c of '01lo') assert.ok(!ALPHABETS.lowerUnambiguous.includes(c), c);
      for (const c of '01IO') assert.ok(!ALPHABETS.upperUnambiguous.includes(c), c);
      assert.equal(ALPHABETS.lowerUnambiguous.length, 32);
      assert.equal(ALPHABETS.upperUnambiguous.length, 32);
    });
  });

  describe('sampling', () => {
    const wide = (alphabet: string) => makeTokenType({ id: 't', label: 't', alphabet, length: 128 });

    for (const [name, alphabet] of Object.entries(ALPHABETS)) {
      it(`${name}: every character equally likely (chi-square over 200k characters)`, () => {
        const type = wide(alphabet);
        const random = seededRandom(`uniform-${name}`);
        const chunks: string[] = [];
        const bytes: number[] = [];
        const recording: RandomSource = (size) => {
          const out = random(size);
          for (const b of out) bytes.push(b);
          return out;
        };
        for (let n = 0; n < 200_000; n += type.length) chunks.push(generateToken(type, recording));
        const text = chunks.join('');
        const threshold = generousThreshold(alphabet.length);
        assert.ok(chiSquare(alphabet, text) < threshold, `chi-square ${chiSquare(alphabet, text)} ≥ ${threshold}`);
        // The test has the power to see modulo bias: the same bytes reduced modulo the size fail it.
        if (256 % alphabet.length !== 0) {
          const naive = bytes.slice(0, 200_000).map((b) => alphabet[b % alphabet.length]).join('');
          assert.ok(chiSquare(alphabet, naive) > threshold, `modulo bias went unseen (${chiSquare(alphabet, naive)})`);
        }
      });
    }

    it('is uniform with the system random source as well', () => {
      const type = wide(ALPHABETS.base62);
      let text = '';
      while (text.length < 200_000) text += generateToken(type);
      assert.ok(chiSquare(ALPHABETS.base62, text) < generousThreshold(62));
    });

    it('throws away bytes at or above the largest multiple of the alphabet size', () => {
      const type = makeTokenType({ id: 't', label: 't', alphabet: ALPHABETS.base62, length: 8 });
      // base62: bytes 248..255 are rejected; the rest map to byte mod 62. One batch is 13 bytes.
      const script = [248, 255, 0, 1, 250, 61, 62, 247, 123, 200, 10, 5, 5];
      assert.equal(generateToken(type, scriptedRandom(script)), '01z0zzEA');
      // When a batch runs short, another is asked for: 13 bytes with only 5 usable, then 8 more.
      const short = [255, 255, 1, 255, 2, 255, 3, 255, 4, 255, 5, 255, 255];
      const more = [254, 6, 7, 8, 0, 0, 0, 0, 0];
      assert.equal(generateToken(type, scriptedRandom([...short, ...more])), '12345678');
    });

    it('gives up on a random source that only yields unusable bytes', () => {
      const type = builtIn('legacy-plain-8');
      assert.throws(() => generateToken(type, (size) => new Uint8Array(size).fill(255)), /unusable/);
    });
  });

  describe('checksum', () => {
    it('is CRC-32', () => {
      assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
      for (let i = 0; i < 50; i++) {
        const data = randomBytes(i * 3);
        assert.equal(crc32(data), zlib.crc32(data));
      }
    });

    it('is written in the alphabet with a fixed width', () => {
      assert.equal(builtIn('base62-prefixed').checksumLength, 6);
      const base32 = makeTokenType({ id: 't', label: 't', alphabet: ALPHABETS.lowerUnambiguous, length: 26, checksum: true });
      assert.equal(base32.checksumLength, 7);
      const digits = makeTokenType({ id: 't', label: 't', alphabet: ALPHABETS.digits, length: 40, checksum: true });
      assert.equal(digits.checksumLength, 10);
      // The checksum of a known random part: CRC-32 big-endian in base62, padded with the alphabet's first character.
      const type = builtIn('base62-prefixed');
      const random = 'A'.repeat(24);
      let value = zlib.crc32(random);
      let expected = '';
      for (let i = 0; i < 6; i++, value = Math.floor(value / 62)) expected = ALPHABETS.base62[value % 62] + expected;
      assert.equal(checkTokenFormat(type, `tst_${random}${expected}`), null);
    });

    it('catches every single-character change and every swap of neighbours', () => {
      const types = [
        builtIn('base62-prefixed'),
        makeTokenType({ id: 't', label: 't', alphabet: ALPHABETS.lowerUnambiguous, length: 26, checksum: true, groupSize: 5 }),
      ];
      const random = seededRandom('checksum');
      for (const type of types) {
        for (let n = 0; n < 40; n++) {
          const token = generateToken(type, random);
          const body = token.slice(type.prefix.length).replaceAll('-', '');
          const rebuild = (b: string) => normalizeToken(type, type.prefix + b) ?? 'unparseable';
          for (let i = 0; i < body.length; i++) {
            for (const c of type.alphabet) {
              if (c === body[i]) continue;
              const changed = body.slice(0, i) + c + body.slice(i + 1);
              assert.equal(normalizeToken(type, type.prefix + changed), null, `${token}: position ${i} to ${c}`);
            }
            if (i + 1 < body.length && body[i] !== body[i + 1]) {
              const swapped = body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2);
              assert.equal(rebuild(swapped), 'unparseable', `${token}: swap at ${i}`);
            }
          }
        }
      }
    });
  });

  describe('checkTokenFormat', () => {
    it('names the first problem', () => {
      const type = builtIn('base62-prefixed');
      const token = generateToken(type);
      assert.equal(checkTokenFormat(type, token), null);
      assert.equal(checkTokenFormat(type, `xyz_${token.slice(4)}`), 'PREFIX');
      assert.equal(checkTokenFormat(type, token.slice(0, -1)), 'LENGTH');
      assert.equal(checkTokenFormat(type, `${token.slice(0, 10)}!${token.slice(11)}`), 'ALPHABET');
      assert.equal(checkTokenFormat(type, ` ${token}`), 'PREFIX', 'no tolerance: that is normalizeToken\'s job');

      const phone = builtIn('phone-grouped');
      const grouped = generateToken(phone);
      assert.equal(checkTokenFormat(phone, grouped.replaceAll('-', '')), 'GROUPING');
      assert.equal(checkTokenFormat(phone, `${grouped.slice(0, 3)}-${grouped.slice(3).replace('-', '')}`), 'GROUPING');
      assert.equal(checkTokenFormat(phone, grouped.toUpperCase()), 'ALPHABET');
    });
  });

  describe('normalizeToken', () => {
    it('turns what a person typed on a phone back into the canonical token', () => {
      const type = builtIn('phone-grouped');
      const token = generateToken(type);
      const bare = token.replaceAll('-', '');
      const typed = [
        token,
        `  ${token}\n`,
        bare,
        bare.replace(/(.{4})/g, '$1 ').trim(),
        token.replaceAll('-', '–'),
        token.replaceAll('-', ' - '),
        bare.charAt(0).toUpperCase() + bare.slice(1),
        token.toUpperCase(),
        `${bare.slice(0, 5)}-${bare.slice(5)}`,
      ];
      for (const input of typed) assert.equal(normalizeToken(type, input), token, JSON.stringify(input));
    });

    it('trims, but keeps case and inner characters, for ungrouped types', () => {
      const type = builtIn('base62-prefixed');
      const token = generateToken(type);
      assert.equal(normalizeToken(type, `\t${token} \r\n`), token);
      assert.equal(normalizeToken(type, token.replace('tst_', 'Tst_')), token, 'phones capitalise the first letter');
      assert.equal(normalizeToken(type, token.replace('tst_', 'tst')), null);
      assert.equal(normalizeToken(type, token.slice(0, 4) + token.slice(4).toLowerCase()) === token, token.slice(4) === token.slice(4).toLowerCase());
      assert.equal(normalizeToken(type, `${token.slice(0, 10)} ${token.slice(10)}`), null);
      assert.equal(normalizeToken(type, token.slice(0, -1) + (token.endsWith('a') ? 'b' : 'a')), null);
      const legacy = builtIn('legacy-plain-15');
      const plain = generateToken(legacy);
      assert.equal(normalizeToken(legacy, ` ${plain} `), plain);
      assert.equal(normalizeToken(legacy, plain.toLowerCase()) === plain, plain === plain.toLowerCase());
    });

    it('returns null for something that cannot be a token of the type', () => {
      const type = builtIn('short-grouped');
      assert.equal(normalizeToken(type, ''), null);
      assert.equal(normalizeToken(type, 'abcd-efgh'), null);
      assert.equal(normalizeToken(type, 'abcd-efgh-ijk0'), null);
    });
  });

  describe('displayHint', () => {
    it('shows the prefix and at most 4 characters, at most a quarter of the random length', () => {
      const expectedLengths: Record<string, number> = {
        'base62-prefixed': 4,
        'phone-grouped': 4,
        'short-grouped': 3,
        'legacy-plain-8': 2,
        'legacy-plain-15': 3,
      };
      for (const type of TOKEN_TYPES) {
        assert.equal(hintLength(type), expectedLengths[type.id], type.id);
        for (let i = 0; i < 20; i++) {
          const token = generateToken(type);
          const hint = displayHint(type, token);
          assert.ok(hint.startsWith(`${type.prefix}…`), hint);
          const shown = hint.slice(type.prefix.length + 1);
          assert.equal(shown.length, hintLength(type));
          assert.ok(shown.length <= 4 && shown.length <= type.length / 4);
          assert.ok(token.replaceAll('-', '').endsWith(shown), `${token} ${hint}`);
        }
      }
      const type = builtIn('base62-prefixed');
      const token = generateToken(type);
      assert.equal(displayHint(type, token), `tst_…${token.slice(-4)}`);
      assert.throws(() => displayHint(type, 'tst_short'), RangeError);
    });

    it('follows the same rule for custom types, down to the shortest allowed', () => {
      const type = customTokenType(customTokenTypeInput.parse({ alphabet: ALPHABETS.digits, length: 8, groupSize: 4 }));
      const token = generateToken(type);
      assert.equal(hintLength(type), 2);
      assert.equal(displayHint(type, token), `…${randomPart(type, token).slice(-2)}`);
    });
  });

  describe('storageRule', () => {
    it('enforces the security floor for every type and scheme', () => {
      const A = null;
      const WEAK = 'TOKEN_TYPE_TOO_WEAK_FOR_SCHEME';
      const PLAIN = 'PLAINTEXT_REQUIRES_LEGACY_TYPE';
      const matrix: Record<string, Record<PasswordScheme, string | null>> = {
        'base62-prefixed': { SSHA512: A, 'CRYPT-SHA512': A, ARGON2ID: A, 'PBKDF2-SHA512': A, SSHA: A, PLAINTEXT: PLAIN },
        'phone-grouped': { SSHA512: A, 'CRYPT-SHA512': A, ARGON2ID: A, 'PBKDF2-SHA512': A, SSHA: A, PLAINTEXT: PLAIN },
        'short-grouped': { SSHA512: WEAK, 'CRYPT-SHA512': WEAK, ARGON2ID: A, 'PBKDF2-SHA512': WEAK, SSHA: WEAK, PLAINTEXT: PLAIN },
        'legacy-plain-8': { SSHA512: WEAK, 'CRYPT-SHA512': WEAK, ARGON2ID: A, 'PBKDF2-SHA512': WEAK, SSHA: WEAK, PLAINTEXT: A },
        // 89 bits, but its display hint shows 3 of the 15 characters: 71 bits are left, under the floor.
        'legacy-plain-15': { SSHA512: WEAK, 'CRYPT-SHA512': WEAK, ARGON2ID: A, 'PBKDF2-SHA512': WEAK, SSHA: WEAK, PLAINTEXT: A },
      };
      assert.deepEqual(
        TOKEN_TYPES.map((t) => [t.id, t.entropyBits, t.effectiveEntropyBits]),
        [['base62-prefixed', 142, 142], ['phone-grouped', 140, 120], ['short-grouped', 60, 45], ['legacy-plain-8', 47, 35], ['legacy-plain-15', 89, 71]],
        'the checksum hides a checksummed type\'s hint; other hints give their characters away',
      );
      for (const type of TOKEN_TYPES) {
        for (const scheme of PASSWORD_SCHEMES) {
          assert.equal(storageRule(type, scheme), matrix[type.id]![scheme], `${type.id} + ${scheme}`);
        }
      }
    });

    it('treats custom types by their entropy and never allows them plaintext', () => {
      const strong = customTokenType(customTokenTypeInput.parse({ alphabet: ALPHABETS.base62, length: 22 }));
      const weak = customTokenType(customTokenTypeInput.parse({ alphabet: ALPHABETS.digits, length: 20 }));
      assert.equal(strong.entropyBits, 130);
      assert.equal(weak.entropyBits, 66);
      assert.equal(storageRule(strong, 'SSHA512'), null);
      assert.equal(storageRule(strong, 'PLAINTEXT'), 'PLAINTEXT_REQUIRES_LEGACY_TYPE');
      assert.equal(storageRule(weak, 'PBKDF2-SHA512'), 'TOKEN_TYPE_TOO_WEAK_FOR_SCHEME');
      assert.equal(storageRule(weak, 'ARGON2ID'), null);
    });
  });
});
