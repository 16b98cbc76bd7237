import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolvePersonActor } from '../core/auth/principal.service.ts';
import { openDatabase } from '../db/database.ts';
import { runTessera } from '../../test/support/cli.ts';

const run = (argv: string[], env: Record<string, string> = {}) => runTessera(argv, env, { onlyGivenTesseraVariables: true });

const COMMANDS = ['serve', 'migrate', 'setup', 'account', 'api-user', 'worker', 'reprovision'];

describe('tessera command line', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    env = {
      TESSERA_DATABASE_URL: join(dir, 'tessera.sqlite'),
      TESSERA_SECRET_KEY_FILE: join(dir, 'secret.key'),
      TESSERA_PLUGINS: 'service-tokens',
      TESSERA_LOG_LEVEL: 'silent',
      TESSERA_WORKER: 'off',
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints its help with --help, and exits 2 without a command', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tessera <command> \[options\]/);
    for (const command of COMMANDS) assert.match(help.stdout, new RegExp(`\\n {2}${command}\\b`), command);
    assert.equal((await run(['help'])).code, 0);
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.equal(none.stdout, help.stdout);
  });

  it('prints the help of each command, without touching a database', async () => {
    for (const command of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const r = await run([command, flag], { TESSERA_DATABASE_URL: join(dir, 'never', 'made.sqlite') });
        assert.equal(r.code, 0, `${command} ${flag}`);
        assert.match(r.stdout, new RegExp(`^Usage: tessera ${command}\\b`), command);
      }
    }
    const sub = await run(['api-user', 'create', '--help']);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /--username NAME/);
  });

  it('exits 2 on an unknown command, an unknown option or bad configuration, saying why', async () => {
    const unknown = await run(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^tessera: unknown command "frobnicate"/);
    assert.equal(unknown.stdout, '');
    assert.equal((await run(['main'])).code, 2, 'the name of the general help is no command');

    const option = await run(['setup', '--usernme', 'x'], env);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /^tessera: .*--usernme/);

    const config = await run(['migrate'], { ...env, TESSERA_PORT: 'eighty' });
    assert.equal(config.code, 2);
    assert.match(config.stderr, /TESSERA_PORT/);
    const plugin = await run(['migrate'], { ...env, TESSERA_PLUGINS: 'no-such-plugin' });
    assert.equal(plugin.code, 2);
    assert.match(plugin.stderr, /Unknown plugin "no-such-plugin"/);
  });

  it('refuses api-user create before setup, and setup without a username or with a short password', async () => {
    const early = await run(['api-user', 'create', '--username', 'early-bird'], env);
    assert.equal(early.code, 2);
    assert.match(early.stderr, /no platform CO yet; run tessera setup first/);
    const noName = await run(['setup'], env);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /setup needs --username/);
    const short = await run(['setup', '--username', 'root', '--password-env', 'TESSERA_TEST_PW'], { ...env, TESSERA_TEST_PW: 'short' });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 10 characters/);
    assert.ok(!short.stderr.includes('short'), 'the password is not echoed');
  });

  it('sets up a platform admin, then creates an API user whose key is printed once and stored only as a hash', async () => {
    const password = 'a sturdy admin password';
    const setup = await run(['setup', '--username', 'root', '--password-env', 'TESSERA_TEST_PW', '--given-name', 'Ada', '--email', 'ada@example.org'], { ...env, TESSERA_TEST_PW: password });
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /Platform administrator "root" created\./);
    assert.ok(!setup.stdout.includes(password) && !setup.stderr.includes(password), 'the password is never printed');

    const again = await run(['setup', '--username', 'root', '--password-env', 'TESSERA_TEST_PW'], { ...env, TESSERA_TEST_PW: 'another sturdy password' });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /exists; password reset/);

    const created = await run(['api-user', 'create', '--username', 'provisioner', '--privileged'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /API user "provisioner" created in CO "Platform" \(privileged\)\./);
    const key = /Key \(shown once, store it now\): (tsk_[A-Za-z0-9_-]{43})\n/.exec(created.stdout)?.[1];
    assert.ok(key, created.stdout);
    assert.equal(created.stdout.split(key).length - 1, 1, 'the key is printed exactly once');

    const taken = await run(['api-user', 'create', '--username', 'provisioner'], env);
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /exists already/);

    const database = openDatabase(env.TESSERA_DATABASE_URL!);
    try {
      const users = await database.db.selectFrom('api_user').selectAll().execute();
      assert.equal(users.length, 1);
      assert.equal(users[0]!.key_hash, `sha256:${createHash('sha256').update(key).digest('hex')}`);
      assert.equal(users[0]!.privileged, 1);
      for (const value of Object.values(users[0]!)) assert.ok(!String(value).includes(key.slice(4)), 'the key is in no column');
      const history = await database.db.selectFrom('history_record').select('comment').execute();
      assert.ok(history.every((h) => !h.comment.includes(key.slice(4))));

      const account = await database.db.selectFrom('local_account').select('password_hash').where('username', '=', 'root').executeTakeFirstOrThrow();
      assert.match(account.password_hash, /^\$argon2id\$/);
      const actor = await resolvePersonActor(database.db, { type: 'uid', value: 'root' }, new Date());
      assert.equal(actor.platformAdmin, true);
      // The enabled plugin's migrations ran too, tracked in its own table.
      const tables = (await database.db.introspection.getTables()).map((t) => t.name);
      assert.ok(tables.includes('tessera_migration_service_tokens'));
    } finally {
      await database.destroy();
    }

    const migrate = await run(['migrate'], env);
    assert.equal(migrate.code, 0);
    assert.equal(migrate.stdout, 'The database is up to date.\n');
  });
});
