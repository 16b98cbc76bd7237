// `tessera source set`: changes some settings of a COmanage SQL source, keeps the others and what
// the source brought in, stores the URL encrypted and prints it with the password hidden.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { openDatabase } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { runTessera } from '../../test/support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-source-set-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('tessera source set changes the URL (from a variable) and keeps the other settings; bad values change nothing', async () => {
  const env = {
    TESSERA_DATABASE_URL: join(dir, 'tessera.sqlite'),
    TESSERA_SECRET_KEY: randomBytes(32).toString('base64url'),
    TESSERA_PLUGINS: 'service-tokens',
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_WORKER: 'off',
  };
  const help = await runTessera(['source', 'set', '--help'], env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: tessera source set NAME/);
  assert.equal((await runTessera(['migrate'], env)).code, 0);
  const coId = newId();
  const database = openDatabase(env.TESSERA_DATABASE_URL);
  try {
    const now = new Date().toISOString();
    await database.db.insertInto('co').values({ id: coId, name: 'Set CO', description: '', status: 'active', is_platform: 0, created_at: now, updated_at: now }).execute();
    const added = await runTessera(['source', 'add', 'comanage-sql', '--co', coId, '--name', 'registry', '--database-url', 'postgres://reader:old-pw@127.0.0.1:1/registry', '--prefix', 'cm_sp_'], env);
    assert.equal(added.code, 0, added.stderr);
    const sealedBefore = (await database.db.selectFrom('source').select('settings_encrypted').where('co_id', '=', coId).executeTakeFirstOrThrow()).settings_encrypted;

    assert.equal((await runTessera(['source', 'set', 'registry'], env)).code, 2, 'nothing to change is a usage error');
    const bad = await runTessera(['source', 'set', 'registry', '--layout', 'v9'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /layout/);
    assert.equal((await database.db.selectFrom('source').select('settings_encrypted').where('co_id', '=', coId).executeTakeFirstOrThrow()).settings_encrypted, sealedBefore, 'a refused change stores nothing');

    const set = await runTessera(['source', 'set', 'registry', '--database-url-env', 'NEW_REGISTRY_URL'], { ...env, NEW_REGISTRY_URL: 'postgres://reader:n3w-pw@db.example.org:5432/registry' });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /db\.example\.org/);
    assert.match(set.stdout, /cm_sp_/, 'the prefix is kept');
    assert.ok(!set.stdout.includes('n3w-pw'), 'the password is not printed');
    const row = await database.db.selectFrom('source').select('settings_encrypted').where('co_id', '=', coId).executeTakeFirstOrThrow();
    assert.notEqual(row.settings_encrypted, sealedBefore);
    assert.ok(!row.settings_encrypted.includes('n3w-pw'), 'stored encrypted');
    const history = await database.db.selectFrom('history_record').select('action').where('co_id', '=', coId).where('action', '=', 'SOURCE_SETTINGS_CHANGED').execute();
    assert.equal(history.length, 1);
  } finally {
    await database.destroy();
  }
});
