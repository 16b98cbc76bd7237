import type { Co } from '../cos/co.service.ts';
import type { Person } from '../people/person.repository.ts';
import { ActionButton, EmptyState, Time } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { Batch, PersonTargetState } from './provisioning.service.ts';
import { StateBadge, targetsCrumb, targetsHref } from './provisioning-common.views.tsx';

/** A reprovision batch's progress; the route makes it reload itself while jobs are pending. */
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

/** What each target holds for one person, with a button to reprovision them. */
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
