import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';
import type { RouteContext } from '../http/route-context.ts';
import { buildPageContext, type Flash, type PageContext } from './page-context.ts';

/**
 * The flash cookie's name: over https `__Host-` prefixed and Secure, so a sibling host or a plain-http
 * page cannot plant a message (its content is signed, but a planted one could be replayed).
 */
export function flashCookieName(secure: boolean): string {
  return secure ? '__Host-tessera_flash' : 'tessera_flash';
}

/** Sets a message shown once on the next page (after a POST-redirect-GET). */
export function setFlash(reply: FastifyReply, flash: Flash): void {
  const secure = reply.server.secureCookies;
  reply.setCookie(flashCookieName(secure), JSON.stringify(flash), { path: '/', httpOnly: true, sameSite: 'lax', secure, signed: true, maxAge: 60 });
}

function takeFlash(request: FastifyRequest, reply: FastifyReply): Flash | undefined {
  const secure = request.server.secureCookies;
  const name = flashCookieName(secure);
  const raw = request.cookies[name];
  if (!raw) return undefined;
  reply.clearCookie(name, { path: '/', httpOnly: true, sameSite: 'lax', secure });
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || !unsigned.value) return undefined;
  try {
    const f = JSON.parse(unsigned.value) as Flash;
    return typeof f.message === 'string' ? { kind: f.kind, message: f.message } : undefined;
  } catch {
    return undefined;
  }
}

/** Renders a page: the view gets the page context (actor, CSRF token, menus, flash). */
export async function sendPage(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  view: (page: PageContext) => VNode,
  status = 200,
): Promise<FastifyReply> {
  const page = await buildPageContext(ctx, ctx.menus, request, takeFlash(request, reply), ctx.config.localAccounts || ctx.config.oidc !== undefined);
  const html = `<!doctype html>${render(view(page))}`;
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/** POST-redirect-GET with a flash message. */
export function redirectWith(reply: FastifyReply, location: string, flash?: Flash): FastifyReply {
  if (flash) setFlash(reply, flash);
  return reply.redirect(location, 303);
}
