// docs/benchmarks.md is shared by every benchmark script: each one owns the text between its
// markers `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` and replaces only that, so
// the sections of the others (bench:verify, bench:generate, bench:provision, …) are kept.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPORT_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

const HEADER = `# Benchmarks

Measured figures of Tessera, written by the benchmark scripts themselves. Each script replaces its
own section (between its \`<!-- bench:NAME:start -->\` and \`<!-- bench:NAME:end -->\` markers) and
keeps the others, so run a script again to refresh its figures; do not edit them by hand.

| Script | What it measures |
|---|---|
| \`npm run bench:verify\` | Token verification: Tessera's verification API against OpenLDAP simple binds, with the same hashes |
| \`npm run bench:generate\` | Token generation: hash time per storage scheme, and the service call end to end on SQLite and PostgreSQL |
| \`npm run bench:provision\` | Provisioning to LDAP |
| \`npm run bench:reliability\` | Recovery after a crash of \`tessera serve\` and after a directory outage, and the time from a token's 201 to its first bind under sustained load |
| \`npm run bench:generate-bind\` | The time from a token's 201 to its first bind, one token at a time |
`;

/** Replaces (or appends) the section `name` of docs/benchmarks.md with `body`. */
export function writeSection(name: string, body: string, path = REPORT_PATH): void {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`invalid section name ${name}`);
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  let text = existsSync(path) ? readFileSync(path, 'utf8') : HEADER;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = `${text.slice(0, i)}${block}${text.slice(j + end.length)}`;
  else text = `${text.trimEnd()}\n\n${block}\n`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
