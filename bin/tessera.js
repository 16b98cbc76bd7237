#!/usr/bin/env node
// Entry point of the `tessera` command: runs the compiled JavaScript in dist/ (`npm run build`,
// which `npm ci` runs through the `prepare` script). No TypeScript loader at run time.
import { existsSync } from 'node:fs';

const MAIN = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(MAIN)) {
  process.stderr.write(
    'tessera: the compiled code is missing (dist/cli/main.js).\n' +
      'Build it with `npm run build` (`npm ci` builds it too), then run the command again.\n',
  );
  process.exit(1);
}
process.setSourceMapsEnabled(true);
const { main } = await import(MAIN.href);
process.exitCode = await main(process.argv.slice(2));
