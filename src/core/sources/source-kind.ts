import type { z } from 'zod';
import type { SourceSnapshot } from './source-records.ts';

/** How a run reports where it is: a phase ("reading people"), and done of total. */
export type ProgressReporter = (phase: string, done: number, total: number) => Promise<void>;

/**
 * One kind of source. Kinds that Tessera reads (`read`) can be run (`tessera source run`, "Run
 * now", nightly); kinds that send their changes themselves (SCIM) have no `read` and write through
 * the source writer from their own endpoints.
 */
export interface SourceKind {
  kind: string;
  description: string;
  /** The kind's settings; parsed when a source is added and whenever they are read back. */
  settings: z.ZodType<Record<string, unknown>>;
  /**
   * The kind's settings name a host Tessera connects to (a database URL). Only platform admins
   * may then add such a source or change its settings, as only they define LDAP servers: a CO
   * admin must not make Tessera open connections to hosts and ports of their choosing (probing
   * the network behind it, or reaching databases that trust its host). CO admins still see, run,
   * finalise and terminate it.
   */
  connectsOut?: boolean;
  /** The settings with secrets hidden (a database URL's password, a token), for pages and lists. */
  describe(settings: Record<string, unknown>): string;
  /**
   * Reads the source. `since` is the watermark of the last run (null: read everything, a full
   * run); a kind that cannot read changes alone returns a complete snapshot whatever `since` is.
   * Throws an Error with a clear message (unreachable, missing tables, wrong layout) before
   * anything is written.
   */
  read?(settings: Record<string, unknown>, options: { since: string | null; now: Date; progress: ProgressReporter }): Promise<SourceSnapshot>;
}
