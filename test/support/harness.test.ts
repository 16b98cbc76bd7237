// Proves the test harnesses: real PostgreSQL and slapd instances start on distinct random ports,
// do what later suites rely on (databases, schemas, password modules, attribute options), keep
// their data across a slapd restart, and free their ports when stopped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { Client } from 'ldapts';
import { createDatabase, startPostgres, type PostgresInstance } from './postgres.ts';
import { startSlapd, type SlapdInstance } from './slapd.ts';
import { PortClashError, requireCommand, retryOnPortClash } from './system-packages.ts';
import { tcpOpen } from './recipes.ts';

const execFileAsync = promisify(execFile);
const LDAPWHOAMI = '/usr/bin/ldapwhoami';
const SLAPPASSWD = '/usr/sbin/slappasswd';
/** Every scheme DESIGN.md lets a token type use, each with its own secret. */
const SECRETS_BY_SCHEME: Record<string, string> = {
  '{SSHA512}': 'secret',
  '{ARGON2}': 'argon-secret',
  '{PBKDF2-SHA512}': 'pbkdf2-secret',
  '{CRYPT}': 'crypt-secret',
  '{SSHA}': 'legacy-secret',
};
const MODULE_BY_SCHEME: Record<string, string> = {
  '{SSHA512}': 'pw-sha2',
  '{ARGON2}': 'argon2',
  '{PBKDF2-SHA512}': 'pw-pbkdf2',
};

describe('requireCommand', () => {
  it('names the package and the install script when a program is missing', () => {
    assert.throws(
      () => requireCommand('/usr/sbin/no-such-daemon', 'no-such-package'),
      {
        message:
          'no-such-daemon is missing: install it with `apt-get install -y no-such-package` ' +
          '(or run .ci/install-system-packages.sh)',
      },
    );
  });

  it('accepts an installed program', () => {
    assert.doesNotThrow(() => requireCommand(process.execPath, 'nodejs'));
  });
});

describe('retryOnPortClash', () => {
  it('tries again on a fresh port after a clash, and only then', async () => {
    const ports: number[] = [];
    const result = await retryOnPortClash(async (port) => {
      ports.push(port);
      if (ports.length === 1) throw new PortClashError('taken');
      return 'started';
    });
    assert.equal(result, 'started');
    assert.equal(ports.length, 2);
    await assert.rejects(
      retryOnPortClash(async () => {
        throw new Error('broken config');
      }),
      /broken config/,
    );
  });
});

describe('startPostgres', () => {
  let first: PostgresInstance;
  let second: PostgresInstance;

  before(async () => {
    [first, second] = await Promise.all([startPostgres(), startPostgres()]);
  });
  after(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('starts clusters on distinct ports that answer queries', async () => {
    assert.notEqual(first.port, second.port);
    assert.match(first.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    assert.deepEqual(await query(first.url, 'select 1 as one'), [{ one: 1 }]);
    assert.deepEqual(await query(second.url, 'select 1 as one'), [{ one: 1 }]);
  });

  it('keeps the clusters apart', async () => {
    await query(first.url, 'create table only_in_first (id int)');
    assert.deepEqual(await query(second.url, "select to_regclass('only_in_first') as t"), [{ t: null }]);
  });

  it('creates isolated databases in one cluster', async () => {
    const alpha = await createDatabase(first.url, 'alpha');
    const beta = await createDatabase(first.url);
    assert.equal(new URL(alpha).pathname, '/alpha');
    assert.deepEqual(await query(alpha, 'select current_database() as db'), [{ db: 'alpha' }]);
    await query(alpha, 'create table only_in_alpha (id int)');
    assert.deepEqual(await query(beta, "select to_regclass('only_in_alpha') as t"), [{ t: null }]);
  });

  it('rejects a database name that would need quoting', async () => {
    await assert.rejects(createDatabase(first.url, 'x"; drop'), /invalid database name/);
  });

  it('closes the port when stopped, and stop() is idempotent', async () => {
    const instance = await startPostgres();
    await instance.stop();
    await instance.stop();
    assert.equal(await tcpOpen(instance.port), false);
  });
});

describe('startSlapd', () => {
  let ldap: SlapdInstance;
  let other: SlapdInstance;
  let personDn: string;
  const wikiToken = 'wiki-token-1';

  before(async () => {
    [ldap, other] = await Promise.all([startSlapd(), startSlapd({ suffix: 'o=tessera' })]);
    personDn = `uid=alice,ou=people,${ldap.suffix}`;
    // One userPassword value per scheme Tessera can write, each for its own secret.
    const userPasswords = await Promise.all(
      Object.entries(SECRETS_BY_SCHEME).map(([scheme, secret]) => hashPassword(scheme, secret)),
    );
    const wikiHash = await hashPassword('{SSHA512}', wikiToken);
    await withClient(ldap, (client) =>
      client.add(personDn, {
        objectClass: ['inetOrgPerson', 'eduPerson', 'eduMember', 'voPerson'],
        uid: 'alice',
        cn: 'Alice Example',
        sn: 'Example',
        eduPersonPrincipalName: 'alice@example.org',
        isMemberOf: 'CO:members:all',
        voPersonStatus: 'active',
        userPassword: userPasswords,
        'voPersonApplicationPassword;app-wiki': wikiHash,
      }),
    );
  });
  after(async () => {
    await Promise.all([ldap?.stop(), other?.stop()]);
  });

  it('starts servers on distinct ports with their own suffixes', () => {
    assert.notEqual(ldap.port, other.port);
    assert.equal(ldap.url, `ldap://127.0.0.1:${ldap.port}/`);
    assert.equal(ldap.suffix, 'dc=example,dc=org');
    assert.equal(ldap.rootDn, 'cn=admin,dc=example,dc=org');
    assert.equal(other.rootDn, 'cn=admin,o=tessera');
  });

  it('creates the suffix entry and ou=people', async () => {
    assert.deepEqual(await listDns(other, other.suffix), ['o=tessera', 'ou=people,o=tessera']);
  });

  it('binds with each hashed password and refuses a wrong one', async () => {
    for (const password of Object.values(SECRETS_BY_SCHEME)) {
      assert.equal(await whoami(ldap.url, personDn, password), `dn:${personDn}`);
    }
    await assert.rejects(whoami(ldap.url, personDn, 'wrong'), /Invalid credentials/);
  });

  it('stores per-service application passwords under the app- option', async () => {
    const entry = await withClient(ldap, async (client) => {
      const { searchEntries } = await client.search(personDn, {
        scope: 'base',
        attributes: ['voPersonApplicationPassword;app-wiki'],
      });
      return searchEntries[0];
    });
    assert.match(String(entry?.['voPersonApplicationPassword;app-wiki']), /^\{SSHA512\}/);
  });

  it('keeps servers apart', async () => {
    await assert.rejects(whoami(other.url, personDn, 'secret'), /Invalid credentials|No such object/);
  });

  it('keeps the data across restart(), on the same port', async () => {
    const port = ldap.port;
    await ldap.restart();
    assert.equal(ldap.port, port);
    assert.equal(await whoami(ldap.url, personDn, 'secret'), `dn:${personDn}`);
  });

  it('runs the callback of restart() while slapd is down, then serves the same data', async () => {
    let wasDown = false;
    await ldap.restart(async () => {
      wasDown = !(await tcpOpen(ldap.port));
    });
    assert.equal(wasDown, true);
    assert.equal(await whoami(ldap.url, personDn, 'secret'), `dn:${personDn}`);
  });

  it('reports the diagnostics of slapd when it cannot start', async () => {
    await assert.rejects(startSlapd({ extraConfig: 'no-such-directive yes' }), /unknown directive <no-such-directive>/);
  });

  it('refuses a module that is not installed', async () => {
    await assert.rejects(startSlapd({ modules: ['no-such-module.la'] }), /no-such-module\.la is missing: install it with/);
  });

  it('closes the port when stopped, even in the middle of a restart', async () => {
    const instance = await startSlapd();
    const restarting = instance.restart();
    await instance.stop();
    await restarting;
    await instance.stop();
    assert.equal(await tcpOpen(instance.port), false);
    await assert.rejects(instance.restart(), /stopped/);
  });
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A hash made by OpenLDAP's own slappasswd, so the test does not trust our hashing code. */
async function hashPassword(scheme: string, secret: string): Promise<string> {
  const module = MODULE_BY_SCHEME[scheme];
  const moduleArgs = module === undefined ? [] : ['-o', `module-load=${module}`];
  const cryptArgs = scheme === '{CRYPT}' ? ['-c', '$6$%.16s'] : []; // sha512-crypt, not DES
  const { stdout } = await execFileAsync(SLAPPASSWD, ['-h', scheme, ...moduleArgs, ...cryptArgs, '-s', secret]);
  return stdout.trim();
}

/** Simple bind through the OpenLDAP CLI, as a service would; resolves to the bound identity. */
async function whoami(url: string, dn: string, password: string): Promise<string> {
  requireCommand(LDAPWHOAMI, 'ldap-utils');
  try {
    const { stdout } = await execFileAsync(LDAPWHOAMI, ['-x', '-H', url, '-D', dn, '-w', password]);
    return stdout.trim();
  } catch (error) {
    throw new Error(`ldapwhoami failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
}

async function withClient<T>(instance: SlapdInstance, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: instance.url });
  try {
    await client.bind(instance.rootDn, instance.rootPassword);
    return await use(client);
  } finally {
    await client.unbind();
  }
}

async function listDns(instance: SlapdInstance, base: string): Promise<string[]> {
  return withClient(instance, async (client) => {
    const { searchEntries } = await client.search(base, { scope: 'sub', attributes: ['1.1'] });
    return searchEntries.map((entry) => entry.dn).sort((a, b) => a.length - b.length);
  });
}

