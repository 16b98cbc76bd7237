// Module resolve hook for test code that runs inside the compiled `tessera` command (see
// recording-provisioner.preload.mjs): an import that resolves to a TypeScript source under src/
// (src/a/b.ts or .tsx) loads its compiled twin dist/a/b.js instead, so that test code and the
// command share one instance of each module. Everything else resolves as usual (through tsx).
const SRC = new URL('../../src/', import.meta.url).href;
const DIST = new URL('../../dist/', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const url = resolved.url.split('?')[0];
  if (!url.startsWith(SRC) || !/\.tsx?$/.test(url)) return resolved;
  return { url: DIST + url.slice(SRC.length).replace(/\.tsx?$/, '.js'), format: 'module', shortCircuit: true };
}
