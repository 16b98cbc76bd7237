import { parseArgs } from 'node:util';
import type { Registry } from '../app/registry.ts';

/** `tessera source add scim --help`. */
export const SCIM_ADD_HELP = `Usage: tessera source add scim --co CO_ID --name NAME [--relative-location] [--requests-per-minute N]

Adds a SCIM 2.0 source to a CO and prints its base URL (<public URL>/scim/v2/<source id>) and a
bearer token, shown this once (Tessera keeps only its hash). Give both to the SCIM client: SRAM,
Microsoft Entra ID, Okta (see "SCIM" in README.md). --relative-location writes meta.location
relative to the base URL (/Users/<id>), as SRAM needs; other clients want absolute URLs (the
default). --requests-per-minute limits the source's requests (default 12000, per server process).
More tokens, rotation and revocation: the source's page, or /api/v1/cos/CO_ID/sources/ID/scim-tokens.`;

/** `tessera source add scim …`; returns the exit code (2 for usage errors). Prints the secret once, to stdout. */
export async function addScimSourceCommand(runtime: Registry, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { co: { type: 'string' }, name: { type: 'string' }, 'relative-location': { type: 'boolean' }, 'requests-per-minute': { type: 'string' } } });
  if (!values.co || !values.name) {
    process.stderr.write('tessera: source add scim needs --co CO_ID and --name NAME (see tessera source add scim --help)\n');
    return 2;
  }
  const perMinute = values['requests-per-minute'];
  if (perMinute !== undefined && !/^\d{1,7}$/.test(perMinute)) {
    process.stderr.write('tessera: --requests-per-minute takes a whole number\n');
    return 2;
  }
  const { SYSTEM_ACTOR } = await import('../core/auth/actor.ts');
  const { addScimSource } = await import('../core/sources/scim/scim-source.service.ts');
  const { migrate } = await import('./runtime.ts');
  await migrate(runtime);
  const { source, baseUrl, secret } = await addScimSource(runtime.ctx, SYSTEM_ACTOR, values.co, {
    name: values.name,
    relativeLocation: values['relative-location'] === true,
    ...(perMinute !== undefined ? { requestsPerMinute: Number(perMinute) } : {}),
  });
  process.stdout.write(`SCIM source ${source.name} added to CO ${source.coId}.
Base URL: ${baseUrl}
Token:    ${secret}
The token is shown this once; Tessera keeps only its hash.
`);
  return 0;
}
