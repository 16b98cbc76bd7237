// Loaded with `node --import` ahead of bin/tessera.js by command-line tests (tests only): appends
// the recording provisioner to the bundled catalogue, which the command line resolves
// TESSERA_PLUGINS against, so a spawned `tessera` can run targets of that type. A run fails when
// the target's `failWith` setting says so; its outcome is read back from the database.
import { register } from 'tsx/esm/api';

register();
const { PLUGIN_FACTORIES } = await import('../../src/plugins/catalogue.ts');
const { createRecordingPlugin } = await import('./recording-provisioner.ts');
const { plugin } = createRecordingPlugin();
PLUGIN_FACTORIES.push(() => plugin);
