import type { Co } from '../cos/co.service.ts';
import type { Group } from '../groups/group.service.ts';
import { EmptyState, NewLink, StatusBadge } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { DataTable } from '../web/table.views.tsx';
import type { CoService } from './co-service.service.ts';
import { VISIBILITY_LABELS } from './co-service.views.tsx';

/** The CO's services: name and description, short label, who sees it (and its group), status. */
export function ServicesListPage(props: { page: PageContext; co: Co; services: CoService[]; groups: Group[] }) {
  const { page, co, services } = props;
  const groupName = new Map(props.groups.map((g) => [g.id, g.name]));
  return (
    <Layout page={page} title="CO Services" crumbs={coCrumbs(co, { label: 'CO Services' })}>
      {services.length === 0 ? (
        <EmptyState>
          <p>
            No services yet — <a href={`/cos/${co.id}/services/new`}>create the first one</a>.
          </p>
        </EmptyState>
      ) : (
        <>
          <NewLink href={`/cos/${co.id}/services/new`} label="New service" />
          <DataTable
            rows={services}
            columns={[
              {
                label: 'Name',
                cell: (s) => (
                  <>
                    <a href={`/cos/${co.id}/services/${s.id}`}>{s.name}</a>
                    {s.description && (
                      <>
                        <br />
                        <small>{s.description}</small>
                      </>
                    )}
                  </>
                ),
              },
              { label: 'Short label', cell: (s) => <code>{s.shortLabel}</code> },
              {
                label: 'Who sees it',
                class: 'hide-narrow',
                cell: (s) => (
                  <>
                    {VISIBILITY_LABELS[s.visibility]}
                    {s.coGroupId && (
                      <>
                        <br />
                        <small>Group: {groupName.get(s.coGroupId) ?? '—'}</small>
                      </>
                    )}
                  </>
                ),
              },
              { label: 'Status', cell: (s) => <StatusBadge status={s.status} /> },
            ]}
          />
        </>
      )}
    </Layout>
  );
}
