// npm run demo:directory: a directory and an IMAP server to try Tessera's tokens with, on this machine,
// in the foreground, without system services or root-owned paths (README, "Use the token: log in to
// IMAP"). It starts
// - slapd on ldap://127.0.0.1:<ldap port>/ with the repository's schemas and ldap/slapd.conf.example's
//   access rules, holding the entries those rules name: cn=tessera (Tessera's account), ou=people,
//   ou=services and the mail service's search account cn=mail,ou=service-accounts;
// - Dovecot on imap://127.0.0.1:<imap port>/ with docs/integrations/dovecot.conf and recipe (a),
//   dovecot-ldap-bind.conf.ext: it binds as the person's entry under ou=mail,ou=services.
// Given an API user (TESSERA_API_USER, TESSERA_API_KEY) and --co, it also configures the running
// Tessera through its REST API: the LDAP server, its assignment to the CO, the CO's LDAP target and
// the mail service's token target; else it prints those values. Ctrl-C stops both servers; their
// state stays in --dir, so a second run reuses it (--fresh starts over). Dovecot needs root.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { addExampleAccounts, exampleAccessRules, startSlapd, type ExampleAccounts, type SlapdInstance } from '../test/support/slapd.ts';
import { requireDovecot, startDovecot } from '../test/support/dovecot.ts';
import type { ForegroundServer } from '../test/support/recipes.ts';
import { configureTessera, type DirectoryValues } from './directory-demo-api.ts';

const USAGE = `Usage: npm run demo:directory -- [--co CO_NAME_OR_ID] [--service SHORT_LABEL] [--tessera URL]
                                  [--dir DIR] [--ldap-port N] [--imap-port N] [--fresh]

Starts slapd (ldap://127.0.0.1:3389/) and Dovecot (imap://127.0.0.1:3143/) in the foreground, for
trying tokens of the CO service with short label SHORT_LABEL (default mail). With an API user of the
platform CO (TESSERA_API_USER, TESSERA_API_KEY; tessera api-user create --privileged) and --co, it
configures the Tessera at URL (default http://127.0.0.1:8080) to provision into that slapd; without,
it prints what to enter. State: DIR (default ${join(tmpdir(), 'tessera-directory-demo')}), kept at
Ctrl-C; --fresh removes it first. Needs root (Dovecot) and the Debian packages slapd ldap-utils
slapd-contrib dovecot-imapd dovecot-ldap curl.`;

const SUFFIX = 'dc=example,dc=org';

async function main(): Promise<number> {
  const { values: opts } = parseArgs({
    options: {
      co: { type: 'string' },
      service: { type: 'string', default: 'mail' },
      tessera: { type: 'string', default: 'http://127.0.0.1:8080' },
      dir: { type: 'string', default: join(tmpdir(), 'tessera-directory-demo') },
      'ldap-port': { type: 'string', default: '3389' },
      'imap-port': { type: 'string', default: '3143' },
      fresh: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (opts.help) return say(USAGE), 0;
  const label = opts.service;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(label)) return fail(`--service: ${label} is not a short label (a-z, 0-9, -)`);
  const apiUser = process.env.TESSERA_API_USER;
  const apiKey = process.env.TESSERA_API_KEY;
  if ((apiUser === undefined) !== (apiKey === undefined)) return fail('set both TESSERA_API_USER and TESSERA_API_KEY, or neither');
  if (apiKey !== undefined && opts.co === undefined) return fail('configuring Tessera needs --co (the CO’s name or id)');
  if (process.getuid?.() !== 0) return fail('Dovecot runs its login and mail processes as other users: run this as root (e.g. with sudo)');
  requireDovecot();

  const dir = resolve(opts.dir);
  if (opts.fresh) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const started: Array<SlapdInstance | ForegroundServer> = [];
  const stopAll = async () => {
    for (const server of started.reverse()) await server.stop();
  };
  try {
    const slapd = await startSlapd({ stateDir: join(dir, 'slapd'), port: Number(opts['ldap-port']), accessRules: await exampleAccessRules(), lastbind: { precisionSeconds: 60 } });
    started.push(slapd);
    const accounts = await loadOrAddAccounts(dir, slapd, label);
    const search = accounts.searchAccounts[label];
    if (search === undefined) throw new Error(`${dir} holds a directory made for another service than ${label}: run with --fresh, or --service with its label`);
    const values: DirectoryValues = {
      url: slapd.url,
      bindDn: accounts.tessera.dn,
      bindPassword: accounts.tessera.password,
      peopleDn: `ou=people,${SUFFIX}`,
      servicesDn: `ou=services,${SUFFIX}`,
      serviceBaseDn: `ou=${label},ou=services,${SUFFIX}`,
      serviceLabel: label,
    };
    await mkdir(join(dir, 'dovecot'), { recursive: true, mode: 0o755 });
    const dovecot = await startDovecot(join(dir, 'dovecot'), { recipe: 'dovecot-ldap-bind.conf.ext', values: { LDAP_URI: slapd.url, SEARCH_DN: search.dn, SEARCH_PASSWORD: search.password, SERVICE_DN: values.serviceBaseDn } }, Number(opts['imap-port']));
    started.push(dovecot);

    say(`slapd   ${slapd.url}  (${slapd.reused ? 'the database of the last run' : 'a new database'}, in ${join(dir, 'slapd')})`);
    say(`        Tessera's account: ${accounts.tessera.dn}  password: ${accounts.tessera.password}`);
    say(`        ${label}'s search account: ${search.dn}`);
    say(`Dovecot imap://127.0.0.1:${dovecot.port}/  (recipe (a), docs/integrations/dovecot.md; in ${join(dir, 'dovecot')})`);
    say('');
    if (apiKey !== undefined && apiUser !== undefined && opts.co !== undefined) {
      const done = await configureTessera({ baseUrl: opts.tessera, user: apiUser, key: apiKey }, opts.co, values);
      for (const line of done) say(`Tessera: ${line}`);
    } else {
      say(manualSteps(values));
    }
    say('');
    say('Now, signed in as the person (say alice), generate a token of the service and log in to IMAP with it:');
    say(`  curl -u alice imap://127.0.0.1:${dovecot.port}/        # curl asks for the password: paste the token`);
    say('It lists the mailboxes (INBOX). A wrong or revoked token: "curl: (67) Login denied".');
    say('');
    say('Running. Ctrl-C stops slapd and Dovecot.');
    const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
      const keepAlive = setInterval(() => undefined, 60_000);
      const on = (s: NodeJS.Signals) => {
        clearInterval(keepAlive);
        resolveSignal(s);
      };
      process.once('SIGINT', on);
      process.once('SIGTERM', on);
    });
    say(`\n${signal}: stopping Dovecot and slapd.`);
    await stopAll();
    say(`Stopped. The directory is kept in ${dir}; run with --fresh to start over.`);
    return 0;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The accounts of a new directory (added now, their passwords written to DIR/accounts.json, mode
 * 0600) or of the one an earlier run left in DIR (read from that file).
 */
async function loadOrAddAccounts(dir: string, slapd: SlapdInstance, label: string): Promise<ExampleAccounts> {
  const file = join(dir, 'accounts.json');
  if (slapd.reused && existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as ExampleAccounts;
  if (slapd.reused) throw new Error(`${dir} holds a directory without accounts.json: run with --fresh`);
  const accounts = await addExampleAccounts(slapd, [label]);
  await writeFile(file, `${JSON.stringify(accounts, null, 2)}\n`, { mode: 0o600 });
  return accounts;
}

/** What to enter in Tessera's web UI, for someone without an API user. */
function manualSteps(v: DirectoryValues): string {
  return [
    'In Tessera, signed in as the platform administrator:',
    `  1. LDAP servers (/platform/ldap-servers), New LDAP server: Server URL ${v.url}, Bind DN ${v.bindDn},`,
    `     Bind password ${v.bindPassword}, Subtrees ${v.peopleDn} and ${v.servicesDn} (one a line);`,
    '     save, then assign it to your CO (Assigned to).',
    `  2. Your CO, Provisioning targets, New target, type LDAP: LDAP server: the one above, Base DN ${v.peopleDn}, Order 10.`,
    `  3. New target, type LDAP service tokens: LDAP target: the one of step 2, Service: the one with short label ${v.serviceLabel},`,
    `     Attribute serviceEntries, Service subtree ${v.serviceBaseDn}, Create the service subtree when missing: ticked, Order 20.`,
    '  4. Provisioning targets, Reprovision all: tokens generated before reach the directory too.',
    '(Or give this script an API user and --co, and it does these steps through the REST API.)',
  ].join('\n');
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string): number {
  process.stderr.write(`demo:directory: ${message}\n${USAGE}\n`);
  return 2;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`demo:directory: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
process.exit();
