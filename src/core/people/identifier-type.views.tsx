import type { Co } from '../cos/co.service.ts';
import { EditForm, Section, TextField, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { DataTable } from '../web/table.views.tsx';

/** The identifier types of the CO: the built-in ones, the CO's own, and a form to add one. */
export function IdentifierTypesPage(props: { page: PageContext; co: Co; builtIn: readonly string[]; own: string[]; form: FormState }) {
  const { page, co, form } = props;
  return (
    <Layout page={page} title="Identifier types" crumbs={coCrumbs(co, { label: 'Identifier types' })}>
      <p class="muted">An identifier’s type says what kind of name it is; CO Services choose the type they know people by.</p>
      <DataTable
        rows={[...props.builtIn.map((name) => ({ name, by: undefined })), ...props.own.map((name) => ({ name, by: co.name }))]}
        columns={[
          { label: 'Type', cell: (t) => t.name },
          { label: 'Defined by', cellClass: (t) => (t.by === undefined ? 'muted' : undefined), cell: (t) => t.by ?? 'Built in' },
        ]}
      />
      {props.own.length === 0 && <p class="muted">This CO has added no types of its own yet — add one below when the built-in types do not fit.</p>}
      <Section id="add-type" title="Add an identifier type" class="card">
        <EditForm action={`/cos/${co.id}/identifier-types`} csrfToken={page.csrfToken} form={form} submit="Add type" class="narrow">
          <TextField form={form} name="name" label="Name" required autocomplete="off" hint='Lowercase letters, digits, "-" and "_", starting with a letter (e.g. "github").' />
        </EditForm>
      </Section>
    </Layout>
  );
}
