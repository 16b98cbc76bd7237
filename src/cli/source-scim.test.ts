// `tessera source add scim`: prints the source's base URL and a token once; only the token's hash
// is stored; `--help` describes it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { openDatabase } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { runTessera } from '../../test/support/cli.ts';

const run = (argv: string[], env: Record<string, string>) => runTessera(argv, env);

const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-scim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('tessera source add scim prints the base URL and a token shown once, stored hashed', async () => {
  const env = {
    TESSERA_DATABASE_URL: join(dir, 'tessera.sqlite'),
    TESSERA_SECRET_KEY: randomBytes(32).toString('base64url'),
    TESSERA_PUBLIC_URL: 'https://tessera.example.org',
    TESSERA_PLUGINS: 'service-tokens',
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_WORKER: 'off',
  };
  const help = await run(['source', 'add', 'scim', '--help'], env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: tessera source add scim --co CO_ID --name NAME \[--relative-location\]/);
  assert.equal((await run(['migrate'], env)).code, 0);
  const coId = newId();
  const database = openDatabase(env.TESSERA_DATABASE_URL);
  const now = new Date().toISOString();
  await database.db.insertInto('co').values({ id: coId, name: 'CLI CO', description: '', status: 'active', is_platform: 0, created_at: now, updated_at: now }).execute();

  assert.equal((await run(['source', 'add', 'scim', '--co', coId], env)).code, 2, '--name is required');
  const added = await run(['source', 'add', 'scim', '--co', coId, '--name', 'SRAM', '--relative-location'], env);
  assert.equal(added.code, 0, added.stderr);
  const base = /Base URL: (\S+)/.exec(added.stdout)?.[1];
  const token = /Token: +(tss_\S+)/.exec(added.stdout)?.[1];
  const source = await database.db.selectFrom('source').select(['id', 'kind']).where('co_id', '=', coId).executeTakeFirstOrThrow();
  assert.equal(source.kind, 'scim');
  assert.equal(base, `https://tessera.example.org/scim/v2/${source.id}`);
  const stored = await database.db.selectFrom('scim_token').select('token_hash').where('source_id', '=', source.id).execute();
  assert.deepEqual(stored, [{ token_hash: `sha256:${createHash('sha256').update(token!).digest('hex')}` }]);
  await database.destroy();
});
