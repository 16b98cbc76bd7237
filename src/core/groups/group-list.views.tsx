import type { Co } from '../cos/co.service.ts';
import { EmptyState, NewLink, StatusBadge } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { DataTable } from '../web/table.views.tsx';
import type { Group } from './group.service.ts';

/** The CO's groups, system groups included, with a link to create one. */
export function GroupsListPage(props: { page: PageContext; co: Co; groups: Group[] }) {
  const { page, co, groups } = props;
  const own = groups.filter((g) => g.type === 'standard');
  return (
    <Layout page={page} title="Groups" crumbs={coCrumbs(co, { label: 'Groups' })}>
      <NewLink href={`/cos/${co.id}/groups/new`} label="New group" />
      <DataTable
        rows={groups}
        columns={[
          {
            label: 'Name',
            cell: (g) => (
              <>
                <a href={`/cos/${co.id}/groups/${g.id}`}>{g.name}</a>
                {g.type !== 'standard' && <small> (system)</small>}
              </>
            ),
          },
          { label: 'Description', class: 'hide-narrow', cell: (g) => g.description },
          { label: 'Status', cell: (g) => <StatusBadge status={g.status} /> },
        ]}
      />
      {own.length === 0 && (
        <EmptyState>
          <p>
            Only the system groups so far — <a href={`/cos/${co.id}/groups/new`}>create the first group</a> to give a service its audience.
          </p>
        </EmptyState>
      )}
    </Layout>
  );
}
