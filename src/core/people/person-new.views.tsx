import type { Co } from '../cos/co.service.ts';
import { Checkbox, EditForm, SelectField, TextField, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { PERSON_STATUS_OPTIONS, typeOptions } from './person.views.tsx';

/** Add person: a name, a status, optionally a login identifier and an email address. */
export function PersonNewPage(props: { page: PageContext; co: Co; form: FormState; identifierTypes: string[] }) {
  const { page, co, form } = props;
  return (
    <Layout page={page} title="Add person" crumbs={coCrumbs(co, { label: 'CO People', href: `/cos/${co.id}/people` }, { label: 'Add person' })}>
      <EditForm action={`/cos/${co.id}/people`} csrfToken={page.csrfToken} form={form} submit="Add person" cancel={`/cos/${co.id}/people`}>
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
      </EditForm>
    </Layout>
  );
}
