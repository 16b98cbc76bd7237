import type { Co } from '../cos/co.service.ts';
import { ActionButton, EmptyState, PostForm, Time } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { ConfigField } from './config-form.ts';
import type { Target } from './provisioner.ts';
import type { JobView } from './provisioning.service.ts';
import { MODE_LABELS, optionsOf, StateBadge, targetHref, targetsCrumb, type ReferenceOptions } from './provisioning-common.views.tsx';
import type { TargetNotice } from './provisioner.ts';

function SettingValue(props: { field: ConfigField | undefined; value: unknown; references: ReferenceOptions }) {
  const { field, value } = props;
  if (value === undefined || value === null || value === '') return <span class="muted">—</span>;
  if (field?.kind === 'password') return <span>set (hidden)</span>;
  if (typeof value === 'boolean') return <span>{value ? 'Yes' : 'No'}</span>;
  if (Array.isArray(value)) return <span>{value.length > 0 ? value.join(', ') : '—'}</span>;
  if (field?.kind === 'reference') {
    const label = optionsOf(props.references, field).find((o) => o.value === value)?.label;
    return <span>{label ?? String(value)}</span>;
  }
  return <code>{typeof value === 'object' ? JSON.stringify(value) : String(value)}</code>;
}

/** A failing job with the name of its person (undefined once the person is deleted). */
export interface FailureRow extends JobView {
  personName: string | undefined;
}

/** A target: its settings (secrets masked), its failures with retry buttons, reprovision and delete. */
export function TargetPage(props: {
  page: PageContext;
  co: Co;
  target: Target;
  typeLabel: string;
  fields: ConfigField[];
  groupName: string | undefined;
  failures: FailureRow[];
  references: ReferenceOptions;
  notices?: TargetNotice[];
  /** The provisioner's warnings about these settings (Provisioner.warnings). */
  warnings: string[];
}) {
  const { page, co, target } = props;
  const base = targetHref(co, target);
  const known = new Set(props.fields.map((f) => f.name));
  const extra = Object.keys(target.config).filter((k) => !known.has(k));
  return (
    <Layout page={page} title={target.description} crumbs={coCrumbs(co, targetsCrumb(co), { label: target.description })}>
      <div class="actions">
        <a class="button secondary" href={`${base}/edit`}>
          Edit
        </a>
        {target.mode !== 'disabled' && <ActionButton action={`/cos/${co.id}/reprovision`} csrfToken={page.csrfToken} label="Reprovision everyone to this target" hidden={{ targetId: target.id }} />}
        <a class="button secondary" href={`${base}/delete`}>
          Delete
        </a>
      </div>
      {props.warnings.map((warning) => (
        <p class="flash flash-error target-warning" role="note">
          <strong>Warning:</strong> {warning}
        </p>
      ))}
      <dl class="facts">
        <dt>Type</dt>
        <dd>{props.typeLabel}</dd>
        <dt>Mode</dt>
        <dd>{MODE_LABELS[target.mode]}</dd>
        <dt>Order</dt>
        <dd>{target.ordinal}</dd>
        <dt>Retries</dt>
        <dd>
          up to {target.maxRetries}, first after {target.retryIntervalSeconds} s
        </dd>
        <dt>Provisioning group</dt>
        <dd>{props.groupName ?? <span class="muted">Everyone in the CO</span>}</dd>
        {props.fields.map((f) => (
          <>
            <dt>{f.label}</dt>
            <dd>
              <SettingValue field={f} value={target.config[f.name]} references={props.references} />
            </dd>
          </>
        ))}
        {extra.map((k) => (
          <>
            <dt>{k}</dt>
            <dd>
              <SettingValue field={undefined} value={target.config[k]} references={props.references} />
            </dd>
          </>
        ))}
      </dl>

      {props.notices && props.notices.length > 0 && (
        <section aria-labelledby="checks">
          <h2 id="checks">Checks</h2>
          <ul class="notices">
            {props.notices.map((n) => (
              <li class={n.level === 'warning' ? 'flash flash-error' : 'flash flash-success'} role={n.level === 'warning' ? 'alert' : undefined}>
                {n.level === 'warning' ? 'Warning: ' : ''}
                {n.text}
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="failures">
        <h2 id="failures">Failures</h2>
        {props.failures.length === 0 ? (
          <EmptyState>
            <p>No failures.</p>
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  <th scope="col">State</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Error</th>
                  <th scope="col" class="hide-narrow">When</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.failures.map((f) => (
                  <tr>
                    <td>
                      {f.personName ? <a href={`/cos/${co.id}/people/${f.personId}/provisioning`}>{f.personName}</a> : <span class="muted">Deleted person {f.personId}</span>}
                      {f.kind === 'delete' && <small> (removal)</small>}
                    </td>
                    <td>
                      <StateBadge status={f.state === 'pending' ? 'pending' : 'failed'} />
                      {f.state === 'pending' && (
                        <>
                          <br />
                          <small>
                            next attempt <Time iso={f.runAfter} />
                          </small>
                        </>
                      )}
                    </td>
                    <td>{f.attempts}</td>
                    <td>
                      <span class="pre">{f.lastError ?? ''}</span>
                    </td>
                    <td class="hide-narrow">
                      <Time iso={f.updatedAt} />
                    </td>
                    <td>{f.state === 'failed' && <ActionButton action={`${base}/failures/${f.id}/retry`} csrfToken={page.csrfToken} label="Retry" />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Layout>
  );
}

/** Asks before a target is deleted. */
export function TargetDeletePage(props: { page: PageContext; co: Co; target: Target }) {
  const { page, co, target } = props;
  return (
    <Layout page={page} title={`Delete ${target.description}?`} crumbs={coCrumbs(co, targetsCrumb(co), { label: target.description, href: targetHref(co, target) }, { label: 'Delete' })}>
      <section class="danger-zone">
        <p>
          The target, its waiting and failed jobs and what Tessera recorded about it go. What it already wrote stays in the directory: to
          remove people from it first, set the target’s provisioning group to an empty group and reprovision.
        </p>
        <PostForm action={`${targetHref(co, target)}/delete`} csrfToken={page.csrfToken} class="inline">
          <button type="submit" class="danger">
            Delete target
          </button>
        </PostForm>{' '}
        <a href={targetHref(co, target)}>Cancel</a>
      </section>
    </Layout>
  );
}
