// Data for the benchmarks, made through Tessera's own services (the same code the web UI and the
// REST API call), against a database the benchmark then hands to a `tessera serve` process.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/config.ts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createCo } from '../../src/core/cos/co.service.ts';
import { createPerson } from '../../src/core/people/person.service.ts';
import { createRegistry } from '../../src/app/registry.ts';
import type { RouteContext } from '../../src/core/http/route-context.ts';
import { createService } from '../../src/core/co-services/co-service.service.ts';
import { coServiceInput } from '../../src/core/co-services/co-service.schema.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrateToLatest, migrationSets } from '../../src/db/migrator.ts';
import type { PasswordScheme } from '../../src/plugins/service-tokens/hashing/password-schemes.ts';
import type { ServiceTokenTables } from '../../src/plugins/service-tokens/service-token.table.ts';
import { serviceTokensPlugin } from '../../src/plugins/service-tokens/service-tokens.plugin.ts';
import { settingInput } from '../../src/plugins/service-tokens/settings/token-setting.schema.ts';
import { updateSetting } from '../../src/plugins/service-tokens/settings/token-setting.service.ts';
import type { TokenContext } from '../../src/plugins/service-tokens/token-context.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { createVerifierKey } from '../../src/plugins/service-tokens/verification/verification-keys.service.ts';

export interface BenchRuntime {
  ctx: RouteContext;
  database: Database;
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the database at `databaseUrl` with the service-tokens plugin, as `tessera
 * serve` would. `loading`: on SQLite, this connection commits without waiting for an fsync
 * (synchronous=NORMAL), for loading data that is not what is measured; a server opening the file
 * later uses its own connection with the default.
 */
export async function openBenchRuntime(databaseUrl: string, secretKey: string, opts: { loading?: boolean } = {}): Promise<BenchRuntime> {
  const config = loadConfig({ TESSERA_DATABASE_URL: databaseUrl, TESSERA_SECRET_KEY: secretKey, TESSERA_PLUGINS: 'service-tokens', TESSERA_WORKER: 'off' });
  const plugins = [serviceTokensPlugin()];
  const database = openDatabase(databaseUrl);
  await migrateToLatest(database.db, migrationSets(plugins));
  if (opts.loading && database.dialect === 'sqlite') await sql`PRAGMA synchronous = NORMAL`.execute(database.db);
  const { ctx } = createRegistry({ config, database, plugins, clock: systemClock });
  return { ctx, database, close: () => database.destroy() };
}

/** The service-tokens plugin's services' context: the process's context with its tables typed. */
export function tokenContextOf(ctx: RouteContext): TokenContext {
  return { ...ctx, db: ctx.db.withTables<ServiceTokenTables>() };
}

export function benchSecretKey(): string {
  return randomBytes(32).toString('base64url');
}

export async function createBenchCo(ctx: RouteContext, name = `Bench ${randomBytes(3).toString('hex')}`) {
  return createCo(ctx, SYSTEM_ACTOR, { name, description: 'Benchmark data' });
}

export interface BenchService {
  serviceId: string;
  scheme: PasswordScheme;
  /** `Authorization: Bearer <key>` for the verification API. */
  key: string;
}

/** A CO Service with tokens enabled in `scheme`, and a verification key for it. */
export async function createTokenService(ctx: RouteContext, coId: string, opts: { name: string; scheme: PasswordScheme; tokenType?: string; maxTokensPerPerson?: number; withKey?: boolean }): Promise<BenchService> {
  const shortLabel = opts.name.replace(/[^A-Za-z0-9]/g, '');
  const service = await createService(ctx, SYSTEM_ACTOR, coId, coServiceInput.parse({ name: opts.name, shortLabel, visibility: 'co_member', identifierType: 'uid' }));
  await updateSetting(tokenContextOf(ctx), SYSTEM_ACTOR, coId, service.id, settingInput.parse({
    enabled: true,
    tokenType: opts.tokenType ?? 'base62-prefixed',
    storageScheme: opts.scheme,
    maxLifetimeDays: null,
    maxTokensPerPerson: opts.maxTokensPerPerson ?? 5,
    acknowledgePlaintext: opts.scheme === 'PLAINTEXT',
  }));
  const key = opts.withKey === false ? '' : (await createVerifierKey(tokenContextOf(ctx), SYSTEM_ACTOR, coId, service.id, `${opts.name} benchmark`)).key;
  return { serviceId: service.id, scheme: opts.scheme, key };
}

export interface BenchUser {
  personId: string;
  /** The uid identifier: what the verification API is asked with, and the LDAP entry's uid. */
  username: string;
}

export async function createUsers(ctx: RouteContext, coId: string, count: number, prefix = 'bench'): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let i = 0; i < count; i++) {
    const username = `${prefix}-${String(i).padStart(6, '0')}`;
    const person = await createPerson(ctx, SYSTEM_ACTOR, coId, {
      status: 'active',
      name: { given: 'Bench', family: `User ${i}` },
      identifiers: [{ identifier: username, type: 'uid', login: true }],
      emails: [],
    });
    users.push({ personId: person.id, username });
  }
  return users;
}

/**
 * Generates `perUser` tokens of the service for every user, `concurrency` at a time (hashing runs
 * outside the database transaction, so slow schemes use both cores). Returns each user's secrets
 * and hashes, in the users' order.
 */
export async function issueTokens(
  ctx: RouteContext,
  coId: string,
  users: readonly BenchUser[],
  service: BenchService,
  perUser: number,
  concurrency = 4,
): Promise<{ secrets: string[][]; hashes: string[][] }> {
  const secrets: string[][] = users.map(() => []);
  const ids: string[][] = users.map(() => []);
  const jobs: Array<[number, number]> = [];
  for (let k = 0; k < perUser; k++) for (let u = 0; u < users.length; u++) jobs.push([u, k]);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < jobs.length) {
      const [u, k] = jobs[next++]!;
      const { secret, token } = await generateServiceToken(tokenContextOf(ctx), SYSTEM_ACTOR, coId, users[u]!.personId, { serviceId: service.serviceId, label: `bench ${k}` });
      secrets[u]![k] = secret;
      ids[u]![k] = token.id;
    }
  }));
  // The hashes are what LDAP receives; read them back from the rows, as a provisioner would.
  const rows = await ctx.db
    .withTables<{ service_token: { id: string; hash: string } }>()
    .selectFrom('service_token')
    .select(['id', 'hash'])
    .where('id', 'in', ids.flat())
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r.hash]));
  return { secrets, hashes: ids.map((list) => list.map((id) => byId.get(id)!)) };
}
