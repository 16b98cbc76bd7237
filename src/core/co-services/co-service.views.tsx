import type { Co } from '../cos/co.service.ts';
import type { Group } from '../groups/group.service.ts';
import type { HistoryEntry } from '../history/history.service.ts';
import { HistoryTable } from '../history/history.views.tsx';
import { ActionButton, Facts, Section, StatusBadge, Time } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { CoService } from './co-service.service.ts';
import type { ServiceVisibility } from './co-service.table.ts';

/** Who sees a service, in words, by its visibility. */
export const VISIBILITY_LABELS: Record<ServiceVisibility, string> = {
  co_admin: 'CO administrators only',
  co_group_member: 'Members of the service’s group',
  co_member: 'Every member of the CO',
  unauthenticated: 'Anyone, without signing in',
};

/** The breadcrumb of the CO's services list. */
export const servicesCrumb = (co: Co) => ({ label: 'CO Services', href: `/cos/${co.id}/services` });

function Link(props: { href: string | null }) {
  return props.href ? <a href={props.href} rel="noopener noreferrer">{props.href}</a> : <span class="muted">—</span>;
}

/** One CO Service: its settings, suspend/reactivate and delete, and its history. */
export function ServicePage(props: { page: PageContext; co: Co; service: CoService; group: Group | undefined; history: HistoryEntry[] }) {
  const { page, co, service } = props;
  const base = `/cos/${co.id}/services/${service.id}`;
  return (
    <Layout page={page} title={service.name} crumbs={coCrumbs(co, servicesCrumb(co), { label: service.name })}>
      <p>
        <StatusBadge status={service.status} /> {service.description}
      </p>
      <div class="actions">
        <a class="button secondary" href={`${base}/edit`}>Edit</a>
        {service.status === 'active' ? (
          <ActionButton action={`${base}/suspend`} csrfToken={page.csrfToken} label="Suspend" confirm={`Suspend ${service.name}? Its tokens stop working until it is reactivated.`} />
        ) : (
          <ActionButton action={`${base}/reactivate`} csrfToken={page.csrfToken} label="Reactivate" />
        )}
        <ActionButton action={`${base}/delete`} csrfToken={page.csrfToken} label="Delete" danger confirm={`Delete ${service.name} for good? Its tokens and settings go with it.`} />
      </div>
      <Facts
        facts={[
          ['Short label', <code>{service.shortLabel}</code>],
          ['Who sees it', VISIBILITY_LABELS[service.visibility]],
          ['Group', props.group ? <a href={`/cos/${co.id}/groups/${props.group.id}`}>{props.group.name}</a> : <span class="muted">—</span>],
          ['Identifier type', service.identifierType],
          ['Service URL', <Link href={service.serviceUrl} />],
          ['Contact email', service.contactEmail ? <a href={`mailto:${service.contactEmail}`}>{service.contactEmail}</a> : <span class="muted">—</span>],
          ['Logo URL', <Link href={service.logoUrl} />],
          ['Entitlement URI', service.entitlementUri ?? <span class="muted">—</span>],
          ['Created', <Time iso={service.createdAt} />],
          ['Changed', <Time iso={service.updatedAt} />],
        ]}
      />
      <Section id="service-history" title="History">
        <HistoryTable entries={props.history} coId={co.id} linkPeople />
      </Section>
    </Layout>
  );
}
