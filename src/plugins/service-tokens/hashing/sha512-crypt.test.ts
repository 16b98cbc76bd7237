import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseSha512CryptSetting, sha512Crypt, sha512CryptAsync } from './sha512-crypt.ts';

// The SHA-512 test vectors published with the specification (https://www.akkadia.org/drepper/SHA-crypt.txt).
const SPEC_VECTORS: ReadonlyArray<{ setting: string; key: string; expected: string }> = [
  {
    setting: '$6$saltstring',
    key: 'Hello world!',
    expected: '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
  },
  {
    setting: '$6$rounds=10000$saltstringsaltstring',
    key: 'Hello world!',
    expected: '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  },
  {
    setting: '$6$rounds=5000$toolongsaltstring',
    key: 'This is just a test',
    expected: '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  },
  {
    setting: '$6$rounds=1400$anotherlongsaltstring',
    key: 'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    expected: '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  },
  {
    setting: '$6$rounds=77777$short',
    key: 'we have a short salt string but not a short password',
    expected: '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  },
  {
    setting: '$6$rounds=123456$asaltof16chars..',
    key: 'a short string',
    expected: '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  },
  {
    setting: '$6$rounds=10$roundstoolow',
    key: 'the minimum number is still observed',
    expected: '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  },
];

/**
 * crypt(3) of the system, the one slapd calls for {CRYPT}, through Perl's crypt builtin.
 * Keys go as hex so any byte but NUL passes; a failure comes back as "*0" (libxcrypt) or "(undef)".
 */
function systemCrypt(cases: ReadonlyArray<{ key: Uint8Array; setting: string }>): string[] {
  const script = 'while (<STDIN>) { chomp; my ($k, $s) = split /\\t/, $_, 2; my $r = crypt(pack("H*", $k), $s); print defined $r ? $r : "(undef)", "\\n"; }';
  const input = cases.map((c) => `${Buffer.from(c.key).toString('hex')}\t${c.setting}\n`).join('');
  const run = spawnSync('perl', ['-e', script], { input, encoding: 'utf8' });
  if (run.error) assert.fail(`perl is needed to call the system crypt(3): ${run.error.message} (apt-get install -y perl)`);
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').slice(0, cases.length);
}

describe('sha512-crypt', () => {
  it('matches every SHA-512 test vector of the specification', () => {
    for (const v of SPEC_VECTORS) {
      assert.equal(sha512Crypt(v.key, v.setting, { spec: true }), v.expected, v.setting);
    }
  });

  it('agrees with the specification vectors in the default (system) mode, except for rounds below the minimum', () => {
    for (const v of SPEC_VECTORS.filter((v) => !v.setting.includes('roundstoolow'))) {
      assert.equal(sha512Crypt(v.key, v.setting), v.expected, v.setting);
    }
    // libxcrypt answers "*0" to rounds=10 rather than clamping; the clamped result is still reachable.
    assert.throws(() => sha512Crypt('the minimum number is still observed', '$6$rounds=10$roundstoolow'), RangeError);
    const lowest = SPEC_VECTORS.find((v) => v.setting.includes('roundstoolow'))!;
    assert.equal(sha512Crypt(lowest.key, '$6$rounds=1000$roundstoolow'), lowest.expected);
  });

  it('reproduces the system crypt(3) byte for byte across key lengths, salts and rounds', () => {
    const cases: Array<{ key: Uint8Array; setting: string }> = [];
    const keyLengths = [1, 2, 7, 8, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200];
    const saltChars = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    keyLengths.forEach((length, i) => {
      const key = Buffer.from(Array.from(randomBytes(length), (b) => (b % 255) + 1)); // any byte but NUL
      const salt = Array.from(randomBytes(i % 17), (b) => saltChars[b & 63]).join('');
      const rounds = [null, 1000, 5000, 1234, 7777][i % 5];
      cases.push({ key, setting: rounds === null ? `$6$${salt}` : `$6$rounds=${rounds}$${salt}` });
    });
    cases.push({ key: Buffer.from('secret'), setting: '$6$rounds=5000$abcdefgh' });
    cases.push({ key: Buffer.from('tst_ü€😀', 'utf8'), setting: '$6$UTF8saltUTF8salt' });
    cases.push({ key: Buffer.from('x'), setting: '$6$' });
    cases.push({ key: Buffer.from('x'), setting: '$6$abc$ignored-after-the-salt' });
    const expected = systemCrypt(cases);
    cases.forEach((c, i) => {
      assert.equal(sha512Crypt(c.key, c.setting), expected[i], `${Buffer.from(c.key).toString('hex')} ${c.setting}`);
    });
  });

  it('refuses exactly the settings the system crypt(3) refuses', () => {
    const settings = [
      '$6$rounds=10$roundstoolow', '$6$rounds=999$x', '$6$rounds=1000$x', '$6$rounds=1000000000$x',
      '$6$rounds=0$x', '$6$rounds=05000$x', '$6$rounds=+5000$x', '$6$rounds=5000x$y', '$6$rounds=$x', '$6$rounds=5000',
      '$6$ab!c', '$6$a:b', '$6$a*b', '$6$a;b', '$6$a\\b', '$6$a b', '$6$a\tb', '$6$\u00e9t\u00e9', '$6$salt_salt', '$6$a.b/Z09',
      '$6$~{}[]<>?', '$6$abc$ x', '$6$abc$!x', '$6$abc$x$y', '$6$', '$6$rounds=5000$', '$5$abc', 'abc',
    ];
    const system = systemCrypt(settings.map((setting) => ({ key: Buffer.from('key'), setting })));
    settings.forEach((setting, i) => {
      const refused = system[i] === '*0' || system[i] === '*1' || system[i] === '(undef)' || !system[i]!.startsWith('$6$');
      if (refused) assert.throws(() => sha512Crypt('key', setting), RangeError, setting);
      else assert.equal(sha512Crypt('key', setting), system[i], setting);
    });
  });

  it('computes the same asynchronously', async () => {
    const v = SPEC_VECTORS[1]!;
    assert.equal(await sha512CryptAsync(v.key, v.setting), v.expected);
  });

  it('reads settings, ignoring anything after the salt', () => {
    assert.deepEqual(parseSha512CryptSetting('$6$rounds=5000$abcdefghabcdefghXX$hash'), { rounds: 5000, roundsExplicit: true, salt: 'abcdefghabcdefgh' });
    assert.deepEqual(parseSha512CryptSetting('$6$salt$hash'), { rounds: 5000, roundsExplicit: false, salt: 'salt' });
    assert.equal(parseSha512CryptSetting('$6$rounds=1$salt'), null);
    // The largest count crypt(3) takes (computing it would take many minutes, so it is only read).
    assert.deepEqual(parseSha512CryptSetting('$6$rounds=999999999$x'), { rounds: 999_999_999, roundsExplicit: true, salt: 'x' });
    assert.equal(parseSha512CryptSetting('$6$rounds=1000000000$x'), null);
  });
});
