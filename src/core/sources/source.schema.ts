import { z } from 'zod';

/** A source's name: unique per CO, used on the command line. */
export const sourceName = z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'Letters, digits, ".", "_" and "-", starting with a letter or digit');

/** Adding a source: its kind, name and the kind's settings (checked by the kind; see source-kinds.ts). */
export const sourceAddInput = z.object({
  kind: z.string().trim().min(1),
  name: sourceName,
  settings: z.record(z.string(), z.unknown()).default({}),
});

/** Changing a source's settings: only those to change (checked by the kind; the others are kept). */
export const sourceSettingsInput = z.object({
  settings: z.record(z.string(), z.unknown()),
});

/** Running a source: a dry run writes nothing; `full` forces a full reconciliation. */
export const sourceRunInput = z.object({
  dryRun: z.boolean().default(false),
  full: z.boolean().default(false),
});

/** Terminating asks for an explicit confirmation. */
export const sourceTerminateInput = z.object({ confirm: z.literal(true) });

const countsSchema = z.object({
  mode: z.enum(['full', 'incremental']),
  dryRun: z.boolean(),
  people: z.object({ added: z.number(), changed: z.number(), suspended: z.number(), unchanged: z.number() }),
  groups: z.object({ added: z.number(), changed: z.number(), removed: z.number(), unchanged: z.number() }),
  memberships: z.object({ added: z.number(), changed: z.number(), removed: z.number(), unchanged: z.number() }),
  skipped: z.number(),
  ms: z.number(),
});

export const sourceResponse = z.object({
  id: z.string(),
  coId: z.string(),
  kind: z.string(),
  name: z.string(),
  /** The settings as the kind describes them, secrets hidden. */
  settings: z.string(),
  status: z.enum(['active', 'finalised', 'terminated']),
  lastRunAt: z.string().nullable(),
  lastFullRunAt: z.string().nullable(),
  lastRunCounts: countsSchema.nullable(),
  lastError: z.string().nullable(),
  progress: z.object({ phase: z.string(), done: z.number(), total: z.number(), at: z.string() }).nullable(),
  createdAt: z.string(),
});
export const sourceListResponse = z.object({ items: z.array(sourceResponse) });

const diffItem = z.object({ externalId: z.string(), label: z.string(), detail: z.string().optional() });
const items = z.array(diffItem);

/** A run's result; diff lists are cut to the first 1,000 items each (the counts are whole). */
export const sourceRunResponse = z.object({
  counts: countsSchema,
  diff: z.object({
    people: z.object({ added: items, changed: items, suspended: items, unchanged: z.number() }),
    groups: z.object({ added: items, changed: items, removed: items, unchanged: z.number() }),
    memberships: z.object({ added: items, changed: items, removed: items, unchanged: z.number() }),
  }),
  skipped: z.array(z.object({ kind: z.string(), externalId: z.string(), reason: z.string() })),
});

export const sourceFinaliseResponse = z.object({ counts: z.record(z.string(), z.number()) });
export const sourceTerminateResponse = z.object({ people: z.number(), groups: z.number(), memberships: z.number(), keptGroups: z.array(z.object({ name: z.string(), reason: z.string() })) });
