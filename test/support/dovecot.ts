// Dovecot 2.3 (Debian 12: dovecot-imapd, dovecot-ldap) in the foreground on a loopback port, with
// docs/integrations/dovecot.conf and one of its passdb recipes, and curl as the IMAP client.
// Shared by test/integrations/dovecot.test.ts and scripts/directory-demo.ts.
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { renderRecipe, runClient, startForegroundServer, writeConfig, type ForegroundServer } from './recipes.ts';
import { requireCommand, requireFile } from './system-packages.ts';

const DOVECOT = '/usr/sbin/dovecot';
const IMAP_LOGIN = '/usr/lib/dovecot/imap-login';
const LDAP_MODULE = '/usr/lib/dovecot/modules/auth/libauthdb_ldap.so';
export const CURL = '/usr/bin/curl';

/** Fails, naming the Debian package to install, when Dovecot's IMAP server, its LDAP module or curl is missing. */
export function requireDovecot(): void {
  requireCommand(DOVECOT, 'dovecot-imapd');
  requireCommand(IMAP_LOGIN, 'dovecot-imapd');
  requireFile(LDAP_MODULE, 'dovecot-ldap');
  requireCommand(CURL, 'curl');
}

/** The passdb recipes of docs/integrations/ and the `{{…}}` values each needs. */
export type DovecotPassdb =
  /** (a) auth_bind: search the service's subtree with its search account, bind as the entry found. */
  | { recipe: 'dovecot-ldap-bind.conf.ext'; values: { LDAP_URI: string; SEARCH_DN: string; SEARCH_PASSWORD: string; SERVICE_DN: string } }
  /** (b) Dovecot reads voPersonApplicationPassword;app-<SERVICE_LABEL> and checks the hash. */
  | { recipe: 'dovecot-ldap-app.conf.ext'; values: { LDAP_URI: string; PEOPLE_DN: string; LOOKUP_DN: string; LOOKUP_PASSWORD: string; SERVICE_LABEL: string } };

/**
 * Starts `dovecot -F` with docs/integrations/dovecot.conf and the passdb recipe, filled, written
 * into `dir` (with its run, state and mail directories; `dir` must exist and be enterable by
 * Dovecot's unprivileged users). Listens on 127.0.0.1:`port` (default: a free port). Needs root,
 * as Dovecot runs its logins and mail processes as other users. The caller stops it.
 */
export async function startDovecot(dir: string, passdb: DovecotPassdb, port?: number): Promise<ForegroundServer> {
  requireDovecot();
  await mkdir(join(dir, 'mail'), { recursive: true });
  await chmod(join(dir, 'mail'), 0o1777);
  const passdbArgs = join(dir, passdb.recipe);
  await writeConfig(passdbArgs, await renderRecipe(passdb.recipe, passdb.values));
  return startForegroundServer({
    name: `dovecot (${passdb.recipe})`,
    cwd: dir,
    ...(port === undefined ? {} : { port }),
    configure: async (chosen) => {
      const file = join(dir, 'dovecot.conf');
      await writeConfig(file, await renderRecipe('dovecot.conf', { RUN_DIR: dir, PORT: chosen, PASSDB_ARGS: passdbArgs }));
      return { command: DOVECOT, args: ['-F', '-c', file] };
    },
  });
}

/**
 * An IMAP login with curl (SASL PLAIN, as Dovecot offers it) and a LIST: true when logged in,
 * false when refused (curl's exit 67); anything else throws with Dovecot's last output.
 * `sourceAddress` (e.g. 127.0.1.7) sends the login from that loopback address: Dovecot delays
 * logins from an address that failed before (auth penalty, up to 15 s).
 */
export async function imapLogin(server: ForegroundServer, user: string, password: string, sourceAddress?: string): Promise<boolean> {
  const r = await runClient(CURL, ['-s', '-S', ...(sourceAddress ? ['--interface', sourceAddress] : []), '-u', `${user}:${password}`, `imap://127.0.0.1:${server.port}/`]);
  if (r.code === 0) return true;
  if (r.code === 67) return false;
  throw new Error(`curl exited ${r.code} (${user} ${server.port}): ${r.stderr}\n${server.daemon.output().slice(-2000)}`);
}
