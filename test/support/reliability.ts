// A `tessera serve` process over a CO whose tokens go to a real slapd, for the crash and sustained
// load tests and for bench/reliability.bench.ts: start and SIGKILL the compiled command line,
// generate tokens over HTTP as fast as lanes allow, and watch when each token first binds.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from 'ldapts';
import { createRegistry } from '../../src/app/registry.ts';
import { loadConfig } from '../../src/config/config.ts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createCo } from '../../src/core/cos/co.service.ts';
import { createPerson } from '../../src/core/people/person.service.ts';
import { targetInput } from '../../src/core/provisioning/target.schema.ts';
import { createTarget } from '../../src/core/provisioning/target.service.ts';
import { createService } from '../../src/core/co-services/co-service.service.ts';
import { coServiceInput } from '../../src/core/co-services/co-service.schema.ts';
import { createApiUser } from '../../src/core/api-users/api-user.service.ts';
import type { Database } from '../../src/db/database.ts';
import { migrateToLatest, migrationSets } from '../../src/db/migrator.ts';
import { buildDn } from '../../src/plugins/ldap-provisioner/ldap-dn.ts';
import { bundledPlugins } from '../../src/plugins/catalogue.ts';
import type { ServiceTokenTables } from '../../src/plugins/service-tokens/service-token.table.ts';
import { settingInput } from '../../src/plugins/service-tokens/settings/token-setting.schema.ts';
import { updateSetting } from '../../src/plugins/service-tokens/settings/token-setting.service.ts';
import type { SlapdInstance } from './slapd.ts';
import { addLdapServer } from './ldap-servers.ts';

const BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PLUGINS = 'service-tokens,ldap-provisioner,ldap-service-token-provisioner';

export interface ServeProcess {
  url: string;
  pid: number;
  /** What the process wrote (the tail). */
  output(): string;
  /** SIGKILL, as a crash: no draining, no lease released. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `node bin/tessera.js serve` (compiled dist/) on a free loopback port; resolves once /healthz answers. */
export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_') && !k.startsWith('NODE_TEST')) childEnv[k] = v;
  Object.assign(childEnv, { TESSERA_HOST: '127.0.0.1', TESSERA_PORT: String(port), TESSERA_LOG_LEVEL: 'warn', TESSERA_PLUGINS: PLUGINS, ...env });
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => ((gone = true), resolve())));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) throw new Error(`tessera serve exited during start-up:\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tessera serve did not answer /healthz in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: child.pid!,
    output: () => out,
    async kill() {
      process.removeListener('exit', killOnExit);
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface TokenWorld {
  coId: string;
  serviceId: string;
  people: Array<{ personId: string; username: string; dn: string }>;
  /** `Authorization` of a privileged API user of the CO. */
  authorization: string;
  /** The environment a `tessera serve` over this world needs. */
  env: Record<string, string>;
}

/**
 * A CO with `people` people (uid login identifiers), a service with {SSHA512} tokens, an LDAP
 * target writing people under `ou=people` of the slapd and a token target writing `userPassword`,
 * made through the services in the (migrated) database a server will then open.
 */
export async function buildTokenWorld(database: Database, slapd: SlapdInstance, opts: { people: number; secretKey: string }): Promise<TokenWorld> {
  const env = { TESSERA_DATABASE_URL: database.url, TESSERA_SECRET_KEY: opts.secretKey, TESSERA_PLUGINS: PLUGINS };
  const config = loadConfig({ ...env, TESSERA_WORKER: 'off' });
  const plugins = bundledPlugins(config);
  await migrateToLatest(database.db, migrationSets(plugins));
  const { ctx } = createRegistry({ config, database, plugins, clock: systemClock });
  const co = await createCo(ctx, SYSTEM_ACTOR, { name: `Reliability ${Date.now()}`, description: 'crash and load tests' });
  const service = await createService(ctx, SYSTEM_ACTOR, co.id, coServiceInput.parse({ name: 'Mail', shortLabel: 'mail', visibility: 'co_member', identifierType: 'uid' }));
  await updateSetting({ ...ctx, db: ctx.db.withTables<ServiceTokenTables>() }, SYSTEM_ACTOR, co.id, service.id, settingInput.parse({
    enabled: true,
    tokenType: 'base62-prefixed',
    storageScheme: 'SSHA512',
    maxLifetimeDays: null,
    maxTokensPerPerson: 100,
  }));
  const baseDn = `ou=people,${slapd.suffix}`;
  const ldap = await createTarget(ctx, SYSTEM_ACTOR, co.id, targetInput.parse({
    provisionerType: 'ldap',
    description: 'Directory',
    mode: 'automatic',
    ordinal: 10,
    retryIntervalSeconds: 5,
    config: { serverId: await addLdapServer(ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [baseDn], coIds: [co.id] }), baseDn },
  }));
  await createTarget(ctx, SYSTEM_ACTOR, co.id, targetInput.parse({
    provisionerType: 'ldap-service-token',
    description: 'Tokens of Mail',
    mode: 'automatic',
    ordinal: 20,
    retryIntervalSeconds: 5,
    config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'userPassword' },
  }));
  const people: TokenWorld['people'] = [];
  for (let i = 0; i < opts.people; i++) {
    const username = `rel-${String(i).padStart(4, '0')}`;
    const person = await createPerson(ctx, SYSTEM_ACTOR, co.id, { status: 'active', name: { given: 'Rel', family: `Person ${i}` }, identifiers: [{ identifier: username, type: 'uid', login: true }], emails: [] });
    people.push({ personId: person.id, username, dn: buildDn('uid', username, baseDn) });
  }
  const { apiUser, key } = await createApiUser(ctx, SYSTEM_ACTOR, co.id, { username: `rel-api-${Date.now()}`, privileged: true, allowedAddresses: '' });
  return { coId: co.id, serviceId: service.id, people, authorization: `Basic ${Buffer.from(`${apiUser.username}:${key}`).toString('base64')}`, env };
}

/**
 * Waits until no provisioning job of the world's CO is pending or running (the server provisioned
 * the people made by `buildTokenWorld`), so what is measured next starts from an idle worker.
 */
export async function waitForIdleWorker(database: Database, world: TokenWorld, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await database.db.selectFrom('provisioning_job').select('id').where('co_id', '=', world.coId).where('state', 'in', ['pending', 'running']).limit(1).execute();
    if (open.length === 0) return;
    if (Date.now() > deadline) throw new Error('the worker did not provision the people in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A token that answered 201: whose it is, its secret, and when the answer came (performance.now(), ms). */
export interface Issued {
  dn: string;
  secret: string;
  answeredAt: number;
}

/**
 * Generates tokens over HTTP in `lanes` closed loops (each sends its next request when the last
 * answered), for random people of the world, until `stop()` says so or the server goes away (a
 * request that fails to connect ends its lane). Calls `onIssued` for each 201 as it comes.
 * Resolves with every token that answered 201 and the count of other answers by status.
 */
export async function generateTokens(url: string, world: TokenWorld, opts: { lanes: number; stop: () => boolean; onIssued?: (issued: Issued) => void }): Promise<{ issued: Issued[]; others: Record<string, number> }> {
  const issued: Issued[] = [];
  const others: Record<string, number> = {};
  let n = 0;
  await Promise.all(
    Array.from({ length: opts.lanes }, async () => {
      while (!opts.stop()) {
        const person = world.people[Math.floor(Math.random() * world.people.length)]!;
        let res: Response;
        try {
          res = await fetch(`${url}/api/v1/cos/${world.coId}/people/${person.personId}/service-tokens`, {
            method: 'POST',
            headers: { authorization: world.authorization, 'content-type': 'application/json' },
            body: JSON.stringify({ serviceId: world.serviceId, label: `load ${n++}` }),
          });
        } catch {
          others.unreachable = (others.unreachable ?? 0) + 1;
          return;
        }
        let body: { secret?: string } | undefined;
        try {
          body = (await res.json()) as { secret?: string };
        } catch {
          others[`${res.status} cut off`] = (others[`${res.status} cut off`] ?? 0) + 1;
          return;
        }
        if (res.status === 201 && body.secret) {
          const one = { dn: person.dn, secret: body.secret, answeredAt: performance.now() };
          issued.push(one);
          opts.onIssued?.(one);
        } else {
          others[String(res.status)] = (others[String(res.status)] ?? 0) + 1;
        }
      }
    }),
  );
  return { issued, others };
}

/**
 * Watches tokens until each binds to slapd: `connections` LDAP connections cycle through the
 * tokens not yet bound, binding with each (a real simple bind). Records, per token, when it first
 * bound (performance.now(), ms). The resolution is one cycle over the waiting tokens.
 */
export class BindWatcher {
  private readonly waiting = new Set<Issued>();
  readonly boundAt = new Map<Issued, number>();
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(slapdUrl: string, connections = 4) {
    this.loops = Array.from({ length: connections }, () => this.loop(slapdUrl));
  }

  watch(issued: Issued): void {
    if (!this.boundAt.has(issued)) this.waiting.add(issued);
  }

  get unbound(): Issued[] {
    return [...this.waiting];
  }

  /** Resolves once every watched token bound, or at `deadline` (performance.now(), ms); returns those still unbound. */
  async waitAll(deadline: number): Promise<Issued[]> {
    while (this.waiting.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.unbound;
  }

  async close(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(url: string): Promise<void> {
    const client = new Client({ url, timeout: 5_000 });
    try {
      while (this.running) {
        const batch = [...this.waiting];
        if (batch.length === 0) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        // Each connection starts at its own place in the list, so they do not all bind the same token.
        const offset = Math.floor(Math.random() * batch.length);
        for (let i = 0; i < batch.length && this.running; i++) {
          const token = batch[(i + offset) % batch.length]!;
          if (!this.waiting.has(token)) continue;
          try {
            await client.bind(token.dn, token.secret);
            if (this.waiting.delete(token)) this.boundAt.set(token, performance.now());
          } catch {
            // Not there yet (no such entry, or not this password): try again next cycle.
          }
        }
      }
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}
