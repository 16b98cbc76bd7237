import type { Co } from '../cos/co.service.ts';
import { EmptyState, Pager, StatusBadge } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { DataTable } from '../web/table.views.tsx';
import type { Person } from './person.repository.ts';

/** The link of a page of the people list: search text, page and page size, each only when not the default. */
export function peopleHref(coId: string, q: string | undefined, page: number, pageSize: number): string {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (page > 1) params.set('page', String(page));
  if (pageSize !== 25) params.set('pageSize', String(pageSize));
  const s = params.toString();
  return `/cos/${coId}/people${s ? `?${s}` : ''}`;
}

/** CO People: a search, one page of people with their identifiers, addresses and status, and a pager. */
export function PeopleListPage(props: { page: PageContext; co: Co; people: Person[]; total: number; totalIsAtLeast: boolean; q: string; pageNumber: number; pageSize: number }) {
  const { page, co, people, q } = props;
  return (
    <Layout page={page} title="CO People" crumbs={coCrumbs(co, { label: 'CO People' })}>
      <div class="toolbar">
        <form method="get" action={`/cos/${co.id}/people`} role="search" class="search">
          <label for="people-q">Search by name, identifier or email</label>
          <div class="search-row">
            <input id="people-q" type="search" name="q" value={q} maxlength={256} />
            {props.pageSize !== 25 && <input type="hidden" name="pageSize" value={String(props.pageSize)} />}
            <button type="submit" class="secondary">Search</button>
            {q && <a href={`/cos/${co.id}/people`}>Clear</a>}
          </div>
        </form>
        <a class="button" href={`/cos/${co.id}/people/new`}>Add person</a>
      </div>
      {people.length === 0 ? (
        <EmptyState>
          {q ? (
            <p>No one matches “{q}”. Try the start of a name (any word of it), an identifier, an email address or its domain.</p>
          ) : props.total === 0 ? (
            <p>
              No people yet — <a href={`/cos/${co.id}/people/new`}>add the first person</a>.
            </p>
          ) : (
            <p>
              This page is past the end of the list. <a href={peopleHref(co.id, q, 1, props.pageSize)}>Go to the first page</a>.
            </p>
          )}
        </EmptyState>
      ) : (
        <>
          <DataTable
            rows={people}
            columns={[
              { label: 'Name', cell: (p) => <a href={`/cos/${co.id}/people/${p.id}`}>{p.displayName}</a> },
              {
                label: 'Identifiers',
                cell: (p) =>
                  p.identifiers.map((i) => (
                    <div>
                      {i.identifier} <small>({i.type})</small>
                    </div>
                  )),
              },
              { label: 'Email', class: 'hide-narrow', cell: (p) => p.emails.map((e) => <div>{e.mail}</div>) },
              { label: 'Status', cell: (p) => <StatusBadge status={p.status} /> },
            ]}
          />
          <Pager page={props.pageNumber} pageSize={props.pageSize} total={props.total} href={(n) => peopleHref(co.id, q, n, props.pageSize)} {...(props.totalIsAtLeast ? { atLeast: { shown: people.length } } : {})} />
        </>
      )}
    </Layout>
  );
}
