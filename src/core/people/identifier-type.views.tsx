import type { Co } from '../cos/co.service.ts';
import { FormErrors, PostForm, TextField, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';

export function IdentifierTypesPage(props: { page: PageContext; co: Co; builtIn: readonly string[]; own: string[]; form: FormState }) {
  const { page, co, form } = props;
  return (
    <Layout page={page} title="Identifier types" crumbs={coCrumbs(co, { label: 'Identifier types' })}>
      <p class="muted">An identifier’s type says what kind of name it is; CO Services choose the type they know people by.</p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Defined by</th>
            </tr>
          </thead>
          <tbody>
            {props.builtIn.map((t) => (
              <tr>
                <td>{t}</td>
                <td class="muted">Built in</td>
              </tr>
            ))}
            {props.own.map((t) => (
              <tr>
                <td>{t}</td>
                <td>{co.name}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.own.length === 0 && <p class="muted">This CO has added no types of its own yet — add one below when the built-in types do not fit.</p>}
      <section class="card" aria-labelledby="add-type">
        <h2 id="add-type">Add an identifier type</h2>
        <PostForm action={`/cos/${co.id}/identifier-types`} csrfToken={page.csrfToken} class="narrow">
          <FormErrors form={form} />
          <TextField form={form} name="name" label="Name" required autocomplete="off" hint='Lowercase letters, digits, "-" and "_", starting with a letter (e.g. "github").' />
          <button type="submit">Add type</button>
        </PostForm>
      </section>
    </Layout>
  );
}
