import { parseArgs } from 'node:util';
import type { Registry } from '../app/registry.ts';
import { SCIM_ADD_HELP } from './source-scim.ts';

/** `tessera source …` help, per subcommand. */
export const SOURCE_HELP: Record<string, string> = {
  source: `Usage: tessera source <add|set|run|list|finalise|terminate> [options]

Sources are registries that own some of a CO's people and groups (see "Sources" in README.md).
  add comanage-sql   Add a COmanage Registry SqlProvisioner target as a source of a CO
  add scim           Add a SCIM 2.0 endpoint (SRAM, Entra ID, Okta) to a CO; prints its URL and a token
  set NAME           Change a source's settings (a new database URL, prefix or layout)
  run NAME           Run a source: a full reconciliation or the changes since the last run
  list               List sources with their status, last run and counts
  finalise NAME      Make Tessera the owner of everything the source brought in
  terminate NAME     Remove everything the source brought in (asks for --yes)
Run "tessera source <subcommand> --help" for its options.`,
  add: `Usage: tessera source add comanage-sql --co CO_ID --name NAME (--database-url URL | --database-url-env VAR) [--prefix sp_] [--layout v4|v5]

Adds a source that reads the tables COmanage Registry's SqlProvisioner writes into a database
(PostgreSQL: postgres://user:password@host:port/db; MySQL/MariaDB: mysql://…). The URL, password
included, is stored encrypted with the secret key. Prefer --database-url-env so the password stays
out of the shell history. --prefix is the target's table prefix (default sp_); --layout is v4
(COmanage Registry 4.x, default) or v5 (Registry PE). Nothing is read until the first run.`,
  set: `Usage: tessera source set NAME [--co CO_ID] [--database-url URL | --database-url-env VAR] [--prefix P] [--layout v4|v5]

Changes the settings of the COmanage SQL source named NAME, e.g. a new URL after the database
password was rotated; settings not given are kept. The URL is stored encrypted; prefer
--database-url-env. What the source brought in is not touched; its next run reads with the new
settings. Recorded in history.`,
  run: `Usage: tessera source run NAME [--co CO_ID] [--dry-run] [--full]

Runs the source named NAME (give --co when several COs have a source of that name). The first run,
and every run with --full, is a full reconciliation: everything the source holds is compared with
what it brought in before, and people no longer there are suspended. Other runs read only what
changed since the last one (COmanage: rows with a newer "modified"). --dry-run prints what would
change (added, changed, suspended, removed, per kind) and writes nothing. Progress is shown while
it runs; the exit code is 1 when objects were skipped (their reasons are printed).`,
  list: `Usage: tessera source list [--co CO_ID]

Lists the sources of every CO (or of one), with their kind, status, last run, counts and last error.`,
  finalise: `Usage: tessera source finalise NAME [--co CO_ID]

Makes Tessera the owner of the people, groups and memberships the source brought in: they stay,
editable in Tessera, and the source stops (the end of a migration). Recorded in history.`,
  terminate: `Usage: tessera source terminate NAME [--co CO_ID] --yes

Removes what the source brought in: its people (with their tokens and directory entries), its
groups and memberships; a group CO Services are restricted to is kept as a local group. The source
stops for good. Without --yes it only says what it would remove. Recorded in history.`,
};

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function fail(message: string): number {
  process.stderr.write(`tessera: ${message}\n`);
  return 2;
}

/** Whether `args` ask for help; prints the subcommand's help when they do. */
export function sourceHelp(args: string[]): boolean {
  if (!args.includes('--help') && !args.includes('-h') && args.length > 0) return false;
  if (args[0] === 'add' && args[1] === 'scim') {
    out(SCIM_ADD_HELP);
    return true;
  }
  const sub = args[0] && SOURCE_HELP[args[0]] && args[0] !== 'source' ? args[0] : 'source';
  out(SOURCE_HELP[sub]!);
  return true;
}

/** `tessera source …`; returns the exit code (2 for usage errors). */
export async function sourceCommand(runtime: Registry, args: string[]): Promise<number> {
  const { SYSTEM_ACTOR } = await import('../core/auth/actor.ts');
  const service = await import('../core/sources/source.service.ts');
  const lifecycle = await import('../core/sources/source-lifecycle.service.ts');
  const { findSourcesNamed } = await import('../core/sources/source.repository.ts');
  const { migrate } = await import('./runtime.ts');
  const [sub, ...rest] = args;
  await migrate(runtime);
  const ctx = runtime.ctx;

  async function named(name: string | undefined, co: string | undefined) {
    if (!name) throw new Error(`source ${sub} needs the source's NAME (see tessera source ${sub} --help)`);
    const found = (await findSourcesNamed(ctx.db, name)).filter((s) => !co || s.coId === co);
    if (found.length === 0) throw new Error(`no source named "${name}"${co ? ` in CO ${co}` : ''}`);
    if (found.length > 1) throw new Error(`several COs have a source named "${name}"; add --co CO_ID (${found.map((s) => s.coId).join(', ')})`);
    return found[0]!;
  }

  try {
    switch (sub) {
      case 'add': {
        if (rest[0] === 'scim') return await (await import('./source-scim.ts')).addScimSourceCommand(runtime, rest.slice(1));
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { co: { type: 'string' }, name: { type: 'string' }, 'database-url': { type: 'string' }, 'database-url-env': { type: 'string' }, prefix: { type: 'string' }, layout: { type: 'string' } } });
        const kind = positionals[0];
        if (kind !== 'comanage-sql') return fail(`source add needs the kind: comanage-sql (see tessera source add --help)`);
        if (!values.co || !values.name) return fail('source add needs --co CO_ID and --name NAME (see tessera source add --help)');
        const url = values['database-url'] ?? (values['database-url-env'] ? process.env[values['database-url-env']] : undefined);
        if (!url) return fail('source add needs --database-url URL or --database-url-env VAR (a variable that is set)');
        const source = await service.addSource(ctx, SYSTEM_ACTOR, values.co, { kind, name: values.name, settings: { databaseUrl: url, ...(values.prefix !== undefined ? { prefix: values.prefix } : {}), ...(values.layout ? { layout: values.layout } : {}) } });
        out(`Source ${source.name} added to CO ${source.coId} (${await service.describeSource(ctx, source)}). Run it with: tessera source run ${source.name}`);
        return 0;
      }
      case 'set': {
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { co: { type: 'string' }, 'database-url': { type: 'string' }, 'database-url-env': { type: 'string' }, prefix: { type: 'string' }, layout: { type: 'string' } } });
        const source = await named(positionals[0], values.co);
        if (values['database-url-env'] !== undefined && !process.env[values['database-url-env']]) return fail(`source set: the variable ${values['database-url-env']} is not set`);
        const url = values['database-url'] ?? (values['database-url-env'] ? process.env[values['database-url-env']] : undefined);
        const changes = { ...(url !== undefined ? { databaseUrl: url } : {}), ...(values.prefix !== undefined ? { prefix: values.prefix } : {}), ...(values.layout !== undefined ? { layout: values.layout } : {}) };
        if (Object.keys(changes).length === 0) return fail('source set needs at least one of --database-url, --database-url-env, --prefix, --layout (see tessera source set --help)');
        const updated = await service.updateSourceSettings(ctx, SYSTEM_ACTOR, source.coId, source.id, changes);
        out(`Source ${updated.name} of CO ${updated.coId}: ${await service.describeSource(ctx, updated)}`);
        return 0;
      }
      case 'list': {
        const { values } = parseArgs({ args: rest, options: { co: { type: 'string' } } });
        const { listSourceRows } = await import('../core/sources/source.repository.ts');
        const sources = await listSourceRows(ctx.db, values.co);
        if (sources.length === 0) out('No sources.');
        for (const s of sources) {
          const c = s.lastRunCounts;
          out(`${s.name}\tCO ${s.coId}\t${s.kind}\t${s.status}\tlast run ${s.lastRunAt ?? 'never'}${c ? ` (${c.mode}: people +${c.people.added} ~${c.people.changed} -${c.people.suspended} =${c.people.unchanged}; groups +${c.groups.added} ~${c.groups.changed} -${c.groups.removed}; memberships +${c.memberships.added} ~${c.memberships.changed} -${c.memberships.removed}; skipped ${c.skipped})` : ''}${s.lastError ? `\tlast error: ${s.lastError}` : ''}`);
          out(`\t${await service.describeSource(ctx, s)}`);
        }
        return 0;
      }
      case 'run': {
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { co: { type: 'string' }, 'dry-run': { type: 'boolean' }, full: { type: 'boolean' } } });
        const source = await named(positionals[0], values.co);
        const tty = process.stderr.isTTY;
        let last = '';
        const result = await service.runSource(ctx, SYSTEM_ACTOR, source.coId, source.id, {
          dryRun: values['dry-run'] === true,
          full: values.full === true,
          onProgress: async (phase, done, total) => {
            const line = total > 0 ? `${phase}: ${done}/${total}` : phase;
            if (line === last) return;
            last = line;
            process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
          },
        });
        if (tty) process.stderr.write('\r\x1b[K');
        const { formatDiff } = await import('../core/sources/source-diff.format.ts');
        for (const line of formatDiff(result.diff, { dryRun: values['dry-run'] === true, limit: 50 })) out(line);
        out(`${values['dry-run'] ? 'Dry run (nothing written)' : 'Run'}: ${result.counts.mode}, ${(result.counts.ms / 1000).toFixed(1)} s.`);
        for (const s of result.skipped) out(`skipped ${s.kind} ${s.externalId}: ${s.reason}`);
        return result.skipped.length ? 1 : 0;
      }
      case 'finalise': {
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { co: { type: 'string' } } });
        const source = await named(positionals[0], values.co);
        const counts = await lifecycle.finaliseSource(ctx, SYSTEM_ACTOR, source.coId, source.id);
        out(`Source ${source.name} finalised: Tessera now owns ${counts.co_person} people, ${counts.co_group} groups and ${counts.co_group_member} memberships it brought in.`);
        return 0;
      }
      case 'terminate': {
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { co: { type: 'string' }, yes: { type: 'boolean' } } });
        const source = await named(positionals[0], values.co);
        if (!values.yes) {
          const people = await ctx.db.selectFrom('co_person').select((eb) => eb.fn.countAll().as('n')).where('co_id', '=', source.coId).where('source_id', '=', source.id).executeTakeFirstOrThrow();
          out(`This removes the ${Number(people.n)} people source ${source.name} brought in (with their tokens), its groups and memberships. Run again with --yes to do it.`);
          return 1;
        }
        const r = await lifecycle.terminateSource(ctx, SYSTEM_ACTOR, source.coId, source.id);
        out(`Source ${source.name} terminated: ${r.people} people, ${r.groups} groups and ${r.memberships} memberships removed.`);
        for (const k of r.keptGroups) out(`kept group ${k.name}: ${k.reason}`);
        return 0;
      }
      default:
        return fail(`unknown source subcommand "${sub ?? ''}"\n\n${SOURCE_HELP.source}`);
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) return fail(`${(e as Error).message} (see tessera source ${sub} --help)`);
    // AppErrors (with a status) are printed by main; a plain Error here is a usage problem (an unknown name).
    if (e instanceof Error && !('status' in e)) return fail(e.message);
    throw e;
  }
}
