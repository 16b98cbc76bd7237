import type { Co } from '../cos/co.service.ts';
import type { ConfigField, ConfigReference } from './config-form.ts';
import type { Crumb } from '../web/layout.views.tsx';
import type { ProvisioningMode } from './provisioning.table.ts';

/** Shared by the provisioning pages: mode labels, option shape, links and the state badge. */

/** Each mode in words, for selects and the target pages. */
export const MODE_LABELS: Record<ProvisioningMode, string> = {
  automatic: 'Automatic — on every change',
  queue: 'Queue — on the worker’s next pass',
  queue_on_error: 'Queue on error — at once, queued when it fails',
  manual: 'Manual — only when reprovisioned',
  disabled: 'Disabled',
};

/** A choice of a select. */
export type Option = { value: string; label: string };

/** What reference settings may point at: the CO's objects by kind, and the provisioner's choices by setting name. */
export type ReferenceOptions = Record<Exclude<ConfigReference, 'choice'>, Option[]> & { choice: Record<string, Option[]> };

/** The options of one reference setting. */
export function optionsOf(references: ReferenceOptions, field: ConfigField): Option[] {
  const kind = field.references ?? 'target';
  return kind === 'choice' ? (references.choice[field.name] ?? []) : references[kind];
}

/** The targets list of a CO. */
export const targetsHref = (co: Co) => `/cos/${co.id}/provisioning-targets`;
/** A target's page. */
export const targetHref = (co: Co, target: { id: string }) => `${targetsHref(co)}/${target.id}`;
/** The breadcrumb back to the targets list. */
export const targetsCrumb = (co: Co): Crumb => ({ label: 'Provisioning targets', href: targetsHref(co) });

/** States in words and colours that exist in the style sheet (never colour alone). */
export function StateBadge(props: { status: string }) {
  const tone: Record<string, string> = { provisioned: 'active', succeeded: 'active', failed: 'failed', pending: 'pending', running: 'pending', removed: 'deleted', never: 'deleted', superseded: 'deleted' };
  return <span class={`badge badge-${tone[props.status] ?? 'new'}`}>{props.status}</span>;
}
