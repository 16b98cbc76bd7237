// Throwaway OpenLDAP servers for tests: each a foreground slapd on its own random loopback port,
// with a slapd.conf and an mdb database in a temp dir, the schemas a Tessera deployment needs
// (eduPerson, eduMember, voPerson with `attributeoptions app-`) and the password-hash modules
// ({SSHA512} and friends, {ARGON2}, {PBKDF2-SHA512}).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AlreadyExistsError, Client } from 'ldapts';
import {
  PortClashError,
  findFreePort,
  onProcessExit,
  removeDirSync,
  requireCommand,
  requireFile,
  retryOnPortClash,
  spawnDaemon,
  type Daemon,
} from './system-packages.ts';

const SLAPD = '/usr/sbin/slapd';
const SLAPD_PACKAGES = 'slapd ldap-utils slapd-contrib';
const MODULE_DIR = '/usr/lib/ldap';
const SYSTEM_SCHEMA_DIR = '/etc/ldap/schema';
const REPO_SCHEMA_DIR = fileURLToPath(new URL('../../ldap/schema/', import.meta.url));
const SYSTEM_SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis'];
const REPO_SCHEMAS = ['eduperson', 'edumember', 'voperson'];
/** Always loaded: the database backend and the password schemes Tessera can write. */
const DEFAULT_MODULES = ['back_mdb.la', 'pw-sha2.la', 'argon2.la', 'pw-pbkdf2.la'];
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface SlapdOptions {
  /** Naming context; its first RDN must be dc=, o= or ou=. Default `dc=example,dc=org`. */
  suffix?: string;
  /** Modules (file names in /usr/lib/ldap, e.g. `memberof.la`) loaded in addition to the defaults. */
  modules?: string[];
  /** Default modules left out, e.g. `['argon2.la', 'pw-pbkdf2.la']` for a directory that cannot check those schemes. */
  withoutModules?: string[];
  /** slapd.conf lines appended after the mdb database section (overlays, indexes, more access rules). */
  extraConfig?: string;
  /**
   * The database's `access to` rules, in slapd.conf syntax, instead of the built-in ones (passwords:
   * the rootdn writes, anonymous may `auth`; everything else: bound users read). slapd uses the
   * first rule that matches, and the rootdn bypasses them all. E.g. `exampleAccessRules()`.
   */
  accessRules?: string;
  /**
   * Serve TLS with this certificate and key (PEM files, e.g. from test/support/tls-ca.ts): StartTLS
   * on the ldap:// port, and ldaps:// on a second port (`ldapsUrl`).
   */
  tls?: { certFile: string; keyFile: string };
  /**
   * Loads the lastbind overlay (slapd-contrib's lastbind.la) on the database: a successful bind
   * writes the entry's operational `authTimestamp`, at most once per `precisionSeconds` (0: every bind).
   */
  lastbind?: { precisionSeconds: number };
  /**
   * Keep the configuration and database in this directory (made when missing) instead of a temp
   * dir: `stop()` leaves it, and a later start on it reuses the database (no seeding). For
   * scripts/directory-demo.ts; tests use the default.
   */
  stateDir?: string;
  /** Listen on this port (a port in use fails at once) instead of a free one. */
  port?: number;
}

export interface SlapdInstance {
  /** `ldap://127.0.0.1:<port>/` */
  url: string;
  port: number;
  /** `ldaps://127.0.0.1:<port>/`, with the `tls` option only. */
  ldapsUrl: string | undefined;
  suffix: string;
  /** `cn=admin,<suffix>`, the rootdn: bypasses every access rule. */
  rootDn: string;
  rootPassword: string;
  configPath: string;
  /** Whether this start found the database of an earlier run in `stateDir` (nothing was seeded). */
  reused: boolean;
  /** SIGTERM, waits for the exit, removes the temp dir (not a `stateDir`). Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops the process but keeps the data, then starts it again on the same port. `whileStopped`
   * runs in between, against a server that refuses connections (an outage).
   */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
}

/**
 * Starts slapd with an empty database holding only the suffix entry and `ou=people,<suffix>`.
 * The caller must `stop()` it; if not, it dies with the process.
 */
export async function startSlapd(options: SlapdOptions = {}): Promise<SlapdInstance> {
  const suffix = options.suffix ?? 'dc=example,dc=org';
  const modules = [...DEFAULT_MODULES.filter((m) => !(options.withoutModules ?? []).includes(m)), ...(options.modules ?? []), ...(options.lastbind ? ['lastbind.la'] : [])];
  checkInstallation(modules);
  const keep = options.stateDir !== undefined;
  const dir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'tessera-slapd-')));
  const reused = keep && existsSync(join(dir, 'data', 'data.mdb'));
  const settings = {
    suffix,
    rootDn: `cn=admin,${suffix}`,
    rootPassword: randomBytes(18).toString('base64url'),
    configPath: join(dir, 'slapd.conf'),
    tls: options.tls,
  };
  let daemon: Daemon | undefined;
  const unregister = onProcessExit(() => {
    daemon?.terminateSync();
    if (!keep) removeDirSync(dir);
  });
  try {
    await mkdir(join(dir, 'data'), { recursive: true, mode: 0o700 });
    const config = renderConfig({ ...settings, dataDir: join(dir, 'data'), modules, extraConfig: options.extraConfig, accessRules: options.accessRules, lastbind: options.lastbind });
    await writeFile(settings.configPath, config, { mode: 0o600 });
    const start = async (candidate: number) => {
      const chosen = { port: candidate, ldapsPort: options.tls ? await findFreePort() : undefined };
      daemon = await startServer(settings, chosen, dir);
      return chosen;
    };
    const ports = options.port === undefined ? await retryOnPortClash(start) : await start(options.port);
    if (!reused) await seedDirectory(`ldap://127.0.0.1:${ports.port}/`, settings);
    return buildInstance({ ...settings, reused }, ports, dir, keep, {
      current: () => daemon,
      replace: (next) => (daemon = next),
      unregister,
    });
  } catch (error) {
    await daemon?.stop(STOP_TIMEOUT_MS);
    if (!keep) await rm(dir, { recursive: true, force: true });
    unregister();
    throw error;
  }
}

interface Settings {
  suffix: string;
  rootDn: string;
  rootPassword: string;
  configPath: string;
  tls: SlapdOptions['tls'];
}

interface Ports {
  port: number;
  ldapsPort: number | undefined;
}

interface DaemonSlot {
  current(): Daemon | undefined;
  replace(next: Daemon): void;
  unregister(): void;
}

function buildInstance(settings: Settings & { reused: boolean }, ports: Ports, dir: string, keep: boolean, slot: DaemonSlot): SlapdInstance {
  const { port, ldapsPort } = ports;
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> = Promise.resolve();
  return {
    ...settings,
    url: `ldap://127.0.0.1:${port}/`,
    port,
    ldapsUrl: ldapsPort === undefined ? undefined : `ldaps://127.0.0.1:${ldapsPort}/`,
    stop() {
      stopping ??= (async () => {
        await restarting.catch(() => undefined); // else a restart could outlive the stop
        await slot.current()?.stop(STOP_TIMEOUT_MS);
        if (!keep) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
        slot.unregister();
      })();
      return stopping;
    },
    restart(whileStopped) {
      if (stopping !== undefined) return Promise.reject(new Error('slapd was stopped; it cannot be restarted'));
      restarting = (async () => {
        await slot.current()?.stop(STOP_TIMEOUT_MS);
        try {
          await whileStopped?.();
        } finally {
          // A stop() meanwhile wins: the instance stays down. slapd sets SO_REUSEADDR, so its own
          // old socket never blocks the port; a clash here means another process took the port
          // meanwhile, and the contract (same port) cannot be kept.
          if (stopping === undefined) slot.replace(await startServer(settings, ports, dir));
        }
      })();
      return restarting;
    },
  };
}

function checkInstallation(modules: string[]): void {
  requireCommand(SLAPD, SLAPD_PACKAGES);
  for (const schema of SYSTEM_SCHEMAS) requireFile(join(SYSTEM_SCHEMA_DIR, `${schema}.schema`), SLAPD_PACKAGES);
  for (const module of modules) requireFile(join(MODULE_DIR, module), SLAPD_PACKAGES);
}

function renderConfig(input: Settings & { dataDir: string; modules: string[]; extraConfig: string | undefined; accessRules: string | undefined; lastbind: SlapdOptions['lastbind'] }): string {
  for (const value of [input.suffix, input.dataDir, input.tls?.certFile ?? '', input.tls?.keyFile ?? '']) {
    if (/["\\\n]/.test(value)) throw new Error(`cannot write ${JSON.stringify(value)} into slapd.conf`);
  }
  const lines = [
    '# Written by test/support/slapd.ts for one throwaway test instance.',
    ...SYSTEM_SCHEMAS.map((name) => `include ${join(SYSTEM_SCHEMA_DIR, `${name}.schema`)}`),
    ...REPO_SCHEMAS.map((name) => `include ${join(REPO_SCHEMA_DIR, `${name}.schema`)}`),
    '# Without this, voPersonApplicationPassword;app-<label> is rejected as an unrecognized option.',
    'attributeoptions app-',
    `modulepath ${MODULE_DIR}`,
    ...input.modules.map((module) => `moduleload ${module}`),
    'password-hash {SSHA512}',
    ...(input.tls ? [`TLSCertificateFile "${input.tls.certFile}"`, `TLSCertificateKeyFile "${input.tls.keyFile}"`] : []),
    '',
    'database mdb',
    `suffix "${input.suffix}"`,
    `rootdn "${input.rootDn}"`,
    `rootpw ${input.rootPassword}`,
    `directory "${input.dataDir}"`,
    '# A sparse file: 1 GiB costs nothing on disk.',
    'maxsize 1073741824',
    'index objectClass eq',
    ...(input.lastbind ? ['overlay lastbind', `lastbind-precision ${Math.max(0, Math.floor(input.lastbind.precisionSeconds))}`] : []),
    ...(input.accessRules === undefined ? builtInAccessRules(input.rootDn) : [input.accessRules]),
    input.extraConfig ?? '',
    '',
  ];
  return lines.join('\n');
}

/** The rules every instance has unless `accessRules` replaces them. */
function builtInAccessRules(rootDn: string): string[] {
  return [
    'access to attrs=userPassword,voPersonApplicationPassword',
    `  by dn.exact="${rootDn}" write`,
    '  by anonymous auth',
    '  by * none',
    'access to *',
    `  by dn.exact="${rootDn}" write`,
    '  by users read',
    '  by anonymous auth',
  ];
}

const SLAPD_CONF_EXAMPLE = fileURLToPath(new URL('../../ldap/slapd.conf.example', import.meta.url));

/**
 * The `access to` rules of ldap/slapd.conf.example, as written there (each rule with its indented
 * continuation lines; comments and blank lines dropped), for `accessRules`: so the example itself is
 * what a test checks. They name the example's suffix (dc=example,dc=org), its provisioning account
 * (cn=tessera,<suffix>) and its services' subtrees and search accounts (wiki, mail). Throws when
 * the file has no rule.
 */
export async function exampleAccessRules(): Promise<string> {
  const rules: string[] = [];
  let inRule = false;
  for (const line of (await readFile(SLAPD_CONF_EXAMPLE, 'utf8')).split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^access\s+to\s/.test(line)) {
      rules.push(line);
      inRule = true;
    } else if (inRule && /^\s/.test(line)) {
      rules[rules.length - 1] += `\n${line}`; // slapd.conf: a line starting with white space continues the one above
    } else {
      inRule = false;
    }
  }
  if (rules.length === 0) throw new Error('ldap/slapd.conf.example has no access rule');
  return rules.join('\n');
}

async function startServer(settings: Settings, ports: Ports, dir: string): Promise<Daemon> {
  const url = `ldap://127.0.0.1:${ports.port}/`;
  const listen = ports.ldapsPort === undefined ? url : `${url} ldaps://127.0.0.1:${ports.ldapsPort}/`;
  const daemon = spawnDaemon({
    command: SLAPD,
    // -d keeps slapd in the foreground. Level `none` still prints the messages logged at any level
    // (config errors, "Address already in use"); `-d 0` would silence those too.
    args: ['-d', 'none', '-h', listen, '-f', settings.configPath],
    cwd: dir,
    stopSignal: 'SIGTERM',
    orphanSignal: 'SIGTERM',
  });
  try {
    await waitUntilBindable(daemon, url, settings);
    return daemon;
  } catch (error) {
    await daemon.stop(STOP_TIMEOUT_MS);
    if (/Address already in use/.test(daemon.output())) throw new PortClashError(daemon.output());
    throw error;
  }
}

async function waitUntilBindable(daemon: Daemon, url: string, settings: Settings): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (daemon.hasExited()) throw new Error(`slapd exited during start-up:\n${daemon.output()}`);
    try {
      await withRootClient(url, settings, async () => undefined);
      return;
    } catch (error) {
      lastError = error; // connection refused until slapd listens
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`slapd did not accept a bind within ${READY_TIMEOUT_MS} ms (${String(lastError)}):\n${daemon.output()}`);
}

/** Creates the suffix entry and ou=people under it. */
async function seedDirectory(url: string, settings: Settings): Promise<void> {
  await withRootClient(url, settings, async (client) => {
    await client.add(settings.suffix, suffixEntry(settings.suffix));
    await client.add(`ou=people,${settings.suffix}`, { objectClass: ['top', 'organizationalUnit'], ou: 'people' });
  });
}

function suffixEntry(suffix: string): Record<string, string | string[]> {
  const match = /^\s*(dc|o|ou)=([^,+]+)/i.exec(suffix);
  const type = match?.[1]?.toLowerCase();
  const value = match?.[2]?.trim() ?? '';
  switch (type) {
    case 'dc':
      return { objectClass: ['top', 'dcObject', 'organization'], dc: value, o: value };
    case 'o':
      return { objectClass: ['top', 'organization'], o: value };
    case 'ou':
      return { objectClass: ['top', 'organizationalUnit'], ou: value };
    default:
      throw new Error(`unsupported suffix ${suffix}: its first RDN must be dc=, o= or ou=`);
  }
}

async function withRootClient<T>(url: string, settings: Pick<Settings, 'rootDn' | 'rootPassword'>, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url, connectTimeout: 1_000, timeout: 5_000 });
  try {
    await client.bind(settings.rootDn, settings.rootPassword);
    return await use(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/**
 * Adds, as the rootdn, an account that can bind and nothing more (objectClasses applicationProcess
 * and simpleSecurityObject; `userPassword` a random password hashed as {SSHA}), e.g. a service's
 * search account `cn=wiki,ou=service-accounts,<suffix>` or Tessera's `cn=tessera,<suffix>`. A missing
 * parent is added first when it is an `ou=` directly under an existing entry. Returns the password.
 */
export async function addBindAccount(slapd: Pick<SlapdInstance, 'url' | 'rootDn' | 'rootPassword' | 'suffix'>, dn: string): Promise<string> {
  const match = /^cn=([^,+=\\]+),((ou=([^,+=\\]+),)?.+)$/i.exec(dn);
  if (!match) throw new Error(`addBindAccount: ${dn} is not cn=<name>,<parent>`);
  const [, cn, parent, , ou] = match;
  const password = randomBytes(18).toString('base64url');
  const salt = randomBytes(8);
  const ssha = `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
  await withRootClient(slapd.url, slapd, async (client) => {
    if (ou !== undefined) {
      try {
        await client.add(parent!, { objectClass: ['top', 'organizationalUnit'], ou });
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
      }
    }
    await client.add(dn, { objectClass: ['applicationProcess', 'simpleSecurityObject'], cn: cn!, userPassword: ssha });
  });
  return password;
}

const LDAPWHOAMI_PATH = '/usr/bin/ldapwhoami';

/**
 * Whether `ldapwhoami` (a real LDAP client, as a service would use) binds to the directory at
 * `url` as `dn` with `password`: true on success, false on invalidCredentials (result 49); any
 * other failure throws. Needs ldap-utils (fails saying so).
 */
export async function ldapwhoamiBinds(url: string, dn: string, password: string): Promise<boolean> {
  requireCommand(LDAPWHOAMI_PATH, 'ldap-utils');
  try {
    await promisify(execFile)(LDAPWHOAMI_PATH, ['-x', '-H', url, '-D', dn, '-w', password], { timeout: 10_000 });
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 49) return false;
    throw error;
  }
}


/** The accounts of ldap/slapd.conf.example, with their passwords (see `addExampleAccounts`). */
export interface ExampleAccounts {
  /** `cn=tessera,<suffix>`: the account Tessera's LDAP server binds as (write under people and services). */
  tessera: { dn: string; password: string };
  /** Per service short label, `cn=<label>,ou=service-accounts,<suffix>`: searches `ou=<label>,ou=services` only. */
  searchAccounts: Record<string, { dn: string; password: string }>;
}

const BOOTSTRAP_LDIF = fileURLToPath(new URL('../../ldap/bootstrap.ldif', import.meta.url));
const PASSWORD_PLACEHOLDER = '{SSHA512}replace-me';

/**
 * Adds, as the rootdn, the entries of ldap/bootstrap.ldif (those ldap/slapd.conf.example's access
 * rules name but nothing else creates: `ou=services`, `ou=service-accounts`, Tessera's account
 * `cn=tessera` and the mail and wiki search accounts; entries that exist, such as the suffix, are
 * left as they are), each `{SSHA512}replace-me` replaced by the hash of a random password; then a
 * search account `cn=<label>,ou=service-accounts,<suffix>` for each label the file lacks. The
 * directory's suffix must be the file's, dc=example,dc=org. Returns the accounts and passwords.
 */
export async function addExampleAccounts(slapd: Pick<SlapdInstance, 'url' | 'rootDn' | 'rootPassword' | 'suffix'>, serviceLabels: string[]): Promise<ExampleAccounts> {
  const passwords = new Map<string, string>();
  await withRootClient(slapd.url, slapd, async (client) => {
    for (const { dn, attributes } of parseLdif(await readFile(BOOTSTRAP_LDIF, 'utf8'))) {
      const userPassword = attributes.userPassword;
      if (userPassword?.[0] === PASSWORD_PLACEHOLDER) {
        const password = randomBytes(18).toString('base64url');
        const salt = randomBytes(8);
        attributes.userPassword = [`{SSHA512}${Buffer.concat([createHash('sha512').update(password).update(salt).digest(), salt]).toString('base64')}`];
        passwords.set(dn.toLowerCase(), password);
      }
      try {
        await client.add(dn, attributes);
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
        passwords.delete(dn.toLowerCase());
      }
    }
  });
  const account = (dn: string) => {
    const password = passwords.get(dn.toLowerCase());
    if (password === undefined) throw new Error(`${dn}: not added from ldap/bootstrap.ldif (it exists, or the file lacks it)`);
    return { dn, password };
  };
  const accounts: ExampleAccounts = { tessera: account(`cn=tessera,${slapd.suffix}`), searchAccounts: {} };
  for (const label of serviceLabels) {
    const dn = `cn=${label},ou=service-accounts,${slapd.suffix}`;
    accounts.searchAccounts[label] = passwords.has(dn.toLowerCase()) ? account(dn) : { dn, password: await addBindAccount(slapd, dn) };
  }
  return accounts;
}

/** The entries of an LDIF file of plain `attribute: value` lines (no continuation lines, base64 or change records). */
function parseLdif(text: string): Array<{ dn: string; attributes: Record<string, string[]> }> {
  const entries: Array<{ dn: string; attributes: Record<string, string[]> }> = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    if (lines.length === 0) continue;
    const pairs = lines.map((line) => {
      const match = /^([A-Za-z][\w;-]*):\s?(.*)$/.exec(line);
      if (!match || line.startsWith(' ')) throw new Error(`ldap/bootstrap.ldif: cannot read the line ${JSON.stringify(line)}`);
      return [match[1]!, match[2]!] as const;
    });
    const [first, ...rest] = pairs;
    if (first?.[0].toLowerCase() !== 'dn') throw new Error(`ldap/bootstrap.ldif: an entry starts with ${first?.[0]}, not dn`);
    const attributes: Record<string, string[]> = {};
    for (const [name, value] of rest) (attributes[name] ??= []).push(value);
    entries.push({ dn: first[1], attributes });
  }
  return entries;
}
