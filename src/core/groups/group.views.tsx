import type { Co } from '../cos/co.service.ts';
import type { Person } from '../people/person.repository.ts';
import type { CoService } from '../co-services/co-service.service.ts';
import { ActionButton, Checkbox, EditForm, EmptyState, Facts, Pager, Section, SelectField, StatusBadge, TextField, Time, YesNo, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { actionsColumn, DataTable } from '../web/table.views.tsx';
import { groupsCrumb } from './group-form.views.tsx';
import type { Group, Membership, MembershipPage } from './group.service.ts';

const TYPE_LABELS: Record<Group['type'], string> = {
  standard: 'Standard',
  admins: 'CO administrators (system)',
  members: 'Active members, automatic (system)',
};

/** Whether a membership counts now: before its window it is pending, after it expired. */
export function MembershipState(props: { membership: Pick<Membership, 'validFrom' | 'validThrough'>; now: Date }) {
  const t = props.now.toISOString();
  const { validFrom, validThrough } = props.membership;
  if (validFrom && validFrom > t) return <span class="badge badge-pending">from {validFrom.slice(0, 16).replace('T', ' ')} UTC</span>;
  if (validThrough && validThrough <= t) return <span class="badge badge-expired">expired</span>;
  return null;
}

const nameOf = (person: Person | undefined) => person?.displayName ?? '(unknown person)';

/** A row of a group's members: the membership and, when it still exists, its person. */
export interface MemberRow {
  membership: Membership;
  person: Person | undefined;
}

export function GroupPage(props: {
  page: PageContext;
  co: Co;
  group: Group;
  members: MemberRow[];
  /** CO Services restricted to this group: while there are any, it cannot be deleted. */
  services: CoService[];
  /** The page of memberships shown (members holds them joined to their people, sorted by name). */
  memberships: MembershipPage;
  candidates: Person[];
  candidatesTotal: number;
  q: string;
  form: FormState;
  /** The membership the signed-in person may not remove (their own admin membership). */
  ownAdminMembershipId: string | undefined;
  now: Date;
}) {
  const { page, co, group, form } = props;
  const base = `/cos/${co.id}/groups/${group.id}`;
  const automatic = group.type === 'members';
  return (
    <Layout page={page} title={group.name} crumbs={coCrumbs(co, groupsCrumb(co), { label: group.name })}>
      <Facts
        facts={[
          ['Type', TYPE_LABELS[group.type]],
          ['Status', <StatusBadge status={group.status} />],
          ['Description', group.description || <span class="muted">—</span>],
          ['Created', <Time iso={group.createdAt} />],
        ]}
      />
      {group.sourceId ? (
        <p class="flash flash-info" role="status">
          This group comes from <a href={`/cos/${co.id}/sources/${group.sourceId}`}>a source</a>: its name, description and status, and the memberships marked “from the source”, are
          changed there and read-only here. Memberships added here stay local beside them.
        </p>
      ) : (
        <div class="actions">
          <a class="button secondary" href={`${base}/edit`}>Edit</a>
          {group.type === 'standard' && props.services.length === 0 && (
            <ActionButton action={`${base}/delete`} csrfToken={page.csrfToken} label="Delete group" danger confirm={`Delete the group ${group.name}? Its memberships go with it.`} />
          )}
        </div>
      )}
      {props.services.length > 0 && (
        <Section id="services-h" title="CO Services restricted to this group">
          <ul class="plain">
            {props.services.map((s) => (
              <li>
                <a href={`/cos/${co.id}/services/${s.id}`}>{s.name}</a> <StatusBadge status={s.status} />
              </li>
            ))}
          </ul>
          {group.type === 'standard' && <p class="muted">To delete this group, first choose another group for these services.</p>}
        </Section>
      )}

      <Section id="members-h" title={`Members (${props.memberships.totalIsAtLeast ? `more than ${props.memberships.total.toLocaleString('en-US')}` : props.memberships.total})`}>
        {automatic && <p class="muted">Every active or grace-period person of the CO is a member of this group; change a person’s status to change their membership.</p>}
        {group.type === 'admins' && <p class="muted">Members of this group administer the CO.</p>}
        <DataTable
          rows={props.members}
          empty={automatic ? 'No active people in the CO yet.' : 'No members yet — add the first person below.'}
          columns={[
            {
              label: 'Person',
              cell: ({ membership: m, person }) => (
                <>
                  <a href={`/cos/${co.id}/people/${m.personId}`}>{nameOf(person)}</a> <MembershipState membership={m} now={props.now} />
                </>
              ),
            },
            !automatic && { label: 'Owner', cell: ({ membership: m }) => <YesNo value={m.owner} /> },
            !automatic && { label: 'Valid from', class: 'hide-narrow', cell: ({ membership: m }) => <Time iso={m.validFrom} /> },
            !automatic && { label: 'Valid through', class: 'hide-narrow', cell: ({ membership: m }) => <Time iso={m.validThrough} /> },
            !automatic &&
              actionsColumn<MemberRow>(
                ({ membership: m, person }) =>
                  m.sourceId ? (
                    <span class="muted">from the source</span>
                  ) : m.id !== props.ownAdminMembershipId && (
                    <ActionButton action={`${base}/members/${m.id}/delete`} csrfToken={page.csrfToken} label="Remove" danger confirm={`Remove ${nameOf(person)} from ${group.name}?`} />
                  ),
              ),
          ]}
        />
        <Pager
          page={props.memberships.page}
          pageSize={props.memberships.pageSize}
          total={props.memberships.total}
          href={(n) => `${base}?${new URLSearchParams({ ...(props.q ? { q: props.q } : {}), page: String(n) }).toString()}#members-h`}
          {...(props.memberships.totalIsAtLeast ? { atLeast: { shown: props.memberships.items.length } } : {})}
        />
      </Section>

      {!automatic && (
        <Section id="add-member-h" title="Add a member" class="card">
          {(props.candidatesTotal > props.candidates.length || props.q) && (
            <form method="get" action={base} role="search" class="search">
              <label for="candidate-q">Find a person by name, identifier or email</label>
              <div class="search-row">
                <input id="candidate-q" type="search" name="q" value={props.q} maxlength={256} />
                <button type="submit" class="secondary">Find</button>
                {props.q && <a href={base}>Show all</a>}
              </div>
            </form>
          )}
          {props.candidates.length === 0 ? (
            <EmptyState>
              {props.q ? `No one else matches “${props.q}”.` : (
                <>
                  Everyone in the CO is in this group already, or the CO has no people yet — <a href={`/cos/${co.id}/people/new`}>add a person</a>.
                </>
              )}
            </EmptyState>
          ) : (
            <EditForm action={`${base}/members`} csrfToken={page.csrfToken} form={form} submit="Add member">
              <SelectField
                form={form}
                name="personId"
                label="Person"
                required
                options={[{ value: '', label: 'Choose a person…' }, ...props.candidates.map((p) => ({ value: p.id, label: `${p.displayName}${p.identifiers[0] ? ` (${p.identifiers[0].identifier})` : ''}` }))]}
              />
              <Checkbox form={form} name="owner" label="Owner (manages the group)" />
              <TextField form={form} name="validFrom" label="Valid from (UTC)" type="datetime-local" hint="Empty: from now." />
              <TextField form={form} name="validThrough" label="Valid through (UTC)" type="datetime-local" hint="Empty: no end." />
            </EditForm>
          )}
        </Section>
      )}
    </Layout>
  );
}
