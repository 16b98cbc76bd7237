// Runs the `tessera` command's main() in the test process and captures what it prints.
import { main } from '../../src/cli/main.ts';

/** What one run of the command did: its exit code and the text it wrote to each stream. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tessera <argv…>` in this process with `env` added to the environment, capturing what it
 * prints. Only strings are captured: the test runner's own reporting (buffers) passes through.
 * With `onlyGivenTesseraVariables`, TESSERA_* variables of the test process are removed for the
 * run, so the command sees exactly the configuration in `env`. The environment is restored after.
 */
export async function runTessera(argv: string[], env: Record<string, string> = {}, options: { onlyGivenTesseraVariables?: boolean } = {}): Promise<CliRun> {
  const saved = { ...process.env };
  if (options.onlyGivenTesseraVariables) {
    for (const k of Object.keys(process.env)) if (k.startsWith('TESSERA_')) delete process.env[k];
  }
  Object.assign(process.env, env);
  const out = { stdout: '', stderr: '' };
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (stream: 'stdout' | 'stderr') =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      if (typeof chunk === 'string') {
        out[stream] += chunk;
        return true;
      }
      return (originals[stream] as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    return { code: await main(argv), ...out };
  } finally {
    process.stdout.write = originals.stdout;
    process.stderr.write = originals.stderr;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
