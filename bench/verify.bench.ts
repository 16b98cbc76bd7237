// npm run bench:verify -- [--users 1000] [--concurrency 16] [--rounds 3] [--duration 4] …
//
// Token verification throughput: Tessera's verification API against OpenLDAP simple binds, with
// the same users and the same hashes on both sides. Starts everything itself: a throwaway slapd
// (test/support/slapd.ts), a database (a temp SQLite file, or a throwaway PostgreSQL cluster with
// --db postgres), and `tessera serve` as a separate process. One load-generator process (this one)
// drives both sides with the same concurrency, alternating them round by round.
//
// Two cases per scheme, because Tessera remembers verified tokens for five minutes (an HMAC in
// the server process) and slapd remembers nothing:
// - steady: random (user, token) pairs drawn again and again from every user, after each token was
//   verified once: what a service that logs the same people in all day sees.
// - cold: every Tessera request carries a token that server process has not verified before (each
//   pair used once; the server is restarted when the unused pairs run out), so every request pays
//   the full hash. slapd gets the same pairs in the same order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSlapd, type SlapdInstance } from '../test/support/slapd.ts';
import { createDatabase, startPostgres, type PostgresInstance } from '../test/support/postgres.ts';
import type { PasswordScheme } from '../src/plugins/service-tokens/hashing/password-schemes.ts';
import { benchSecretKey, createBenchCo, createTokenService, createUsers, issueTokens, openBenchRuntime, type BenchService, type BenchUser } from './lib/fixtures.ts';
import { addUsers, setPasswords, userDn } from './lib/ldap.ts';
import { ldapBindRefused, ldapNewConnectionSide, ldapPersistentSide, listSource, randomSource, runRound, tesseraSide, type Pair, type RoundResult, type Side } from './lib/load.ts';
import { machineInfo, machineMarkdown, type MachineInfo } from './lib/machine.ts';
import { cpuSeconds, findPid, loadAverage, processTree } from './lib/proc.ts';
import { requireWrk, runWrk } from './lib/wrk.ts';
import { writeSection } from './lib/report.ts';
import { median, ms, rate, ratio, shuffle } from './lib/stats.ts';
import { startTessera, type TesseraServer } from './lib/server.ts';

const HELP = `Usage: npm run bench:verify -- [options]

  --users N              users with a token of the fast scheme ({SSHA512})      (default 1000)
  --slow-users N         of those, how many also get an argon2id token           (default 200)
  --warmup-users N       separate users whose tokens only warm up the server     (default 64)
  --concurrency N        concurrent requests (lanes) on each side                (default 16)
  --rounds N             measured rounds per side and case                       (default 3)
  --duration S           seconds per steady round and side                       (default 3)
  --warmup S             seconds of warm-up per side before measuring            (default 2)
  --cold-requests N      requests per cold round, {SSHA512}                      (default 1000)
  --cold-requests-slow N requests per cold round, argon2id                       (default 80)
  --schemes LIST         SSHA512,ARGON2ID (any of the storage schemes)           (default both)
  --db sqlite|postgres   Tessera's database                                      (default sqlite)
  --servers N            tessera serve processes (TESSERA_PROCESSES=N, Node's cluster
                         module: they share one port); N > 1 needs --db postgres  (default 1)
  --cpu-prof DIR         run the server with node --cpu-prof, profiles into DIR
  --no-write             print the summary only; leave docs/benchmarks.md alone
`;

const { values: flags } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    'slow-users': { type: 'string', default: '200' },
    'warmup-users': { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    'cold-requests': { type: 'string', default: '1000' },
    'cold-requests-slow': { type: 'string', default: '80' },
    schemes: { type: 'string', default: 'SSHA512,ARGON2ID' },
    db: { type: 'string', default: 'sqlite' },
    servers: { type: 'string', default: '1' },
    'cpu-prof': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function int(name: keyof typeof flags, min: number): number {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
  return v;
}

const P = {
  users: int('users', 1),
  slowUsers: 0,
  warmupUsers: int('warmup-users', 1),
  concurrency: int('concurrency', 1),
  rounds: int('rounds', 1),
  durationMs: Number(flags.duration) * 1000,
  warmupMs: Number(flags.warmup) * 1000,
  coldRequests: int('cold-requests', 1),
  coldRequestsSlow: int('cold-requests-slow', 1),
  schemes: flags.schemes!.split(',').map((s) => s.trim().toUpperCase()) as PasswordScheme[],
  db: flags.db as 'sqlite' | 'postgres',
  servers: int('servers', 1),
};
P.slowUsers = Math.min(P.users, int('slow-users', 1));
if (!(P.durationMs > 0) || !(P.warmupMs >= 0)) throw new Error('--duration and --warmup must be positive numbers of seconds');
if (P.db !== 'sqlite' && P.db !== 'postgres') throw new Error('--db must be sqlite or postgres');
if (P.servers > 1 && P.db !== 'postgres') throw new Error('--servers N > 1 runs `tessera serve --processes N`, which needs --db postgres');
const SLOW = new Set<PasswordScheme>(['ARGON2ID', 'CRYPT-SHA512', 'PBKDF2-SHA512']);
const usersOf = (scheme: PasswordScheme) => (SLOW.has(scheme) ? P.slowUsers : P.users);
const coldRequestsOf = (scheme: PasswordScheme) => Math.min(usersOf(scheme), SLOW.has(scheme) ? P.coldRequestsSlow : P.coldRequests);

const log = (line: string) => process.stdout.write(`${line}\n`);

interface Measured {
  scheme: PasswordScheme;
  kase: 'cold' | 'steady';
  side: string;
  round: RoundResult;
  /** CPU milliseconds of the server process (Tessera or slapd) per operation. */
  serverCpuMs: number;
  /** CPU milliseconds of the load generator per operation (wrk for Tessera, this process for LDAP). */
  clientCpuMs: number;
  /** The 1-minute load average when the round started. */
  load: number;
}

const results: Measured[] = [];
let machine: MachineInfo;
const checks: string[] = [];
let totalErrors = 0;

const cleanups: Array<() => Promise<void>> = [];
async function cleanup(): Promise<void> {
  for (const c of cleanups.reverse()) await c().catch((e) => log(`cleanup: ${String(e)}`));
  cleanups.length = 0;
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

async function main(): Promise<void> {
  requireWrk();
  const started = Date.now();
  const loadBefore = loadAverage();
  machine = machineInfo({ postgres: P.db === 'postgres' });
  log(`bench:verify — ${P.servers} Tessera process(es), ${P.users} users (${P.slowUsers} with slow-scheme tokens), ${P.concurrency} lanes, ${P.rounds} rounds, ${P.durationMs / 1000} s steady rounds, schemes ${P.schemes.join(', ')}, ${P.db}`);

  // --- Directory and database
  const slapd: SlapdInstance = await startSlapd();
  cleanups.push(() => slapd.stop());
  const slapdPid = findPid(slapd.configPath);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  let databaseUrl = join(dir, 'tessera.sqlite');
  if (P.db === 'postgres') {
    const pg: PostgresInstance = await startPostgres();
    cleanups.push(() => pg.stop());
    databaseUrl = await createDatabase(pg.url, 'tessera_bench');
  }
  const secretKey = benchSecretKey();

  // --- Users and tokens, through Tessera's services
  const t0 = Date.now();
  const rt = await openBenchRuntime(databaseUrl, secretKey, { loading: true });
  const co = await createBenchCo(rt.ctx);
  const users = await createUsers(rt.ctx, co.id, P.users, 'bench');
  const warmUsers = await createUsers(rt.ctx, co.id, P.warmupUsers, 'warm');
  const services = new Map<PasswordScheme, { service: BenchService; pairs: Pair[]; warm: Pair[]; hashes: Array<{ user: string; hash: string }> }>();
  for (const scheme of P.schemes) {
    const service = await createTokenService(rt.ctx, co.id, { name: `Bench ${scheme}`, scheme });
    const mine = users.slice(0, usersOf(scheme));
    const a = await issueTokens(rt.ctx, co.id, mine, service, 1);
    const w = await issueTokens(rt.ctx, co.id, warmUsers, service, 1);
    const toPairs = (list: readonly BenchUser[], secrets: string[][]) => list.map((u, i) => ({ user: u.username, dn: userDn(slapd, u.username), token: secrets[i]![0]! }));
    services.set(scheme, {
      service,
      pairs: toPairs(mine, a.secrets),
      warm: toPairs(warmUsers, w.secrets),
      hashes: [...mine.map((u, i) => ({ user: u.username, hash: a.hashes[i]![0]! })), ...warmUsers.map((u, i) => ({ user: u.username, hash: w.hashes[i]![0]! }))],
    });
    log(`  ${scheme}: ${mine.length + warmUsers.length} tokens generated`);
  }
  await rt.close();
  await addUsers(slapd, services.get(P.schemes[0]!)!.hashes);
  log(`setup: ${((Date.now() - t0) / 1000).toFixed(1)} s (users, tokens, LDAP entries)`);

  // --- The Tessera server
  const serverEnv = {
    TESSERA_DATABASE_URL: databaseUrl,
    TESSERA_SECRET_KEY: secretKey,
    TESSERA_PLUGINS: 'service-tokens',
    TESSERA_LOG_LEVEL: 'warn',
    // Only failures count against these limits; the wrong-token checks must not be throttled.
    TESSERA_VERIFY_FAILURES_PER_IDENTIFIER: '1000000',
    TESSERA_VERIFY_FAILURES_PER_ADDRESS: '1000000',
  };
  const nodeArgs = flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', flags['cpu-prof']] : [];
  // The first process runs the background worker too; others serve only (as `tessera worker` is
  // the way to run more workers, and only on PostgreSQL).
  // One `tessera serve`; with --servers N it runs N processes on one port (cluster module).
  const startAll = () => Promise.all([startTessera(P.servers > 1 ? { ...serverEnv, TESSERA_PROCESSES: String(P.servers) } : serverEnv, { nodeArgs })]);
  let servers: TesseraServer[] = await startAll();
  let restarts = 0;
  cleanups.push(async () => {
    await Promise.all(servers.map((x) => x.stop()));
  });
  /** Pairs verified by the running server processes, per scheme (what their memory may hold). */
  const seen = new Map<PasswordScheme, Set<Pair>>(P.schemes.map((s) => [s, new Set()]));
  const restart = async () => {
    await Promise.all(servers.map((x) => x.stop()));
    servers = await startAll();
    restarts++;
    for (const s of seen.values()) s.clear();
  };

  const cpuOf = (pids: readonly number[]) => pids.reduce((a, pid) => a + cpuSeconds(pid), 0);
  const measure = async (scheme: PasswordScheme, kase: 'cold' | 'steady', side: { name: string }, pids: readonly number[], run: () => Promise<RoundResult & { clientCpuMs?: number }>) => {
    const cpu0 = cpuOf(pids);
    const client0 = process.cpuUsage();
    const load = loadAverage().split(' ')[0]!;
    const round = await run();
    const client = process.cpuUsage(client0);
    const serverCpuMs = ((cpuOf(pids) - cpu0) * 1000) / round.ops;
    const m: Measured = { scheme, kase, side: side.name, round, serverCpuMs, clientCpuMs: round.clientCpuMs ?? (client.user + client.system) / 1000 / round.ops, load: Number(load) };
    results.push(m);
    totalErrors += round.errors;
    log(`  ${kase.padEnd(6)} ${side.name.padEnd(32)} ${rate(round.perSecond).padStart(8)}/s  p50 ${ms(round.latency.p(50)).padStart(6)} ms  p99 ${ms(round.latency.p(99)).padStart(6)} ms  ${round.ops} ops  server CPU ${ms(serverCpuMs)} ms/op${round.errors ? `  ERRORS ${round.errors} (${round.firstError})` : ''}`);
  };

  const slapdSide = ldapPersistentSide(slapd.url, 'slapd (persistent connections)');
  const slapdNewSide = ldapNewConnectionSide(slapd.url, 'slapd (new connection per bind)');

  for (const scheme of P.schemes) {
    const s = services.get(scheme)!;
    if (scheme !== P.schemes[0]) await setPasswords(slapd, s.hashes);
    const tessera = () => tesseraSide(servers.map((x) => x.url), s.service.key, 'Tessera');
    // Every live process of the `tessera serve` tree (the cluster primary and its processes).
    const tesseraPids = () => servers.flatMap((x) => processTree(x.pid));
    const slapdPids = slapdPid ? [slapdPid] : [];
    const lanes = P.concurrency;
    const TESSERA = { name: 'Tessera' };
    type AnySide = Side | typeof TESSERA;
    /** One round on a side: wrk for Tessera, the Node LDAP client for slapd. */
    const round = (side: AnySide, mode: 'random' | 'list', pairs: readonly Pair[], durationMs: number) =>
      side === TESSERA
        ? runWrk({ url: servers[0]!.url, key: s.service.key, pairs, mode, durationMs, connections: lanes, dir, spare: s.warm[0]! })
        : runRound(side as Side, { lanes, durationMs: mode === 'list' ? Infinity : durationMs, source: mode === 'list' ? listSource(pairs) : randomSource(pairs), primeWith: s.warm[0]! });
    log(`\n${scheme}: ${s.pairs.length} users, cold rounds of ${coldRequestsOf(scheme)} requests`);

    const warmTessera = async () => {
      // Each warm-up token once (paying its hash), then random warm-up pairs: JIT, caches, pools.
      await round(TESSERA, 'list', s.warm, 0);
      await round(TESSERA, 'random', s.warm, P.warmupMs);
    };
    await warmTessera();
    await runRound(slapdSide, { lanes, durationMs: P.warmupMs, source: randomSource(s.warm), primeWith: s.warm[0]! });

    // Cold: pairs this server has not verified; restart it when too few are left.
    for (let r = 0; r < P.rounds; r++) {
      const need = coldRequestsOf(scheme);
      let fresh = s.pairs.filter((p) => !seen.get(scheme)!.has(p));
      if (fresh.length < need) {
        await restart();
        await warmTessera();
        fresh = [...s.pairs];
      }
      const list = shuffle(fresh).slice(0, need);
      const sides: Array<[AnySide, number[]]> = [[TESSERA, tesseraPids()], [slapdSide, slapdPids]];
      if (r % 2 === 1) sides.reverse();
      for (const [side, pids] of sides) {
        await measure(scheme, 'cold', side, pids, () => round(side, 'list', list, 0));
        if (side === TESSERA) for (const p of list) seen.get(scheme)!.add(p);
      }
    }

    // Steady: every pair verified once by the server (unmeasured), then random draws. With
    // several processes, which process saw which pair is not known: the list goes three times
    // (connections are spread over the processes), and a pair a process has not seen costs it
    // one hash in the first steady round.
    const unseen = P.servers === 1 ? s.pairs.filter((p) => !seen.get(scheme)!.has(p)) : s.pairs;
    for (let k = 0; k < (unseen.length === 0 ? 0 : P.servers === 1 ? 1 : 3); k++) {
      const prime = await round(TESSERA, 'list', unseen, 0);
      if (prime.errors) throw new Error(`priming failed: ${prime.firstError}`);
    }
    for (const p of unseen) seen.get(scheme)!.add(p);
    for (let r = 0; r < P.rounds; r++) {
      const sides: Array<[AnySide, number[]]> = [[TESSERA, tesseraPids()], [slapdSide, slapdPids], [slapdNewSide, slapdPids]];
      for (let k = 0; k < r % 3; k++) sides.push(sides.shift()!);
      for (const [side, pids] of sides) {
        await measure(scheme, 'steady', side, pids, () => round(side, 'random', s.pairs, P.durationMs));
      }
    }

    // Wrong tokens must fail on both sides: a typo (last character changed) and another user's token.
    const sample = shuffle([...s.pairs]).slice(0, Math.min(20, s.pairs.length));
    let tesseraRefused = 0;
    let ldapRefused = 0;
    let probes = 0;
    const t = tessera();
    for (const [i, p] of sample.entries()) {
      const other = sample[(i + 1) % sample.length]!;
      const last = p.token.at(-1)!;
      const typo = `${p.token.slice(0, -1)}${last === 'a' ? 'b' : 'a'}`;
      for (const wrong of [typo, other.token === p.token ? `${typo}x` : other.token]) {
        probes++;
        const r = await t.verify({ ...p, token: wrong });
        if (r.status === 200 && r.valid === false) tesseraRefused++;
        if (await ldapBindRefused(slapd.url, p.dn, wrong)) ldapRefused++;
      }
    }
    const line = `${scheme}: wrong tokens refused — Tessera ${tesseraRefused}/${probes} (valid:false), slapd ${ldapRefused}/${probes} (invalidCredentials)`;
    checks.push(line);
    log(`  ${line}`);
    if (tesseraRefused !== probes || ldapRefused !== probes) totalErrors += 2 * probes - tesseraRefused - ldapRefused;
  }

  const serverLog = servers.map((x) => x.problems().trim()).filter(Boolean).join('\n');
  await cleanup();
  const loadAfter = loadAverage();
  const seconds = (Date.now() - started) / 1000;
  report({ loadBefore, loadAfter, seconds, restarts, serverLog });
}

interface Summary {
  perSecond: number;
  minPerSecond: number;
  maxPerSecond: number;
  p50: number;
  p99: number;
  serverCpuMs: number;
  clientCpuMs: number;
  ops: number;
  errors: number;
  rounds: number;
  /** Median 1-minute load average at the start of the rounds. */
  load: number;
}

function summarize(scheme: PasswordScheme, kase: 'cold' | 'steady', side: string): Summary | undefined {
  const rs = results.filter((r) => r.scheme === scheme && r.kase === kase && r.side === side);
  if (rs.length === 0) return undefined;
  return {
    perSecond: median(rs.map((r) => r.round.perSecond)),
    minPerSecond: Math.min(...rs.map((r) => r.round.perSecond)),
    maxPerSecond: Math.max(...rs.map((r) => r.round.perSecond)),
    p50: median(rs.map((r) => r.round.latency.p(50))),
    p99: median(rs.map((r) => r.round.latency.p(99))),
    serverCpuMs: median(rs.map((r) => r.serverCpuMs)),
    clientCpuMs: median(rs.map((r) => r.clientCpuMs)),
    ops: rs.reduce((a, r) => a + r.round.ops, 0),
    errors: rs.reduce((a, r) => a + r.round.errors, 0),
    rounds: rs.length,
    load: median(rs.map((r) => r.load)),
  };
}

/** The issue's goals (Tessera / slapd on persistent connections): throughput, and for {SSHA512} steady also CPU per operation. */
const GOALS: Record<string, { throughput: number; cpu?: number }> = {
  'SSHA512 steady': { throughput: 1.0, cpu: 1.0 },
  'SSHA512 cold': { throughput: 0.8 },
  'ARGON2ID cold': { throughput: 2.0 },
};
const verdict = (value: number, goal: number | undefined) =>
  goal === undefined ? '' : value >= goal ? ` — goal ≥ ${goal.toFixed(1)} met` : ` — goal ≥ ${goal.toFixed(1)} **not met** (${((value / goal) * 100).toFixed(0)} % of it)`;
const SCHEME_LABEL: Record<string, string> = { SSHA512: '{SSHA512}', ARGON2ID: 'argon2id (Tessera) / {ARGON2} (slapd)' };

function report(run: { loadBefore: string; loadAfter: string; seconds: number; restarts: number; serverLog: string }): void {
  const command = `npm run bench:verify${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const T = 'Tessera';
  const S = 'slapd (persistent connections)';
  const SN = 'slapd (new connection per bind)';
  const rows: string[] = [];
  const ratios: string[] = [];
  const stdout: string[] = [];
  for (const scheme of P.schemes) {
    for (const kase of ['steady', 'cold'] as const) {
      for (const side of [T, S, SN]) {
        const x = summarize(scheme, kase, side);
        if (!x) continue;
        const label = kase === 'steady' ? 'steady (tokens repeat; Tessera remembers them)' : 'cold (every token new to the Tessera process)';
        rows.push(`| ${SCHEME_LABEL[scheme] ?? scheme} | ${label} | ${side} | **${rate(x.perSecond)}** (${rate(x.minPerSecond)}–${rate(x.maxPerSecond)}) | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.serverCpuMs)} | ${ms(x.clientCpuMs)} | ${x.ops} | ${x.errors} | ${x.load.toFixed(2)} |`);
      }
      const t = summarize(scheme, kase, T);
      const s = summarize(scheme, kase, S);
      const sn = summarize(scheme, kase, SN);
      if (t && s) {
        const goal = GOALS[`${scheme} ${kase}`];
        const r = t.perSecond / s.perSecond;
        const c = s.serverCpuMs / t.serverCpuMs;
        ratios.push(`| ${SCHEME_LABEL[scheme] ?? scheme} | ${kase} | **${ratio(t.perSecond, s.perSecond)}**${verdict(r, goal?.throughput)} | **${ratio(s.serverCpuMs, t.serverCpuMs)}**${verdict(c, goal?.cpu)} | ${sn ? ratio(t.perSecond, sn.perSecond) : '—'} | ${t.load.toFixed(2)} / ${s.load.toFixed(2)} |`);
        stdout.push(`${scheme.padEnd(9)} ${kase.padEnd(6)}  Tessera ${rate(t.perSecond).padStart(8)}/s (p50 ${ms(t.p50)} ms, p99 ${ms(t.p99)} ms)   slapd ${rate(s.perSecond).padStart(8)}/s (p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms)   ratio ${ratio(t.perSecond, s.perSecond)}${sn ? `   (vs new-connection slapd ${ratio(t.perSecond, sn.perSecond)})` : ''}`);
      }
    }
  }

  const section = P.servers === 1 && P.db === 'sqlite' ? 'verify' : `verify-${P.db}-${P.servers}-process${P.servers === 1 ? '' : 'es'}`;
  const md = `## Token verification: Tessera's API against slapd binds (\`bench:verify\`${P.servers === 1 && P.db === 'sqlite' ? '' : `, ${P.db === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${P.servers} process${P.servers === 1 ? '' : 'es'}`})

${machineMarkdown(machine)}
| Load average (1, 5, 15 min) | ${run.loadBefore} before, ${run.loadAfter} after |
| Run time | ${run.seconds.toFixed(0)} s |

Command: \`${command}\`

Parameters: ${P.users} users with an {SSHA512} token, the first ${P.slowUsers} of them with an argon2id token too, plus ${P.warmupUsers} warm-up users (used for warm-up only); ${P.concurrency} concurrent lanes per side; ${P.rounds} measured rounds per side and case, the sides alternating (A B, B A, …); steady rounds of ${P.durationMs / 1000} s per side after ${P.warmupMs / 1000} s of warm-up; cold rounds of ${P.coldRequests} requests ({SSHA512}) and ${P.coldRequestsSlow} requests (argon2id) per side. Tessera: \`node bin/tessera.js serve\` (${P.servers === 1 ? 'one process' : `\`TESSERA_PROCESSES=${P.servers}\`: ${P.servers} processes of Node's cluster module sharing one port, each with its own memory of verified tokens; server CPU is that of the whole process tree`}) on ${P.db === 'sqlite' ? 'a SQLite file (WAL)' : 'PostgreSQL'}, log level warn, failure rate limits raised to 1,000,000 per minute; the server was restarted ${run.restarts} time(s) to empty its memory of verified tokens for cold rounds. slapd: the throwaway instance of \`test/support/slapd.ts\` (back_mdb; modules pw-sha2, argon2, pw-pbkdf2), entries \`uid=<user>,ou=people,dc=example,dc=org\` whose \`userPassword\` is the hash Tessera stored for that user's token. Load generators: for Tessera, \`wrk\` (C; one thread, ${P.concurrency} keep-alive connections, bench/lib/verify.lua: requests built once, every answer checked for 200 and \`"valid":true\`); for slapd, ldapts in this Node process (${P.concurrency} lanes, one connection each). Everything on loopback, on the same ${machine.cores} cores: the load generators, the Tessera server and slapd compete for them.

How to read it:
- **steady**: random (user, token) pairs drawn again and again from all users, after each token was verified once by the running server. Tessera answers from its five-minute in-process memory of verified tokens (an HMAC-SHA-256 comparison instead of the scheme's hash); slapd computes the scheme's hash on every bind. This is the realistic case: services present the same tokens over and over.
- **cold**: every Tessera request carries a token the server process has not verified before (each pair used once per server process; the server is restarted when unused pairs run out), so Tessera pays the full hash on each request. slapd gets the same pairs in the same order; it has no memory, so its cold and steady figures differ only by noise.
- Throughput is verifications (or binds) per second, the median over rounds; p50 and p99 are per-round latency percentiles (milliseconds, from request sent to answer received), median over rounds. Server CPU is the CPU time of the \`tessera serve\` process, or of slapd, per verification (median over rounds): the cost of one verification, less distorted by other load on the machine than throughput is (though contention inflates it too: caches are shared, and a virtual machine charges a task for time its virtual CPU was held up). Client CPU is the load generator's own CPU time per operation (wrk, or the LDAP client). Load is the 1-minute load average when the rounds started (median).
- Every measured verification had to answer HTTP 200 with \`valid: true\`, every bind had to succeed; anything else counts as an error.

| Scheme | Case | Side | Verifications/s: median (min–max of rounds) | p50 ms | p99 ms | Server CPU ms/op | Client CPU ms/op | Ops | Errors | Load |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Ratios (medians; the goals of the issue compare with slapd on persistent connections: {SSHA512} steady ≥ 1.0 in throughput and in CPU per operation, {SSHA512} cold ≥ 0.8, argon2id cold ≥ 2.0):

| Scheme | Case | Throughput: Tessera / slapd (persistent connections) | CPU per operation: slapd / Tessera | Throughput: Tessera / slapd (new connection per bind) | Load (Tessera / slapd rounds) |
|---|---|---|---|---|---|
${ratios.join('\n')}

Correctness: ${totalErrors === 0 ? 'no errors —' : `**${totalErrors} errors** —`} every measured verification answered \`valid: true\` and every measured bind succeeded${totalErrors ? ' except those counted above' : ''}. Wrong tokens: ${checks.join('; ')}.${run.serverLog ? `\n\nThe server wrote at level warn or above:\n\n\`\`\`\n${run.serverLog.slice(0, 2000)}\n\`\`\`` : ''}
`;
  log('\nSummary (median over rounds):');
  for (const l of stdout) log(`  ${l}`);
  log(`  errors: ${totalErrors}; ${checks.join('; ')}`);
  if (!flags['no-write']) {
    writeSection(section, md);
    log(`docs/benchmarks.md: section bench:${section} written`);
  }
}

main()
  .catch(async (e) => {
    process.exitCode = 1;
    log(`bench:verify failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  })
  .finally(async () => {
    await cleanup();
    if (totalErrors > 0) process.exitCode = 1;
  });
