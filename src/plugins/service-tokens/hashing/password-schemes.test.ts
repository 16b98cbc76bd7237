import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  hashSecret,
  isPasswordScheme,
  isSlowScheme,
  MAX_SECRET_BYTES,
  PASSWORD_SCHEMES,
  SCHEMES,
  schemeOf,
  verifySecret,
  type PasswordScheme,
} from './password-schemes.ts';
import { fromAdaptedBase64 } from './pbkdf2-sha512.ts';
import type { RandomSource } from '../formats/random-source.ts';
import { CRYPT_ALPHABET } from './sha512-crypt.ts';

const SECRET = 'tst_7fQ2kLm9PzR4xWc8VbN3hJ6d1a9Xk2';
const INSTALL_HINT = 'apt-get install -y slapd ldap-utils slapd-contrib';

/** Runs OpenLDAP's slappasswd; fails (never skips) the test when it or a module is missing. */
function slappasswd(args: string[]): string {
  for (const command of ['slappasswd', '/usr/sbin/slappasswd']) {
    const run = spawnSync(command, ['-n', ...args], { encoding: 'utf8' });
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') continue;
    if (run.error) assert.fail(`slappasswd could not run: ${run.error.message}`);
    if (run.status !== 0) assert.fail(`slappasswd ${args.join(' ')} failed: ${run.stderr.trim()} (the modules come with: ${INSTALL_HINT})`);
    return run.stdout.trim();
  }
  assert.fail(`slappasswd is not installed; run: ${INSTALL_HINT}`);
}

/** The system crypt(3), which slapd calls for {CRYPT}, through Perl's crypt builtin. */
function systemCrypt(key: string, setting: string): string {
  const run = spawnSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', key, setting], { encoding: 'utf8' });
  if (run.error) assert.fail(`perl is needed to call the system crypt(3): ${run.error.message}`);
  return run.stdout;
}

/** A random source that hands out exactly these bytes, once. */
function fixedRandom(bytes: Uint8Array): RandomSource {
  let used = false;
  return (size) => {
    assert.equal(used, false, 'asked for random bytes twice');
    assert.equal(size, bytes.length, 'asked for a different number of random bytes');
    used = true;
    return bytes;
  };
}

// slappasswd invocations that make each scheme, as found by trying them on Debian 12's OpenLDAP 2.5.
const SLAPPASSWD_ARGS: Record<Exclude<PasswordScheme, 'PLAINTEXT'>, string[]> = {
  SSHA512: ['-o', 'module-load=pw-sha2', '-h', '{SSHA512}'],
  SSHA: ['-h', '{SSHA}'],
  'CRYPT-SHA512': ['-h', '{CRYPT}', '-c', '$6$rounds=5000$%.16s'],
  ARGON2ID: ['-o', 'module-load=argon2', '-h', '{ARGON2}'],
  'PBKDF2-SHA512': ['-o', 'module-load=pw-pbkdf2', '-h', '{PBKDF2-SHA512}'],
};

describe('password schemes', () => {
  describe('round trips', () => {
    for (const scheme of PASSWORD_SCHEMES) {
      it(`${scheme}: verifies the secret it hashed and nothing else`, async () => {
        const stored = await hashSecret(SECRET, scheme);
        assert.equal(schemeOf(stored), scheme);
        assert.equal(await verifySecret(SECRET, stored), true);
        assert.equal(await verifySecret(`${SECRET}x`, stored), false);
        assert.equal(await verifySecret(SECRET.slice(0, -1), stored), false);
        assert.equal(await verifySecret(SECRET.toLowerCase(), stored), false);
        assert.equal(await verifySecret('', stored), false);
        if (scheme !== 'PLAINTEXT') assert.notEqual(await hashSecret(SECRET, scheme), stored, 'salted: two hashes differ');
      });
    }

    it('handles secrets beyond ASCII as UTF-8', async () => {
      for (const scheme of PASSWORD_SCHEMES) {
        const stored = await hashSecret('pässwörd-€-😀', scheme);
        assert.equal(await verifySecret('pässwörd-€-😀', stored), true, scheme);
        assert.equal(await verifySecret('passwort-€-😀', stored), false, scheme);
      }
    });
  });

  describe('formats', () => {
    it('writes each scheme in the shape slapd writes it, with the chosen parameters', async () => {
      const shapes: Record<PasswordScheme, RegExp> = {
        SSHA512: /^\{SSHA512\}[A-Za-z0-9+/]{106}[A-Za-z0-9+/=]{2}$/,
        SSHA: /^\{SSHA\}[A-Za-z0-9+/]{48}$/,
        'CRYPT-SHA512': /^\{CRYPT\}\$6\$rounds=5000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/,
        ARGON2ID: /^\{ARGON2\}\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
        'PBKDF2-SHA512': /^\{PBKDF2-SHA512\}10000\$[A-Za-z0-9./]{22}\$[A-Za-z0-9./]{86}$/,
        PLAINTEXT: new RegExp(`^${SECRET}$`),
      };
      for (const scheme of PASSWORD_SCHEMES) assert.match(await hashSecret(SECRET, scheme), shapes[scheme]);
      const ssha512 = await hashSecret(SECRET, 'SSHA512');
      assert.equal(Buffer.from(ssha512.slice('{SSHA512}'.length), 'base64').length, 64 + 16);
      const ssha = await hashSecret(SECRET, 'SSHA');
      assert.equal(Buffer.from(ssha.slice('{SSHA}'.length), 'base64').length, 20 + 16);
    });

    it('writes PBKDF2 in adapted base64: "." for "+", no padding', async () => {
      // Salt bytes whose base64 has a '+' at the start and inside, where slapd's own writer slips.
      const salt = Buffer.from('fbef' + 'fb'.repeat(14), 'hex');
      const stored = await hashSecret(SECRET, 'PBKDF2-SHA512', { random: fixedRandom(salt) });
      const [, saltText] = stored.slice('{PBKDF2-SHA512}'.length).split('$');
      assert.equal(saltText, salt.toString('base64').replace(/=+$/, '').replaceAll('+', '.'));
      assert.ok(!stored.includes('+') && !stored.includes('='));
      assert.deepEqual(fromAdaptedBase64(saltText!), salt);
      // slapd forgets to turn a leading '+' into '.', so that spelling must verify as well.
      assert.equal(await verifySecret(SECRET, stored.replace('$.', '$+')), true);
    });
  });

  describe('interoperability with OpenLDAP', () => {
    for (const [scheme, args] of Object.entries(SLAPPASSWD_ARGS) as Array<[PasswordScheme, string[]]>) {
      it(`${scheme}: accepts what slappasswd makes and rejects a wrong secret`, async () => {
        for (const secret of [SECRET, 'tst_ümlaut-€', 'x']) {
          const stored = slappasswd([...args, '-s', secret]);
          assert.equal(schemeOf(stored), scheme, stored);
          assert.equal(await verifySecret(secret, stored), true, stored);
          assert.equal(await verifySecret(`${secret}!`, stored), false, stored);
          assert.equal(await verifySecret(secret.toUpperCase(), stored), false, stored);
        }
      });
    }

    it('ARGON2: also accepts slapd hashes made with other parameters', async () => {
      const stored = slappasswd(['-o', 'module-load=argon2 m=19456 t=2 p=1', '-h', '{ARGON2}', '-s', SECRET]);
      assert.match(stored, /^\{ARGON2\}\$argon2i\$v=19\$m=19456,t=2,p=1\$/);
      assert.equal(await verifySecret(SECRET, stored), true);
      assert.equal(await verifySecret(`${SECRET}x`, stored), false);
    });

    it('writes byte for byte what slappasswd writes, given the same salt', async () => {
      const ssha512 = slappasswd([...SLAPPASSWD_ARGS.SSHA512, '-s', SECRET]);
      const ssha512Salt = Buffer.from(ssha512.slice('{SSHA512}'.length), 'base64').subarray(64);
      assert.equal(ssha512Salt.length, 8, 'slappasswd writes an 8-byte {SSHA512} salt');
      assert.equal(await hashSecret(SECRET, 'SSHA512', { saltBytes: 8, random: fixedRandom(ssha512Salt) }), ssha512);

      const ssha = slappasswd([...SLAPPASSWD_ARGS.SSHA, '-s', SECRET]);
      const sshaSalt = Buffer.from(ssha.slice('{SSHA}'.length), 'base64').subarray(20);
      assert.equal(sshaSalt.length, 4, 'slappasswd writes a 4-byte {SSHA} salt');
      assert.equal(await hashSecret(SECRET, 'SSHA', { saltBytes: 4, random: fixedRandom(sshaSalt) }), ssha);

      const pbkdf2 = slappasswd([...SLAPPASSWD_ARGS['PBKDF2-SHA512'], '-s', SECRET]);
      const pbkdf2Salt = fromAdaptedBase64(pbkdf2.split('$')[1]!)!;
      const ours = await hashSecret(SECRET, 'PBKDF2-SHA512', { random: fixedRandom(pbkdf2Salt) });
      // slapd leaves a '+' in first place unconverted; otherwise the strings are the same.
      const leadingPlus = (s: string) => s.replace(/\$\./g, '$+');
      assert.equal(leadingPlus(ours), leadingPlus(pbkdf2));

      const crypt = slappasswd([...SLAPPASSWD_ARGS['CRYPT-SHA512'], '-s', SECRET]);
      const cryptSalt = crypt.split('$')[3]!;
      const indexes = Uint8Array.from(cryptSalt, (c) => CRYPT_ALPHABET.indexOf(c));
      assert.equal(await hashSecret(SECRET, 'CRYPT-SHA512', { random: fixedRandom(indexes) }), crypt);
    });

    it('CRYPT-SHA512: what Tessera writes, the system crypt(3) (slapd\'s checker) reproduces', async () => {
      for (const rounds of [undefined, 1000, 12345]) {
        const stored = await hashSecret(SECRET, 'CRYPT-SHA512', rounds === undefined ? {} : { cryptRounds: rounds });
        const value = stored.slice('{CRYPT}'.length);
        assert.equal(systemCrypt(SECRET, value), value);
      }
    });
  });

  describe('never throws on what it is given to verify', () => {
    const digest64 = Buffer.alloc(64, 7).toString('base64');
    const garbage: Array<[string, string]> = [
      ['empty', ''],
      ['scheme only', '{SSHA512}'],
      ['not base64', '{SSHA512}!!!!'],
      ['base64 with junk', `{SSHA512}${digest64.slice(0, 40)}*${digest64.slice(40)}`],
      ['digest without salt', `{SSHA512}${digest64}`],
      ['unpadded', '{SSHA}YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo'],
      ['crypt empty', '{CRYPT}'],
      ['crypt $6$ only', '{CRYPT}$6$'],
      ['crypt without digest', '{CRYPT}$6$rounds=5000$abcdefgh'],
      ['crypt short digest', '{CRYPT}$6$rounds=5000$abcdefgh$abc'],
      ['crypt rounds too low', `{CRYPT}$6$rounds=10$abcdefgh$${'a'.repeat(86)}`],
      ['crypt rounds over the verify limit', `{CRYPT}$6$rounds=999999999$abcdefgh$${'a'.repeat(86)}`],
      ['crypt md5', '{CRYPT}$1$abcdefgh$abcdefghijklmnopqrstuv'],
      ['crypt des', '{CRYPT}SlQMvGzv0Yl4E'],
      ['argon2 garbage', '{ARGON2}garbage'],
      ['argon2 memory over the limit', '{ARGON2}$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$DKlexoEJUoZTmkAAC3SaMWk30El9/RvVhlqGo6afIng'],
      ['argon2 bad hash', '{ARGON2}$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'],
      ['argon2 old version', '{ARGON2}$argon2i$v=16$m=4096,t=3,p=1$c2FsdHNhbHQ$DKlexoEJUoZTmkAAC3SaMWk30El9/RvVhlqGo6afIng'],
      ['pbkdf2 scheme only', '{PBKDF2-SHA512}'],
      ['pbkdf2 zero iterations', '{PBKDF2-SHA512}0$YWJjZGVmZ2hpamtsbW5vcA$YWJj'],
      ['pbkdf2 iterations over the limit', `{PBKDF2-SHA512}999999999$YWJjZGVmZ2hpamtsbW5vcA$${'A'.repeat(86)}`],
      ['pbkdf2 short salt', `{PBKDF2-SHA512}10000$YWJj$${'A'.repeat(86)}`],
      ['pbkdf2 short key', '{PBKDF2-SHA512}10000$YWJjZGVmZ2hpamtsbW5vcA$YWJj'],
      ['unknown scheme', '{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ=='],
      ['unsalted sha', '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ='],
      ['brace without close', '{SSHA512'],
    ];
    for (const [name, stored] of garbage) {
      it(`${name}: false`, async () => {
        const started = performance.now();
        assert.equal(await verifySecret('secret', stored), false);
        assert.ok(performance.now() - started < 2000, 'refused without computing');
      });
    }

    it('refuses odd secrets and non-strings', async () => {
      const plain = await hashSecret('secret', 'PLAINTEXT');
      assert.equal(await verifySecret('secret\0', plain), false);
      assert.equal(await verifySecret('', ''), false);
      assert.equal(await verifySecret('x'.repeat(MAX_SECRET_BYTES + 1), 'x'.repeat(MAX_SECRET_BYTES + 1)), false);
      // What a JavaScript caller (or a parsed JSON body) may hand over despite the types.
      const verifyUntyped: (secret: unknown, stored: unknown) => Promise<boolean> = verifySecret as (secret: unknown, stored: unknown) => Promise<boolean>;
      assert.equal(await verifyUntyped(undefined, plain), false);
      assert.equal(await verifyUntyped('secret', null), false);
      assert.equal(await verifySecret('{SSHA}abc', '{SSHA}abc'), false, 'a {SCHEME} value is never compared as plaintext');
    });
  });

  describe('plaintext', () => {
    it('is the secret itself, compared whole', async () => {
      assert.equal(await hashSecret('Ab3dEf9h', 'PLAINTEXT'), 'Ab3dEf9h');
      assert.equal(await verifySecret('Ab3dEf9h', 'Ab3dEf9h'), true);
      assert.equal(await verifySecret('Ab3dEf9', 'Ab3dEf9h'), false);
      assert.equal(await verifySecret('Ab3dEf9hh', 'Ab3dEf9h'), false);
      assert.equal(await verifySecret('{open', '{open'), true, "a '{' without '}' is still plaintext to slapd");
    });

    it('refuses a secret slapd would read as a {SCHEME} value', async () => {
      await assert.rejects(hashSecret('{SSHA}abc', 'PLAINTEXT'), RangeError);
    });
  });

  describe('hashSecret input checks', () => {
    it('refuses empty, NUL-containing and overlong secrets, and parameters out of range', async () => {
      await assert.rejects(hashSecret('', 'SSHA512'), RangeError);
      await assert.rejects(hashSecret('a\0b', 'CRYPT-SHA512'), RangeError);
      await assert.rejects(hashSecret('é'.repeat(MAX_SECRET_BYTES / 2 + 1), 'SSHA512'), RangeError);
      await assert.rejects(hashSecret(SECRET, 'CRYPT-SHA512', { cryptRounds: 999 }), RangeError);
      await assert.rejects(hashSecret(SECRET, 'CRYPT-SHA512', { cryptRounds: 5000.5 }), RangeError);
      await assert.rejects(hashSecret(SECRET, 'PBKDF2-SHA512', { pbkdf2Iterations: 10 }), RangeError);
      await assert.rejects(hashSecret(SECRET, 'ARGON2ID', { argon2: { memoryKiB: 1 << 20, passes: 2, parallelism: 1 } }), RangeError);
      await assert.rejects(hashSecret(SECRET, 'SSHA', { saltBytes: 2 }), RangeError);
    });

    it('honours explicit parameters', async () => {
      assert.match(await hashSecret(SECRET, 'CRYPT-SHA512', { cryptRounds: 1000 }), /^\{CRYPT\}\$6\$rounds=1000\$/);
      assert.match(await hashSecret(SECRET, 'PBKDF2-SHA512', { pbkdf2Iterations: 1000 }), /^\{PBKDF2-SHA512\}1000\$/);
      const argon = await hashSecret(SECRET, 'ARGON2ID', { argon2: { memoryKiB: 4096, passes: 3, parallelism: 1 } });
      assert.match(argon, /^\{ARGON2\}\$argon2id\$v=19\$m=4096,t=3,p=1\$/);
      assert.equal(await verifySecret(SECRET, argon), true);
    });
  });

  describe('schemeOf', () => {
    it('reads the prefix case-insensitively, as slapd does', async () => {
      const stored = await hashSecret(SECRET, 'SSHA512');
      const lower = `{ssha512}${stored.slice('{SSHA512}'.length)}`;
      assert.equal(schemeOf(lower), 'SSHA512');
      assert.equal(await verifySecret(SECRET, lower), true);
    });

    it('names each stored form', () => {
      const cases: Array<[string, PasswordScheme | null]> = [
        ['{SSHA512}abc', 'SSHA512'],
        ['{SSHA}abc', 'SSHA'],
        ['{CRYPT}$6$abc$def', 'CRYPT-SHA512'],
        ['{crypt}$6$abc$def', 'CRYPT-SHA512'],
        ['{CRYPT}$5$abc$def', null],
        ['{CRYPT}SlQMvGzv0Yl4E', null],
        ['{ARGON2}$argon2id$...', 'ARGON2ID'],
        ['{ARGON2}$argon2i$...', 'ARGON2ID'],
        ['{PBKDF2-SHA512}10000$a$b', 'PBKDF2-SHA512'],
        ['{PBKDF2-SHA256}10000$a$b', null],
        ['{SHA}abc', null],
        ['{x}', null],
        ['plain', 'PLAINTEXT'],
        ['{plain', 'PLAINTEXT'],
        ['', null],
      ];
      for (const [stored, expected] of cases) assert.equal(schemeOf(stored), expected, stored);
    });
  });

  describe('catalogue', () => {
    it('describes every scheme; only argon2id is slow; SSHA and plaintext are legacy', () => {
      assert.deepEqual(Object.keys(SCHEMES).sort(), [...PASSWORD_SCHEMES].sort());
      for (const scheme of PASSWORD_SCHEMES) {
        assert.equal(SCHEMES[scheme].id, scheme);
        assert.ok(SCHEMES[scheme].label.length > 0);
        assert.equal(isSlowScheme(scheme), scheme === 'ARGON2ID');
        assert.equal(SCHEMES[scheme].legacy, scheme === 'SSHA' || scheme === 'PLAINTEXT');
        assert.ok(isPasswordScheme(scheme));
      }
      assert.equal(SCHEMES.SSHA512.label, 'Salted SHA-512 ({SSHA512})');
      assert.equal(isPasswordScheme('MD5'), false);
      assert.equal(isPasswordScheme('ssha512'), false);
    });
  });
});
