import { Time } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { DataTable } from '../web/table.views.tsx';
import type { Co } from '../cos/co.service.ts';
import type { HistoryEntry } from './history.service.ts';

/** History entries, newest first; `linkPeople` links each entry to the person it is about. */
export function HistoryTable(props: { entries: HistoryEntry[]; coId: string; linkPeople?: boolean; empty?: string }) {
  const link = (href: string, label: string) => (
    <>
      {' · '}
      <a href={href}>{label}</a>
    </>
  );
  return (
    <DataTable
      rows={props.entries}
      class="history"
      empty={props.empty ?? 'Nothing recorded yet.'}
      columns={[
        { label: 'When', cell: (h) => <Time iso={h.createdAt} /> },
        {
          label: 'Change',
          cell: (h) => (
            <>
              {h.comment}
              <br />
              <small>
                {h.action}
                {props.linkPeople && h.personId && link(`/cos/${props.coId}/people/${h.personId}`, 'person')}
                {h.serviceId && link(`/cos/${props.coId}/services/${h.serviceId}`, 'service')}
                {h.groupId && link(`/cos/${props.coId}/groups/${h.groupId}`, 'group')}
              </small>
            </>
          ),
        },
        { label: 'By', class: 'hide-narrow', cell: (h) => h.actorLabel },
      ]}
    />
  );
}

/** The CO's history, newest first, a page at a time. */
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
