// npm run bench:service-entries -- [--people 10000] [--rounds 1] [--concurrency 32] [--no-write]
//
// A full reprovision in service-entry mode against `ldapadd` of the same entries:
// - Tessera: N people, each with a uid login identifier, a name and one {SSHA512} token of each of
//   two services (Wiki, Mail); an LDAP target and, per service, an LDAP service token target in
//   `serviceEntries` mode (uid=<uid>,ou=<label>,ou=services,<suffix>); then requestReprovision()
//   and a ProvisioningWorker draining the batch in this process, as `tessera reprovision --co` does.
// - ldapadd: the person entries and service entries Tessera wrote, exported with ldapsearch, deleted,
//   and added again by one `ldapadd` process from the LDIF file.
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
import { addLdapServer } from '../test/support/ldap-servers.ts';
import { benchSecretKey, createBenchCo, createTokenService, createUsers, issueTokens } from './lib/fixtures.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import { loadAverage } from './lib/proc.ts';
import { writeSection } from './lib/report.ts';
import { median } from './lib/stats.ts';

const { values: flags } = parseArgs({
  options: {
    people: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '32' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('Usage: npm run bench:service-entries -- [--people 10000] [--rounds 1] [--concurrency 32] [--no-write]');
  process.exit(0);
}
const N = Number(flags.people);
const ROUNDS = Number(flags.rounds);
const CONCURRENCY = Number(flags.concurrency);
const started = Date.now();
const loadBefore = loadAverage();

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-service-entries-'));
const slapd = await startSlapd();
const people = `ou=people,${slapd.suffix}`;
const subtreeOf = (label: string) => `ou=${label},ou=services,${slapd.suffix}`;
const ldapArgs = ['-x', '-H', slapd.url, '-D', slapd.rootDn, '-w', slapd.rootPassword];

const url = join(dir, 'bench.sqlite');
const config = loadConfig({ TESSERA_DATABASE_URL: url, TESSERA_SECRET_KEY: benchSecretKey(), TESSERA_WORKER: 'off' });
const database = openDatabase(url);
const plugins = bundledPlugins(config);
await migrateToLatest(database.db, migrationSets(plugins));
const registry = createRegistry({ config, database, plugins, clock: systemClock });
const { ctx } = registry;

const seconds = (since: number) => (Date.now() - since) / 1000;
const bases = () => [people, subtreeOf('Wiki'), subtreeOf('Mail')];

function dnsUnder(base: string): string[] {
  return execFileSync('ldapsearch', [...ldapArgs, '-LLL', '-o', 'ldif-wrap=no', '-b', base, '-s', 'one', '(objectClass=*)', '1.1'], { maxBuffer: 1 << 28, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('dn: '))
    .map((l) => l.slice(4));
}

/** Every person entry and service entry, in the LDIF ldapsearch writes (user attributes only). */
function exportEntries(): string {
  return bases().map((b) => execFileSync('ldapsearch', [...ldapArgs, '-LLL', '-o', 'ldif-wrap=no', '-b', b, '-s', 'one', '(objectClass=*)', '*'], { maxBuffer: 1 << 30, encoding: 'utf8' })).join('\n');
}

/** Empties the people and service subtrees (keeping the ou entries) and Tessera's record of them. */
async function emptyDirectory(): Promise<void> {
  const dns = bases().flatMap((b) => {
    try {
      return dnsUnder(b);
    } catch {
      return []; // the service subtree does not exist before the first run
    }
  });
  if (dns.length > 0) {
    const file = join(dir, 'delete.txt');
    writeFileSync(file, `${dns.join('\n')}\n`);
    execFileSync('ldapdelete', [...ldapArgs, '-c', '-f', file], { stdio: 'ignore' });
  }
  await database.db.deleteFrom('provisioning_state').execute();
}

console.log(`bench:service-entries — ${N} people, two services, ${ROUNDS} round(s), worker concurrency ${CONCURRENCY}`);
let t0 = Date.now();
const co = await createBenchCo(ctx);
const wiki = await createTokenService(ctx, co.id, { name: 'Wiki', scheme: 'SSHA512', withKey: false });
const mail = await createTokenService(ctx, co.id, { name: 'Mail', scheme: 'SSHA512', withKey: false });
const users = await createUsers(ctx, co.id, N);
const wikiSecrets = (await issueTokens(ctx, co.id, users, wiki, 1)).secrets;
const mailSecrets = (await issueTokens(ctx, co.id, users, mail, 1)).secrets;
const ldapTarget = await createTarget(ctx, SYSTEM_ACTOR, co.id, {
  provisionerType: 'ldap',
  description: 'Directory',
  mode: 'automatic',
  ordinal: 10,
  retryIntervalSeconds: 30,
  maxRetries: 3,
  // The server is a platform admin's (LDAP servers); it may write the people and the services subtrees.
  config: { serverId: await addLdapServer(ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [slapd.suffix], coIds: [co.id] }), baseDn: people },
});
for (const [i, service] of [wiki, mail].entries()) {
  const label = i === 0 ? 'Wiki' : 'Mail';
  await createTarget(ctx, SYSTEM_ACTOR, co.id, {
    provisionerType: 'ldap-service-token',
    description: `${label} entries`,
    mode: 'automatic',
    ordinal: 20 + i,
    retryIntervalSeconds: 30,
    maxRetries: 3,
    config: { ldapTargetId: ldapTarget.id, serviceId: service.serviceId, attribute: 'serviceEntries', serviceBaseDn: subtreeOf(label), createServiceSubtree: true },
  });
}
await database.db.deleteFrom('provisioning_job').execute();
console.log(`setup: ${seconds(t0).toFixed(1)} s`);

async function tesseraRun(): Promise<number> {
  const worker = new ProvisioningWorker(ctx, registry.contributors, { concurrency: CONCURRENCY, batchSize: 500 });
  const t = Date.now();
  const batch = await requestReprovision(ctx, SYSTEM_ACTOR, co.id);
  await worker.drain();
  const elapsed = seconds(t);
  const progress = await batchProgress(ctx, SYSTEM_ACTOR, co.id, batch.batchId);
  if (progress.failed > 0 || progress.pending > 0) throw new Error(`reprovision left ${progress.failed} failed and ${progress.pending} pending jobs`);
  return elapsed;
}

function ldapaddRun(ldif: string): number {
  const file = join(dir, 'entries.ldif');
  writeFileSync(file, ldif);
  const t = Date.now();
  const r = spawnSync('ldapadd', [...ldapArgs, '-f', file], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const elapsed = seconds(t);
  if (r.status !== 0) throw new Error(`ldapadd failed: ${r.stderr}`);
  return elapsed;
}

const tessera: number[] = [];
const ldapadd: number[] = [];
let noChange = 0;
let ldif = '';
for (let round = 0; round < ROUNDS; round++) {
  await emptyDirectory();
  const s = await tesseraRun();
  tessera.push(s);
  console.log(`round ${round + 1}: Tessera ${s.toFixed(1)} s, ${((s * 1000) / N).toFixed(2)} ms/person`);
  if (round === 0) {
    const counts = bases().map((b) => dnsUnder(b).length);
    if (counts.some((c) => c !== N)) throw new Error(`the directory holds ${counts.join(', ')} entries, not ${N} each`);
    const t = Date.now();
    await tesseraRun();
    noChange = seconds(t);
    console.log(`no-change reprovision: ${noChange.toFixed(1)} s`);
    ldif = exportEntries();
  }
  await emptyDirectory();
  const a = ldapaddRun(ldif);
  ldapadd.push(a);
  console.log(`round ${round + 1}: ldapadd ${a.toFixed(1)} s, ${((a * 1000) / N).toFixed(2)} ms/person (3 entries)`);
}

// What Tessera wrote works, and isolates: each sampled token binds at its own service entry only.
await emptyDirectory();
await tesseraRun();
const bind = (dn: string, secret: string) => spawnSync('ldapwhoami', ['-x', '-H', slapd.url, '-D', dn, '-w', secret], { stdio: 'ignore' }).status === 0;
let own = 0;
let crossed = 0;
const sample = Array.from({ length: 10 }, (_, i) => Math.floor((i * N) / 10));
for (const i of sample) {
  const u = users[i]!.username;
  if (bind(`uid=${u},${subtreeOf('Wiki')}`, wikiSecrets[i]![0]!)) own++;
  if (bind(`uid=${u},${subtreeOf('Mail')}`, mailSecrets[i]![0]!)) own++;
  if (bind(`uid=${u},${subtreeOf('Mail')}`, wikiSecrets[i]![0]!)) crossed++;
  if (bind(`uid=${u},${subtreeOf('Wiki')}`, mailSecrets[i]![0]!)) crossed++;
  if (bind(`uid=${u},${people}`, wikiSecrets[i]![0]!)) crossed++;
}
console.log(`check: ${own}/${2 * sample.length} own-service binds, ${crossed} cross-service binds`);
if (own !== 2 * sample.length || crossed !== 0) throw new Error('the service entries do not hold what Tessera should have written');

const m = median(tessera);
const a = median(ldapadd);
const body = `## Provisioning in service-entry mode: full reprovision against ldapadd (\`bench:service-entries\`)

${machineMarkdown(machineInfo())}
| Load average (1, 5, 15 min) | ${loadBefore} before, ${loadAverage()} after |
| Run time | ${Math.round(seconds(started))} s |

Command: \`npm run bench:service-entries -- --people ${N} --rounds ${ROUNDS} --concurrency ${CONCURRENCY}\`

Parameters: ${N} people in one CO, each with a uid login identifier, a name and one {SSHA512} token of each of two services (Wiki, Mail); an LDAP target (people) and two LDAP service token targets in \`serviceEntries\` mode (\`uid=<uid>,ou=<service>,ou=services,…\`), so each person has three entries: ${3 * N} adds in all. Tessera on SQLite, a throwaway slapd (back_mdb). Tessera side: \`requestReprovision\` of the whole CO (${3 * N} jobs) and a \`ProvisioningWorker\` (concurrency ${CONCURRENCY}) draining them in this process, timed from the request to the last job done, into an empty directory with no record of earlier provisioning. ldapadd side: the same ${3 * N} entries exported with ldapsearch, deleted, and added by one \`ldapadd\` process. Median over ${ROUNDS} round(s).

| Run | Seconds (median) | ms per person | Tessera / ldapadd |
|---|---|---|---|
| Tessera reprovision, service entries | ${m.toFixed(1)} | ${((m * 1000) / N).toFixed(2)} | **${(m / a).toFixed(2)}×** |
| ldapadd of the same entries | ${a.toFixed(1)} | ${((a * 1000) / N).toFixed(2)} | 1 |
| Tessera reprovision with nothing to change | ${noChange.toFixed(1)} | ${((noChange * 1000) / N).toFixed(2)} | — |

Correctness: after a final reprovision ${own} of ${2 * sample.length} sampled tokens bound at their own service's entry (ldapwhoami), and ${crossed} bound at the other service's entry or the person's entry.
`;
if (!flags['no-write']) writeSection('service-entries', body);
console.log(`\nTessera/ldapadd: ${(m / a).toFixed(2)}× (ldapadd ${a.toFixed(1)} s)`);

await database.destroy();
await slapd.stop();
rmSync(dir, { recursive: true, force: true });
