import type { Co } from '../cos/co.service.ts';
import type { Person } from '../people/person.repository.ts';
import { ActionButton, Checkbox, EmptyState, FormErrors, messageFor, PostForm, SelectField, TextArea, TextField, Time, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout, type Crumb } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { ConfigField, ConfigReference } from './config-form.ts';
import type { Target } from './provisioner.ts';
import type { Batch, JobView, PersonTargetState } from './provisioning.service.ts';
import { PROVISIONING_MODES, type ProvisioningMode } from './provisioning.table.ts';

export const MODE_LABELS: Record<ProvisioningMode, string> = {
  automatic: 'Automatic — on every change',
  queue: 'Queue — on the worker’s next pass',
  queue_on_error: 'Queue on error — at once, queued when it fails',
  manual: 'Manual — only when reprovisioned',
  disabled: 'Disabled',
};

export type Option = { value: string; label: string };

const targetsHref = (co: Co) => `/cos/${co.id}/provisioning-targets`;
const targetHref = (co: Co, target: { id: string }) => `${targetsHref(co)}/${target.id}`;
const targetsCrumb = (co: Co): Crumb => ({ label: 'Provisioning targets', href: targetsHref(co) });

/** States in words and colours that exist in the style sheet (never colour alone). */
function StateBadge(props: { status: string }) {
  const tone: Record<string, string> = { provisioned: 'active', succeeded: 'active', failed: 'failed', pending: 'pending', running: 'pending', removed: 'deleted', never: 'deleted', superseded: 'deleted' };
  return <span class={`badge badge-${tone[props.status] ?? 'new'}`}>{props.status}</span>;
}

export interface TargetRow {
  target: Target;
  typeLabel: string;
  groupName: string | undefined;
  failed: number;
  retrying: number;
}

export function TargetsListPage(props: { page: PageContext; co: Co; rows: TargetRow[]; canCreate: boolean }) {
  const { page, co, rows } = props;
  return (
    <Layout page={page} title="Provisioning targets" crumbs={coCrumbs(co, { label: 'Provisioning targets' })}>
      <p>
        Targets receive the CO’s people — an LDAP directory, for example. They run in their order for each person, and in reverse
        order when a person is removed.
      </p>
      {rows.length === 0 ? (
        <EmptyState>
          {props.canCreate ? (
            <p>
              No provisioning targets yet — <a href={`${targetsHref(co)}/new`}>add the first one</a>.
            </p>
          ) : (
            <p>No provisioning targets, and no provisioner type is enabled. Add a provisioner plugin (e.g. ldap-provisioner) to TESSERA_PLUGINS.</p>
          )}
        </EmptyState>
      ) : (
        <>
          <div class="actions">
            {props.canCreate && (
              <a class="button" href={`${targetsHref(co)}/new`}>
                New target
              </a>
            )}
            <ActionButton action={`/cos/${co.id}/reprovision`} csrfToken={page.csrfToken} label="Reprovision all" confirm={`Reprovision every person of ${co.name} to every enabled target?`} />
          </div>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Description</th>
                  <th scope="col">Type</th>
                  <th scope="col" class="hide-narrow">Mode</th>
                  <th scope="col">Failures</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr>
                    <td>{r.target.ordinal}</td>
                    <td>
                      <a href={targetHref(co, r.target)}>{r.target.description}</a>
                      {r.groupName && (
                        <>
                          <br />
                          <small>Members of {r.groupName} only</small>
                        </>
                      )}
                    </td>
                    <td>{r.typeLabel}</td>
                    <td class="hide-narrow">{MODE_LABELS[r.target.mode]}</td>
                    <td>
                      {r.failed + r.retrying === 0 ? (
                        <span class="muted">0</span>
                      ) : (
                        <a href={`${targetHref(co, r.target)}#failures`}>
                          {r.failed} failed{r.retrying > 0 ? `, ${r.retrying} retrying` : ''}
                        </a>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Layout>
  );
}

/** Step one of a new target: its type decides which settings the form asks for. */
export function TargetTypePage(props: { page: PageContext; co: Co; types: Option[]; form: FormState }) {
  const { page, co } = props;
  return (
    <Layout page={page} title="New provisioning target" crumbs={coCrumbs(co, targetsCrumb(co), { label: 'New target' })}>
      <form method="get" action={`${targetsHref(co)}/new`} class="narrow">
        <FormErrors form={props.form} />
        <SelectField form={props.form} name="plugin" label="Type" options={props.types} required hint="What kind of system the target is. The next step asks for its settings." />
        <div class="actions">
          <button type="submit">Continue</button>
          <a href={targetsHref(co)}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}

function ChoicesField(props: { form: FormState; field: ConfigField }) {
  const { form, field } = props;
  const v = form.values[field.formName];
  const chosen = new Set((Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).map(String));
  const message = messageFor(form, field.formName);
  return (
    <fieldset class={message ? 'invalid' : undefined}>
      <legend>{field.label}</legend>
      {field.hint && <small>{field.hint}</small>}
      {field.options.map((option) => {
        const id = `f-${field.formName}-${option}`;
        return (
          <div class="field checkbox">
            <label for={id}>
              <input id={id} type="checkbox" name={field.formName} value={option} checked={chosen.has(option)} /> {option}
            </label>
          </div>
        );
      })}
      {message && <small id={`f-${field.formName}-msg`} class="error">{message}</small>}
    </fieldset>
  );
}

/** One setting of the provisioner, rendered from what its schema says the value is. */
function ConfigInput(props: { form: FormState; field: ConfigField; editing: boolean; references: Record<ConfigReference, Option[]> }) {
  const { form, field } = props;
  const common = { form, name: field.formName, label: field.label };
  switch (field.kind) {
    case 'password':
      return (
        <TextField
          {...common}
          type="password"
          autocomplete="new-password"
          required={field.required && !props.editing}
          hint={props.editing ? 'Stored encrypted and never shown. Leave empty to keep the current one.' : 'Stored encrypted and never shown again.'}
        />
      );
    case 'checkbox':
      return <Checkbox {...common} {...(field.hint ? { hint: field.hint } : {})} />;
    case 'select':
      // An optional choice without a default may be left unset.
      return <SelectField {...common} options={[...(field.required || field.defaultValue !== undefined ? [] : [{ value: '', label: '(none)' }]), ...field.options.map((o) => ({ value: o, label: o }))]} {...(field.hint ? { hint: field.hint } : {})} />;
    case 'reference':
      return <SelectField {...common} required={field.required} options={[{ value: '', label: 'Choose…' }, ...props.references[field.references ?? 'target']]} {...(field.hint ? { hint: field.hint } : {})} />;
    case 'choices':
      return <ChoicesField form={form} field={field} />;
    case 'lines':
      return <TextArea {...common} hint={field.hint ? `${field.hint} One a line.` : 'One a line.'} />;
    default:
      return <TextField {...common} type={field.kind} required={field.required} autocomplete="off" {...(field.hint ? { hint: field.hint } : {})} />;
  }
}

export function TargetFormPage(props: {
  page: PageContext;
  co: Co;
  target: Target | undefined;
  type: Option;
  fields: ConfigField[];
  form: FormState;
  groups: Option[];
  references: Record<ConfigReference, Option[]>;
}) {
  const { page, co, target, form } = props;
  const title = target ? `Edit ${target.description}` : `New ${props.type.label} target`;
  const crumbs = target ? coCrumbs(co, targetsCrumb(co), { label: target.description, href: targetHref(co, target) }, { label: 'Edit' }) : coCrumbs(co, targetsCrumb(co), { label: 'New target' });
  return (
    <Layout page={page} title={title} crumbs={crumbs}>
      <PostForm action={target ? `${targetHref(co, target)}/edit` : targetsHref(co)} csrfToken={page.csrfToken}>
        <FormErrors form={form} />
        <input type="hidden" name="plugin" value={props.type.value} />
        <p>
          Type: <strong>{props.type.label}</strong>
          {!target && (
            <>
              {' '}
              (<a href={`${targetsHref(co)}/new?choose=1`}>choose another type</a>)
            </>
          )}
        </p>
        <TextField form={form} name="description" label="Description" required autocomplete="off" hint="Shown to administrators, e.g. “Main LDAP directory”." />
        <SelectField form={form} name="mode" label="Mode" options={PROVISIONING_MODES.map((m) => ({ value: m, label: MODE_LABELS[m] }))} hint="When the target receives changes." />
        <TextField form={form} name="ordinal" label="Order" type="number" required hint="Targets run in increasing order for each person; removals run in reverse." />
        <TextField form={form} name="retryIntervalSeconds" label="Retry interval (seconds)" type="number" required hint="The wait before the first retry; it doubles after each failure (at most an hour)." />
        <TextField form={form} name="maxRetries" label="Maximum retries" type="number" required hint="After these, the job stays failed until retried by hand." />
        <SelectField
          form={form}
          name="provisionGroupId"
          label="Provisioning group"
          options={[{ value: '', label: 'Everyone in the CO' }, ...props.groups]}
          hint="When set, only the group’s members are provisioned; everyone else is removed from the target."
        />
        <fieldset>
          <legend>{props.type.label} settings</legend>
          {props.fields.length === 0 && <p class="muted">This type has no settings.</p>}
          {props.fields.map((field) => (
            <ConfigInput form={form} field={field} editing={target !== undefined} references={props.references} />
          ))}
        </fieldset>
        <div class="actions">
          <button type="submit">{target ? 'Save' : 'Create target'}</button>
          <a href={target ? targetHref(co, target) : targetsHref(co)}>Cancel</a>
        </div>
      </PostForm>
    </Layout>
  );
}

function SettingValue(props: { field: ConfigField | undefined; value: unknown; references: Record<ConfigReference, Option[]> }) {
  const { field, value } = props;
  if (value === undefined || value === null || value === '') return <span class="muted">—</span>;
  if (field?.kind === 'password') return <span>set (hidden)</span>;
  if (typeof value === 'boolean') return <span>{value ? 'Yes' : 'No'}</span>;
  if (Array.isArray(value)) return <span>{value.length > 0 ? value.join(', ') : '—'}</span>;
  if (field?.kind === 'reference') {
    const label = props.references[field.references ?? 'target'].find((o) => o.value === value)?.label;
    return <span>{label ?? String(value)}</span>;
  }
  return <code>{typeof value === 'object' ? JSON.stringify(value) : String(value)}</code>;
}

export interface FailureRow extends JobView {
  personName: string | undefined;
}

export function TargetPage(props: {
  page: PageContext;
  co: Co;
  target: Target;
  typeLabel: string;
  fields: ConfigField[];
  groupName: string | undefined;
  failures: FailureRow[];
  references: Record<ConfigReference, Option[]>;
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

export function BatchProgressPage(props: { page: PageContext; co: Co; batch: Batch; scope: string }) {
  const { page, co, batch } = props;
  const settled = batch.done + batch.failed;
  const finished = batch.pending === 0;
  return (
    <Layout page={page} title="Reprovisioning" crumbs={coCrumbs(co, targetsCrumb(co), { label: 'Reprovisioning' })}>
      <p>{props.scope}</p>
      <p>
        <progress value={settled} max={Math.max(batch.total, 1)} aria-label="Reprovisioning progress">
          {settled}/{batch.total}
        </progress>{' '}
        <strong class="progress-count">
          {settled}/{batch.total}
        </strong>{' '}
        {finished ? 'finished' : 'done'}
        {batch.failed > 0 && `, ${batch.failed} failed`}
        {batch.retrying > 0 && `, ${batch.retrying} waiting to retry`}.
      </p>
      {finished ? (
        <p>
          {batch.failed > 0 ? (
            <>
              Some jobs failed; the <a href={targetsHref(co)}>targets</a> list them with their errors and a Retry button.
            </>
          ) : (
            <>Every job ran.</>
          )}
        </p>
      ) : (
        <p class="muted">
          The worker runs the jobs; this page refreshes every 2 seconds (<a href="">refresh now</a>).
        </p>
      )}
      <p>
        <a href={targetsHref(co)}>Back to the provisioning targets</a>
      </p>
    </Layout>
  );
}

export function PersonProvisioningPage(props: { page: PageContext; co: Co; person: Person; states: PersonTargetState[] }) {
  const { page, co, person, states } = props;
  const personHref = `/cos/${co.id}/people/${person.id}`;
  return (
    <Layout
      page={page}
      title={`Provisioning of ${person.displayName}`}
      crumbs={coCrumbs(co, { label: 'CO People', href: `/cos/${co.id}/people` }, { label: person.displayName, href: personHref }, { label: 'Provisioning' })}
    >
      {states.length === 0 ? (
        <EmptyState>
          <p>
            The CO has no provisioning targets. <a href={targetsHref(co)}>Provisioning targets</a>
          </p>
        </EmptyState>
      ) : (
        <>
          <div class="actions">
            <ActionButton action={`${personHref}/provisioning/reprovision`} csrfToken={page.csrfToken} label="Reprovision this person" />
          </div>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Target</th>
                  <th scope="col">State</th>
                  <th scope="col" class="hide-narrow">Entry</th>
                  <th scope="col">Last attempt</th>
                  <th scope="col" class="hide-narrow">Last success</th>
                </tr>
              </thead>
              <tbody>
                {states.map((s) => (
                  <tr>
                    <td>
                      <a href={`${targetsHref(co)}/${s.targetId}`}>{s.targetDescription}</a>
                    </td>
                    <td>
                      <StateBadge status={s.status} />
                      {s.pendingJobs > 0 && s.status !== 'pending' && <small> (a run is waiting)</small>}
                      {s.lastError && (s.status === 'failed' || s.status === 'pending') && (
                        <>
                          <br />
                          <small class="error pre">{s.lastError}</small>
                        </>
                      )}
                    </td>
                    <td class="hide-narrow">{s.targetKey ? <code>{s.targetKey}</code> : <span class="muted">—</span>}</td>
                    <td>
                      <Time iso={s.lastAttemptAt} />
                    </td>
                    <td class="hide-narrow">
                      <Time iso={s.lastSuccessAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Layout>
  );
}
