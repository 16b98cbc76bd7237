import type { Co } from '../cos/co.service.ts';
import { ActionButton, EmptyState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { Target } from './provisioner.ts';
import { MODE_LABELS, targetHref, targetsHref } from './provisioning-common.views.tsx';

/** A line of the targets list: the target, its type in words, its group and its failure counts. */
export interface TargetRow {
  target: Target;
  typeLabel: string;
  groupName: string | undefined;
  failed: number;
  retrying: number;
}

/** The CO's targets in their order, with their failures and the reprovision buttons. */
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
