import type { Co } from '../cos/co.service.ts';
import { EditForm, SelectField, TextArea, TextField, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { Group } from './group.service.ts';

const GROUP_STATUSES = [
  { value: 'active', label: 'Active' },
  { value: 'suspended', label: 'Suspended' },
];

/** The breadcrumb of the CO's groups list. */
export const groupsCrumb = (co: Co) => ({ label: 'Groups', href: `/cos/${co.id}/groups` });

/** New group, or edit one (a system group: its description only). */
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
      <EditForm action={action} csrfToken={page.csrfToken} form={form} submit={group ? 'Save' : 'Create group'} cancel={group ? `/cos/${co.id}/groups/${group.id}` : `/cos/${co.id}/groups`}>
        {system ? (
          <p class="muted">This is a system group: only its description can change.</p>
        ) : (
          <TextField form={form} name="name" label="Name" required autocomplete="off" hint='Unique in the CO; names starting with "CO:" are reserved.' />
        )}
        <TextArea form={form} name="description" label="Description" />
        {!system && <SelectField form={form} name="status" label="Status" options={GROUP_STATUSES} hint="A suspended group gives its members nothing." />}
      </EditForm>
    </Layout>
  );
}
