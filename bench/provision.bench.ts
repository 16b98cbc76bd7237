// npm run bench:provision -- [--people 10000] [--rounds 1] [--concurrency 8,32] [--no-write]
//
// A full reprovision of a CO into an empty directory, against `ldapadd` of the same entries:
// - Tessera: N people, each with a uid login identifier, a name and one {SSHA512} token of one
//   service; an LDAP target and an LDAP service token target; then requestReprovision() and a
//   ProvisioningWorker draining the batch in this process — what `tessera reprovision --co` does.
// - ldapadd: the entries Tessera wrote, exported with ldapsearch (same attributes, same
//   userPassword hashes), deleted, and added again by one `ldapadd` process from the LDIF file.
// Both write into the same throwaway slapd, emptied before each run; the sides alternate by round.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.ts';
import { SYSTEM_ACTOR } from '../src/core/auth/actor.ts';
import { systemClock } from '../src/core/clock.ts';
import { createRegistry } from '../src/app/registry.ts';
import { batchProgress, requestReprovision } from '../src/core/provisioning/provisioning.service.ts';
import { createTarget } from '../src/core/provisioning/target.service.ts';
import { ProvisioningWorker } from '../src/core/provisioning/worker.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest, migrationSets } from '../src/db/migrator.ts';
import { bundledPlugins } from '../src/plugins/catalogue.ts';
import { startSlapd } from '../test/support/slapd.ts';
import { benchSecretKey, createBenchCo, createTokenService, createUsers, issueTokens } from './lib/fixtures.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import { loadAverage } from './lib/proc.ts';
import { writeSection } from './lib/report.ts';
import { median } from './lib/stats.ts';
import { addLdapServer } from '../test/support/ldap-servers.ts';
import { profiled, profileMarkdown, type summariseProfile } from './lib/cpu-profile.ts';

const { values: flags } = parseArgs({
  options: {
    people: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8,32' },
    'no-write': { type: 'boolean', default: false },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('Usage: npm run bench:provision -- [--people 10000] [--rounds 1] [--concurrency 8,32] [--no-write] [--profile LABEL]');
  console.log('  --profile LABEL: CPU-profile the first full reprovision and the no-change one; their summary goes to the section provision-profile-LABEL, the .cpuprofile files to the system temp folder');
  process.exit(0);
}
const N = Number(flags.people);
const ROUNDS = Number(flags.rounds);
const CONCURRENCY = flags.concurrency!.split(',').map(Number);
const started = Date.now();
const loadBefore = loadAverage();
/** The commit of the code this run loaded (read at the start: the tree may move while it runs). */
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-provision-'));
const slapd = await startSlapd();
const people = `ou=people,${slapd.suffix}`;
const ldapArgs = ['-x', '-H', slapd.url, '-D', slapd.rootDn, '-w', slapd.rootPassword];

const url = join(dir, 'bench.sqlite');
const secretKey = benchSecretKey();
const config = loadConfig({ TESSERA_DATABASE_URL: url, TESSERA_SECRET_KEY: secretKey, TESSERA_WORKER: 'off' });
const database = openDatabase(url);
const plugins = bundledPlugins(config);
await migrateToLatest(database.db, migrationSets(plugins));
const registry = createRegistry({ config, database, plugins, clock: systemClock });
const { ctx } = registry;

function seconds(since: number): number {
  return (Date.now() - since) / 1000;
}

/** Every entry below ou=people, in the LDIF ldapsearch writes (user attributes only). */
function exportPeople(): string {
  return execFileSync('ldapsearch', [...ldapArgs, '-LLL', '-o', 'ldif-wrap=no', '-b', people, '-s', 'one', '(objectClass=*)', '*'], { maxBuffer: 1 << 30, encoding: 'utf8' });
}

function countPeople(): number {
  const out = execFileSync('ldapsearch', [...ldapArgs, '-LLL', '-b', people, '-s', 'one', '(objectClass=*)', '1.1'], { maxBuffer: 1 << 28, encoding: 'utf8' });
  return out.split('\n').filter((l) => l.startsWith('dn:')).length;
}

/** Empties ou=people, in the directory and in Tessera's record of what it holds. */
async function emptyDirectory(): Promise<void> {
  const dns = execFileSync('ldapsearch', [...ldapArgs, '-LLL', '-o', 'ldif-wrap=no', '-b', people, '-s', 'one', '(objectClass=*)', '1.1'], { maxBuffer: 1 << 28, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('dn: '))
    .map((l) => l.slice(4));
  if (dns.length > 0) {
    const file = join(dir, 'delete.txt');
    writeFileSync(file, `${dns.join('\n')}\n`);
    execFileSync('ldapdelete', [...ldapArgs, '-c', '-f', file], { stdio: 'ignore' });
  }
  await database.db.deleteFrom('provisioning_state').execute();
}

console.log(`bench:provision — ${N} people, ${ROUNDS} round(s), worker concurrency ${CONCURRENCY.join(', ')}`);
let t0 = Date.now();
const co = await createBenchCo(ctx);
const service = await createTokenService(ctx, co.id, { name: 'Mail', scheme: 'SSHA512', withKey: false });
const users = await createUsers(ctx, co.id, N);
const { secrets } = await issueTokens(ctx, co.id, users, service, 1);
const ldapTarget = await createTarget(ctx, SYSTEM_ACTOR, co.id, {
  provisionerType: 'ldap',
  description: 'Directory',
  mode: 'automatic',
  ordinal: 10,
  retryIntervalSeconds: 30,
  maxRetries: 3,
  config: { serverId: await addLdapServer(ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [people], coIds: [co.id] }), baseDn: people },
});
await createTarget(ctx, SYSTEM_ACTOR, co.id, {
  provisionerType: 'ldap-service-token',
  description: 'Mail tokens',
  mode: 'automatic',
  ordinal: 20,
  retryIntervalSeconds: 30,
  maxRetries: 3,
  config: { ldapTargetId: ldapTarget.id, serviceId: service.serviceId, attribute: 'userPassword' },
});
// Jobs the setup wrote (token generation publishes changes) are not what is measured.
await database.db.deleteFrom('provisioning_job').execute();
console.log(`setup: ${seconds(t0).toFixed(1)} s`);

async function tesseraRun(concurrency: number): Promise<number> {
  const worker = new ProvisioningWorker(ctx, registry.contributors, { concurrency, batchSize: 500 });
  const cpu0 = process.cpuUsage();
  const t = Date.now();
  const batch = await requestReprovision(ctx, SYSTEM_ACTOR, co.id);
  await worker.drain();
  const elapsed = seconds(t);
  // CPU time of this process (the worker's) over the run: less sensitive to a loaded machine than the wall time.
  const cpu = process.cpuUsage(cpu0);
  console.log(`  Tessera CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, system ${(cpu.system / 1e6).toFixed(2)}) over ${elapsed.toFixed(2)} s, load ${loadAverage()}`);
  const progress = await batchProgress(ctx, SYSTEM_ACTOR, co.id, batch.batchId);
  if (progress.failed > 0 || progress.pending > 0) throw new Error(`reprovision left ${progress.failed} failed and ${progress.pending} pending jobs`);
  return elapsed;
}

function ldapaddRun(ldif: string): number {
  const file = join(dir, 'people.ldif');
  writeFileSync(file, ldif);
  const t = Date.now();
  const r = spawnSync('ldapadd', [...ldapArgs, '-f', file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const elapsed = seconds(t);
  if (r.status !== 0) throw new Error(`ldapadd failed: ${r.stderr}`);
  return elapsed;
}

const tessera = new Map<number, number[]>(CONCURRENCY.map((c) => [c, []]));
const ldapadd: number[] = [];
let noChange = 0;
const profiles: Array<{ title: string; summary: ReturnType<typeof summariseProfile>; file: string }> = [];
/** Runs `run`, CPU-profiled when --profile is given (the first time for each title). */
async function maybeProfiled<T>(title: string, run: () => Promise<T>): Promise<T> {
  if (!flags.profile || profiles.some((p) => p.title === title)) return run();
  const file = join(tmpdir(), `tessera-provision-${flags.profile}-${profiles.length + 1}.cpuprofile`);
  const { result, summary } = await profiled(run, file);
  profiles.push({ title, summary, file });
  return result;
}
let ldif = '';
for (let round = 0; round < ROUNDS; round++) {
  for (const c of CONCURRENCY) {
    await emptyDirectory();
    const s = await maybeProfiled(`Full reprovision of ${N} people into an empty directory (worker concurrency ${c})`, () => tesseraRun(c));
    tessera.get(c)!.push(s);
    console.log(`round ${round + 1}: Tessera (worker concurrency ${c}) ${s.toFixed(1)} s, ${((s * 1000) / N).toFixed(2)} ms/person`);
  }
  if (round === 0) {
    if (countPeople() !== N) throw new Error(`the directory holds ${countPeople()} entries, not ${N}`);
    const t = Date.now();
    await maybeProfiled(`No-change reprovision of ${N} people`, () => tesseraRun(CONCURRENCY.at(-1)!));
    noChange = seconds(t);
    console.log(`no-change reprovision: ${noChange.toFixed(1)} s`);
    ldif = exportPeople();
  }
  await emptyDirectory();
  const a = ldapaddRun(ldif);
  ldapadd.push(a);
  console.log(`round ${round + 1}: ldapadd ${a.toFixed(1)} s, ${((a * 1000) / N).toFixed(2)} ms/entry`);
}

// What Tessera wrote works: the entries are there and a sample of tokens binds.
await emptyDirectory();
await tesseraRun(CONCURRENCY.at(-1)!);
const entries = countPeople();
let binds = 0;
const sample = Array.from({ length: 20 }, (_, i) => Math.floor((i * N) / 20));
for (const i of sample) {
  const r = spawnSync('ldapwhoami', ['-x', '-H', slapd.url, '-D', `uid=${users[i]!.username},${people}`, '-w', secrets[i]![0]!], { stdio: 'ignore' });
  if (r.status === 0) binds++;
}
console.log(`check: ${entries} entries, ${binds}/${sample.length} sampled tokens bind`);
if (entries !== N || binds !== sample.length) throw new Error('the directory does not hold what Tessera should have written');

const ldapaddMedian = median(ldapadd);
const rows = CONCURRENCY.map((c) => {
  const m = median(tessera.get(c)!);
  return `| Tessera reprovision, worker concurrency ${c} | ${m.toFixed(1)} | ${((m * 1000) / N).toFixed(2)} | **${(m / ldapaddMedian).toFixed(2)}×** |`;
});
const best = Math.min(...CONCURRENCY.map((c) => median(tessera.get(c)!)));
const body = `## Provisioning: full reprovision against ldapadd (\`bench:provision\`)

${machineMarkdown(machineInfo())}
| Load average (1, 5, 15 min) | ${loadBefore} before, ${loadAverage()} after |
| Run time | ${Math.round(seconds(started))} s |

Command: \`npm run bench:provision -- --people ${N} --rounds ${ROUNDS} --concurrency ${CONCURRENCY.join(',')}\`

Parameters: ${N} people in one CO, each with a uid login identifier, a name and one {SSHA512} token of one service; an LDAP target (inetOrgPerson; cn, sn, givenName, displayName, uid) and an LDAP service token target (userPassword) on a throwaway slapd (back_mdb, \`test/support/slapd.ts\`), Tessera on SQLite. Tessera side: \`requestReprovision\` of the whole CO (${2 * N} jobs: one per person and target) and a \`ProvisioningWorker\` draining them in this process, as \`tessera reprovision --co\` does, timed from the request to the last job done, into an empty directory with no record of earlier provisioning (each person: one LDAP add carrying the token hash; the token target then only records it). ldapadd side: the entries Tessera wrote, exported with ldapsearch (the same attributes and userPassword hashes), deleted, and added by one \`ldapadd\` process from the LDIF file, timed around ldapadd alone. Median over ${ROUNDS} round(s); the directory is emptied before every run.

| Run | Seconds (median) | ms per person | Tessera / ldapadd |
|---|---|---|---|
${rows.join('\n')}
| ldapadd of the same entries | ${ldapaddMedian.toFixed(1)} | ${((ldapaddMedian * 1000) / N).toFixed(2)} | 1 |
| Tessera reprovision with nothing to change (one base search per person) | ${noChange.toFixed(1)} | ${((noChange * 1000) / N).toFixed(2)} | — |

Goal: Tessera within 1.5× of ldapadd — best ratio here **${(best / ldapaddMedian).toFixed(2)}×** (${best / ldapaddMedian <= 1.5 ? 'met' : 'not met'}).

Correctness: after a final reprovision the directory held ${entries} entries (of ${N}) and ${binds} of ${sample.length} sampled tokens bound with ldapwhoami.
`;
if (!flags['no-write']) writeSection('provision', body);
if (flags.profile) {
  const text = `## Provisioning CPU profile: ${flags.profile} (\`bench:provision -- --profile ${flags.profile}\`)

Commit ${commit}, ${new Date().toISOString().slice(0, 16)}Z, ${N} people, load average ${loadBefore} before the run. Profiled with node:inspector in the benchmark process (which is the worker's process; slapd runs apart and is not in the profile), sampling every 1 ms, from the reprovision request to the last job done. Self time: time spent in a function itself, not in what it calls; \`(idle)\` is the process waiting (for slapd, or for its turn on the shared cores).

${profiles.map((p) => profileMarkdown(p.title, p.summary)).join('\n\n')}
`;
  if (!flags['no-write']) writeSection(`provision-profile-${flags.profile.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}`, text);
  else console.log(text);
  for (const p of profiles) console.log(`profile: ${p.file}`);
}
console.log(`\nbest Tessera/ldapadd: ${(best / ldapaddMedian).toFixed(2)}× (ldapadd ${ldapaddMedian.toFixed(1)} s)`);

await database.destroy();
await slapd.stop();
rmSync(dir, { recursive: true, force: true });
