// Test support for docs/integrations/: the recipes' configuration templates, real servers from
// Debian's packages run in the foreground on a random loopback port, and a Tessera whose tokens
// reach a throwaway slapd through its own LDAP targets.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { addMembership, createGroup } from '../../src/core/groups/group.service.ts';
import { groupInput, membershipInput } from '../../src/core/groups/group.schema.ts';
import { createTarget } from '../../src/core/provisioning/target.service.ts';
import { targetInput } from '../../src/core/provisioning/target.schema.ts';
import type { CoService } from '../../src/core/co-services/co-service.service.ts';
import type { PasswordScheme } from '../../src/plugins/service-tokens/hashing/password-schemes.ts';
import { buildService, enableTokens, tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { revokeServiceToken } from '../../src/plugins/service-tokens/tokens/token-revocation.service.ts';
import { createVerifierKey } from '../../src/plugins/service-tokens/verification/verification-keys.service.ts';
import type { SlapdInstance } from './slapd.ts';
import { findFreePort, onProcessExit, removeDirSync, spawnDaemon, type Daemon } from './system-packages.ts';
import { buildCo, buildPerson, type BuiltPerson, type TestApp } from './test-app.ts';
import { addLdapServer } from './ldap-servers.ts';

const execFileAsync = promisify(execFile);
const RECIPES = fileURLToPath(new URL('../../docs/integrations/', import.meta.url));
export const SUFFIX = 'dc=example,dc=org';
export const PEOPLE = `ou=people,${SUFFIX}`;
/** Where service entries go (ou=<label>,ou=services,…): the LDAP server may write here as well as under PEOPLE. */
export const SERVICES = `ou=services,${SUFFIX}`;

/**
 * A recipe's configuration file (path under docs/integrations/) with its `{{NAME}}` placeholders
 * filled. Throws when the file names a placeholder `values` lacks, or `values` one it never uses,
 * so a template and its test cannot drift apart.
 */
export async function renderRecipe(path: string, values: Record<string, string | number>): Promise<string> {
  const text = await readFile(join(RECIPES, path), 'utf8');
  const used = new Set<string>();
  const out = text.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`${path}: no value for {{${name}}}`);
    used.add(name);
    return String(values[name]);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`${path}: never uses ${unused.join(', ')}`);
  return out;
}

/** A temp directory the servers' unprivileged workers can enter; removed by `remove()` or at exit. */
export async function runDirectory(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `tessera-${prefix}-`));
  await chmod(path, 0o755);
  const unregister = onProcessExit(() => removeDirSync(path));
  return {
    path,
    remove: async () => {
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
      unregister();
    },
  };
}

/** Writes a file, readable by the servers' workers. */
export async function writeConfig(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o644 });
}

export interface ForegroundServer {
  port: number;
  daemon: Daemon;
  /** SIGTERM (SIGKILL after 10 s); resolves once the process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts a server in the foreground on a free loopback port. `configure(port)` writes its
 * configuration and returns the command line; the server is ready once `ready()` is true (by
 * default: a TCP connection to the port succeeds). A start that fails because the port was taken
 * meanwhile is retried on another port; any other early exit throws with the server's output.
 */
export async function startForegroundServer(opts: {
  name: string;
  cwd: string;
  configure: (port: number) => Promise<{ command: string; args: string[] }>;
  ready?: (port: number, daemon: Daemon) => Promise<boolean>;
  timeoutMs?: number;
}): Promise<ForegroundServer> {
  const ready = opts.ready ?? ((port) => tcpOpen(port));
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    const { command, args } = await opts.configure(port);
    const daemon = spawnDaemon({ command, args, cwd: opts.cwd, stopSignal: 'SIGTERM', orphanSignal: 'SIGKILL' });
    const unregister = onProcessExit(() => daemon.terminateSync());
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    for (;;) {
      if (daemon.hasExited()) break;
      if (await ready(port, daemon)) {
        return {
          port,
          daemon,
          stop: async () => {
            await daemon.stop(10_000);
            unregister();
          },
        };
      }
      if (Date.now() > deadline) {
        await daemon.stop(2_000);
        unregister();
        throw new Error(`${opts.name} did not become ready on port ${port}:\n${daemon.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await daemon.exited;
    unregister();
    if (/address already in use/i.test(daemon.output()) && attempt < 5) continue;
    throw new Error(`${opts.name} exited while starting:\n${daemon.output()}`);
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs a client program; resolves with its exit code and output (never rejects on a non-zero exit). */
export async function runClient(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd: opts.cwd, env: { ...(opts.env ?? process.env), LC_ALL: 'C' }, timeout: opts.timeoutMs ?? 30_000, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; killed?: boolean };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A CO whose people Tessera provisions into the slapd (the LDAP target), with eduPerson and voPerson. */
export interface DirectoryCo {
  coId: string;
  ldapTargetId: string;
}

/** `bindAs`: the account the LDAP target binds with (default: the rootdn, which no access rule limits). */
export async function buildDirectoryCo(t: TestApp, slapd: SlapdInstance, bindAs?: { dn: string; password: string }): Promise<DirectoryCo> {
  const co = await buildCo(t);
  const ldap = await createTarget(
    t.ctx,
    SYSTEM_ACTOR,
    co.id,
    targetInput.parse({
      provisionerType: 'ldap',
      description: 'Directory',
      ordinal: 10,
      retryIntervalSeconds: 30,
      config: { serverId: await addLdapServer(t.ctx, { url: slapd.url, bindDn: bindAs?.dn ?? slapd.rootDn, bindPassword: bindAs?.password ?? slapd.rootPassword, subtrees: [PEOPLE, SERVICES], coIds: [co.id] }), baseDn: PEOPLE, eduPerson: true, eduMember: true, voPerson: true },
    }),
  );
  return { coId: co.id, ldapTargetId: ldap.id };
}

/**
 * A token-enabled service of the CO. With `attribute`, a token target writes its tokens into the
 * directory: `userPassword`, or `voPersonApplicationPassword;app-<short label>`.
 */
export async function buildTokenService(
  t: TestApp,
  co: { coId: string; ldapTargetId?: string },
  opts: { name: string; shortLabel?: string; attribute?: 'userPassword' | 'voPersonApplicationPassword' | 'serviceEntries'; scheme?: PasswordScheme },
): Promise<CoService> {
  const service = await buildService(t, co.coId, { name: opts.name, ...(opts.shortLabel ? { shortLabel: opts.shortLabel } : {}) });
  await enableTokens(t, co.coId, service.id, { storageScheme: opts.scheme ?? 'SSHA512', maxTokensPerPerson: 3 });
  if (opts.attribute) {
    if (!co.ldapTargetId) throw new Error('a token target needs the CO’s LDAP target');
    await createTarget(
      t.ctx,
      SYSTEM_ACTOR,
      co.coId,
      targetInput.parse({
        provisionerType: 'ldap-service-token',
        description: `Tokens of ${opts.name}`,
        ordinal: 20,
        retryIntervalSeconds: 30,
        config: {
          ldapTargetId: co.ldapTargetId,
          serviceId: service.id,
          attribute: opts.attribute,
          // Service entries: under ou=<short label>,ou=services (serviceSubtree), made when missing.
          ...(opts.attribute === 'serviceEntries' ? { serviceBaseDn: serviceSubtree(service.shortLabel), createServiceSubtree: true } : {}),
        },
      }),
    );
  }
  return service;
}

/** The subtree of a service's entries in the test directory: `ou=<short label>,ou=services,<suffix>`. */
export function serviceSubtree(shortLabel: string): string {
  return `ou=${shortLabel},ou=services,${SUFFIX}`;
}

/**
 * A service's search account in the test directory, `cn=<short label>,ou=service-accounts,<suffix>`
 * as ldap/slapd.conf.example names them: it finds entries under the service's subtree before the
 * client binds as the one found. Add it with addBindAccount (test/support/slapd.ts).
 */
export function searchAccountDn(shortLabel: string): string {
  return `cn=${shortLabel},ou=service-accounts,${SUFFIX}`;
}

/** A person of the CO (login identifier of type uid, random) and, with `groups`, member of new CO groups of those names. */
export async function buildMember(t: TestApp, coId: string, groups: string[] = []): Promise<BuiltPerson> {
  const person = await buildPerson(t, coId);
  for (const name of groups) {
    const group = await createGroup(t.ctx, SYSTEM_ACTOR, coId, groupInput.parse({ name }));
    await addMembership(t.ctx, SYSTEM_ACTOR, coId, group.id, membershipInput.parse({ personId: person.id }));
  }
  return person;
}

/** Generates a token for the person and service and waits until the worker has provisioned it. */
export async function issueToken(t: TestApp, coId: string, personId: string, serviceId: string, label = 'device'): Promise<{ id: string; secret: string }> {
  const { token, secret } = await generateServiceToken(tokenContext(t), SYSTEM_ACTOR, coId, personId, { serviceId, label });
  await t.worker.drain();
  return { id: token.id, secret };
}

/** Revokes a token and waits until the worker has withdrawn it from the directory. */
export async function withdrawToken(t: TestApp, coId: string, personId: string, tokenId: string): Promise<void> {
  await revokeServiceToken(tokenContext(t), SYSTEM_ACTOR, coId, personId, tokenId);
  await t.worker.drain();
}

/** A verification key (`tsv_…`) for the service, as a CO admin makes one. */
export async function verificationKey(t: TestApp, coId: string, serviceId: string, label: string): Promise<string> {
  return (await createVerifierKey(tokenContext(t), SYSTEM_ACTOR, coId, serviceId, label)).key;
}

/** Makes `t` listen on a random loopback port (closed with the app); returns its base URL. */
export async function listenOnLoopback(t: TestApp): Promise<{ url: string; port: number }> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the test app has no TCP address');
  return { url: `http://127.0.0.1:${address.port}`, port: address.port };
}
