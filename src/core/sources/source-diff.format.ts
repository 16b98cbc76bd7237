import type { SourceDiff } from './source-reconcile.ts';

/**
 * A diff as lines of text (CLI), at most `limit` items per list: "people: 3 added, 1 changed, …"
 * then the items themselves ("+ 101 Zoë Ångström (status active)").
 */
export function formatDiff(diff: SourceDiff, options: { dryRun: boolean; limit: number }): string[] {
  const verb = options.dryRun ? 'would be ' : '';
  const lines = [
    `people: ${diff.people.added.length} ${verb}added, ${diff.people.changed.length} ${verb}changed, ${diff.people.suspended.length} ${verb}suspended, ${diff.people.unchanged} unchanged`,
    `groups: ${diff.groups.added.length} ${verb}added, ${diff.groups.changed.length} ${verb}changed, ${diff.groups.removed.length} ${verb}removed, ${diff.groups.unchanged} unchanged`,
    `memberships: ${diff.memberships.added.length} ${verb}added, ${diff.memberships.changed.length} ${verb}changed, ${diff.memberships.removed.length} ${verb}removed, ${diff.memberships.unchanged} unchanged`,
  ];
  const list = (sign: string, kind: string, items: Array<{ externalId: string; label: string; detail?: string }>) => {
    for (const item of items.slice(0, options.limit)) lines.push(`  ${sign} ${kind} ${item.externalId} ${item.label}${item.detail ? ` (${item.detail})` : ''}`);
    if (items.length > options.limit) lines.push(`  … and ${items.length - options.limit} more`);
  };
  list('+', 'person', diff.people.added);
  list('~', 'person', diff.people.changed);
  list('-', 'person', diff.people.suspended);
  list('+', 'group', diff.groups.added);
  list('~', 'group', diff.groups.changed);
  list('-', 'group', diff.groups.removed);
  list('+', 'membership', diff.memberships.added);
  list('~', 'membership', diff.memberships.changed);
  list('-', 'membership', diff.memberships.removed);
  return lines;
}
