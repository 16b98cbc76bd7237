import type { ComponentChildren } from 'preact';
import type { Co } from '../cos/co.service.ts';
import type { Group, Membership } from '../groups/group.service.ts';
import { MembershipState } from '../groups/group.views.tsx';
import type { HistoryEntry } from '../history/history.service.ts';
import { HistoryTable } from '../history/history.views.tsx';
import type { MenuEntry } from '../plugins/plugin.ts';
import {
  ActionButton,
  Checkbox,
  EditForm,
  EmptyState,
  SelectField,
  Section,
  StatusBadge,
  TextField,
  Time,
  YesNo,
  type FormState,
} from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { actionsColumn, DataTable } from '../web/table.views.tsx';
import { formatName, type Person } from './person.repository.ts';
import { PERSON_STATUSES } from './person.table.ts';

/** The person statuses as choices of a select ("grace_period" reads "Grace period"). */
export const PERSON_STATUS_OPTIONS = PERSON_STATUSES.map((s) => ({ value: s, label: s.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) }));
const NAME_TYPES = ['official', 'preferred', 'alternate'].map((t) => ({ value: t, label: t }));
const EMAIL_TYPES = ['official', 'preferred', 'personal', 'delivery'].map((t) => ({ value: t, label: t }));

/** Identifier types as choices of a select. */
export const typeOptions = (types: string[]) => types.map((t) => ({ value: t, label: t }));

export interface PersonPageForms {
  status: FormState;
  name: FormState;
  identifier: FormState;
  email: FormState;
}

/** The forms of a person page as they are before anything is typed. */
export function freshPersonForms(person: Person): PersonPageForms {
  return {
    status: { values: { status: person.status }, issues: [], idPrefix: 'status' },
    name: { values: { type: 'preferred' }, issues: [], idPrefix: 'name' },
    identifier: { values: { type: 'uid' }, issues: [], idPrefix: 'identifier' },
    email: { values: { type: 'official' }, issues: [], idPrefix: 'email' },
  };
}

const hasProblem = (f: FormState) => f.issues.length > 0 || f.error !== undefined;

/** A form folded under its title until needed; unfolded when it has something to correct. */
function AddForm(props: { title: string; form: FormState; action: string; csrfToken: string; children: ComponentChildren; submit: string }) {
  return (
    <details class="add-form" open={hasProblem(props.form)}>
      <summary>{props.title}</summary>
      <EditForm action={props.action} csrfToken={props.csrfToken} form={props.form} submit={props.submit}>
        {props.children}
      </EditForm>
    </details>
  );
}

/**
 * A remove button in each row of the person's names, identifiers or addresses; none where `confirm`
 * gives no question, and none on a row a source owns (it says so instead: it is changed at the source).
 */
function removeColumn<T extends { id: string; sourceId?: string | null }>(base: string, part: string, csrf: string, confirm: (row: T) => string | undefined) {
  return actionsColumn<T>((row) => {
    if (row.sourceId) return <span class="muted">from the source</span>;
    const question = confirm(row);
    return question !== undefined && <ActionButton action={`${base}/${part}/${row.id}/delete`} csrfToken={csrf} label="Remove" danger confirm={question} />;
  });
}

/**
 * A CO Person page: status, names, identifiers, email addresses, groups and history. Admins (and
 * only they) see the forms that change them; a person looking at their own page reads it.
 */
export function PersonPage(props: {
  page: PageContext;
  co: Co;
  person: Person;
  admin: boolean;
  self: boolean;
  memberships: Array<Membership & { groupName: string }>;
  membersGroup: Group | undefined;
  history: HistoryEntry[];
  identifierTypes: string[];
  links: MenuEntry[];
  forms: PersonPageForms;
  now: Date;
}) {
  const { page, co, person, admin, forms } = props;
  const base = `/cos/${co.id}/people/${person.id}`;
  const csrf = page.csrfToken;
  const crumbs = admin
    ? coCrumbs(co, { label: 'CO People', href: `/cos/${co.id}/people` }, { label: person.displayName })
    : coCrumbs(co, { label: person.displayName });
  const groupLink = (id: string, name: string) => (admin ? <a href={`/cos/${co.id}/groups/${id}`}>{name}</a> : name);
  return (
    <Layout page={page} title={person.displayName} crumbs={crumbs}>
      <p>
        <StatusBadge status={person.status} /> {props.self && <span class="muted">This is you.</span>}
      </p>
      {person.source && (
        <p class="flash flash-info" role="status">
          This person comes from the source {admin ? <a href={`/cos/${co.id}/sources/${person.source.id}`}>{person.source.name}</a> : person.source.name} (id <code>{person.source.externalId}</code> there). Their
          status, and the names, identifiers and email addresses marked “from the source”, are changed there and read-only here; service tokens are Tessera’s and survive every update.
        </p>
      )}
      {props.links.length > 0 && (
        <nav class="actions" aria-label="More for this person">
          {props.links.map((l) => (
            <a class="button secondary" href={l.href}>
              {l.label}
            </a>
          ))}
        </nav>
      )}

      {admin && !person.source && (
        <Section id="status-h" title="Status" class="card">
          <EditForm action={`${base}/status`} csrfToken={csrf} form={forms.status} submit="Change status" class="row-form">
            <SelectField form={forms.status} name="status" label="Status" options={PERSON_STATUS_OPTIONS} hint="Expired, suspended and locked people lose group memberships and token access." />
          </EditForm>
        </Section>
      )}

      <Section id="names-h" title="Names">
        <DataTable
          rows={person.names}
          columns={[
            { label: 'Name', cell: (n) => formatName(n) },
            { label: 'Type', cell: (n) => n.type },
            { label: 'Primary', cell: (n) => <YesNo value={n.primary} /> },
            admin && removeColumn<Person['names'][number]>(base, 'names', csrf, (n) => (n.primary ? undefined : `Remove the name ${formatName(n)}?`)),
          ]}
        />
        {admin && (
          <AddForm title="Add a name" form={forms.name} action={`${base}/names`} csrfToken={csrf} submit="Add name">
            <TextField form={forms.name} name="given" label="Given name" required autocomplete="off" />
            <TextField form={forms.name} name="middle" label="Middle name" autocomplete="off" />
            <TextField form={forms.name} name="family" label="Family name" autocomplete="off" />
            <TextField form={forms.name} name="suffix" label="Suffix" autocomplete="off" />
            <SelectField form={forms.name} name="type" label="Type" options={NAME_TYPES} />
            <Checkbox form={forms.name} name="primary" label="Primary name (the one shown)" />
          </AddForm>
        )}
      </Section>

      <Section id="identifiers-h" title="Identifiers">
        <DataTable
          rows={person.identifiers}
          empty={`No identifiers yet${admin ? ' — add a login identifier so this person can sign in' : ''}.`}
          columns={[
            { label: 'Identifier', cell: (i) => i.identifier },
            { label: 'Type', cell: (i) => i.type },
            { label: 'Login', cell: (i) => <YesNo value={i.login} /> },
            { label: 'Status', class: 'hide-narrow', cell: (i) => <StatusBadge status={i.status} /> },
            admin && removeColumn<Person['identifiers'][number]>(base, 'identifiers', csrf, (i) => `Remove the identifier ${i.identifier} (${i.type})?`),
          ]}
        />
        {admin && (
          <AddForm title="Add an identifier" form={forms.identifier} action={`${base}/identifiers`} csrfToken={csrf} submit="Add identifier">
            <TextField form={forms.identifier} name="identifier" label="Identifier" required autocomplete="off" />
            <SelectField form={forms.identifier} name="type" label="Type" options={typeOptions(props.identifierTypes)} />
            <Checkbox form={forms.identifier} name="login" label="Login: this person signs in with it" />
          </AddForm>
        )}
      </Section>

      <Section id="emails-h" title="Email addresses">
        <DataTable
          rows={person.emails}
          empty="No email addresses yet."
          columns={[
            { label: 'Address', cell: (e) => e.mail },
            { label: 'Type', class: 'hide-narrow', cell: (e) => e.type },
            { label: 'Verified', cell: (e) => <YesNo value={e.verified} /> },
            admin && removeColumn<Person['emails'][number]>(base, 'emails', csrf, (e) => `Remove the address ${e.mail}?`),
          ]}
        />
        {admin && (
          <AddForm title="Add an email address" form={forms.email} action={`${base}/emails`} csrfToken={csrf} submit="Add address">
            <TextField form={forms.email} name="mail" label="Email address" type="email" required autocomplete="off" />
            <SelectField form={forms.email} name="type" label="Type" options={EMAIL_TYPES} />
            <Checkbox form={forms.email} name="verified" label="Verified" />
          </AddForm>
        )}
      </Section>

      <Section id="groups-h" title="Groups">
        {props.memberships.length === 0 && !props.membersGroup ? (
          <EmptyState>Not in any group{admin ? ' — add people to groups from the group’s page' : ''}.</EmptyState>
        ) : (
          <ul class="plain">
            {props.membersGroup && (
              <li>
                {groupLink(props.membersGroup.id, props.membersGroup.name)} <small>(automatic, while active)</small>
              </li>
            )}
            {props.memberships.map((m) => (
              <li>
                {groupLink(m.groupId, m.groupName)} {m.owner && <small>(owner)</small>} <MembershipState membership={m} now={props.now} />
              </li>
            ))}
          </ul>
        )}
      </Section>

      <Section id="history-h" title="History">
        <HistoryTable entries={props.history} coId={co.id} />
      </Section>

      {admin && !props.self && !person.source && (
        <Section id="delete-h" title="Delete" class="card danger-zone">
          <p>Deleting removes the person, their names, identifiers, email addresses and memberships. History stays.</p>
          <ActionButton action={`${base}/delete`} csrfToken={csrf} label={`Delete ${person.displayName}`} danger confirm={`Delete ${person.displayName} for good?`} />
        </Section>
      )}
      <p class="muted">
        Created <Time iso={person.createdAt} />, last changed <Time iso={person.updatedAt} />.
      </p>
    </Layout>
  );
}
