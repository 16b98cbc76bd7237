// Loaded with `node --import` ahead of bin/tessera.js by command-line tests (tests only): appends
// the recording provisioner to the bundled catalogue, which the command line resolves
// TESSERA_PLUGINS against, so a spawned `tessera` can run targets of that type. A run fails when
// the target's `failWith` setting says so; its outcome is read back from the database.
//
// The command runs the compiled code in dist/, while the recording provisioner is TypeScript that
// imports from src/. tsx loads it, and a resolve hook (compiled-sources.hooks.mjs) sends each of its
// imports of src/X.ts(x) to dist/X.js, so the provisioner and the command share one copy of every
// module (the catalogue it is added to, SYSTEM_ACTOR, the services).
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./compiled-sources.hooks.mjs', import.meta.url);
const { PLUGIN_FACTORIES } = await import('../../dist/plugins/catalogue.js');
const { createRecordingPlugin } = await import('./recording-provisioner.ts');
const { plugin } = createRecordingPlugin();
PLUGIN_FACTORIES.push(() => plugin);
