import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_PLUGINS, loadConfig } from './config.ts';

const KEY = 'k'.repeat(40);

describe('Configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has working defaults', () => {
    const c = loadConfig({ TESSERA_SECRET_KEY: KEY });
    assert.equal(c.databaseUrl, 'data/tessera.sqlite');
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.publicUrl, 'http://localhost:8080');
    assert.equal(c.secretKey, KEY);
    assert.deepEqual(c.plugins, DEFAULT_PLUGINS.split(',').filter(Boolean));
    assert.equal(c.trustedHeader, undefined);
    assert.deepEqual(c.trustedProxies, []);
    assert.equal(c.localAccounts, true);
    assert.equal(c.sessionHours, 12);
    assert.equal(c.secureCookies, false);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.worker, true);
  });

  it('reads the environment, ignoring empty variables and others than TESSERA_*', () => {
    const c = loadConfig({
      TESSERA_SECRET_KEY: KEY,
      TESSERA_DATABASE_URL: 'postgres://tessera@db/tessera',
      TESSERA_PORT: '9090',
      TESSERA_PUBLIC_URL: 'https://tessera.example.org',
      TESSERA_PLUGINS: ' one, two ,,three ',
      TESSERA_TRUSTED_HEADER: 'X-Remote-User',
      TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE: 'eppn',
      TESSERA_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.2',
      TESSERA_LOCAL_ACCOUNTS: 'off',
      TESSERA_SESSION_HOURS: '0.5',
      TESSERA_LOG_LEVEL: '',
      TESSERA_WORKER: 'off',
      PORT: '1234',
    });
    assert.equal(c.databaseUrl, 'postgres://tessera@db/tessera');
    assert.equal(c.port, 9090);
    assert.equal(c.publicUrl, 'https://tessera.example.org');
    assert.equal(c.secureCookies, true, 'an https public URL makes cookies secure');
    assert.deepEqual(c.plugins, ['one', 'two', 'three']);
    assert.equal(c.trustedHeader, 'X-Remote-User');
    assert.equal(c.trustedHeaderIdentifierType, 'eppn');
    assert.deepEqual(c.trustedProxies, ['10.0.0.1', '10.0.0.2']);
    assert.equal(c.localAccounts, false);
    assert.equal(c.sessionHours, 0.5);
    assert.equal(c.logLevel, 'info', 'an empty variable counts as unset');
    assert.equal(c.worker, false);
    assert.deepEqual(loadConfig({ TESSERA_SECRET_KEY: KEY, TESSERA_PLUGINS: '' }).plugins, DEFAULT_PLUGINS.split(',').filter(Boolean));
  });

  it('refuses invalid values with a message naming each variable', () => {
    const message = (env: NodeJS.ProcessEnv): string => {
      try {
        loadConfig({ TESSERA_SECRET_KEY: KEY, ...env });
      } catch (e) {
        return (e as Error).message;
      }
      assert.fail('no error');
    };
    assert.match(message({ TESSERA_PORT: 'eighty' }), /^Invalid configuration:\n {2}TESSERA_PORT: /);
    assert.match(message({ TESSERA_PORT: '70000' }), /TESSERA_PORT: /);
    assert.match(message({ TESSERA_PUBLIC_URL: 'not a url' }), /TESSERA_PUBLIC_URL: /);
    assert.match(message({ TESSERA_LOCAL_ACCOUNTS: 'maybe' }), /TESSERA_LOCAL_ACCOUNTS: /);
    assert.match(message({ TESSERA_SESSION_HOURS: '0' }), /TESSERA_SESSION_HOURS: /);
    assert.match(message({ TESSERA_LOG_LEVEL: 'loud' }), /TESSERA_LOG_LEVEL: /);
    assert.match(message({ TESSERA_SECRET_KEY: 'short' }), /TESSERA_SECRET_KEY: TESSERA_SECRET_KEY must be at least 32 characters/);
    const both = message({ TESSERA_PORT: '-1', TESSERA_WORKER: 'sometimes' });
    assert.match(both, /TESSERA_PORT: /);
    assert.match(both, /TESSERA_WORKER: /);
    assert.ok(!both.includes(KEY), 'the message never repeats the secret key');
  });

  it('takes trusted proxies as addresses and ranges only, naming a hostname or a bad range', () => {
    const c = loadConfig({ TESSERA_SECRET_KEY: KEY, TESSERA_TRUSTED_PROXIES: '192.0.2.7, 10.1.0.0/16, ::1, fd00::/8' });
    assert.deepEqual(c.trustedProxies, ['192.0.2.7', '10.1.0.0/16', '::1', 'fd00::/8']);
    for (const [value, wrong] of [['proxy.example.org', 'proxy.example.org'], ['10.0.0.1, 10.0.0.0/33', '10.0.0.0/33'], ['::1/129', '::1/129'], ['10.0.0.0/8/1', '10.0.0.0/8/1']]) {
      assert.throws(() => loadConfig({ TESSERA_SECRET_KEY: KEY, TESSERA_TRUSTED_PROXIES: value }), (e: Error) => e.message.startsWith('Invalid configuration:\n  TESSERA_TRUSTED_PROXIES: ') && e.message.includes(`"${wrong}"`), value);
    }
  });

  it('reads a JSON config file named by TESSERA_CONFIG; the environment wins', () => {
    const file = join(dir, 'tessera.json');
    writeFileSync(file, JSON.stringify({ TESSERA_PORT: '7000', TESSERA_HOST: '0.0.0.0', TESSERA_SECRET_KEY: KEY }));
    const c = loadConfig({ TESSERA_CONFIG: file, TESSERA_HOST: '::1' });
    assert.equal(c.port, 7000);
    assert.equal(c.host, '::1');
    assert.equal(c.secretKey, KEY);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "TESSERA_PORT": ');
    assert.throws(() => loadConfig({ TESSERA_CONFIG: broken, TESSERA_SECRET_KEY: KEY }), { message: new RegExp(`^Invalid configuration:\\n {2}TESSERA_CONFIG: cannot read ${broken} as JSON`) });
    assert.throws(() => loadConfig({ TESSERA_CONFIG: join(dir, 'missing.json'), TESSERA_SECRET_KEY: KEY }), { message: /TESSERA_CONFIG: cannot read .*missing\.json/ });
  });

  it('makes a secret key file once, readable by its owner only, and reuses it', () => {
    const file = join(dir, 'keys', 'secret.key');
    const first = loadConfig({ TESSERA_SECRET_KEY_FILE: file });
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(first.secretKey, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(readFileSync(file, 'utf8'), `${first.secretKey}\n`);
    const second = loadConfig({ TESSERA_SECRET_KEY_FILE: file });
    assert.equal(second.secretKey, first.secretKey);

    // A key in the environment is used as is, and no file is made.
    const unused = join(dir, 'unused.key');
    assert.equal(loadConfig({ TESSERA_SECRET_KEY: KEY, TESSERA_SECRET_KEY_FILE: unused }).secretKey, KEY);
    assert.equal(existsSync(unused), false);
  });

  it('refuses a secret key file that holds no usable key', () => {
    const file = join(dir, 'empty.key');
    writeFileSync(file, '\n', { mode: 0o600 });
    assert.throws(() => loadConfig({ TESSERA_SECRET_KEY_FILE: file }), { message: /^Invalid configuration:\n {2}TESSERA_SECRET_KEY_FILE: .*empty\.key/ });
    writeFileSync(file, 'short\n');
    assert.throws(() => loadConfig({ TESSERA_SECRET_KEY_FILE: file }), { message: /TESSERA_SECRET_KEY_FILE: / });
    assert.equal(readFileSync(file, 'utf8'), 'short\n', 'the file is left alone');
  });
});
