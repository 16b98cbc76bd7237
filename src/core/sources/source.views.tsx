import type { Co } from '../cos/co.service.ts';
import { ActionButton, EditForm, EmptyState, Facts, NewLink, PostForm, SelectField, StatusBadge, TextField, Time, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { isPlatformAdmin } from '../auth/actor.ts';
import { DataTable } from '../web/table.views.tsx';
import type { SourceRunCounts } from './source.repository.ts';
import type { SkippedItem, SourceDiff } from './source-reconcile.ts';
import type { Source } from './source.service.ts';

const sourcesCrumb = (co: Co) => ({ label: 'Sources', href: `/cos/${co.id}/sources` });

function Counts(props: { counts: SourceRunCounts | null }) {
  const c = props.counts;
  if (!c) return <span class="muted">never run</span>;
  return (
    <span>
      {c.dryRun ? 'dry run, ' : ''}
      {c.mode}: people +{c.people.added} ~{c.people.changed} −{c.people.suspended} ={c.people.unchanged}; groups +{c.groups.added} ~{c.groups.changed} −{c.groups.removed}; memberships +
      {c.memberships.added} ~{c.memberships.changed} −{c.memberships.removed}
      {c.skipped ? `; ${c.skipped} skipped` : ''} ({(c.ms / 1000).toFixed(1)} s)
    </span>
  );
}

function Progress(props: { source: Source }) {
  const p = props.source.progress;
  if (!p) return null;
  return (
    <p class="flash flash-info" role="status">
      Running: {p.phase}
      {p.total > 0 ? ` — ${p.done} of ${p.total}` : ''} (updated <Time iso={p.at} />). This page reloads until the run ends.
    </p>
  );
}

/** The CO's sources: kind, status, last run with counts, last error. */
export function SourcesPage(props: { page: PageContext; co: Co; sources: Array<Source & { described: string }> }) {
  const { page, co, sources } = props;
  return (
    <Layout page={page} title="Sources" crumbs={coCrumbs(co, { label: 'Sources' })}>
      <p class="muted">
        A source is a registry that owns some of this CO’s people and groups, such as COmanage Registry. What it brings in is read-only here; tokens stay Tessera’s.
      </p>
      {page.actor && isPlatformAdmin(page.actor) ? (
        <NewLink href={`/cos/${co.id}/sources/new`} label="Add a COmanage Registry source" />
      ) : (
        <p class="muted">A platform admin adds COmanage Registry sources and changes their settings: their database URL names a host Tessera connects to.</p>
      )}
      <NewLink href={`/cos/${co.id}/sources/new-scim`} label="Add a SCIM source (SRAM, Entra ID, Okta)" />
      {sources.length === 0 ? (
        <EmptyState>
          <p>No sources: every person and group of this CO is managed here.</p>
        </EmptyState>
      ) : (
        <DataTable
          rows={sources}
          columns={[
            { label: 'Name', cell: (s) => <a href={`/cos/${co.id}/sources/${s.id}`}>{s.name}</a> },
            { label: 'Kind', class: 'hide-narrow', cell: (s) => <code>{s.kind}</code> },
            { label: 'Status', cell: (s) => <StatusBadge status={s.progress ? 'running' : s.status} /> },
            { label: 'Last run', cell: (s) => <Time iso={s.lastRunAt} /> },
            { label: 'Counts', class: 'hide-narrow', cell: (s) => <Counts counts={s.lastRunCounts} /> },
            { label: 'Last error', class: 'hide-narrow', cell: (s) => (s.lastError ? <span class="error">{s.lastError}</span> : <span class="muted">none</span>) },
          ]}
        />
      )}
    </Layout>
  );
}

/** Adding a COmanage SQL source: name, database URL, prefix, layout. */
export function SourceNewPage(props: { page: PageContext; co: Co; form: FormState }) {
  const { page, co, form } = props;
  return (
    <Layout page={page} title="Add a COmanage Registry source" crumbs={coCrumbs(co, sourcesCrumb(co), { label: 'New' })}>
      <p class="muted">Point a COmanage SqlProvisioner target at a database Tessera can read, then give that database here. Nothing is read until the first run.</p>
      <EditForm action={`/cos/${co.id}/sources`} csrfToken={page.csrfToken} form={form} submit="Add source" cancel={`/cos/${co.id}/sources`}>
        <TextField form={form} name="name" label="Name" required autocomplete="off" hint='Letters, digits, ".", "_" and "-"; used by "tessera source run NAME".' />
        <TextField form={form} name="databaseUrl" label="Database URL" required autocomplete="off" type="password" hint="postgres://user:password@host:5432/db or mysql://user:password@host:3306/db; stored encrypted." />
        <TextField form={form} name="prefix" label="Table prefix" autocomplete="off" hint="The SqlProvisioner target's table prefix (default sp_)." />
        <SelectField form={form} name="layout" label="Layout" options={[{ value: 'v4', label: 'v4 (COmanage Registry 4.x)' }, { value: 'v5', label: 'v5 (Registry PE)' }]} />
      </EditForm>
    </Layout>
  );
}

/** Changing a COmanage SQL source's settings: a new database URL (empty keeps it), prefix, layout. */
export function SourceSettingsPage(props: { page: PageContext; co: Co; source: Source; form: FormState }) {
  const { page, co, source, form } = props;
  const base = `/cos/${co.id}/sources/${source.id}`;
  return (
    <Layout page={page} title={`Settings of ${source.name}`} crumbs={coCrumbs(co, sourcesCrumb(co), { label: source.name, href: base }, { label: 'Settings' })}>
      <p class="muted">What the source brought in is not touched; its next run reads with these settings.</p>
      <EditForm action={`${base}/settings`} csrfToken={page.csrfToken} form={form} submit="Save settings" cancel={base}>
        <TextField form={form} name="databaseUrl" label="New database URL" autocomplete="off" type="password" hint="Leave empty to keep the current one (e.g. give one with a rotated password); stored encrypted." />
        <TextField form={form} name="prefix" label="Table prefix" autocomplete="off" hint="The SqlProvisioner target's table prefix." />
        <SelectField form={form} name="layout" label="Layout" options={[{ value: 'v4', label: 'v4 (COmanage Registry 4.x)' }, { value: 'v5', label: 'v5 (Registry PE)' }]} />
      </EditForm>
    </Layout>
  );
}

function DiffList(props: { title: string; items: Array<{ externalId: string; label: string; detail?: string }> }) {
  if (props.items.length === 0) return null;
  return (
    <details>
      <summary>
        {props.title} ({props.items.length})
      </summary>
      <ul>
        {props.items.slice(0, 200).map((i) => (
          <li>
            <code>{i.externalId}</code> {i.label}
            {i.detail ? <span class="muted"> — {i.detail}</span> : null}
          </li>
        ))}
        {props.items.length > 200 ? <li class="muted">… and {props.items.length - 200} more</li> : null}
      </ul>
    </details>
  );
}

/** A diff, per kind: what a dry run would change, or what a run changed. */
export function DiffView(props: { diff: SourceDiff; skipped?: SkippedItem[] }) {
  const { diff } = props;
  return (
    <div class="card">
      <DiffList title="People added" items={diff.people.added} />
      <DiffList title="People changed" items={diff.people.changed} />
      <DiffList title="People suspended" items={diff.people.suspended} />
      <DiffList title="Groups added" items={diff.groups.added} />
      <DiffList title="Groups changed" items={diff.groups.changed} />
      <DiffList title="Groups removed" items={diff.groups.removed} />
      <DiffList title="Memberships added" items={diff.memberships.added} />
      <DiffList title="Memberships changed" items={diff.memberships.changed} />
      <DiffList title="Memberships removed" items={diff.memberships.removed} />
      <p class="muted">
        Unchanged: {diff.people.unchanged} people, {diff.groups.unchanged} groups, {diff.memberships.unchanged} memberships.
      </p>
      {props.skipped?.length ? <DiffList title="Skipped" items={props.skipped.map((s) => ({ externalId: s.externalId, label: s.kind, detail: s.reason }))} /> : null}
    </div>
  );
}

/** One source: settings (secrets hidden), last run, progress, and its actions. */
export function SourcePage(props: { page: PageContext; co: Co; source: Source; described: string; dryRun?: { counts: SourceRunCounts; diff: SourceDiff } }) {
  const { page, co, source } = props;
  const base = `/cos/${co.id}/sources/${source.id}`;
  return (
    <Layout page={page} title={`Source ${source.name}`} crumbs={coCrumbs(co, sourcesCrumb(co), { label: source.name })}>
      {source.progress ? <meta http-equiv="refresh" content="3" /> : null}
      <Progress source={source} />
      <div class="card">
        <Facts
          facts={[
            ['Kind', <code>{source.kind}</code>],
            ['Reads', props.described],
            ['Status', <StatusBadge status={source.status} />],
            ['Last run', <Time iso={source.lastRunAt} />],
            ['Last full run', <Time iso={source.lastFullRunAt} />],
            ['Counts', <Counts counts={source.lastRunCounts} />],
            ['Last error', source.lastError ? <span class="error">{source.lastError}</span> : <span class="muted">none</span>],
          ]}
        />
      </div>
      {source.kind === 'scim' ? (
        <p>
          <a href={`${base}/scim-tokens`}>SCIM base URL and bearer tokens</a>
        </p>
      ) : null}
      {source.status === 'active' ? (
        <p>
          <ActionButton action={`${base}/run`} csrfToken={page.csrfToken} label="Run now" hidden={{ mode: 'run' }} />{' '}
          <ActionButton action={`${base}/run`} csrfToken={page.csrfToken} label="Full run" hidden={{ mode: 'full' }} />{' '}
          <ActionButton action={`${base}/run`} csrfToken={page.csrfToken} label="Dry run (show the diff)" hidden={{ mode: 'dry-run' }} />{' '}
          {source.kind === 'comanage-sql' && page.actor && isPlatformAdmin(page.actor) ? (
            <>
              <a class="button secondary" href={`${base}/settings`}>
                Settings…
              </a>{' '}
            </>
          ) : null}
          <ActionButton action={`${base}/finalise`} csrfToken={page.csrfToken} label="Finalise" confirm={`Make Tessera the owner of everything ${source.name} brought in? The source stops for good.`} />{' '}
          <a class="button danger" href={`${base}/terminate`}>
            Terminate…
          </a>
        </p>
      ) : null}
      {props.dryRun ? (
        <>
          <h2>Dry run: what a run would change (nothing was written)</h2>
          <p>
            <Counts counts={props.dryRun.counts} />
          </p>
          <DiffView diff={props.dryRun.diff} />
        </>
      ) : null}
    </Layout>
  );
}

/** The confirmation step of terminate: what would be removed, and the button that does it. */
export function SourceTerminatePage(props: { page: PageContext; co: Co; source: Source; people: number; groups: number; error?: string }) {
  const { page, co, source } = props;
  return (
    <Layout page={page} title={`Terminate source ${source.name}`} crumbs={coCrumbs(co, sourcesCrumb(co), { label: source.name, href: `/cos/${co.id}/sources/${source.id}` }, { label: 'Terminate' })}>
      {props.error ? (
        <div class="form-errors" role="alert">
          <p>{props.error}</p>
        </div>
      ) : null}
      <p>
        Terminating removes what <strong>{source.name}</strong> brought in: <strong>{props.people}</strong> people (with their service tokens and directory entries), <strong>{props.groups}</strong>{' '}
        groups and their memberships. History keeps a record. The source stops for good. To keep the people instead, finalise the source.
      </p>
      <PostForm action={`/cos/${co.id}/sources/${source.id}/terminate`} csrfToken={page.csrfToken}>
        <label>
          <input type="checkbox" name="confirm" value="yes" /> I understand that these people and groups are removed
        </label>
        <p>
          <button type="submit" class="danger">
            Terminate {source.name}
          </button>{' '}
          <a href={`/cos/${co.id}/sources/${source.id}`}>Cancel</a>
        </p>
      </PostForm>
    </Layout>
  );
}
