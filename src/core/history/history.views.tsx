import { EmptyState, Time } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { Co } from '../cos/co.service.ts';
import type { HistoryEntry } from './history.service.ts';

/** History entries, newest first; `linkPeople` links each entry to the person it is about. */
export function HistoryTable(props: { entries: HistoryEntry[]; coId: string; linkPeople?: boolean; empty?: string }) {
  if (props.entries.length === 0) return <EmptyState>{props.empty ?? 'Nothing recorded yet.'}</EmptyState>;
  return (
    <div class="table-wrap">
      <table class="history">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Change</th>
            <th scope="col" class="hide-narrow">By</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((h) => (
            <tr>
              <td>
                <Time iso={h.createdAt} />
              </td>
              <td>
                {h.comment}
                <br />
                <small>
                  {h.action}
                  {props.linkPeople && h.personId && (
                    <>
                      {' · '}
                      <a href={`/cos/${props.coId}/people/${h.personId}`}>person</a>
                    </>
                  )}
                  {h.serviceId && (
                    <>
                      {' · '}
                      <a href={`/cos/${props.coId}/services/${h.serviceId}`}>service</a>
                    </>
                  )}
                  {h.groupId && (
                    <>
                      {' · '}
                      <a href={`/cos/${props.coId}/groups/${h.groupId}`}>group</a>
                    </>
                  )}
                </small>
              </td>
              <td class="hide-narrow">{h.actorLabel}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function CoHistoryPage(props: { page: PageContext; co: Co; entries: HistoryEntry[]; pageNumber: number; hasMore: boolean }) {
  const { page, co, pageNumber } = props;
  const href = (n: number) => `/cos/${co.id}/history?page=${n}`;
  return (
    <Layout page={page} title="History" crumbs={coCrumbs(co, { label: 'History' })}>
      <p class="muted">Every change in {co.name}, newest first.</p>
      <HistoryTable entries={props.entries} coId={co.id} linkPeople />
      {(pageNumber > 1 || props.hasMore) && (
        <nav class="pager" aria-label="Pages">
          {pageNumber > 1 ? <a href={href(pageNumber - 1)} rel="prev">← Newer</a> : <span class="muted">← Newer</span>}
          <span>Page {pageNumber}</span>
          {props.hasMore ? <a href={href(pageNumber + 1)} rel="next">Older →</a> : <span class="muted">Older →</span>}
        </nav>
      )}
    </Layout>
  );
}
