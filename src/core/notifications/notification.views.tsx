import type { Co } from '../cos/co.service.ts';
import { ActionButton, EmptyState, StatusBadge, Time } from '../web/components.views.tsx';
import { Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { actionsColumn, DataTable, type Column } from '../web/table.views.tsx';
import type { EmailFailure, NotificationView } from './notification.service.ts';
import type { JobView } from '../provisioning/provisioning.service.ts';

export function MyNotificationsPage(props: { page: PageContext; notifications: NotificationView[]; coNames: Record<string, string> }) {
  const unread = props.notifications.filter((n) => !n.readAt).length;
  return (
    <Layout page={props.page} title="Notifications">
      {props.notifications.length === 0 ? (
        <EmptyState>Nothing yet. You are told here when a service token is created for you, revoked, or about to expire.</EmptyState>
      ) : (
        <>
          {unread > 0 && (
            <div class="actions">
              <ActionButton action="/notifications/read" csrfToken={props.page.csrfToken} label={`Mark all ${unread} as read`} />
            </div>
          )}
          <ul class="notices">
            {props.notifications.map((n) => (
              <li class={n.readAt ? 'card read' : 'card unread'}>
                <p>
                  <strong>{n.subject}</strong> {!n.readAt && <StatusBadge status="new" />}
                </p>
                <p class="muted">
                  {props.coNames[n.coId] ?? ''} · <Time iso={n.createdAt} />
                </p>
                <p class="pre">{n.body}</p>
                <div class="actions">
                  {n.link && <a href={n.link}>Open</a>}
                  {!n.readAt && <ActionButton action={`/notifications/${n.id}/read`} csrfToken={props.page.csrfToken} label="Mark as read" />}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </Layout>
  );
}

/** The state, attempts and last error of a failing job or email: failed for good, or pending a retry. */
const stateColumn: Column<{ state: string }> = { label: 'State', cell: (r) => <StatusBadge status={r.state === 'failed' ? 'failed' : 'pending'} /> };
const attemptColumns: Array<Column<{ attempts: number; lastError: string | null }>> = [
  { label: 'Attempts', cell: (r) => r.attempts },
  { label: 'Error', cell: (r) => r.lastError },
];

/** A CO's failing provisioning jobs and emails, with a retry for each email that used up its retries. */
export function CoFailuresPage(props: { page: PageContext; co: Co; emails: EmailFailure[]; jobs: Array<JobView & { targetDescription: string }>; mailEnabled: boolean }) {
  const { co } = props;
  return (
    <Layout page={props.page} title="Delivery and provisioning failures" crumbs={[{ label: co.name, href: `/cos/${co.id}` }, { label: 'Failures' }]}>
      <h2>Provisioning</h2>
      {props.jobs.length === 0 ? (
        <p>No provisioning job is failing.</p>
      ) : (
        <DataTable
          rows={props.jobs}
          columns={[
            { label: 'Target', cell: (j) => j.targetDescription },
            { label: 'Person', cell: (j) => <a href={`/cos/${co.id}/people/${j.personId}`}>{j.personId.slice(0, 8)}</a> },
            stateColumn,
            ...attemptColumns,
          ]}
        />
      )}
      <h2>Email</h2>
      {!props.mailEnabled && <p class="muted">No SMTP server is configured (TESSERA_SMTP_URL): notices appear in Tessera only.</p>}
      {props.emails.length === 0 ? (
        <p>No email is failing.</p>
      ) : (
        <DataTable
          rows={props.emails}
          columns={[
            { label: 'To', cell: (e) => e.toAddress },
            { label: 'Subject', cell: (e) => e.subject },
            stateColumn,
            ...attemptColumns,
            actionsColumn((e: EmailFailure) => e.state === 'failed' && <ActionButton action={`/cos/${co.id}/failures/emails/${e.id}/retry`} csrfToken={props.page.csrfToken} label="Retry" />),
          ]}
        />
      )}
    </Layout>
  );
}
