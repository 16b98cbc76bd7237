import type { SourceKind } from './source-kind.ts';

export type { ProgressReporter, SourceKind } from './source-kind.ts';

/**
 * The source kinds Tessera knows, loaded when first used (a connector's database driver is
 * loaded only by the processes that run it). Add a kind here, with its module under
 * src/core/sources/<kind>/ exporting `sourceKind`.
 */
const KINDS: Record<string, () => Promise<SourceKind>> = {
  'comanage-sql': async () => (await import('./comanage-sql/comanage-sql.kind.ts')).sourceKind,
  scim: async () => (await import('./scim/scim.kind.ts')).sourceKind,
};

/** The names of the known kinds. */
export function sourceKindNames(): string[] {
  return Object.keys(KINDS);
}

/** The kind named so, or undefined for an unknown one. */
export async function loadSourceKind(kind: string): Promise<SourceKind | undefined> {
  const load = KINDS[kind];
  return load ? load() : undefined;
}
