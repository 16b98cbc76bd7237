import { defineErrorCodes } from '../errors/app-error.ts';

/** Error codes of sources (src/core/sources/). */
export const SOURCE_ERRORS = defineErrorCodes({
  SOURCE_NOT_FOUND: { kind: 'NOT_FOUND', message: 'No such source in this CO' },
  SOURCE_NAME_TAKEN: { kind: 'CONFLICT', message: 'A source with this name exists already in the CO' },
  SOURCE_KIND_UNKNOWN: { kind: 'BAD_REQUEST', message: 'Unknown source kind' },
  SOURCE_KIND_NOT_RUNNABLE: { kind: 'UNPROCESSABLE', message: 'This kind of source sends its changes itself; it cannot be run from Tessera' },
  SOURCE_NOT_ACTIVE: { kind: 'UNPROCESSABLE', message: 'The source is finalised or terminated' },
  SOURCE_RUN_FAILED: { kind: 'UNPROCESSABLE', message: 'The source could not be read' },
  SOURCE_RUN_BUSY: { kind: 'CONFLICT', message: 'A run of this source is under way' },
  SOURCE_OWNED: { kind: 'CONFLICT', message: 'A source owns this; change it at the source' },
});
