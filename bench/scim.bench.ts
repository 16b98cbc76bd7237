// npm run bench:scim -- [--users 10000] [--groups 1000] [--members 50] [--dialect sqlite|postgres|both] [--no-write]
//
// A SCIM source under an SRAM-like client, against a real `tessera serve` process (compiled, on a
// loopback port) on SQLite and on PostgreSQL:
// 1. push: every user as SBS creates it — `GET /Users?filter=externalId eq "…"` then `POST /Users`
//    — one request at a time; then every group the same way, each with --members members;
// 2. sweep: SBS's periodic sweep — page through /Users and /Groups with startIndex (count=100)
//    until a short page, and GET each listed object once (it compares each with its own copy).
// The client's own pace is the same one-request-at-a-time loop against GET /healthz: the most
// requests a second this client could send if Tessera took no time at all.
// The CO has no provisioning target: the figures are Tessera's SCIM path and the source writer
// (transactions, history, outbox), not LDAP writes (see bench:provision for those).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SYSTEM_ACTOR } from '../src/core/auth/actor.ts';
import { addScimSource } from '../src/core/sources/scim/scim-source.service.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { benchSecretKey, createBenchCo, openBenchRuntime } from './lib/fixtures.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import { loadAverage } from './lib/proc.ts';
import { writeSection } from './lib/report.ts';
import { startTessera } from './lib/server.ts';

const { values: flags } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    groups: { type: 'string', default: '1000' },
    members: { type: 'string', default: '50' },
    dialect: { type: 'string', default: 'both' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('Usage: npm run bench:scim -- [--users 10000] [--groups 1000] [--members 50] [--dialect sqlite|postgres|both] [--no-write]');
  process.exit(0);
}
const USERS = Number(flags.users);
const GROUPS = Number(flags.groups);
const MEMBERS = Number(flags.members);
const PUBLIC_URL = 'http://tessera.bench';
const loadBefore = loadAverage();
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

interface Phase {
  name: string;
  requests: number;
  seconds: number;
}

async function run(dialect: 'sqlite' | 'postgres'): Promise<{ phases: Phase[]; clientPace: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-scim-'));
  const pg = dialect === 'postgres' ? await startPostgres() : undefined;
  const databaseUrl = pg ? await createDatabase(pg.url) : join(dir, 'bench.sqlite');
  const secretKey = benchSecretKey();
  const setup = await openBenchRuntime(databaseUrl, secretKey);
  const co = await createBenchCo(setup.ctx);
  const { source, secret } = await addScimSource({ ...setup.ctx, config: { ...setup.ctx.config, publicUrl: PUBLIC_URL } }, SYSTEM_ACTOR, co.id, { name: 'SRAM', relativeLocation: true, requestsPerMinute: 1_000_000 });
  await setup.close();

  const server = await startTessera({ TESSERA_DATABASE_URL: databaseUrl, TESSERA_SECRET_KEY: secretKey, TESSERA_PUBLIC_URL: PUBLIC_URL, TESSERA_PLUGINS: 'service-tokens', TESSERA_LOG_LEVEL: 'warn' });
  const base = `${server.url}/scim/v2/${source.id}`;
  const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/scim+json', 'x-service': 'bench' };
  let requests = 0;
  async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    requests++;
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  }
  const phases: Phase[] = [];
  async function phase(name: string, work: () => Promise<void>): Promise<void> {
    const before = requests;
    const t = process.hrtime.bigint();
    await work();
    phases.push({ name, requests: requests - before, seconds: seconds(t) });
    const p = phases.at(-1)!;
    console.log(`${dialect}: ${name}: ${p.requests} requests in ${p.seconds.toFixed(1)} s (${(p.requests / p.seconds).toFixed(0)}/s)`);
  }

  try {
    // The client's own pace: the same sequential loop against /healthz.
    const healthN = 2000;
    const th = process.hrtime.bigint();
    for (let i = 0; i < healthN; i++) await (await fetch(`${server.url}/healthz`)).text();
    const clientPace = healthN / seconds(th);

    const userIds: string[] = [];
    await phase(`push ${USERS} users (lookup + POST each)`, async () => {
      for (let i = 0; i < USERS; i++) {
        const externalId = `${randomUUID()}@sram.surf.nl`;
        await call('GET', `/Users?filter=${encodeURIComponent(`externalId eq "${externalId}"`)}`);
        const created = await call('POST', '/Users', {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:mace:surf.nl:sram:scim:extension:User'],
          externalId,
          userName: `user${i}`,
          name: { givenName: `Given${i}`, familyName: `Family${i}` },
          displayName: `Given${i} Family${i}`,
          emails: [{ primary: true, value: `user${i}@example.org` }],
          'urn:mace:surf.nl:sram:scim:extension:User': { eduPersonUniqueId: `${randomUUID()}@sram.surf.nl` },
        });
        userIds.push(String(created.id));
      }
    });
    await phase(`push ${GROUPS} groups of ${MEMBERS} members (lookup + POST each)`, async () => {
      for (let g = 0; g < GROUPS; g++) {
        const externalId = `${randomUUID()}@sram.surf.nl`;
        await call('GET', `/Groups?filter=${encodeURIComponent(`externalId eq "${externalId}"`)}`);
        const members = Array.from({ length: MEMBERS }, (_, k) => ({ value: userIds[(g * 7 + k * 13) % userIds.length]! }));
        await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId, displayName: `Group ${g}`, members: [...new Map(members.map((m) => [m.value, m])).values()] });
      }
    });
    await phase('SRAM-style sweep (pages of 100, then GET each object)', async () => {
      for (const endpoint of ['Users', 'Groups']) {
        const ids: string[] = [];
        for (let start = 1; ; start += 100) {
          const page = await call('GET', `/${endpoint}?startIndex=${start}&count=100`);
          const resources = page.Resources as Array<{ id: string }>;
          ids.push(...resources.map((r) => r.id));
          if (resources.length < 100) break;
        }
        for (const id of ids) await call('GET', `/${endpoint}/${id}`);
      }
    });
    const problems = server.problems().split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    if (problems.length > 0) console.log(`server warnings/errors:\n${problems.slice(0, 5).join('\n')}`);
    return { phases, clientPace };
  } finally {
    await server.stop();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const dialects = flags.dialect === 'both' ? (['sqlite', 'postgres'] as const) : ([flags.dialect as 'sqlite' | 'postgres'] as const);
const results: Array<{ dialect: string; phases: Phase[]; clientPace: number }> = [];

/** The section for the dialects measured so far (written after each, so a long run keeps what it has). */
function report(): string {
const rows = results.flatMap(({ dialect, phases, clientPace }) => [
  ...phases.map((p) => `| ${dialect} | ${p.name} | ${p.requests} | ${p.seconds.toFixed(1)} s | ${(p.requests / p.seconds).toFixed(0)} | ${((1000 * p.seconds) / p.requests).toFixed(1)} ms |`),
  `| ${dialect} | the client's own pace: the same loop against GET /healthz | 2000 | | ${clientPace.toFixed(0)} | ${(1000 / clientPace).toFixed(2)} ms |`,
]);
const body = `## SCIM: an SRAM-like client pushing a CO, then sweeping it (\`bench:scim\`)

${USERS} users and ${GROUPS} groups of ${MEMBERS} members pushed to a \`scim\` source of a real
\`tessera serve\` process (compiled, loopback), one request at a time as SRAM's SBS sends them: a
lookup by \`externalId eq\` and a POST per object; then SBS's sweep: /Users and /Groups paged with
\`startIndex\` (count 100) and a GET of every listed object. Every write is one source-writer
transaction with its history and outbox; the CO has no provisioning target, so no LDAP write is
timed (see \`bench:provision\`). "The client's own pace" is the same sequential client loop against
\`GET /healthz\`: what the client could send if Tessera took no time.

| Database | Phase | Requests | Time | Requests/s | Mean per request |
|---|---|---:|---:|---:|---:|
${rows.join('\n')}

${machineMarkdown(machineInfo({ postgres: dialects.includes('postgres') }))}
| Load average (1, 5, 15 min) | ${loadBefore} before, ${loadAverage()} after |

Run on ${new Date().toISOString().slice(0, 10)} with \`npm run bench:scim -- --users ${USERS} --groups ${GROUPS} --members ${MEMBERS} --dialect ${flags.dialect}\`.`;
return body;
}

for (const dialect of dialects) {
  results.push({ dialect, ...(await run(dialect)) });
  if (!flags['no-write']) writeSection('scim', report());
}
console.log(report());
