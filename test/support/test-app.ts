import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Config } from '../../src/config/config.ts';
import type { Actor } from '../../src/core/auth/actor.ts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { createApiUser } from '../../src/core/api-users/api-user.service.ts';
import { startSession, SESSION_COOKIE } from '../../src/core/auth/session.service.ts';
import { resolvePersonActor } from '../../src/core/auth/principal.service.ts';
import type { Clock } from '../../src/core/clock.ts';
import { createCo, ADMINS_GROUP_NAME, type Co } from '../../src/core/cos/co.service.ts';
import { buildApp, type TesseraApp } from '../../src/app/http-app.ts';
import { createRegistry } from '../../src/app/registry.ts';
import { createLogger } from '../../src/core/logging/logger.ts';
import { sql, type Kysely } from 'kysely';
import type { CoreDatabase } from '../../src/db/core-tables.ts';
import type { ServiceTokenTables } from '../../src/plugins/service-tokens/service-token.table.ts';
import { CSRF_COOKIE, csrfTokenFor } from '../../src/core/http/csrf.ts';
import type { TesseraPlugin } from '../../src/core/plugins/plugin.ts';
import type { Mailer } from '../../src/core/notifications/mailer.ts';
import { createPerson, type Person } from '../../src/core/people/person.service.ts';
import type { PersonStatus } from '../../src/core/people/person.table.ts';
import { openDatabase, type Database, type DialectName } from '../../src/db/database.ts';
import { newId } from '../../src/db/ids.ts';
import { migrateToLatest, migrationSets } from '../../src/db/migrator.ts';
import { createDatabase, startPostgres, type PostgresInstance } from './postgres.ts';

export const DIALECTS: DialectName[] = ['sqlite', 'postgres'];

/** A clock tests can move. */
export class TestClock implements Clock {
  constructor(private current = new Date('2026-11-28T09:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  set(date: Date): void {
    this.current = new Date(date);
  }
}

let postgres: Promise<PostgresInstance> | undefined;

/** One throwaway PostgreSQL cluster per dialect suite, started on first use. */
function sharedPostgres(): Promise<PostgresInstance> {
  postgres ??= startPostgres();
  return postgres;
}

async function stopSharedPostgres(): Promise<void> {
  const running = postgres;
  postgres = undefined;
  if (running) await (await running).stop();
}

/** A fresh, empty database of the dialect: a temp SQLite file or a new database in the cluster. */
export async function openTestDatabase(dialect: DialectName): Promise<Database & { cleanup(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
    const database = openDatabase(join(dir, 'test.sqlite'));
    return { ...database, cleanup: async () => { await database.destroy(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const pg = await sharedPostgres();
  const database = openDatabase(await createDatabase(pg.url));
  return { ...database, cleanup: () => database.destroy() };
}

/** Runs the suite once per dialect, as Kysely runs its suite for every dialect. */
export function forEachDialect(name: string, suite: (dialect: DialectName) => void): void {
  for (const dialect of DIALECTS) {
    describe(`${name} [${dialect}]`, () => {
      suite(dialect);
      // Registered after the suite's own hooks, so it runs after they closed their connections.
      if (dialect === 'postgres') after(stopSharedPostgres);
    });
  }
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    databaseUrl: 'unused',
    host: '127.0.0.1',
    port: 0,
    publicUrl: 'http://localhost',
    secretKey: 'test-secret-key-test-secret-key-0123456789',
    plugins: [],
    trustedHeader: undefined,
    // Test people get uid login identifiers (buildPerson); a test that sets trustedHeader names them by uid.
    trustedHeaderIdentifierType: 'uid',
    trustedProxies: [],
    localAccounts: true,
    sessionHours: 12,
    secureCookies: false,
    logLevel: 'info',
    worker: false,
    workerLeaseSeconds: 15,
    verifyFailuresPerIdentifier: 10,
    verifyFailuresPerAddress: 100,
    smtpUrl: undefined,
    smtpCa: undefined,
    mailFrom: 'Tessera <tessera@example.org>',
    oidc: undefined,
    ...overrides,
  };
}

/** Every table a test may read: the core's and the bundled plugins'. */
export type TestDatabase = CoreDatabase & ServiceTokenTables;

export interface TestApp extends TesseraApp {
  database: Database;
  /** The database typed with every table tests read (the core's and the bundled plugins'). */
  db: Kysely<TestDatabase>;
  /** registry.worker: runs provisioning jobs when a test asks (runOnce). */
  worker: TesseraApp['registry']['worker'];
  clock: TestClock;
  /** Every log line the app wrote, as JSON text. */
  logs: string[];
  close(): Promise<void>;
}

export async function createTestApp(opts: { dialect: DialectName; plugins?: TesseraPlugin[]; config?: Partial<Config>; mailer?: Mailer }): Promise<TestApp> {
  const database = await openTestDatabase(opts.dialect);
  const plugins = opts.plugins ?? [];
  await migrateToLatest(database.db, migrationSets(plugins));
  const clock = new TestClock();
  const logs: string[] = [];
  const registry = createRegistry({
    config: testConfig({ plugins: plugins.map((p) => p.id), ...opts.config }),
    database,
    plugins,
    clock,
    logger: createLogger({ level: 'debug', stream: { write: (line: string) => logs.push(line) } }),
    ...(opts.mailer ? { mailer: opts.mailer } : {}),
  });
  const built = await buildApp(registry);
  await built.app.ready();
  return {
    ...built,
    database,
    db: database.db.withTables<ServiceTokenTables>(),
    worker: registry.worker,
    clock,
    logs,
    close: async () => {
      await built.app.close();
      await database.cleanup();
    },
  };
}

type TestAppOptions = Omit<Parameters<typeof createTestApp>[0], 'dialect'>;

/** A TestApp made later (in a before hook): reading it before then says so instead of failing obscurely. */
class TestAppHandle implements TestApp {
  #current: TestApp | undefined;
  set(app: TestApp): void {
    this.#current = app;
  }
  private get current(): TestApp {
    if (!this.#current) throw new Error('the test app is made in before(); use it inside hooks and tests');
    return this.#current;
  }
  get app() { return this.current.app; }
  get ctx() { return this.current.ctx; }
  get registry() { return this.current.registry; }
  get database() { return this.current.database; }
  get db() { return this.current.db; }
  get worker() { return this.current.worker; }
  get clock() { return this.current.clock; }
  get logs() { return this.current.logs; }
  close(): Promise<void> {
    return this.current.close();
  }
}

/**
 * The preamble every suite shares: a test app of the dialect, made before the suite's first test
 * and closed after its last. Call it first in the suite (its before hook then runs first);
 * `opts` are createTestApp's, or a function giving them when what they need exists only once
 * other hooks have run (e.g. a provider's URL).
 */
export function useTestApp(dialect: DialectName, opts: TestAppOptions | (() => TestAppOptions) = {}): TestApp {
  const handle = new TestAppHandle();
  before(async () => handle.set(await createTestApp({ dialect, ...(typeof opts === 'function' ? opts() : opts) })));
  after(async () => {
    await handle.close();
    // Lets the pool's sockets close before the shared cluster is stopped by forEachDialect.
    if (dialect === 'postgres') await new Promise((resolve) => setTimeout(resolve, 250));
  });
  return handle;
}

export async function buildCo(t: { ctx: TesseraApp['ctx'] }, name = `CO ${newId().slice(0, 8)}`): Promise<Co> {
  return createCo(t.ctx, SYSTEM_ACTOR, { name, description: `The ${name} collaboration` });
}

export interface BuiltPerson extends Person {
  username: string;
}

/** A person with a login identifier (type uid, or `loginType`); `admin` puts them in the CO's admins group. */
export async function buildPerson(
  t: { ctx: TesseraApp['ctx'] },
  coId: string,
  opts: { given?: string; family?: string; username?: string; loginType?: string; status?: PersonStatus; admin?: boolean; email?: string } = {},
): Promise<BuiltPerson> {
  const username = opts.username ?? `user-${newId().slice(0, 8)}`;
  const person = await createPerson(t.ctx, SYSTEM_ACTOR, coId, {
    status: opts.status ?? 'active',
    name: { given: opts.given ?? 'Pat', family: opts.family ?? 'Example' },
    identifiers: [{ identifier: username, type: opts.loginType ?? 'uid', login: true }],
    emails: opts.email ? [{ mail: opts.email, type: 'official', verified: true }] : [],
  });
  if (opts.admin) {
    const admins = await t.ctx.db.selectFrom('co_group').select('id').where('co_id', '=', coId).where('name', '=', ADMINS_GROUP_NAME).executeTakeFirstOrThrow();
    await t.ctx.db
      .insertInto('co_group_member')
      .values({ id: newId(), co_id: coId, group_id: admins.id, person_id: person.id, member: 1, owner: 0, valid_from: null, valid_through: null, created_at: t.ctx.clock.now().toISOString() })
      .execute();
  }
  return { ...person, username };
}

/** A signed-in browser: the cookies and the CSRF token its forms carry. */
export interface Browser {
  username: string;
  headers: { cookie: string };
  csrf: string;
}

/** A browser signed in with a local account: `username` is a uid. */
export async function signIn(t: TestApp, username: string): Promise<Browser> {
  const session = await startSession(t.ctx.db, t.clock, { type: 'uid', value: username }, 'local', 12);
  const csrfCookie = `csrf-${newId()}`;
  return {
    username,
    headers: { cookie: `${SESSION_COOKIE}=${session}; ${CSRF_COOKIE}=${csrfCookie}` },
    csrf: csrfTokenFor(t.ctx.config.secretKey, csrfCookie),
  };
}

/** The actor of someone signed in as the uid `username`. */
export async function actorFor(t: { ctx: TesseraApp['ctx'] }, username: string): Promise<Actor> {
  return resolvePersonActor(t.ctx.db, { type: 'uid', value: username }, t.ctx.clock.now());
}

/** An API user of the CO and the Authorization header that authenticates it. */
export async function buildApiUser(t: { ctx: TesseraApp['ctx'] }, coId: string, privileged: boolean): Promise<{ authorization: string; id: string }> {
  const { apiUser, key } = await createApiUser(t.ctx, SYSTEM_ACTOR, coId, {
    username: `api-${newId().slice(0, 8)}`,
    privileged,
    allowedAddresses: '',
  });
  return { authorization: `Basic ${Buffer.from(`${apiUser.username}:${key}`).toString('base64')}`, id: apiUser.id };
}

/** A form body, urlencoded, as a browser sends it. */
export function form(values: Record<string, string | undefined>): { payload: string; headers: Record<string, string> } {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) params.append(k, v);
  return { payload: params.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
}

/**
 * Every row of every table of the database (Kysely's own bookkeeping left out), table by table in
 * name order: what a refused request must leave as it was, or where a leaked secret would show.
 */
export async function everyRow(db: Kysely<TestDatabase>): Promise<Array<{ table: string; rows: unknown[] }>> {
  const names = (await db.introspection.getTables()).map((x) => x.name).filter((n) => !n.startsWith('kysely_')).sort();
  const out: Array<{ table: string; rows: unknown[] }> = [];
  for (const table of names) out.push({ table, rows: (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows });
  return out;
}
