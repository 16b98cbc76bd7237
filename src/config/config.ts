import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { addressEntryProblem } from '../core/http/address-list.ts';

/**
 * Configuration comes from environment variables (and optionally a JSON file named by
 * TESSERA_CONFIG whose keys are the same variable names). Environment wins over the file.
 */
/** The bundled plugins an out-of-the-box install runs. */
export const DEFAULT_PLUGINS = 'service-tokens,ldap-provisioner,ldap-service-token-provisioner';

/** An OpenID provider is reached over HTTPS, except one on a loopback address (development, tests). */
function httpsOrLoopback(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

/** The shape of an identifier type's name (uid, eppn, oidcsub, a CO's own type). */
const IDENTIFIER_TYPE_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

const schema = z.object({
  TESSERA_DATABASE_URL: z.string().min(1).default('data/tessera.sqlite'),
  TESSERA_HOST: z.string().default('127.0.0.1'),
  TESSERA_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  TESSERA_PUBLIC_URL: z.string().url().optional(),
  TESSERA_SECRET_KEY: z.string().min(32, 'TESSERA_SECRET_KEY must be at least 32 characters').optional(),
  TESSERA_SECRET_KEY_FILE: z.string().default('data/secret.key'),
  TESSERA_PLUGINS: z.string().default(DEFAULT_PLUGINS),
  TESSERA_TRUSTED_HEADER: z.string().optional(),
  TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE: z.string().regex(IDENTIFIER_TYPE_NAME, 'an identifier type name, e.g. eppn').optional(),
  TESSERA_TRUSTED_PROXIES: z
    .string()
    .default('')
    .superRefine((value, rc) => {
      for (const entry of list(value)) {
        const problem = addressEntryProblem(entry);
        if (problem) rc.addIssue({ code: 'custom', message: problem });
      }
    }),
  TESSERA_LOCAL_ACCOUNTS: z.enum(['on', 'off']).default('on'),
  TESSERA_SESSION_HOURS: z.coerce.number().min(0.1).max(24 * 30).default(12),
  TESSERA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TESSERA_WORKER: z.enum(['on', 'off']).default('on'),
  TESSERA_WORKER_LEASE_SECONDS: z.coerce.number().min(3).max(3600).default(15),
  TESSERA_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'TESSERA_SMTP_URL must start with smtp:// or smtps://').optional(),
  TESSERA_SMTP_CA_FILE: z.string().min(1).optional(),
  TESSERA_MAIL_FROM: z.string().min(3).default('Tessera <tessera@localhost>'),
  TESSERA_VERIFY_FAILURES_PER_IDENTIFIER: z.coerce.number().int().min(1).default(10),
  TESSERA_VERIFY_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
  TESSERA_OIDC_ISSUER: z
    .string()
    .url('TESSERA_OIDC_ISSUER must be the URL of the OpenID provider')
    .refine(httpsOrLoopback, 'TESSERA_OIDC_ISSUER must use https:// (http:// only for a provider on this machine)')
    .optional(),
  TESSERA_OIDC_CLIENT_ID: z.string().min(1).optional(),
  TESSERA_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  TESSERA_OIDC_USERNAME_CLAIM: z.string().min(1).default('sub'),
  TESSERA_OIDC_IDENTIFIER_TYPE: z.string().regex(IDENTIFIER_TYPE_NAME, 'an identifier type name, e.g. oidcsub').optional(),
  TESSERA_OIDC_NAME: z.string().min(1).max(80).default('OpenID Connect'),
  TESSERA_OIDC_SCOPES: z
    .string()
    .default('openid profile email')
    .refine((v) => v.split(/\s+/).includes('openid'), 'TESSERA_OIDC_SCOPES must include openid'),
});

/** Sign-in through an OpenID provider (authorization code flow with PKCE); on when an issuer is set. */
export interface OidcConfig {
  /** The issuer identifier; a URL ending in /.well-known/openid-configuration is accepted too. */
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE only). */
  clientSecret: string | undefined;
  /** The ID token (or UserInfo) claim whose value is the username, matched to login identifiers. */
  usernameClaim: string;
  /** The identifier type the claim's values are: only login identifiers of this type match (`oidcsub` for `sub`). */
  identifierType: string;
  /** What the sign-in button calls the provider: "Sign in with <name>". */
  name: string;
  scopes: string[];
}

export interface Config {
  databaseUrl: string;
  host: string;
  port: number;
  publicUrl: string;
  /** Used for CSRF tokens and to encrypt secrets at rest (LDAP bind passwords). */
  secretKey: string;
  plugins: string[];
  trustedHeader: string | undefined;
  /** The identifier type the trusted header's values are (e.g. `eppn`); set whenever `trustedHeader` is. */
  trustedHeaderIdentifierType: string | undefined;
  trustedProxies: string[];
  localAccounts: boolean;
  sessionHours: number;
  secureCookies: boolean;
  logLevel: string;
  worker: boolean;
  /**
   * How long a worker's claim on a job lasts, in seconds, renewed every third of it while the
   * worker runs; jobs of a worker whose process on this host is gone are taken back at once.
   */
  workerLeaseSeconds: number;
  /** Failed token verifications allowed per minute, per (service, identifier) and per address. */
  verifyFailuresPerIdentifier: number;
  verifyFailuresPerAddress: number;
  /** Notices are emailed when set; without it they appear in the web UI only. */
  smtpUrl: string | undefined;
  /** PEM CA certificates for the SMTP relay's certificate (read from TESSERA_SMTP_CA_FILE); unset: the system's CAs. */
  smtpCa: string | undefined;
  mailFrom: string;
  oidc: OidcConfig | undefined;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Without TESSERA_SECRET_KEY, a key is made once and kept in a file beside the database, so the
 * embedded default works out of the box and survives restarts.
 */
function loadOrCreateSecretKey(path: string, problems: string[]): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const key = randomBytes(32).toString('base64url');
    try {
      // 'wx': when two processes start at once, the second keeps the first one's key.
      writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
      return key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  let key = '';
  try {
    key = readFileSync(path, 'utf8').trim();
  } catch (e) {
    problems.push(`TESSERA_SECRET_KEY_FILE: cannot read ${path}: ${(e as Error).message}`);
    return key;
  }
  if (key.length < 32) {
    problems.push(`TESSERA_SECRET_KEY_FILE: ${path} holds no key of at least 32 characters; remove the file to have a new key made, or set TESSERA_SECRET_KEY`);
  }
  return key;
}

/** The PEM text of the SMTP relay's CA file; a problem when it cannot be read or holds no certificate. */
function readCaFile(path: string | undefined, problems: string[]): string | undefined {
  if (path === undefined) return undefined;
  try {
    const pem = readFileSync(path, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) problems.push(`TESSERA_SMTP_CA_FILE: ${path} holds no PEM certificate`);
    return pem;
  } catch (e) {
    problems.push(`TESSERA_SMTP_CA_FILE: cannot read ${path}: ${(e as Error).message}`);
    return undefined;
  }
}

/** Thrown by loadConfig: every problem of the configuration, one line each, so one start shows them all. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/**
 * Reads and checks the configuration. Throws a ConfigurationError listing every problem at once
 * (each variable's, the files' it names, and the rules between variables), so an operator fixes
 * them in one round instead of one per start.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let fileValues: Record<string, string> = {};
  if (env.TESSERA_CONFIG) {
    try {
      fileValues = JSON.parse(readFileSync(env.TESSERA_CONFIG, 'utf8')) as Record<string, string>;
    } catch (e) {
      throw new ConfigurationError([`TESSERA_CONFIG: cannot read ${env.TESSERA_CONFIG} as JSON: ${(e as Error).message}`]);
    }
  }
  const merged: Record<string, string | undefined> = { ...fileValues };
  for (const [k, v] of Object.entries(env)) if (k.startsWith('TESSERA_') && v !== undefined && v !== '') merged[k] = v;
  const parsed = schema.safeParse(merged);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (merged.TESSERA_OIDC_ISSUER && !merged.TESSERA_OIDC_CLIENT_ID) problems.push('TESSERA_OIDC_CLIENT_ID: required when TESSERA_OIDC_ISSUER is set');
  // Each sign-in method names people in one identifier type only, so a value someone may choose at
  // one source (a preferred_username, a header) can never be taken for another type's (a local uid).
  if (merged.TESSERA_TRUSTED_HEADER && !merged.TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE) {
    problems.push('TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE: required when TESSERA_TRUSTED_HEADER is set: the identifier type its values are (e.g. eppn; uid keeps matching the uid identifiers setup makes)');
  }
  if (merged.TESSERA_OIDC_ISSUER && merged.TESSERA_OIDC_USERNAME_CLAIM && merged.TESSERA_OIDC_USERNAME_CLAIM !== 'sub' && !merged.TESSERA_OIDC_IDENTIFIER_TYPE) {
    problems.push(`TESSERA_OIDC_IDENTIFIER_TYPE: required when TESSERA_OIDC_USERNAME_CLAIM is not sub: the identifier type the claim ${merged.TESSERA_OIDC_USERNAME_CLAIM}'s values are (e.g. eppn)`);
  }
  const smtpCa = readCaFile(merged.TESSERA_SMTP_CA_FILE, problems);
  if (!parsed.success) throw new ConfigurationError(problems);
  const c = parsed.data;
  const secretKey = c.TESSERA_SECRET_KEY ?? loadOrCreateSecretKey(c.TESSERA_SECRET_KEY_FILE, problems);
  if (problems.length > 0) throw new ConfigurationError(problems);
  const publicUrl = c.TESSERA_PUBLIC_URL ?? `http://localhost:${c.TESSERA_PORT}`;
  return {
    databaseUrl: c.TESSERA_DATABASE_URL,
    host: c.TESSERA_HOST,
    port: c.TESSERA_PORT,
    publicUrl,
    secretKey,
    plugins: list(c.TESSERA_PLUGINS),
    trustedHeader: c.TESSERA_TRUSTED_HEADER,
    trustedHeaderIdentifierType: c.TESSERA_TRUSTED_HEADER ? c.TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE : undefined,
    trustedProxies: list(c.TESSERA_TRUSTED_PROXIES),
    localAccounts: c.TESSERA_LOCAL_ACCOUNTS === 'on',
    sessionHours: c.TESSERA_SESSION_HOURS,
    secureCookies: publicUrl.startsWith('https://'),
    logLevel: c.TESSERA_LOG_LEVEL,
    worker: c.TESSERA_WORKER === 'on',
    workerLeaseSeconds: c.TESSERA_WORKER_LEASE_SECONDS,
    verifyFailuresPerIdentifier: c.TESSERA_VERIFY_FAILURES_PER_IDENTIFIER,
    verifyFailuresPerAddress: c.TESSERA_VERIFY_FAILURES_PER_ADDRESS,
    smtpUrl: c.TESSERA_SMTP_URL,
    smtpCa,
    mailFrom: c.TESSERA_MAIL_FROM,
    oidc: c.TESSERA_OIDC_ISSUER
      ? {
          issuer: c.TESSERA_OIDC_ISSUER,
          clientId: c.TESSERA_OIDC_CLIENT_ID!,
          clientSecret: c.TESSERA_OIDC_CLIENT_SECRET,
          usernameClaim: c.TESSERA_OIDC_USERNAME_CLAIM,
          identifierType: c.TESSERA_OIDC_IDENTIFIER_TYPE ?? 'oidcsub',
          name: c.TESSERA_OIDC_NAME,
          scopes: c.TESSERA_OIDC_SCOPES.split(/\s+/).filter(Boolean),
        }
      : undefined,
  };
}
