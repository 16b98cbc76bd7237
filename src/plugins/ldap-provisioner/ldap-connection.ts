// One bound LDAP connection per target for the length of a worker pass, shared by the people the
// pass handles (and by token provisioners writing into the same directory).
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { BusyError, Client, InvalidCredentialsError, NoSuchObjectError, PresenceFilter, ResultCodeError, UnavailableError, type Change, type Control, type Entry } from 'ldapts';
import { isNetworkFailure, markUnreachable, TargetUnreachableError } from '../../core/provisioning/target-unreachable.ts';
import type { ProvisionerSession } from '../../core/provisioning/provisioner.ts';
import { describeTlsError } from '../../core/tls/tls-error.ts';
import { caBundleOf, type LdapConfig } from './ldap-config.schema.ts';
import { describeResultCode } from './ldap-result-codes.ts';

export const CONNECT_TIMEOUT_MS = 5_000;
export const OPERATION_TIMEOUT_MS = 10_000;

/** The CA bundle and hostname check are optional: targets saved before they existed lack them (system CAs, checked). */
export type LdapConnectionSettings = Pick<LdapConfig, 'url' | 'startTls' | 'bindDn' | 'bindPassword'> & Partial<Pick<LdapConfig, 'tlsCaCertificates' | 'tlsVerifyHostname'>>;

/**
 * Node's TLS options for a target: its CA bundle (else the system's CAs), certificate checks always
 * on, the host name checked unless `tlsVerifyHostname` is false, and SNI with a DNS name (RFC 6066
 * §3 forbids an IP address there).
 */
export function tlsOptionsFor(settings: LdapConnectionSettings): ConnectionOptions {
  const host = new URL(settings.url).hostname.replace(/^\[|\]$/g, '');
  const ca = caBundleOf({ tlsCaCertificates: settings.tlsCaCertificates ?? [] });
  return {
    rejectUnauthorized: true,
    ...(isIP(host) ? {} : { servername: host }),
    ...(ca ? { ca } : {}),
    ...(settings.tlsVerifyHostname === false ? { checkServerIdentity: () => undefined } : {}),
  };
}

/**
 * A lazily opened, bound client for one worker pass. Opening is shared by concurrent callers, and
 * a connection the server closed is opened again on next use. A failure to connect or bind is
 * kept for the rest of the pass: with the server unreachable, the people of the pass fail at once
 * (and are retried with back-off) instead of each waiting for the connect timeout. Error messages
 * never contain the bind password.
 */
export class LdapConnection {
  private client: Client | undefined;
  private opening: Promise<Client> | undefined;
  private failure: Error | undefined;
  private closed = false;

  /** `onOpen` hears whether each attempt to connect and bind worked (directory reachability). */
  constructor(
    private readonly settings: LdapConnectionSettings,
    private readonly onOpen: (reachable: boolean) => void = () => undefined,
  ) {}

  private async bound(): Promise<Client> {
    if (this.closed) throw new Error('LDAP connection used after the worker pass ended');
    if (this.failure) throw this.failure;
    if (this.client?.isBound) return this.client;
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async open(): Promise<Client> {
    const stale = this.client;
    this.client = undefined;
    if (stale) await stale.unbind().catch(() => undefined);
    const { url, startTls, bindDn, bindPassword } = this.settings;
    const tlsOptions = tlsOptionsFor(this.settings);
    // autoRebind: a connection the server dropped between our check and an operation comes back bound
    // (ldapts cannot replay a bind over StartTLS; there the next check reopens instead).
    const client = new Client({ url, connectTimeout: CONNECT_TIMEOUT_MS, timeout: OPERATION_TIMEOUT_MS, autoRebind: !startTls, ...(/^ldaps:/i.test(url) ? { tlsOptions } : {}) });
    try {
      if (startTls) await client.startTLS(tlsOptions);
      await client.bind(bindDn, bindPassword);
    } catch (error) {
      await client.unbind().catch(() => undefined);
      this.onOpen(false);
      const message = `cannot connect to LDAP server ${url}${startTls ? ' with StartTLS' : ''}: ${describeLdapError(error)}`;
      // A server that cannot be reached holds the jobs (no retry counted); one that answers "no" fails them.
      this.failure =
        error instanceof InvalidCredentialsError
          ? new Error(`LDAP bind to ${url} as ${bindDn} failed: invalid credentials`)
          : isDirectoryDown(error)
            ? new TargetUnreachableError(message)
            : new Error(message);
      throw this.failure;
    }
    this.onOpen(true);
    if (this.closed) {
      await client.unbind().catch(() => undefined);
      throw new Error('LDAP connection used after the worker pass ended');
    }
    this.client = client;
    return client;
  }

  /** Runs one operation on the bound client; LDAP failures come back as LdapOperationError. */
  private async run<T>(operation: string, dn: string, use: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.bound();
    try {
      return await use(client);
    } catch (error) {
      const failure = new LdapOperationError(operation, dn, error);
      throw isDirectoryDown(error) ? markUnreachable(failure) : failure;
    }
  }

  /** Connects and binds (or reuses the bound client); throws what opening threw. For probes. */
  async check(): Promise<void> {
    await this.bound();
  }

  add(dn: string, attributes: Record<string, string[]>): Promise<void> {
    return this.run('add', dn, (c) => c.add(dn, attributes));
  }

  /** Reads one entry (a base search); undefined when it does not exist. `binary` attributes come as Buffers. */
  async read(dn: string, attributes: string[], binary: string[] = []): Promise<Entry | undefined> {
    try {
      const { searchEntries } = await this.run('read', dn, (c) => c.search(dn, { scope: 'base', filter: ANY_ENTRY, attributes, explicitBufferAttributes: binary }));
      return searchEntries[0];
    } catch (error) {
      if (ldapErrorOf(error) instanceof NoSuchObjectError) return undefined;
      throw error;
    }
  }

  modify(dn: string, changes: Change[]): Promise<void> {
    return this.run('modify', dn, (c) => c.modify(dn, changes));
  }

  /** Renames `dn`; `newName` is an RDN, or a full DN when the parent changes (see modifyDnTarget). */
  modifyDN(dn: string, newName: string): Promise<void> {
    return this.run('rename', dn, (c) => c.modifyDN(dn, newName));
  }

  /** Deletes `dn`; with `controls` (e.g. an Assertion control) only when they hold. */
  del(dn: string, controls?: Control): Promise<void> {
    return this.run('delete', dn, (c) => c.del(dn, controls));
  }

  /** Unbinds; always called by the session at the end of the pass. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.opening?.catch(() => undefined));
    this.client = undefined;
    if (client) await client.unbind().catch(() => undefined);
  }
}

/**
 * Whether an LDAP failure means the directory is down rather than refusing: a network failure, or
 * the server saying it is busy or unavailable (result codes 51 and 52, RFC 4511 §4.1.9).
 */
export function isDirectoryDown(error: unknown): boolean {
  return isNetworkFailure(error) || error instanceof BusyError || error instanceof UnavailableError;
}

/**
 * Connects and binds to the directory with these settings, then unbinds: resolves when it answers,
 * throws (a TargetUnreachableError when it is down) when not. Records the outcome in
 * `directoryReachability` under `targetId`.
 */
export async function probeDirectory(targetId: string, settings: LdapConnectionSettings): Promise<void> {
  const connection = new LdapConnection(settings, (up) => directoryReachability.set(targetId, { up, at: Date.now() }));
  try {
    await connection.check();
  } finally {
    await connection.close();
  }
}

/** Loopback hosts: a password sent in clear to one never leaves the machine. */
function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Warnings about a target's connection: a simple bind (DN and password) sent without TLS to another
 * machine (RFC 4513 §5.1.2: simple binds need confidentiality protection), and a host name that is
 * not checked. Empty when the settings are safe.
 */
export function connectionWarnings(settings: LdapConnectionSettings): string[] {
  const url = new URL(settings.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const tls = url.protocol === 'ldaps:' || settings.startTls;
  const warnings: string[] = [];
  if (!tls && !isLoopbackHost(host)) {
    warnings.push(`The bind password goes to ${host} without TLS: anyone on the network path can read it. Use an ldaps:// URL or StartTLS.`);
  }
  if (tls && settings.tlsVerifyHostname === false) {
    warnings.push('The host name in the certificate is not checked: any certificate from a trusted CA is accepted for this server.');
  }
  return warnings;
}

/** An LDAP operation that failed; the message names it and the entry, `ldapError` is ldapts' error. */
export class LdapOperationError extends Error {
  override name = 'LdapOperationError';
  constructor(
    operation: string,
    dn: string,
    readonly ldapError: unknown,
  ) {
    super(`LDAP ${operation} of ${dn} failed: ${describeLdapError(ldapError)}`);
  }
}

/** The ldapts error behind a failure, for `instanceof NoSuchObjectError` and the like. */
export function ldapErrorOf(error: unknown): unknown {
  return error instanceof LdapOperationError ? error.ldapError : error;
}

/** A one-line account of an LDAP or network failure, for the job's error: a result code by name and meaning (ldap-result-codes.ts). */
export function describeLdapError(error: unknown): string {
  const tls = describeTlsError(error);
  if (tls) return tls;
  if (error instanceof ResultCodeError) {
    return describeResultCode(error.code, error.message.replace(/\s*Code: 0x[0-9a-f]+$/i, ''));
  }
  const e = error as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' ? `${e.code}${e.message ? `: ${String(e.message)}` : ''}` : String(e?.message ?? error);
}

/** An entry as ldapts returns it, as lowercased attribute name → string values. */
export function valuesOf(entry: Record<string, unknown>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, raw] of Object.entries(entry)) {
    if (key === 'dn') continue;
    const list = Array.isArray(raw) ? raw : [raw];
    const values = list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
    const name = key.toLowerCase();
    out.set(name, [...(out.get(name) ?? []), ...values]);
  }
  return out;
}

/**
 * What this process last saw of each LDAP target's server, by target id: whether connecting and
 * binding worked, and when (ms since the epoch). Written by every connection `ldapConnectionFor`
 * opens (the LDAP and the token provisioners alike); read by the plugin's /metrics gauges.
 */
export const directoryReachability = new Map<string, { up: boolean; at: number }>();

/** `(objectClass=*)`, built once (a filter given as text is parsed again for every search). */
const ANY_ENTRY = new PresenceFilter({ attribute: 'objectClass' });

/** The connection fingerprints of frozen settings objects (computed once per object). */
const fingerprints = new WeakMap<LdapConnectionSettings, string>();

/**
 * The connection of the pass for these settings. Keyed by target and by the settings themselves,
 * so a target edited during a pass gets a connection with its new settings.
 */

export function ldapConnectionFor(session: ProvisionerSession, targetId: string, settings: LdapConnectionSettings): Promise<LdapConnection> {
  let fingerprint = fingerprints.get(settings);
  if (fingerprint === undefined) {
    fingerprint = createHash('sha256').update(JSON.stringify([settings.url, settings.startTls, settings.bindDn, settings.bindPassword, settings.tlsCaCertificates ?? [], settings.tlsVerifyHostname ?? true])).digest('base64url').slice(0, 16);
    // Settings that cannot change (a target's parsed settings, see asLdapTarget) keep theirs.
    if (Object.isFrozen(settings)) fingerprints.set(settings, fingerprint);
  }
  return session.get(
    `ldap:${targetId}:${fingerprint}`,
    async () => new LdapConnection(settings, (up) => directoryReachability.set(targetId, { up, at: Date.now() })),
    (connection) => connection.close(),
  );
}
