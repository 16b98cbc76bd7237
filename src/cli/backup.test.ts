// `tessera backup` while tokens are being generated, `tessera restore` into a fresh database, then
// the restored installation started: every token in the backup verifies through the API, and once
// reprovisioned into an emptied directory, binds to slapd. Without the secret key the restored
// targets cannot reach the directory. SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { SYSTEM_ACTOR } from '../core/auth/actor.ts';
import { createTarget } from '../core/provisioning/target.service.ts';
import { buildApp } from '../app/http-app.ts';
import { openDatabase } from '../db/database.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../../test/support/slapd.ts';
import { requireCommand } from '../../test/support/system-packages.ts';
import { buildCo, buildPerson, forEachDialect, openTestDatabase, useTestApp, type BuiltPerson } from '../../test/support/test-app.ts';
import { ldapProvisionerPlugin } from '../plugins/ldap-provisioner/ldap-provisioner.plugin.ts';
import { ldapServiceTokenProvisionerPlugin } from '../plugins/ldap-service-token-provisioner/ldap-service-token-provisioner.plugin.ts';
import { buildService, enableTokens, tokenContext } from '../plugins/service-tokens/service-token.test-support.ts';
import { serviceTokensPlugin } from '../plugins/service-tokens/service-tokens.plugin.ts';
import { generateServiceToken } from '../plugins/service-tokens/tokens/service-token.service.ts';
import { createVerifierKey } from '../plugins/service-tokens/verification/verification-keys.service.ts';
import { main } from './main.ts';
import { openRuntime } from './runtime.ts';
import { addLdapServer } from '../../test/support/ldap-servers.ts';

const execFileAsync = promisify(execFile);
const LDAPWHOAMI = '/usr/bin/ldapwhoami';
const PEOPLE = 'ou=people,dc=example,dc=org';
const TESSERA = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));

/** Runs `tessera …` in this process with exactly these TESSERA_* variables; what it printed. */
async function tessera(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const saved = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('TESSERA_')));
  for (const k of Object.keys(saved)) delete process.env[k];
  Object.assign(process.env, env);
  let out = '';
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (stream: 'stdout' | 'stderr') =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      if (typeof chunk === 'string') {
        out += chunk;
        return true;
      }
      return (originals[stream] as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    return { code: await main(argv), out };
  } finally {
    process.stdout.write = originals.stdout;
    process.stderr.write = originals.stderr;
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

forEachDialect('backup and restore', (dialect) => {
  let slapd: SlapdInstance;
  let dir: string;
  before(async () => {
    requireCommand(LDAPWHOAMI, 'ldap-utils');
    slapd = await startSlapd();
    dir = mkdtempSync(join(tmpdir(), 'tessera-backup-'));
  });
  after(async () => {
    await slapd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const t = useTestApp(dialect, { plugins: [serviceTokensPlugin(), ldapProvisionerPlugin(), ldapServiceTokenProvisionerPlugin()] });

  const envFor = (databaseUrl: string, secretKey: string) => ({
    TESSERA_DATABASE_URL: databaseUrl,
    TESSERA_SECRET_KEY: secretKey,
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_WORKER: 'off',
  });

  const binds = (username: string, token: string) => ldapwhoamiBinds(slapd.url, `uid=${username},${PEOPLE}`, token);

  it('backs up under load, restores into a fresh database, and every token in the backup verifies and binds', async () => {
    const co = await buildCo(t);
    const service = await buildService(t, co.id);
    await enableTokens(t, co.id, service.id, { maxTokensPerPerson: 100 });
    const ldap = await createTarget(t.ctx, SYSTEM_ACTOR, co.id, {
      provisionerType: 'ldap', description: 'Directory', mode: 'automatic', ordinal: 10, retryIntervalSeconds: 30, maxRetries: 3, provisionGroupId: null,
      config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [PEOPLE], coIds: [co.id] }), baseDn: PEOPLE },
    });
    await createTarget(t.ctx, SYSTEM_ACTOR, co.id, {
      provisionerType: 'ldap-service-token', description: 'Tokens', mode: 'automatic', ordinal: 20, retryIntervalSeconds: 30, maxRetries: 3, provisionGroupId: null,
      config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'userPassword' },
    });
    const { key } = await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, co.id, service.id, 'mail server');
    const people: BuiltPerson[] = [];
    for (let i = 0; i < 3; i++) people.push(await buildPerson(t, co.id));
    type Made = { id: string; secret: string; person: BuiltPerson; beforeBackup: boolean; duringBackup: boolean };
    const tokens: Made[] = [];
    const progress: { phase: 'before' | 'during' | 'after' } = { phase: 'before' };
    const generate = async (person: BuiltPerson) => {
      const startedIn = progress.phase;
      const { token, secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, co.id, person.id, { serviceId: service.id, label: `t${tokens.length}` });
      tokens.push({ id: token.id, secret, person, beforeBackup: startedIn === 'before', duringBackup: startedIn === 'during' && progress.phase === 'during' });
    };
    for (const person of people) await generate(person);
    await t.worker.drain();

    // Load: tokens keep being generated, in this process, while `tessera backup` runs in another.
    const load = (async () => {
      for (let i = 0; progress.phase !== 'after' && i < 250; i++) {
        await generate(people[i % people.length]!);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const file = join(dir, `tessera-${dialect}.backup`);
    progress.phase = 'during';
    const backup = await execFileAsync(process.execPath, [TESSERA, 'backup', '--to', file], { env: { ...process.env, ...envFor(t.database.url, t.ctx.config.secretKey) }, encoding: 'utf8' }).finally(() => {
      progress.phase = 'after';
    });
    await load;
    assert.match(backup.stdout, /^Backed up the (SQLite|PostgreSQL) database to .*\(\d+ bytes\)\.\nKeep the secret key with it: TESSERA_SECRET_KEY/);
    assert.ok(tokens.filter((x) => x.duringBackup).length >= 5, 'tokens were generated while the backup ran');
    const again = await tessera(['backup', '--to', file], envFor(t.database.url, t.ctx.config.secretKey));
    assert.equal(again.code, 2);
    assert.match(again.out, /exists; choose a new file name/);

    // A fresh database: a SQLite path that does not exist yet, or an empty PostgreSQL database.
    const fresh = dialect === 'sqlite' ? { url: join(dir, 'restored', 'tessera.sqlite'), cleanup: async () => undefined } : await openTestDatabase('postgres');
    try {
      const env = envFor(fresh.url, t.ctx.config.secretKey);
      const restored = await tessera(['restore', '--from', file], env);
      assert.equal(restored.code, 0, restored.out);
      const twice = await tessera(['restore', '--from', file], env);
      assert.equal(twice.code, 2, 'a restore never overwrites a database');

      // Start the restored installation.
      const runtime = openRuntime({ ...env });
      const { migrate } = await import('./runtime.ts');
      await migrate(runtime);
      const { app } = await buildApp(runtime);
      let inBackup: Array<{ id: string; secret: string; person: BuiltPerson; beforeBackup: boolean }>;
      try {
        const ids = new Set((await runtime.database.db.withTables<{ service_token: { id: string } }>().selectFrom('service_token').select('id').execute()).map((r) => r.id));
        inBackup = tokens.filter((x) => ids.has(x.id));
        for (const x of tokens) if (x.beforeBackup) assert.ok(ids.has(x.id), 'every token made before the backup is in it');
        assert.ok(ids.size <= tokens.length && ids.size === inBackup.length, 'the backup holds only tokens that were made');
        for (const x of inBackup) {
          const res = await app.inject({ method: 'POST', url: '/api/v1/service-tokens/verify', headers: { authorization: `Bearer ${key}` }, payload: { identifier: x.person.username, token: x.secret } });
          assert.deepEqual([res.statusCode, (res.json() as { valid: boolean }).valid], [200, true], `token ${x.id} verifies after the restore`);
        }
      } finally {
        await app.close();
        await runtime.database.destroy();
      }

      // The directory is lost too: the restored registry writes it again, decrypting the bind password with the kept key.
      const root = new Client({ url: slapd.url });
      await root.bind(slapd.rootDn, slapd.rootPassword);
      for (const p of people) await root.del(`uid=${p.username},${PEOPLE}`);
      await root.unbind();
      await assert.rejects(tessera(['reprovision', '--co', co.id], envFor(fresh.url, 'another-key-another-key-another-key!')), {
        message: /^cannot decrypt a stored secret \(e\.g\. an LDAP bind password\): the secret key \(TESSERA_SECRET_KEY or its file\) is not the one it was saved with/,
      });
      for (const x of inBackup) assert.equal(await binds(x.person.username, x.secret), false);
      const reprovisioned = await tessera(['reprovision', '--co', co.id], env);
      assert.equal(reprovisioned.code, 0, reprovisioned.out);
      for (const x of inBackup) assert.equal(await binds(x.person.username, x.secret), true, `token ${x.id} binds after the restore`);
    } finally {
      await fresh.cleanup();
    }
  });

  it('refuses what is not a backup, a missing file, and a missing --to', async () => {
    const env = envFor(join(dir, 'other', 'tessera.sqlite'), 'k'.repeat(40));
    const junk = join(dir, 'junk.sqlite');
    const db = openDatabase(junk);
    await db.destroy();
    writeFileSync(join(dir, 'note.txt'), 'hello');
    if (dialect === 'sqlite') {
      assert.match((await tessera(['restore', '--from', junk], env)).out, /is not a Tessera database/);
      assert.equal(existsSync(join(dir, 'other', 'tessera.sqlite')), false, 'nothing is restored from it');
    }
    assert.match((await tessera(['restore', '--from', join(dir, 'missing.backup')], env)).out, /no backup at /);
    const none = await tessera(['backup'], env);
    assert.deepEqual([none.code, none.out], [2, 'tessera: backup needs --to FILE (see tessera backup --help)\n']);
  });
});
