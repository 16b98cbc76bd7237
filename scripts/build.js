#!/usr/bin/env node
// Compiles src/ to dist/ (what `npm start` and the `tessera` command run):
// 1. empties dist/, so a file moved or deleted in src/ leaves no stale copy behind;
// 2. runs tsc with tsconfig.build.json (tests excluded; `.ts`/`.tsx` import specifiers are
//    rewritten to `.js`; JSX becomes preact/jsx-runtime calls);
// 3. copies every other file under src/ that is not TypeScript (the web assets app.css and app.js,
//    read at run time next to the module that serves them) to the same place under dist/.
// Exits non-zero, with tsc's messages, when the sources do not compile.
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

/** Every file under `dir` (recursively) that tsc does not compile. */
function assetsUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...assetsUnder(path));
    else if (!/\.(ts|tsx|mts|cts)$/.test(entry.name)) out.push(path);
  }
  return out;
}

rmSync(DIST, { recursive: true, force: true });
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error('build: tsc reported errors (see above); dist/ is not to be trusted');
  process.exit(compiled.status ?? 1);
}
for (const file of assetsUnder(SRC)) {
  const target = join(DIST, relative(SRC, file));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(file, target);
}
