// `tessera import comanage` as an operator runs it: help, usage errors, a source that is not a
// COmanage database, a dry run, an import and a re-run, with the report each prints.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../db/database.ts';
import { createMariadbDatabase, startMariadb, type MariadbInstance } from '../../test/support/mariadb.ts';
import { connectComanage, createComanageSchema } from '../import/comanage/comanage-fixture.test-support.ts';
import { SEED, seedComanage } from '../import/comanage/comanage-seed.test-support.ts';
import { runTessera } from '../../test/support/cli.ts';

const run = (argv: string[], env: Record<string, string>) => runTessera(argv, env);

describe('tessera import comanage', () => {
  let dir: string;
  let env: Record<string, string>;
  let maria: MariadbInstance;
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-import-'));
    env = { TESSERA_DATABASE_URL: join(dir, 'tessera.sqlite'), TESSERA_SECRET_KEY_FILE: join(dir, 'secret.key'), TESSERA_LOG_LEVEL: 'silent', TESSERA_WORKER: 'off' };
    maria = await startMariadb();
    url = await createMariadbDatabase(maria.url);
    await createComanageSchema(url);
    const cm = await connectComanage(url);
    await seedComanage(cm);
    await cm.close();
  });
  after(async () => {
    await maria?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const coCount = async () => {
    const db = openDatabase(env.TESSERA_DATABASE_URL!);
    try {
      return (await db.db.selectFrom('co').select('name').execute()).map((r) => r.name);
    } finally {
      await db.destroy();
    }
  };

  it('has --help, and says what is wrong with its options', async () => {
    const help = await run(['import', 'comanage', '--help'], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: tessera import comanage \(--database-url URL \| --database-url-env VAR\)/);
    assert.match(help.stdout, /--token-scheme SCHEME/);
    assert.match((await run(['--help'], env)).stdout, /import comanage +Migrate a COmanage Registry v4 database/);
    const cases: Array<[string[], RegExp]> = [
      [['import', 'comanage'], /needs --database-url URL/],
      [['import', 'ldif'], /usage: tessera import comanage/],
      [['import', 'comanage', '--database-url', url, '--token-scheme', 'SSHA512'], /SSHA512 is too fast for the legacy token types.*--token-scheme ARGON2ID/],
      [['import', 'comanage', '--database-url', url, '--token-scheme', 'MD5'], /unknown --token-scheme "MD5"/],
      [['import', 'comanage', '--database-url', url, '--co', 'one'], /--co takes a COmanage CO id/],
      [['import', 'comanage', '--database-url', url, '--ldap-target', '1110'], /--ldap-target takes COMANAGE_LDAP_TARGET_ID=TESSERA_TARGET_ID/],
      [['import', 'comanage', '--database-url', 'https://registry.example.org/'], /unsupported database URL scheme "https:"/],
      [['import', 'comanage', '--database-url', await createMariadbDatabase(maria.url)], /is not a COmanage Registry v4 database: the table\(s\) cm_cos, .* are missing/],
    ];
    const noTokens = await run(['import', 'comanage', '--database-url', url], { ...env, TESSERA_PLUGINS: 'ldap-provisioner' });
    assert.equal(noTokens.code, 2);
    assert.match(noTokens.stderr, /enable the service-tokens plugin/);
    for (const [argv, message] of cases) {
      const r = await run(argv, env);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, message);
    }
  });

  it('a dry run prints the report and writes nothing; the import prints it and a re-run reports no change', async () => {
    // No --passwords-service: the passwords go to the service that uses their authenticator (Accounts).
    const dry = await run(['import', 'comanage', '--database-url-env', 'CM_URL', '--co', '1', '--dry-run'], { ...env, CM_URL: url });
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.match(dry.stdout, /^Dry run: nothing was written\. What an import from 127\.0\.0\.1:\d+\/\w+ would do:/);
    assert.match(dry.stdout, /\n  person +6 +0 +0 +0\n/);
    assert.match(dry.stdout, /\n  password +3 +0 +0 +0\n/);
    assert.match(dry.stdout, /\n    person 18: unknown CO Person status "ZZ"\n/);
    assert.deepEqual(await coCount(), []);

    const done = await run(['import', 'comanage', '--database-url', url, '--co', '1', '--passwords-service', 'accounts'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /CO 1 "Astronomy Collaboration" -> Tessera CO [0-9a-f-]{36}/);
    assert.match(done.stdout, /\n  token +2 +0 +0 +0\n/);
    assert.match(done.stdout, /\n    token 902: the token is not 15 letters and digits/);
    assert.match(done.stdout, /Next: .*tessera reprovision --co/);
    for (const secret of [SEED.adaWikiToken, SEED.zoeMailToken, 'plaintext-pw']) assert.ok(!done.stdout.includes(secret) && !done.stderr.includes(secret), 'no secret is printed');
    assert.deepEqual(await coCount(), [SEED.co.name]);

    const again = await run(['import', 'comanage', '--database-url', url, '--co', '1', '--passwords-service', 'accounts'], env);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Imported from COmanage Registry CO 1: no change; 7 skipped/);
  });
});
