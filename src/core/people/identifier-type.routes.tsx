import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RouteContext } from '../http/route-context.ts';
import { emptyForm, type FormState } from '../web/components.views.tsx';
import { postedValues, submitForm } from '../web/forms.ts';
import { requireCoAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { identifierTypesOf } from './person.repository.ts';
import { BUILT_IN_IDENTIFIER_TYPES, identifierTypeName } from './person.schema.ts';
import { addIdentifierType } from './person.service.ts';
import { IdentifierTypesPage } from './identifier-type.views.tsx';

type CoRoute = { Params: { coId: string } };
const identifierTypeInput = z.object({ name: identifierTypeName });

export function registerIdentifierTypeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  async function show(request: FastifyRequest, reply: FastifyReply, coId: string, form: FormState, status = 200) {
    const { co } = await requireCoAdmin(ctx, request, coId);
    const own = await identifierTypesOf(ctx.db, co.id);
    return sendPage(ctx, request, reply, (page) => <IdentifierTypesPage page={page} co={co} builtIn={BUILT_IN_IDENTIFIER_TYPES} own={own} form={form} />, status);
  }

  app.get<CoRoute>('/cos/:coId/identifier-types', async (request, reply) => show(request, reply, request.params.coId, emptyForm()));

  app.post<CoRoute>('/cos/:coId/identifier-types', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const outcome = await submitForm(identifierTypeInput, postedValues(request), (input) => addIdentifierType(ctx, actor, co.id, input.name).then(() => input.name));
    if (!outcome.ok) return show(request, reply, co.id, outcome.form, outcome.status);
    return redirectWith(reply, `/cos/${co.id}/identifier-types`, { kind: 'success', message: `Identifier type ${outcome.value} added.` });
  });
}
