import type { Co } from '../cos/co.service.ts';
import type { Group } from '../groups/group.service.ts';
import { EditForm, SelectField, TextArea, TextField, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { CoService } from './co-service.service.ts';
import { servicesCrumb, VISIBILITY_LABELS } from './co-service.views.tsx';

/** New service, or edit one: its names, who sees it, its group and identifier type, links, status. */
export function ServiceFormPage(props: { page: PageContext; co: Co; service: CoService | undefined; form: FormState; groups: Group[]; identifierTypes: string[] }) {
  const { page, co, service, form } = props;
  const title = service ? `Edit ${service.name}` : 'New service';
  const crumbs = service
    ? coCrumbs(co, servicesCrumb(co), { label: service.name, href: `/cos/${co.id}/services/${service.id}` }, { label: 'Edit' })
    : coCrumbs(co, servicesCrumb(co), { label: 'New service' });
  const cancel = service ? `/cos/${co.id}/services/${service.id}` : `/cos/${co.id}/services`;
  return (
    <Layout page={page} title={title} crumbs={crumbs}>
      <EditForm action={service ? `/cos/${co.id}/services/${service.id}/edit` : `/cos/${co.id}/services`} csrfToken={page.csrfToken} form={form} submit={service ? 'Save' : 'Create service'} cancel={cancel}>
        <TextField form={form} name="name" label="Name" required autocomplete="off" />
        <TextArea form={form} name="description" label="Description" hint="Shown to people next to the service." />
        <TextField
          form={form}
          name="shortLabel"
          label="Short label"
          required
          autocomplete="off"
          hint="Letters and digits, unique in the CO ignoring case; the LDAP attribute option is app-<short label>."
        />
        <SelectField form={form} name="visibility" label="Who sees it" options={Object.entries(VISIBILITY_LABELS).map(([value, label]) => ({ value, label }))} />
        <SelectField
          form={form}
          name="coGroupId"
          label="Group"
          options={[{ value: '', label: 'No group: every member who may see it' }, ...props.groups.map((g) => ({ value: g.id, label: g.name }))]}
          hint="When set, only the group’s members may use the service."
        />
        <SelectField
          form={form}
          name="identifierType"
          label="Identifier type"
          options={props.identifierTypes.map((t) => ({ value: t, label: t }))}
          hint="The identifier the service knows people by."
        />
        <TextField form={form} name="serviceUrl" label="Service URL" type="url" placeholder="https://" />
        <TextField form={form} name="contactEmail" label="Contact email" type="email" />
        <TextField form={form} name="logoUrl" label="Logo URL" type="url" placeholder="https://" />
        <TextField form={form} name="entitlementUri" label="Entitlement URI" hint="The eduPersonEntitlement value that grants access, if the service uses one." />
        <SelectField
          form={form}
          name="status"
          label="Status"
          options={[
            { value: 'active', label: 'Active' },
            { value: 'suspended', label: 'Suspended' },
          ]}
          hint="A suspended service is hidden from people and accepts no tokens."
        />
      </EditForm>
    </Layout>
  );
}
