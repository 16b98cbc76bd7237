import { parseArgs } from 'node:util';
import { AppError } from '../core/errors/app-error.ts';
import type { Registry } from '../app/registry.ts';

// Each command imports the modules it needs when it runs (dynamic imports), so that `tessera --help`
// and a usage error load next to nothing and answer at once.

const HELP: Record<string, string> = {
  main: `Usage: tessera <command> [options]

Commands:
  serve              Run the web UI and the REST API (migrates an empty database first)
  migrate            Apply pending database migrations
  setup              Create the first platform administrator
  account            Set a local sign-in password for a username
  api-user create    Create an API user and print its key once
  worker             Run background workers only (provisioning, on PostgreSQL)
  reprovision        Reprovision a CO (or one person) with a progress bar
  backup             Copy the database to a file while Tessera runs
  restore            Restore a backup into an empty database
  source             Add, run, list, finalise or terminate sources (e.g. COmanage Registry)

Run "tessera <command> --help" for the options of a command.
Configuration comes from environment variables; see README.md.`,
  serve: `Usage: tessera serve

Serves the web UI and the REST API on TESSERA_HOST:TESSERA_PORT (default 127.0.0.1:8080).
An empty database is migrated first; pending migrations are applied on every start.`,
  migrate: `Usage: tessera migrate

Applies pending migrations of the core and of every enabled plugin, then exits.`,
  setup: `Usage: tessera setup --username NAME [--identifier-type TYPE] [--password PASS | --password-env VAR] [--given-name G] [--family-name F] [--email E]

Creates the platform CO if needed and a platform administrator who signs in with NAME, a login
identifier of TYPE (default uid). With a password, a local account is created (argon2id; uid
only); without one the admin signs in through the trusted header or OpenID Connect, whose
identifier type (TESSERA_TRUSTED_HEADER_IDENTIFIER_TYPE, TESSERA_OIDC_IDENTIFIER_TYPE) must be
TYPE, e.g. --identifier-type oidcsub with the provider's sub. Prefer --password-env so the
password stays out of the shell history. Running it again for an existing administrator resets
the password.`,
  account: `Usage: tessera account set-password --username NAME --password-env VAR

Creates a local sign-in account (argon2id), or sets its password. The username signs in as every CO
Person who has it as a login identifier. Meant for the embedded default and small deployments;
behind a proxy or an identity provider people sign in through the trusted header instead.`,
  'api-user': `Usage: tessera api-user create --username NAME [--co CO_ID] [--privileged]

Creates an API user in the CO (the platform CO when --co is omitted: such a user reaches every CO)
and prints its key once. Use it with HTTP Basic authentication on /api/v1.`,
  worker: `Usage: tessera worker

Runs provisioning jobs (and other background work of enabled plugins) without serving HTTP.
Several workers may run against one PostgreSQL database: a job is claimed by one of them only.`,
  reprovision: `Usage: tessera reprovision --co CO_ID [--person PERSON_ID] [--target TARGET_ID]

Reprovisions every person of the CO (or one person) to every target (or one target), running the
jobs in this process and showing the progress. Failed jobs stay visible on the target's page.`,
  backup: `Usage: tessera backup --to FILE

Writes a consistent copy of the database to FILE while Tessera keeps running: SQLite through its
online backup API, PostgreSQL through pg_dump (custom format; needs PostgreSQL's client programs).
FILE must not exist. Keep the secret key (TESSERA_SECRET_KEY_FILE) with the backup: without it the
LDAP bind passwords in it cannot be decrypted.`,
  source: 'See "tessera source --help".',
  restore: `Usage: tessera restore --from FILE

Restores a backup made by "tessera backup" into the configured database, which must be empty: a
SQLite file that does not exist yet, or a PostgreSQL database without tables. Start Tessera
afterwards with the secret key of the installation the backup comes from.`,
};

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function fail(message: string): number {
  process.stderr.write(`tessera: ${message}\n`);
  return 2;
}

/** Applies pending migrations of the core and of the enabled plugins; returns the names applied. */
async function migrate(runtime: Registry): Promise<string[]> {
  const { migrate: migrateRegistry } = await import('./runtime.ts');
  return migrateRegistry(runtime);
}

/** How long `tessera serve` may drain at SIGTERM; below systemd's TimeoutStopSec in deploy/tessera.service (30 s). */
const SHUTDOWN_TIMEOUT_MS = 25_000;

async function serve(runtime: Registry): Promise<number> {
  const { buildApp } = await import('../app/http-app.ts');
  const { hasPlatformAdmin } = await import('../core/auth/setup.service.ts');
  const applied = await migrate(runtime);
  const { app, ctx } = await buildApp(runtime);
  const workers = runtime.config.worker ? [runtime.startBackground()] : [];
  await app.listen({ host: runtime.config.host, port: runtime.config.port });
  if (applied.length > 0) app.log.info({ migrations: applied }, 'database migrated');
  if (!(await hasPlatformAdmin(ctx))) {
    print(`
Tessera is running at ${runtime.config.publicUrl}, but nobody can administer it yet.
Create the first platform administrator in another terminal:

  TESSERA_ADMIN_PASSWORD='choose-a-password' npx tessera setup --username admin --password-env TESSERA_ADMIN_PASSWORD --given-name Ada

then sign in at ${runtime.config.publicUrl}/sign-in as "admin".
`);
  }
  // SIGTERM (systemd's stop) and SIGINT drain: the listener closes, requests under way finish
  // (new ones on kept-alive connections get 503), the worker finishes its pass; then the database
  // closes. A second signal, or a drain longer than SHUTDOWN_TIMEOUT_MS, exits at once.
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    stopping = true;
    app.log.info({ signal }, 'shutting down: draining requests and background work');
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    await Promise.all([app.close(), ...workers.map((w) => w())]);
    await runtime.database.destroy();
    clearTimeout(timer);
    app.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));
  return new Promise<number>(() => {});
}

async function setup(runtime: Registry, args: string[]): Promise<number> {
  const { setupPlatformAdmin } = await import('../core/auth/setup.service.ts');
  const { values } = parseArgs({
    args,
    options: {
      username: { type: 'string' },
      'identifier-type': { type: 'string' },
      password: { type: 'string' },
      'password-env': { type: 'string' },
      'given-name': { type: 'string' },
      'family-name': { type: 'string' },
      email: { type: 'string' },
    },
  });
  if (!values.username) return fail('setup needs --username (see tessera setup --help)');
  const password = values['password-env'] ? process.env[values['password-env']] : values.password;
  if (values['password-env'] && !password) return fail(`the environment variable ${values['password-env']} is empty`);
  if (password !== undefined && password.length < 10) return fail('the password must have at least 10 characters');
  await migrate(runtime);
  const result = await setupPlatformAdmin(runtime.ctx, {
    username: values.username,
    ...(values['identifier-type'] ? { identifierType: values['identifier-type'] } : {}),
    ...(password ? { password } : {}),
    givenName: values['given-name'] ?? values.username,
    ...(values['family-name'] ? { familyName: values['family-name'] } : {}),
    ...(values.email ? { email: values.email } : {}),
  });
  print(result.created ? `Platform administrator "${values.username}" created.` : `Platform administrator "${values.username}" exists; ${password ? 'password reset' : 'nothing changed'}.`);
  if (password) print(`Sign in at ${runtime.config.publicUrl}/sign-in`);
  return 0;
}

async function account(runtime: Registry, args: string[]): Promise<number> {
  const { createLocalAccount, setLocalPassword } = await import('../core/auth/local-account.service.ts');
  const [sub, ...rest] = args;
  if (sub !== 'set-password') return fail('usage: tessera account set-password --username NAME --password-env VAR');
  const { values } = parseArgs({ args: rest, options: { username: { type: 'string' }, 'password-env': { type: 'string' } } });
  if (!values.username || !values['password-env']) return fail('account set-password needs --username and --password-env');
  const { forbiddenCharacterIn } = await import('../core/text.ts');
  const bad = forbiddenCharacterIn(values.username);
  if (bad) return fail(`the username contains a control character, ${bad}`);
  values.username = values.username.normalize('NFC');
  const password = process.env[values['password-env']];
  if (!password || password.length < 10) return fail(`the environment variable ${values['password-env']} must hold a password of at least 10 characters`);
  await migrate(runtime);
  const updated = await setLocalPassword(runtime.database.db, values.username, password);
  if (!updated) await createLocalAccount(runtime.database.db, runtime.ctx.clock, values.username, password);
  print(`${updated ? 'Password set' : 'Local account created'} for "${values.username}".`);
  return 0;
}

async function apiUser(runtime: Registry, args: string[]): Promise<number> {
  const { SYSTEM_ACTOR } = await import('../core/auth/actor.ts');
  const { createApiUser } = await import('../core/api-users/api-user.service.ts');
  const { apiUserInput } = await import('../core/api-users/api-user.schema.ts');
  const { findCo, findPlatformCo } = await import('../core/cos/co.repository.ts');
  const { parseInput } = await import('../core/http/validation.ts');
  const [sub, ...rest] = args;
  if (sub !== 'create') return fail('usage: tessera api-user create --username NAME [--co CO_ID] [--privileged]');
  const { values } = parseArgs({ args: rest, options: { username: { type: 'string' }, co: { type: 'string' }, privileged: { type: 'boolean' } } });
  await migrate(runtime);
  const co = values.co ? await findCo(runtime.database.db, values.co) : await findPlatformCo(runtime.database.db);
  if (!co) return fail(values.co ? `no CO with id ${values.co}` : 'no platform CO yet; run tessera setup first');
  const input = parseInput(apiUserInput, { username: values.username, privileged: values.privileged ?? false });
  const { apiUser: user, key } = await createApiUser(runtime.ctx, SYSTEM_ACTOR, co.id, input);
  print(`API user "${user.username}" created in CO "${co.name}"${user.privileged ? ' (privileged)' : ''}.`);
  print(`Key (shown once, store it now): ${key}`);
  return 0;
}

async function worker(runtime: Registry): Promise<number> {
  await migrate(runtime);
  const stops = [runtime.startBackground()];
  print(`Worker ${runtime.worker.id} running; stop it with Ctrl-C.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  for (const s of stops) await s();
  await runtime.close();
  return 0;
}

function progressLine(done: number, failed: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round(((done + failed) / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done + failed}/${total}${failed ? ` (${failed} failed)` : ''}`;
}

async function reprovision(runtime: Registry, args: string[]): Promise<number> {
  const { SYSTEM_ACTOR } = await import('../core/auth/actor.ts');
  const { batchProgress, requestReprovision } = await import('../core/provisioning/provisioning.service.ts');
  const { values } = parseArgs({ args, options: { co: { type: 'string' }, person: { type: 'string' }, target: { type: 'string' } } });
  if (!values.co) return fail('reprovision needs --co CO_ID (see tessera reprovision --help)');
  await migrate(runtime);
  const ctx = runtime.ctx;
  const batch = await requestReprovision(ctx, SYSTEM_ACTOR, values.co, { ...(values.person ? { personId: values.person } : {}), ...(values.target ? { targetId: values.target } : {}) });
  const tty = process.stdout.isTTY;
  let progress = batch;
  for (;;) {
    const ran = await runtime.worker.runOnce();
    progress = await batchProgress(ctx, SYSTEM_ACTOR, values.co, batch.batchId);
    if (tty) process.stdout.write(`\r${progressLine(progress.done, progress.failed, progress.total)}`);
    if (progress.pending === 0) break;
    if (ran === 0 && progress.retrying === progress.pending) {
      // What is left failed and waits for a retry later; the server's worker will take it up.
      if (tty) process.stdout.write('\n');
      print(`${progress.pending} job(s) failed and wait for a retry; the worker of \`tessera serve\` (or \`tessera worker\`) retries them.`);
      return 1;
    }
    if (ran === 0) await new Promise((r) => setTimeout(r, 200));
  }
  if (tty) process.stdout.write('\n');
  print(`${progressLine(progress.done, progress.failed, progress.total)}`);
  print(progress.failed ? `${progress.failed} job(s) failed; see the targets' pages for the errors.` : 'Reprovisioning finished.');
  return progress.failed ? 1 : 0;
}

/** `backup` and `restore` read the configuration only: they must not open (and so create) the database. */
async function backupOrRestore(command: 'backup' | 'restore', args: string[]): Promise<number> {
  const { loadConfig } = await import('../config/config.ts');
  const { backupDatabase, restoreDatabase } = await import('./backup.ts');
  const flag = command === 'backup' ? 'to' : 'from';
  try {
    const { values } = parseArgs({ args, options: { [flag]: { type: 'string' } } });
    const file = values[flag];
    if (typeof file !== 'string' || file === '') return fail(`${command} needs --${flag} FILE (see tessera ${command} --help)`);
    const config = loadConfig(process.env);
    const outcome = command === 'backup' ? await backupDatabase(config, process.env, file) : await restoreDatabase(config, file);
    if (outcome.code !== 0) return fail(outcome.lines.join('\n'));
    for (const line of outcome.lines) print(line);
    return 0;
  } catch (e) {
    return fail((e as Error).message);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    print(HELP.main!);
    return command ? 0 : 2;
  }
  if (command === 'source') {
    const { sourceHelp } = await import('./source.ts');
    if (sourceHelp(args)) return args.length === 0 ? 2 : 0;
  }
  if (!(command in HELP) || command === 'main') return fail(`unknown command "${command}"\n\n${HELP.main}`);
  if (args.includes('--help') || args.includes('-h')) {
    print(HELP[command]!);
    return 0;
  }
  if (command === 'backup' || command === 'restore') return backupOrRestore(command, args);
  const { openRuntime } = await import('./runtime.ts');
  let runtime: Registry;
  try {
    // A server's logs are its output (stdout); a command's output is what it prints, so its logs go to stderr.
    runtime = openRuntime(process.env, { logsTo: command === 'serve' || command === 'worker' ? 'stdout' : 'stderr' });
  } catch (e) {
    return fail((e as Error).message);
  }
  try {
    switch (command) {
      case 'serve':
        return await serve(runtime);
      case 'migrate': {
        const applied = await migrate(runtime);
        print(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
        return 0;
      }
      case 'setup':
        return await setup(runtime, args);
      case 'account':
        return await account(runtime, args);
      case 'api-user':
        return await apiUser(runtime, args);
      case 'worker':
        return await worker(runtime);
      case 'reprovision':
        return await reprovision(runtime, args);
      case 'source':
        return await (await import('./source.ts')).sourceCommand(runtime, args);
    }
    return fail(`unknown command "${command}"`);
  } catch (e) {
    if (e instanceof AppError) return fail(e.message);
    // An unknown or malformed option (node:util parseArgs) is a usage error, not a crash.
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) return fail(`${(e as Error).message} (see tessera ${command} --help)`);
    throw e;
  } finally {
    if (command !== 'serve') await runtime.database.destroy();
  }
}
