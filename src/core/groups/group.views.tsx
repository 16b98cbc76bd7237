import type { Co } from '../cos/co.service.ts';
import type { Person } from '../people/person.repository.ts';
import type { CoService } from '../co-services/co-service.service.ts';
import {
  ActionButton,
  Checkbox,
  EmptyState,
  FormErrors,
  PostForm,
  SelectField,
  StatusBadge,
  TextArea,
  TextField,
  Time,
  YesNo,
  type FormState,
} from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { Group, Membership } from './group.service.ts';

const GROUP_STATUSES = [
  { value: 'active', label: 'Active' },
  { value: 'suspended', label: 'Suspended' },
];

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

const groupsCrumb = (co: Co) => ({ label: 'Groups', href: `/cos/${co.id}/groups` });

export function GroupsListPage(props: { page: PageContext; co: Co; groups: Group[] }) {
  const { page, co, groups } = props;
  const own = groups.filter((g) => g.type === 'standard');
  return (
    <Layout page={page} title="Groups" crumbs={coCrumbs(co, { label: 'Groups' })}>
      <p class="actions">
        <a class="button" href={`/cos/${co.id}/groups/new`}>New group</a>
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="hide-narrow">Description</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr>
                <td>
                  <a href={`/cos/${co.id}/groups/${g.id}`}>{g.name}</a>
                  {g.type !== 'standard' && <small> (system)</small>}
                </td>
                <td class="hide-narrow">{g.description}</td>
                <td>
                  <StatusBadge status={g.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
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

export function GroupFormPage(props: { page: PageContext; co: Co; group: Group | undefined; form: FormState }) {
  const { page, co, group, form } = props;
  const system = group !== undefined && group.type !== 'standard';
  const title = group ? `Edit ${group.name}` : 'New group';
  const action = group ? `/cos/${co.id}/groups/${group.id}/edit` : `/cos/${co.id}/groups`;
  const crumbs = group
    ? coCrumbs(co, groupsCrumb(co), { label: group.name, href: `/cos/${co.id}/groups/${group.id}` }, { label: 'Edit' })
    : coCrumbs(co, groupsCrumb(co), { label: 'New group' });
  return (
    <Layout page={page} title={title} crumbs={crumbs}>
      <PostForm action={action} csrfToken={page.csrfToken}>
        <FormErrors form={form} />
        {system ? (
          <p class="muted">This is a system group: only its description can change.</p>
        ) : (
          <TextField form={form} name="name" label="Name" required autocomplete="off" hint='Unique in the CO; names starting with "CO:" are reserved.' />
        )}
        <TextArea form={form} name="description" label="Description" />
        {!system && <SelectField form={form} name="status" label="Status" options={GROUP_STATUSES} hint="A suspended group gives its members nothing." />}
        <div class="actions">
          <button type="submit">{group ? 'Save' : 'Create group'}</button>
          <a href={group ? `/cos/${co.id}/groups/${group.id}` : `/cos/${co.id}/groups`}>Cancel</a>
        </div>
      </PostForm>
    </Layout>
  );
}

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
  totalMembers: number;
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
      <dl class="facts">
        <dt>Type</dt>
        <dd>{TYPE_LABELS[group.type]}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={group.status} />
        </dd>
        <dt>Description</dt>
        <dd>{group.description || <span class="muted">—</span>}</dd>
        <dt>Created</dt>
        <dd>
          <Time iso={group.createdAt} />
        </dd>
      </dl>
      <div class="actions">
        <a class="button secondary" href={`${base}/edit`}>Edit</a>
        {group.type === 'standard' && props.services.length === 0 && (
          <ActionButton action={`${base}/delete`} csrfToken={page.csrfToken} label="Delete group" danger confirm={`Delete the group ${group.name}? Its memberships go with it.`} />
        )}
      </div>
      {props.services.length > 0 && (
        <section aria-labelledby="services-h">
          <h2 id="services-h">CO Services restricted to this group</h2>
          <ul class="plain">
            {props.services.map((s) => (
              <li>
                <a href={`/cos/${co.id}/services/${s.id}`}>{s.name}</a> <StatusBadge status={s.status} />
              </li>
            ))}
          </ul>
          {group.type === 'standard' && <p class="muted">To delete this group, first choose another group for these services.</p>}
        </section>
      )}

      <section aria-labelledby="members-h">
        <h2 id="members-h">Members ({props.totalMembers})</h2>
        {automatic && <p class="muted">Every active or grace-period person of the CO is a member of this group; change a person’s status to change their membership.</p>}
        {group.type === 'admins' && <p class="muted">Members of this group administer the CO.</p>}
        {props.members.length === 0 ? (
          <EmptyState>{automatic ? 'No active people in the CO yet.' : 'No members yet — add the first person below.'}</EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  {!automatic && <th scope="col">Owner</th>}
                  {!automatic && <th scope="col" class="hide-narrow">Valid from</th>}
                  {!automatic && <th scope="col" class="hide-narrow">Valid through</th>}
                  {!automatic && <th scope="col"><span class="visually-hidden">Actions</span></th>}
                </tr>
              </thead>
              <tbody>
                {props.members.map(({ membership: m, person }) => {
                  const name = person?.displayName ?? '(unknown person)';
                  return (
                    <tr>
                      <td>
                        <a href={`/cos/${co.id}/people/${m.personId}`}>{name}</a> <MembershipState membership={m} now={props.now} />
                      </td>
                      {!automatic && (
                        <td>
                          <YesNo value={m.owner} />
                        </td>
                      )}
                      {!automatic && (
                        <td class="hide-narrow">
                          <Time iso={m.validFrom} />
                        </td>
                      )}
                      {!automatic && (
                        <td class="hide-narrow">
                          <Time iso={m.validThrough} />
                        </td>
                      )}
                      {!automatic && (
                        <td>
                          {m.id !== props.ownAdminMembershipId && (
                            <ActionButton action={`${base}/members/${m.id}/delete`} csrfToken={page.csrfToken} label="Remove" danger confirm={`Remove ${name} from ${group.name}?`} />
                          )}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {props.members.length < props.totalMembers && (
          <p class="muted">
            Showing the first {props.members.length}. <a href={`/cos/${co.id}/people`}>CO People</a> lists everyone.
          </p>
        )}
      </section>

      {!automatic && (
        <section class="card" aria-labelledby="add-member-h">
          <h2 id="add-member-h">Add a member</h2>
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
            <PostForm action={`${base}/members`} csrfToken={page.csrfToken}>
              <FormErrors form={form} />
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
              <button type="submit">Add member</button>
            </PostForm>
          )}
        </section>
      )}
    </Layout>
  );
}
