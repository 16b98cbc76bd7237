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
  EmptyState,
  FormErrors,
  Pager,
  PostForm,
  SelectField,
  StatusBadge,
  TextField,
  Time,
  YesNo,
  type FormState,
} from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { formatName, type Person } from './person.repository.ts';
import { PERSON_STATUSES } from './person.table.ts';

export const PERSON_STATUS_OPTIONS = PERSON_STATUSES.map((s) => ({ value: s, label: s.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) }));
const NAME_TYPES = ['official', 'preferred', 'alternate'].map((t) => ({ value: t, label: t }));
const EMAIL_TYPES = ['official', 'preferred', 'personal', 'delivery'].map((t) => ({ value: t, label: t }));

const typeOptions = (types: string[]) => types.map((t) => ({ value: t, label: t }));

export function peopleHref(coId: string, q: string | undefined, page: number, pageSize: number): string {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (page > 1) params.set('page', String(page));
  if (pageSize !== 25) params.set('pageSize', String(pageSize));
  const s = params.toString();
  return `/cos/${coId}/people${s ? `?${s}` : ''}`;
}

export function PeopleListPage(props: { page: PageContext; co: Co; people: Person[]; total: number; q: string; pageNumber: number; pageSize: number }) {
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
            <p>No one matches “{q}”. Try part of a name, an identifier or an email address.</p>
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
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Identifiers</th>
                  <th scope="col" class="hide-narrow">Email</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {people.map((p) => (
                  <tr>
                    <td>
                      <a href={`/cos/${co.id}/people/${p.id}`}>{p.displayName}</a>
                    </td>
                    <td>
                      {p.identifiers.map((i) => (
                        <div>
                          {i.identifier} <small>({i.type})</small>
                        </div>
                      ))}
                    </td>
                    <td class="hide-narrow">
                      {p.emails.map((e) => (
                        <div>{e.mail}</div>
                      ))}
                    </td>
                    <td>
                      <StatusBadge status={p.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={props.pageNumber} pageSize={props.pageSize} total={props.total} href={(n) => peopleHref(co.id, q, n, props.pageSize)} />
        </>
      )}
    </Layout>
  );
}

export function PersonNewPage(props: { page: PageContext; co: Co; form: FormState; identifierTypes: string[] }) {
  const { page, co, form } = props;
  return (
    <Layout page={page} title="Add person" crumbs={coCrumbs(co, { label: 'CO People', href: `/cos/${co.id}/people` }, { label: 'Add person' })}>
      <PostForm action={`/cos/${co.id}/people`} csrfToken={page.csrfToken}>
        <FormErrors form={form} />
        <fieldset>
          <legend>Name</legend>
          <TextField form={form} name="given" label="Given name" required autocomplete="off" />
          <TextField form={form} name="middle" label="Middle name" autocomplete="off" />
          <TextField form={form} name="family" label="Family name" autocomplete="off" />
        </fieldset>
        <SelectField form={form} name="status" label="Status" options={PERSON_STATUS_OPTIONS} hint="Active and grace-period people are members of the CO." />
        <fieldset>
          <legend>Login identifier</legend>
          <TextField form={form} name="identifier" label="Identifier" autocomplete="off" hint="The username this person signs in with (optional; you can add identifiers later)." />
          <SelectField form={form} name="identifierType" label="Identifier type" options={typeOptions(props.identifierTypes)} />
          <Checkbox form={form} name="login" label="Use this identifier to sign in" />
        </fieldset>
        <TextField form={form} name="mail" label="Email address" type="email" autocomplete="off" />
        <div class="actions">
          <button type="submit">Add person</button>
          <a href={`/cos/${co.id}/people`}>Cancel</a>
        </div>
      </PostForm>
    </Layout>
  );
}

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
      <PostForm action={props.action} csrfToken={props.csrfToken}>
        <FormErrors form={props.form} />
        {props.children}
        <button type="submit">{props.submit}</button>
      </PostForm>
    </details>
  );
}

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
  return (
    <Layout page={page} title={person.displayName} crumbs={crumbs}>
      <p>
        <StatusBadge status={person.status} /> {props.self && <span class="muted">This is you.</span>}
      </p>
      {props.links.length > 0 && (
        <nav class="actions" aria-label="More for this person">
          {props.links.map((l) => (
            <a class="button secondary" href={l.href}>
              {l.label}
            </a>
          ))}
        </nav>
      )}

      {admin && (
        <section class="card" aria-labelledby="status-h">
          <h2 id="status-h">Status</h2>
          <PostForm action={`${base}/status`} csrfToken={csrf} class="row-form">
            <FormErrors form={forms.status} />
            <SelectField form={forms.status} name="status" label="Status" options={PERSON_STATUS_OPTIONS} hint="Expired, suspended and locked people lose group memberships and token access." />
            <button type="submit">Change status</button>
          </PostForm>
        </section>
      )}

      <section aria-labelledby="names-h">
        <h2 id="names-h">Names</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Primary</th>
                {admin && <th scope="col"><span class="visually-hidden">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {person.names.map((n) => (
                <tr>
                  <td>{formatName(n)}</td>
                  <td>{n.type}</td>
                  <td>
                    <YesNo value={n.primary} />
                  </td>
                  {admin && (
                    <td>
                      {!n.primary && <ActionButton action={`${base}/names/${n.id}/delete`} csrfToken={csrf} label="Remove" danger confirm={`Remove the name ${formatName(n)}?`} />}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
      </section>

      <section aria-labelledby="identifiers-h">
        <h2 id="identifiers-h">Identifiers</h2>
        {person.identifiers.length === 0 ? (
          <EmptyState>No identifiers yet{admin ? ' — add a login identifier so this person can sign in' : ''}.</EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Identifier</th>
                  <th scope="col">Type</th>
                  <th scope="col">Login</th>
                  <th scope="col" class="hide-narrow">Status</th>
                  {admin && <th scope="col"><span class="visually-hidden">Actions</span></th>}
                </tr>
              </thead>
              <tbody>
                {person.identifiers.map((i) => (
                  <tr>
                    <td>{i.identifier}</td>
                    <td>{i.type}</td>
                    <td>
                      <YesNo value={i.login} />
                    </td>
                    <td class="hide-narrow">
                      <StatusBadge status={i.status} />
                    </td>
                    {admin && (
                      <td>
                        <ActionButton action={`${base}/identifiers/${i.id}/delete`} csrfToken={csrf} label="Remove" danger confirm={`Remove the identifier ${i.identifier} (${i.type})?`} />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {admin && (
          <AddForm title="Add an identifier" form={forms.identifier} action={`${base}/identifiers`} csrfToken={csrf} submit="Add identifier">
            <TextField form={forms.identifier} name="identifier" label="Identifier" required autocomplete="off" />
            <SelectField form={forms.identifier} name="type" label="Type" options={typeOptions(props.identifierTypes)} />
            <Checkbox form={forms.identifier} name="login" label="Login: this person signs in with it" />
          </AddForm>
        )}
      </section>

      <section aria-labelledby="emails-h">
        <h2 id="emails-h">Email addresses</h2>
        {person.emails.length === 0 ? (
          <EmptyState>No email addresses yet.</EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col" class="hide-narrow">Type</th>
                  <th scope="col">Verified</th>
                  {admin && <th scope="col"><span class="visually-hidden">Actions</span></th>}
                </tr>
              </thead>
              <tbody>
                {person.emails.map((e) => (
                  <tr>
                    <td>{e.mail}</td>
                    <td class="hide-narrow">{e.type}</td>
                    <td>
                      <YesNo value={e.verified} />
                    </td>
                    {admin && (
                      <td>
                        <ActionButton action={`${base}/emails/${e.id}/delete`} csrfToken={csrf} label="Remove" danger confirm={`Remove the address ${e.mail}?`} />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {admin && (
          <AddForm title="Add an email address" form={forms.email} action={`${base}/emails`} csrfToken={csrf} submit="Add address">
            <TextField form={forms.email} name="mail" label="Email address" type="email" required autocomplete="off" />
            <SelectField form={forms.email} name="type" label="Type" options={EMAIL_TYPES} />
            <Checkbox form={forms.email} name="verified" label="Verified" />
          </AddForm>
        )}
      </section>

      <section aria-labelledby="groups-h">
        <h2 id="groups-h">Groups</h2>
        {props.memberships.length === 0 && !props.membersGroup ? (
          <EmptyState>Not in any group{admin ? ' — add people to groups from the group’s page' : ''}.</EmptyState>
        ) : (
          <ul class="plain">
            {props.membersGroup && (
              <li>
                {admin ? <a href={`/cos/${co.id}/groups/${props.membersGroup.id}`}>{props.membersGroup.name}</a> : props.membersGroup.name} <small>(automatic, while active)</small>
              </li>
            )}
            {props.memberships.map((m) => (
              <li>
                {admin ? <a href={`/cos/${co.id}/groups/${m.groupId}`}>{m.groupName}</a> : m.groupName} {m.owner && <small>(owner)</small>} <MembershipState membership={m} now={props.now} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="history-h">
        <h2 id="history-h">History</h2>
        <HistoryTable entries={props.history} coId={co.id} />
      </section>

      {admin && !props.self && (
        <section class="card danger-zone" aria-labelledby="delete-h">
          <h2 id="delete-h">Delete</h2>
          <p>Deleting removes the person, their names, identifiers, email addresses and memberships. History stays.</p>
          <ActionButton action={`${base}/delete`} csrfToken={csrf} label={`Delete ${person.displayName}`} danger confirm={`Delete ${person.displayName} for good?`} />
        </section>
      )}
      <p class="muted">
        Created <Time iso={person.createdAt} />, last changed <Time iso={person.updatedAt} />.
      </p>
    </Layout>
  );
}
