import type { FastifyRequest } from 'fastify';
import type { Actor } from '../auth/actor.ts';
import type { CoreContext } from '../context.ts';
import { findCo } from '../cos/co.repository.ts';
import type { MenuEntry, Menus } from './menu.ts';
import { findPerson } from '../people/person.repository.ts';
import { countUnread } from '../notifications/notification.service.ts';

export interface Flash {
  kind: 'success' | 'error' | 'info';
  message: string;
}

/** What every page needs besides its own content. */
export interface PageContext {
  actor: Actor | undefined;
  displayName: string | undefined;
  csrfToken: string;
  /** Identity menu groups: one per CO the person is in, with what plugins add. */
  identityMenu: Array<{ coName: string; entries: MenuEntry[] }>;
  flash: Flash | undefined;
  /** Whether the sign-in page offers a way in (local accounts or OpenID Connect). */
  localAccounts: boolean;
  /** Unread notifications of the signed-in person. */
  unreadNotices: number;
}

export async function buildPageContext(
  ctx: CoreContext,
  menus: Menus,
  request: FastifyRequest,
  flash: Flash | undefined,
  localAccounts: boolean,
): Promise<PageContext> {
  const actor = request.actor;
  const identityMenu: PageContext['identityMenu'] = [];
  let displayName: string | undefined;
  if (actor?.kind === 'person') {
    displayName = actor.username;
    for (const [coId, personId] of Object.entries(actor.personIds)) {
      const co = await findCo(ctx.db, coId);
      if (!co) continue;
      if (co.isPlatform || displayName === actor.username) {
        const person = await findPerson(ctx.db, coId, personId);
        if (person && person.names.length > 0) displayName = person.displayName;
      }
      const entries = menus.identity({ co, personId, actor });
      if (entries.length > 0) identityMenu.push({ coName: co.name, entries });
    }
  }
  const unreadNotices = actor ? await countUnread(ctx.db, actor) : 0;
  return { actor, displayName, csrfToken: request.csrfToken, identityMenu, flash, localAccounts, unreadNotices };
}
