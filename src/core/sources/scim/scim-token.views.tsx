import type { Co } from '../../cos/co.service.ts';
import { ActionButton, Checkbox, EditForm, EmptyState, Facts, PostForm, TextField, Time, type FormState } from '../../web/components.views.tsx';
import { coCrumbs, Layout } from '../../web/layout.views.tsx';
import type { PageContext } from '../../web/page-context.ts';
import { actionsColumn, DataTable } from '../../web/table.views.tsx';
import type { Source } from '../source.repository.ts';
import type { ScimToken } from './scim-token.service.ts';

const tokensHref = (co: Co, source: Source) => `/cos/${co.id}/sources/${source.id}/scim-tokens`;

/** A SCIM source's base URL and bearer tokens: make one, rotate all, revoke one. */
export function ScimTokensPage(props: { page: PageContext; co: Co; source: Source; baseUrl: string; tokens: ScimToken[] }) {
  const { page, co, source, tokens } = props;
  const href = tokensHref(co, source);
  return (
    <Layout page={page} title={`SCIM source ${source.name}`} crumbs={coCrumbs(co, { label: `SCIM source ${source.name}` })}>
      <div class="card">
        <Facts
          facts={[
            ['SCIM base URL', <code id="scim-base-url">{props.baseUrl}</code>],
            ['Status', source.status],
          ]}
        />
        <p class="muted">Give the SCIM client (SRAM, Entra ID, Okta) this base URL and a bearer token. See "SCIM" in the README for each client's settings.</p>
      </div>
      <h2>Bearer tokens</h2>
      {tokens.length === 0 ? (
        <EmptyState>
          <p>No tokens: the client cannot connect.</p>
        </EmptyState>
      ) : (
        <DataTable
          rows={tokens}
          columns={[
            { label: 'Label', cell: (t) => t.label },
            { label: 'Ends in', cell: (t) => <code>…{t.hint}</code> },
            { label: 'Created', cell: (t) => <Time iso={t.createdAt} /> },
            { label: 'Last used', class: 'hide-narrow', cell: (t) => <Time iso={t.lastUsedAt} /> },
            { label: 'Revoked', cell: (t) => (t.revokedAt ? <Time iso={t.revokedAt} /> : <span class="muted">no</span>) },
            actionsColumn((t: ScimToken) =>
              t.revokedAt ? null : <ActionButton action={`${href}/${t.id}/revoke`} csrfToken={page.csrfToken} label="Revoke" danger confirm={`Revoke the token ending in ${t.hint}? The client using it is refused from now on.`} />,
            ),
          ]}
        />
      )}
      <PostForm action={href} csrfToken={page.csrfToken}>
        <button type="submit">New token</button>
      </PostForm>
      <PostForm action={`${href}/rotate`} csrfToken={page.csrfToken} confirm="Make a new token and revoke every other token of this source?">
        <button type="submit" class="secondary">
          Rotate: new token, revoke all others
        </button>
      </PostForm>
    </Layout>
  );
}

/** The one page that ever shows a SCIM token; sent with Cache-Control: no-store. */
export function ScimTokenShownPage(props: { page: PageContext; co: Co; source: Source; baseUrl: string; secret: string; rotated: boolean }) {
  const { page, co, source } = props;
  return (
    <Layout page={page} title="SCIM token created" crumbs={coCrumbs(co, { label: `SCIM source ${source.name}`, href: tokensHref(co, source) }, { label: 'New token' })}>
      <p class="flash flash-info" role="status">
        Copy the token now: Tessera keeps only a hash of it and <strong>will not show it again</strong>.{props.rotated ? ' Every other token of this source is revoked.' : ''}
      </p>
      <div class="card">
        <Facts
          facts={[
            ['SCIM base URL', <code>{props.baseUrl}</code>],
            [
              'Bearer token',
              <>
                <div class="secret" id="scim-token">
                  {props.secret}
                </div>
                <button type="button" class="secondary" data-copy-target="scim-token" hidden>
                  Copy token
                </button>
              </>,
            ],
          ]}
        />
      </div>
      <p>
        <a href={tokensHref(co, source)}>Back to the source</a>
      </p>
    </Layout>
  );
}

/** New SCIM source: its name, and whether meta.location is relative (SRAM). */
export function ScimSourceNewPage(props: { page: PageContext; co: Co; form: FormState }) {
  const { page, co, form } = props;
  return (
    <Layout page={page} title="New SCIM source" crumbs={coCrumbs(co, { label: 'Sources', href: `/cos/${co.id}/sources` }, { label: 'New SCIM source' })}>
      <EditForm action={`/cos/${co.id}/sources/new-scim`} csrfToken={page.csrfToken} form={form} submit="Add SCIM source" cancel={`/cos/${co.id}/sources`}>
        <TextField form={form} name="name" label="Name" required autocomplete="off" hint="E.g. SRAM, Entra ID, Okta; unique in the CO." />
        <Checkbox form={form} name="relativeLocation" label="Relative meta.location (/Users/<id>): SRAM needs it; leave off for Entra ID and Okta" />
      </EditForm>
    </Layout>
  );
}
