// Structure checks of the code base, run with the other tests by `npm test`. Each fails with the
// full list of offenders, one per line:
// - no import cycle among the modules reached from src/ (type-only imports count: a cycle of types
//   is still two modules that cannot be understood or changed one without the other);
// - no file under src/ over 400 lines;
// - no double cast through `unknown` in src/ or test/, and no table-name cast: a cast of a value to
//   the string literal type of a table name (the string 'service_token' cast to the type 'co'), or of
//   one string literal to another (the column 'person_id' cast to the type 'id'). Both lie to the
//   compiler about what a value or a table is, so it stops checking the query.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseCircular, parseDependencyTree, uniqueCirculars } from 'dpdm';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAX_LINES = 400;

/** Every file under `dir` (a path relative to the repository), as repository-relative paths with `/`. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out.sort();
}

const sourcesUnder = (dir: string) => filesUnder(dir).filter((f) => /\.(ts|tsx|mts|cts|js|mjs)$/.test(f));

/** The 1-based line of the character at `index` in `text`. */
function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** `file:line: excerpt` for every match of `pattern` (a global RegExp) in the given files. */
function matchesIn(files: string[], pattern: RegExp, keep: (match: RegExpExecArray) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const match of text.matchAll(pattern)) {
      if (!keep(match)) continue;
      // The match with up to 40 characters of context on each side, on one line.
      const from = Math.max(0, match.index - 40);
      const to = Math.min(text.length, match.index + match[0].length + 40);
      const excerpt = `${from > 0 ? '…' : ''}${text.slice(from, to).replace(/\s+/g, ' ').trim()}${to < text.length ? '…' : ''}`;
      out.push(`${file}:${lineAt(text, match.index)}: ${excerpt}`);
    }
  }
  return out;
}

/**
 * The strongly connected components of more than one module (Tarjan's algorithm): each is a group of
 * modules that all reach one another through imports, i.e. the files that take part in a cycle.
 */
function cyclicGroups(edges: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (edges.get(v) ?? []).includes(v)) groups.push(group.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

function failWith(title: string, offenders: string[]): void {
  if (offenders.length > 0) assert.fail(`${title} (${offenders.length}):\n  ${offenders.join('\n  ')}`);
}

/** The names of the tables the migrations under src/ create (core and plugins). */
function tableNames(): Set<string> {
  const names = new Set<string>();
  for (const file of sourcesUnder('src')) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/\.createTable\(\s*['"]([A-Za-z0-9_]+)['"]/g)) names.add(m[1]!);
  }
  return names;
}

describe('code structure', () => {
  it('has no import cycle under src/, type imports included', async () => {
    // dpdm parses each module (with its own TypeScript parser) and follows static imports,
    // `import type`, `export … from` and dynamic imports; `transform: false` keeps the type-only ones.
    const tree = await parseDependencyTree(['src/**/*.ts', 'src/**/*.tsx'], {
      cwd: ROOT,
      context: ROOT,
      transform: false,
      skipDynamicImports: false,
      exclude: /node_modules/,
    });
    const files = Object.keys(tree).filter((f) => f.startsWith(`src${sep}`) || f.startsWith('src/'));
    assert.ok(files.length >= sourcesUnder('src').filter((f) => /\.tsx?$/.test(f)).length, 'every TypeScript file under src/ was parsed');
    const name = (f: string) => relative(ROOT, join(ROOT, f)).split(sep).join('/');
    const edges = new Map<string, string[]>();
    for (const [file, deps] of Object.entries(tree)) edges.set(name(file), (deps ?? []).flatMap((d) => (d.id ? [name(d.id)] : [])));
    // The groups name every file that takes part in a cycle; the cycles below are one witness path each.
    const groups = cyclicGroups(edges).map((g) => `group of ${g.length}: ${g.join(', ')}`);
    const cycles = uniqueCirculars(parseCircular(tree)).map((cycle) => [...cycle, cycle[0]!].map(name).join(' -> '));
    failWith('import cycles: groups of files that import one another, then cycles found among them (a -> … -> a)', [...groups, ...cycles]);
  });

  it(`has no file under src/ over ${MAX_LINES} lines`, () => {
    const long = filesUnder('src')
      .map((file) => {
        const text = readFileSync(join(ROOT, file), 'utf8');
        const lines = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
        return { file, lines };
      })
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    failWith(`files over ${MAX_LINES} lines`, long);
  });

  it('has no cast through unknown in src/ or test/', () => {
    // Written as a pattern so that this file does not contain the phrase it looks for.
    const doubleCast = new RegExp(['\\bas', 'unknown', 'as\\b'].join('\\s+'), 'g');
    failWith('casts through unknown', matchesIn([...sourcesUnder('src'), ...sourcesUnder('test')], doubleCast));
  });

  it('has no table-name cast in src/ or test/', () => {
    const tables = tableNames();
    assert.ok(tables.has('co') && tables.has('service_token'), `the tables are read from the migrations (found: ${[...tables].join(', ')})`);
    // A cast to a string literal type that names a table, or one whose operand is a string literal.
    const cast = /(['"][A-Za-z0-9_.]+['"]\s+)?\bas\s+['"]([A-Za-z0-9_.]+)['"]/g;
    const offenders = matchesIn([...sourcesUnder('src'), ...sourcesUnder('test')], cast, (m) => m[1] !== undefined || tables.has(m[2]!));
    failWith('table-name casts (to the type of a table name, or of a string literal to another)', offenders);
  });
});
