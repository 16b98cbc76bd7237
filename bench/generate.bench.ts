// npm run bench:generate -- [--count 300] [--count-slow 40] [--db sqlite,postgres] …
//
// Token generation latency per storage scheme:
// - the raw hash: hashSecret() of a freshly generated token, one at a time;
// - end to end: generateServiceToken(), the service function the web UI and the REST API call
//   (checks, token, hash, and the database transaction that stores it with its history record and
//   provisioning job), one at a time, on SQLite (a temp file) and on PostgreSQL (a throwaway
//   cluster of the test harness), then with several calls in flight for tokens per second.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SYSTEM_ACTOR } from '../src/core/auth/actor.ts';
import { hashSecret, PASSWORD_SCHEMES, SCHEMES, type PasswordScheme } from '../src/plugins/service-tokens/hashing/password-schemes.ts';
import { findTokenType, generateToken } from '../src/plugins/service-tokens/formats/token-types.ts';
import { generateServiceToken } from '../src/plugins/service-tokens/tokens/service-token.service.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { benchSecretKey, createBenchCo, createTokenService, createUsers, openBenchRuntime, tokenContextOf } from './lib/fixtures.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import { loadAverage } from './lib/proc.ts';
import { writeSection } from './lib/report.ts';
import { median, ms, percentile, rate } from './lib/stats.ts';

const HELP = `Usage: npm run bench:generate -- [options]

  --count N          generations per fast scheme ({SSHA512}, {SSHA}, plaintext)   (default 300)
  --count-slow N     generations per slow scheme (argon2id, sha512-crypt, PBKDF2)  (default 40)
  --concurrency N    calls in flight for the tokens/s figure                       (default 4)
  --db LIST          sqlite,postgres                                                (default both)
  --schemes LIST     storage schemes                                                (default all six)
  --no-write         print the summary only; leave docs/benchmarks.md alone
`;

const { values: flags } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    'count-slow': { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    db: { type: 'string', default: 'sqlite,postgres' },
    schemes: { type: 'string', default: PASSWORD_SCHEMES.join(',') },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const positive = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  return n;
};
const P = {
  count: positive('count', flags.count),
  countSlow: positive('count-slow', flags['count-slow']),
  concurrency: positive('concurrency', flags.concurrency),
  dbs: flags.db!.split(',').map((s) => s.trim()) as Array<'sqlite' | 'postgres'>,
  schemes: flags.schemes!.split(',').map((s) => s.trim().toUpperCase()) as PasswordScheme[],
};
for (const s of P.schemes) if (!PASSWORD_SCHEMES.includes(s)) throw new Error(`unknown scheme ${s}`);
for (const d of P.dbs) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown database ${d}`);

const SLOW = new Set<PasswordScheme>(['ARGON2ID', 'CRYPT-SHA512', 'PBKDF2-SHA512']);
const countOf = (s: PasswordScheme) => (SLOW.has(s) ? P.countSlow : P.count);
/** Plaintext may only hold the legacy types; every other scheme gets the default prefixed type. */
const tokenTypeOf = (s: PasswordScheme) => (s === 'PLAINTEXT' ? 'legacy-plain-15' : 'base62-prefixed');
const log = (line: string) => process.stdout.write(`${line}\n`);

interface Figures {
  samples: number[];
  /** Tokens per second with `concurrency` calls in flight (end to end only). */
  parallelPerSecond?: number;
}

function stats(f: Figures) {
  const mean = f.samples.reduce((a, b) => a + b, 0) / f.samples.length;
  return { p50: median(f.samples), p99: percentile(f.samples, 99), serialPerSecond: 1000 / mean, n: f.samples.length };
}

async function timeSerial(n: number, warmup: number, call: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function timeParallel(n: number, concurrency: number, call: () => Promise<unknown>): Promise<number> {
  let left = n;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await call();
  }));
  return (n / (performance.now() - t0)) * 1000;
}

const raw = new Map<PasswordScheme, Figures>();
const endToEnd = new Map<string, Figures>(); // `${db}:${scheme}`

async function rawHashes(): Promise<void> {
  log('Raw hash (hashSecret), one at a time:');
  for (const scheme of P.schemes) {
    const type = findTokenType(tokenTypeOf(scheme))!;
    const samples = await timeSerial(countOf(scheme), Math.min(20, countOf(scheme)), () => hashSecret(generateToken(type), scheme));
    raw.set(scheme, { samples });
    const s = stats({ samples });
    log(`  ${scheme.padEnd(14)} p50 ${ms(s.p50).padStart(7)} ms  p99 ${ms(s.p99).padStart(7)} ms  ${rate(s.serialPerSecond).padStart(8)}/s`);
  }
}

async function services(db: 'sqlite' | 'postgres'): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    let url: string;
    if (db === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-gen-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      url = join(dir, 'tessera.sqlite');
    } else {
      const pg = await startPostgres();
      cleanups.push(() => pg.stop());
      url = await createDatabase(pg.url, 'tessera_bench');
    }
    const rt = await openBenchRuntime(url, benchSecretKey());
    cleanups.unshift(() => rt.close());
    const co = await createBenchCo(rt.ctx);
    // Up to 100 tokens per person and service (the setting's maximum); enough people for every call.
    const most = Math.max(...P.schemes.map(countOf)) * 2 + 40;
    const people = await createUsers(rt.ctx, co.id, Math.ceil(most / 100), 'gen');
    log(`End to end (generateServiceToken) on ${db}: one at a time, then ${P.concurrency} in flight:`);
    for (const scheme of P.schemes) {
      const service = await createTokenService(rt.ctx, co.id, { name: `Gen ${scheme}`, scheme, tokenType: tokenTypeOf(scheme), maxTokensPerPerson: 100, withKey: false });
      let i = 0;
      const call = () => {
        const person = people[Math.floor(i++ / 100)]!;
        return generateServiceToken(tokenContextOf(rt.ctx), SYSTEM_ACTOR, co.id, person.personId, { serviceId: service.serviceId, label: `gen ${i}` });
      };
      const n = countOf(scheme);
      const samples = await timeSerial(n, Math.min(20, n), call);
      const parallelPerSecond = await timeParallel(n, P.concurrency, call);
      endToEnd.set(`${db}:${scheme}`, { samples, parallelPerSecond });
      const s = stats({ samples });
      log(`  ${scheme.padEnd(14)} p50 ${ms(s.p50).padStart(7)} ms  p99 ${ms(s.p99).padStart(7)} ms  ${rate(s.serialPerSecond).padStart(8)}/s serial  ${rate(parallelPerSecond).padStart(8)}/s with ${P.concurrency} in flight`);
    }
  } finally {
    for (const c of cleanups) await c().catch((e) => log(`cleanup: ${String(e)}`));
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadAverage();
  const machine = machineInfo({ postgres: P.dbs.includes('postgres') });
  await rawHashes();
  for (const db of P.dbs) await services(db);
  const loadAfter = loadAverage();
  const command = `npm run bench:generate${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

  const rawRows = P.schemes.map((scheme) => {
    const s = stats(raw.get(scheme)!);
    return `| ${SCHEMES[scheme].label} | ${s.n} | ${ms(s.p50)} | ${ms(s.p99)} | ${rate(s.serialPerSecond)} |`;
  });
  const e2eRows = P.schemes.map((scheme) => {
    const cells = P.dbs.flatMap((db) => {
      const f = endToEnd.get(`${db}:${scheme}`)!;
      const s = stats(f);
      return [ms(s.p50), ms(s.p99), rate(s.serialPerSecond), rate(f.parallelPerSecond!)];
    });
    return `| ${SCHEMES[scheme].label} | ${cells.join(' | ')} |`;
  });
  const dbHeads = P.dbs.map((d) => (d === 'sqlite' ? 'SQLite' : 'PostgreSQL'));
  const md = `## Token generation per storage scheme (\`bench:generate\`)

${machineMarkdown(machine)}
| Load average (1, 5, 15 min) | ${loadBefore} before, ${loadAfter} after |
| Run time | ${((Date.now() - started) / 1000).toFixed(0)} s |

Command: \`${command}\`

Parameters: ${P.count} generations per fast scheme and ${P.countSlow} per slow scheme (argon2id, sha512-crypt, PBKDF2), after up to 20 unmeasured ones; tokens of the default type (\`tst_\` prefix, 24 base62 characters and a checksum), plaintext with the legacy 15-character type. Work factors are Tessera's defaults: sha512-crypt 5000 rounds, PBKDF2-SHA512 10 000 iterations, argon2id m=19456 KiB, t=2, p=1. Latencies in milliseconds; "serial" tokens/s is 1 / mean latency of one call at a time; "${P.concurrency} in flight" runs ${P.concurrency} calls concurrently in this one process (hashing runs off the event loop for sha512-crypt, PBKDF2 and argon2id, so it can use both cores; the database work is serialised on SQLite's single connection).

Raw hash — \`hashSecret(token, scheme)\`, one at a time:

| Scheme | Samples | p50 ms | p99 ms | Hashes/s |
|---|---|---|---|---|
${rawRows.join('\n')}

End to end — \`generateServiceToken()\`: permission and setting checks, token, hash, and the transaction that stores the token with its history record and provisioning job (two transactions: one reads the setting before hashing, one writes after). ${P.dbs.includes('sqlite') ? 'SQLite: a temp file in WAL mode with the default `synchronous=FULL`, so every commit waits for an fsync of the disk under the temp directory. ' : ''}${P.dbs.includes('postgres') ? 'PostgreSQL: the throwaway cluster of the test harness, with fsync and synchronous_commit off, so its commits do not wait for the disk — the figures understate what a durable PostgreSQL would take per commit. ' : ''}

| Scheme | ${dbHeads.map((d) => `${d} p50 ms | ${d} p99 ms | ${d} tokens/s serial | ${d} tokens/s, ${P.concurrency} in flight`).join(' | ')} |
|---|${dbHeads.map(() => '---|---|---|---|').join('')}
${e2eRows.join('\n')}
`;
  if (!flags['no-write']) {
    writeSection('generate', md);
    log('docs/benchmarks.md: section bench:generate written');
  }
}

main().catch((e) => {
  process.exitCode = 1;
  log(`bench:generate failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
});
