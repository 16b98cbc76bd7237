#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's test runner (through tsx).
// Extra arguments narrow the run to files whose path contains one of them.
// It builds dist/ first (scripts/build.js), so the tests that spawn the `tessera` command
// (bin/tessera.js runs the compiled code) test the sources as they are now.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts') || name.endsWith('.test.tsx')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = ['src', 'test']
  .flatMap((d) => findTests(d))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const built = spawnSync(process.execPath, [fileURLToPath(new URL('build.js', import.meta.url))], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
const concurrency = Math.max(1, availableParallelism());
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
