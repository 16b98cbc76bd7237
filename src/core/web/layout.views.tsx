import type { ComponentChildren } from 'preact';
import { CSRF_FIELD } from '../http/csrf.ts';
import type { PageContext } from './page-context.ts';

export interface Crumb {
  label: string;
  href?: string;
}

/** Breadcrumbs of a page inside a CO: COs / <CO name> / ...rest. */
export function coCrumbs(co: { id: string; name: string }, ...rest: Crumb[]): Crumb[] {
  return [{ label: 'COs', href: '/cos' }, { label: co.name, href: `/cos/${co.id}` }, ...rest];
}

/** The page frame: top bar with the identity menu, breadcrumbs, flash message, content. */
export function Layout(props: { page: PageContext; title: string; crumbs?: Crumb[]; children: ComponentChildren }) {
  const { page } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Tessera`}</title>
        <link rel="stylesheet" href="/assets/app.css" />
        <script src="/assets/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="topbar">
          <a class="brand" href="/">Tessera</a>
          {page.actor?.kind === 'person' && (
            <nav aria-label="Main">
              <a href="/cos">COs</a>
              <a href="/notifications">
                Notifications{page.unreadNotices > 0 && <span class="badge badge-new" aria-label={`${page.unreadNotices} unread`}> {page.unreadNotices}</span>}
              </a>
            </nav>
          )}
          <div class="spacer" />
          {page.actor?.kind === 'person' ? (
            <details class="identity-menu">
              <summary>{page.displayName ?? page.actor.username}</summary>
              {/* A disclosure of plain links (not an ARIA menu): Tab moves through it, Escape closes it. */}
              <div class="menu">
                {page.identityMenu.length > 0 && (
                  <ul>
                    {page.identityMenu.map((group) =>
                      group.entries.map((entry) => (
                        <li>
                          <a href={entry.href}>
                            {entry.label} → {group.coName}
                          </a>
                        </li>
                      )),
                    )}
                  </ul>
                )}
                <form method="post" action="/sign-out">
                  <input type="hidden" name={CSRF_FIELD} value={page.csrfToken} />
                  <button type="submit" class="link">Sign out</button>
                </form>
              </div>
            </details>
          ) : (
            page.localAccounts && <a href="/sign-in">Sign in</a>
          )}
        </header>
        <main id="main">
          {props.crumbs && props.crumbs.length > 0 && (
            <nav class="crumbs" aria-label="Breadcrumb">
              <ol>
                {props.crumbs.map((c, i) => (
                  <li>
                    {c.href ? <a href={c.href}>{c.label}</a> : <span aria-current={i === props.crumbs!.length - 1 ? 'page' : undefined}>{c.label}</span>}
                  </li>
                ))}
              </ol>
            </nav>
          )}
          {page.flash && (
            <p class={`flash flash-${page.flash.kind}`} role={page.flash.kind === 'error' ? 'alert' : 'status'}>
              {page.flash.message}
            </p>
          )}
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}
