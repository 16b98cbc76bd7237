// npm run bench:generate-bind -- [--db sqlite,postgres] [--tokens 200] [--no-write]
//
// Latency of one token from generation to its first bind in slapd, one token at a time (no
// backlog): on a `tessera serve` process (compiled dist/) over a CO whose tokens go to a throwaway
// slapd, one client generates a token over HTTP, then binds with it on a persistent LDAP
// connection until the bind succeeds, then generates the next. Measured per token: from the 201
// to the first successful bind (the provisioning path: outbox job, nudge, worker, LDAP modify),
// and from sending the request to that bind. The databases alternate in blocks of 25 tokens.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'ldapts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { createDatabase, startPostgres, type PostgresInstance } from '../test/support/postgres.ts';
import { buildTokenWorld, startServe, waitForIdleWorker, type ServeProcess, type TokenWorld } from '../test/support/reliability.ts';
import { startSlapd, type SlapdInstance } from '../test/support/slapd.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import { loadAverage } from './lib/proc.ts';
import { writeSection } from './lib/report.ts';
import { ms, percentile } from './lib/stats.ts';

const { values: flags } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite,postgres' },
    tokens: { type: 'string', default: '200' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('Usage: npm run bench:generate-bind -- [--db sqlite,postgres] [--tokens 200] [--no-write]');
  process.exit(0);
}
const DBS = flags.db!.split(',').map((s) => s.trim()) as Array<'sqlite' | 'postgres'>;
for (const d of DBS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown database ${d}`);
const TOKENS = Number(flags.tokens);
const BLOCK = 25;
const loadBefore = loadAverage();
const started = Date.now();

interface Side {
  dialect: 'sqlite' | 'postgres';
  slapd: SlapdInstance;
  database: Database;
  world: TokenWorld;
  server: ServeProcess;
  ldap: Client;
  afterAnswer: number[];
  endToEnd: number[];
  close(): Promise<void>;
}

let postgres: PostgresInstance | undefined;

async function openSide(dialect: 'sqlite' | 'postgres'): Promise<Side> {
  const slapd = await startSlapd();
  let url: string;
  let dir: string | undefined;
  if (dialect === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'tessera-bench-gb-'));
    url = join(dir, 'tessera.sqlite');
  } else {
    postgres ??= await startPostgres();
    url = await createDatabase(postgres.url);
  }
  const database = openDatabase(url);
  const world = await buildTokenWorld(database, slapd, { people: 50, secretKey: randomBytes(32).toString('base64url') });
  const server = await startServe(world.env);
  await waitForIdleWorker(database, world);
  const ldap = new Client({ url: slapd.url, timeout: 5_000 });
  return {
    dialect,
    slapd,
    database,
    world,
    server,
    ldap,
    afterAnswer: [],
    endToEnd: [],
    close: async () => {
      await ldap.unbind().catch(() => undefined);
      await server.stop();
      await database.destroy();
      await slapd.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Generates one token and binds with it until slapd accepts it; records both latencies (ms). */
async function oneToken(side: Side, n: number): Promise<void> {
  const person = side.world.people[n % side.world.people.length]!;
  const sent = performance.now();
  const res = await fetch(`${side.server.url}/api/v1/cos/${side.world.coId}/people/${person.personId}/service-tokens`, {
    method: 'POST',
    headers: { authorization: side.world.authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ serviceId: side.world.serviceId, label: `latency ${n}` }),
  });
  const body = (await res.json()) as { secret?: string };
  const answered = performance.now();
  if (res.status !== 201 || !body.secret) throw new Error(`generation answered ${res.status}`);
  for (;;) {
    try {
      await side.ldap.bind(person.dn, body.secret);
      break;
    } catch {
      if (performance.now() - answered > 30_000) throw new Error(`token ${n} did not bind within 30 s`);
    }
  }
  const bound = performance.now();
  side.afterAnswer.push(bound - answered);
  side.endToEnd.push(bound - sent);
}

const sides: Side[] = [];
try {
  for (const dialect of DBS) sides.push(await openSide(dialect));
  for (let block = 0; block * BLOCK < TOKENS; block++) {
    // Alternate the order of the databases from block to block.
    const order = block % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) for (let i = 0; i < BLOCK && block * BLOCK + i < TOKENS; i++) await oneToken(side, block * BLOCK + i);
  }
} finally {
  for (const side of sides) await side.close();
  await postgres?.stop();
}

const rows = sides.map(
  (s) =>
    `| ${s.dialect} | ${s.afterAnswer.length} | **${ms(percentile(s.afterAnswer, 50))} ms** | ${ms(percentile(s.afterAnswer, 95))} ms | **${ms(percentile(s.afterAnswer, 99))} ms** | ${ms(Math.max(...s.afterAnswer))} ms | ${ms(percentile(s.endToEnd, 50))} ms | ${ms(percentile(s.endToEnd, 99))} ms |`,
);
const body = `## Generation to bind, one token at a time (\`bench:generate-bind\`)

${machineMarkdown(machineInfo({ postgres: DBS.includes('postgres') }))}
| Load average before / after | ${loadBefore} / ${loadAverage()} |
| Run time | ${Math.round((Date.now() - started) / 1000)} s |

Command: \`npm run bench:generate-bind -- --db ${DBS.join(',')} --tokens ${TOKENS}\`

One client, no backlog: it generates a token over HTTP (\`POST …/service-tokens\`, {SSHA512}) against \`tessera serve\`
(compiled, worker on, one process per database, 50 people provisioned beforehand), then binds with the token on a persistent
LDAP connection to slapd, again and again until slapd accepts it, then generates the next. The databases alternate in blocks of
${BLOCK} tokens. *201 → bind*: from the answer to the first successful bind (the outbox job, the worker's nudge, its chunk, the LDAP
modify); *request → bind*: from sending the request. Goal of the issue: p50 < 50 ms, p99 < 150 ms.

| Database | Tokens | 201 → bind p50 | p95 | p99 | max | request → bind p50 | p99 |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
if (!flags['no-write']) writeSection('generate-bind', body);
console.log(body);
