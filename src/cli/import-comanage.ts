// `tessera import comanage`: options, the run, and the report it prints.
import { parseArgs } from 'node:util';
import type { Registry } from '../app/registry.ts';
import { isPasswordScheme, PASSWORD_SCHEMES, type PasswordScheme } from '../plugins/service-tokens/hashing/password-schemes.ts';
import { importComanage, summary, tokenSchemeProblem, type CoReport } from '../import/comanage/comanage-import.service.ts';
import { ComanageSourceError, openComanageReader } from '../import/comanage/comanage-reader.ts';
import type { LdapTargetLink } from '../import/comanage/ldap-dn-seeding.ts';

/** The `--help` text. */
export const IMPORT_COMANAGE_HELP = `Usage: tessera import comanage (--database-url URL | --database-url-env VAR) [--co COMANAGE_CO_ID…]
       [--token-scheme ARGON2ID] [--passwords-service SHORT_LABEL] [--ldap-target CM_ID=TARGET_ID…] [--dry-run]

Migrates a COmanage Registry v4 database (its cm_ tables, on PostgreSQL or MySQL/MariaDB) into
Tessera: COs, CO People (status mapped), names, identifiers, email addresses, groups with their
memberships and validity windows, CO Services, history, the CoServiceToken plugin's token settings
and tokens, and (with --passwords-service) PasswordAuthenticator passwords.

  --database-url URL       postgres://user:pass@host:5432/registry or mysql://user:pass@host:3306/registry
  --database-url-env VAR   the same, read from an environment variable (keeps the password out of ps)
  --co ID                  a COmanage CO id to import (repeat for several; default: every CO)
  --token-scheme SCHEME    how legacy plaintext tokens are hashed on import (default ARGON2ID; the
                           legacy types are too short for a fast scheme, see README "Service tokens")
  --passwords-service L    PasswordAuthenticator passwords become tokens of the CO Services that use their
                           authenticator (cm_co_services.authenticator_id); those of an authenticator no
                           service uses go to this service (COmanage short label). {SSHA} and {CRYPT}
                           hashes are kept as they are
  --ldap-target CM=ID      keep the DNs COmanage's LDAP provisioner target CM (cm_co_ldap_provisioner_targets.id)
                           gave people: they seed the Tessera LDAP target ID (create it after the first
                           run), which then adopts those entries instead of adding new ones
  --dry-run                print what would be imported; import nothing

Only current rows are read (not deleted, not an archived copy). Each CO is imported in one
transaction: a CO that fails is left as it was. A re-run imports only what changed at the source
(by COmanage ids) and never duplicates. The report lists every row skipped and why.`;

/** Runs the command; returns the exit code (0 done, 1 a CO failed, 2 a usage or source error). */
export async function importComanageCommand(runtime: Registry, args: string[], print: (line: string) => void, fail: (message: string) => number): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'comanage') return fail('usage: tessera import comanage --database-url URL (see tessera import --help)');
  const { values } = parseArgs({
    args: rest,
    options: {
      'database-url': { type: 'string' },
      'database-url-env': { type: 'string' },
      co: { type: 'string', multiple: true },
      'token-scheme': { type: 'string' },
      'passwords-service': { type: 'string' },
      'ldap-target': { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
    },
  });
  const url = values['database-url-env'] ? process.env[values['database-url-env']] : values['database-url'];
  if (!url) return fail(values['database-url-env'] ? `the environment variable ${values['database-url-env']} is empty` : 'import comanage needs --database-url URL (see tessera import --help)');
  const coIds: number[] = [];
  for (const co of values.co ?? []) {
    if (!/^\d+$/.test(co)) return fail(`--co takes a COmanage CO id (a number), not "${co}"`);
    coIds.push(Number(co));
  }
  const scheme = (values['token-scheme'] ?? 'ARGON2ID').toUpperCase();
  if (!isPasswordScheme(scheme)) return fail(`unknown --token-scheme "${values['token-scheme']}"; one of ${PASSWORD_SCHEMES.filter((s) => s !== 'PLAINTEXT').join(', ')}`);
  const problem = tokenSchemeProblem(scheme);
  if (problem) return fail(problem);
  const dryRun = values['dry-run'] ?? false;
  const ldapTargets: LdapTargetLink[] = [];
  for (const link of values['ldap-target'] ?? []) {
    const m = /^(\d+)=([0-9a-f-]{36})$/.exec(link.trim());
    if (!m) return fail(`--ldap-target takes COMANAGE_LDAP_TARGET_ID=TESSERA_TARGET_ID (a number, "=", a Tessera target id), not "${link}"`);
    ldapTargets.push({ cmTargetId: Number(m[1]), tesseraTargetId: m[2]! });
  }

  const enabled = new Set(runtime.plugins.map((p) => p.plugin.id));
  if (!enabled.has('service-tokens')) return fail('the import writes token settings and tokens: enable the service-tokens plugin (TESSERA_PLUGINS)');
  if (ldapTargets.length > 0 && !enabled.has('ldap-provisioner')) return fail('--ldap-target needs the ldap-provisioner plugin (TESSERA_PLUGINS)');

  let reader;
  try {
    reader = await openComanageReader(url);
  } catch (error) {
    if (error instanceof ComanageSourceError) return fail(error.message);
    throw error;
  }
  try {
    const { migrate } = await import('./runtime.ts');
    // Like every command, it brings Tessera's schema up to date first (a dry run too: it compares with what is there).
    await migrate(runtime);
    const reports = await importComanage(runtime.database.db, runtime.ctx.clock, reader, { coIds, tokenScheme: scheme as PasswordScheme, ...(values['passwords-service'] ? { passwordsService: values['passwords-service'] } : {}), ldapTargets, dryRun }, (line) => process.stderr.write(`${line}\n`));
    for (const line of reportLines(reports, dryRun, reader.installation)) print(line);
    return reports.some((r) => r.error) ? 1 : 0;
  } catch (error) {
    if (error instanceof ComanageSourceError) return fail(error.message);
    throw error;
  } finally {
    await reader.close();
  }
}

/** The final report: per CO, counts per kind, notes, and every skipped row with its reason. */
export function reportLines(reports: readonly CoReport[], dryRun: boolean, installation: string): string[] {
  const lines = [dryRun ? `Dry run: nothing was written. What an import from ${installation} would do:` : `Imported from ${installation}:`];
  for (const r of reports) {
    lines.push('', `CO ${r.cmCoId} "${r.name}"${r.coId && !dryRun ? ` -> Tessera CO ${r.coId}` : ''}${r.error ? `: NOT IMPORTED (nothing of it was written): ${r.error}` : ''}`);
    if (r.error) continue;
    lines.push(`  ${'kind'.padEnd(14)}${'added'.padStart(8)}${'changed'.padStart(9)}${'same'.padStart(8)}${'removed'.padStart(9)}`);
    for (const [kind, c] of Object.entries(r.counts)) lines.push(`  ${kind.padEnd(14)}${String(c.added).padStart(8)}${String(c.changed).padStart(9)}${String(c.unchanged).padStart(8)}${String(c.removed).padStart(9)}`);
    for (const note of r.notes) lines.push(`  note: ${note}`);
    if (r.skipped.length > 0) lines.push(`  skipped (${r.skipped.length}):`);
    for (const s of r.skipped) lines.push(`    ${s.kind} ${s.cmId}: ${s.reason}`);
    lines.push(`  ${summary(r)}`);
  }
  if (!dryRun && reports.some((r) => r.coId && !r.error)) lines.push('', 'Next: add the CO\'s provisioning targets if needed, then run "tessera reprovision --co CO_ID" to provision what changed.');
  return lines;
}
