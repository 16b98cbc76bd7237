import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { render } from 'preact-render-to-string';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { errorLogBindings } from './lean-route.ts';
import { isApiRequest } from './request-origin.ts';
import type { RouteContext } from './route-context.ts';
import { Layout } from '../web/layout.views.tsx';
import { sendPage } from '../web/render.ts';

/** API or web: decided on the matched route or the decoded path, as the request was (`isApiRequest`). */
function isApi(request: FastifyRequest): boolean {
  return isApiRequest(request);
}

/** Maps any error to an answer: AppErrors keep their status and code; anything else is a logged 500. */
function toAppError(error: unknown, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError;
  // Fastify's own client errors (malformed JSON, body too large, wrong content type).
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.statusCode === 404 ? CORE_ERRORS.NOT_FOUND : CORE_ERRORS.VALIDATION_FAILED, {
      message: fe.statusCode === 413 ? 'The request body is too large' : 'The request could not be read',
      field: '(body)',
    });
  }
  request.log.error({ err: error, ...errorLogBindings(request) }, 'unhandled error');
  return undefined as never;
}

async function sendError(ctx: RouteContext, request: FastifyRequest, reply: FastifyReply, error: AppError | undefined): Promise<FastifyReply> {
  const status = error?.status ?? 500;
  const code = error?.code ?? 'INTERNAL_ERROR';
  const message = error?.message ?? 'Something went wrong on our side. The error was logged; quote this request id when reporting it.';
  if (error) for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
  if (isApi(request)) {
    return reply.code(status).send({ error: { code, message, ...(error?.field ? { field: error.field } : {}), requestId: request.id } });
  }
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status === 401 ? 'Sign-in required' : status >= 500 ? 'Error' : 'Cannot do that';
  try {
    return await sendPage(
      ctx,
      request,
      reply,
      (page) => (
        <Layout page={page} title={title}>
          <p class="error-message">{message}</p>
          {status === 401 && (ctx.config.localAccounts || ctx.config.oidc !== undefined) && (
            <p>
              <a href={`/sign-in?next=${encodeURIComponent(request.url)}`}>Sign in</a>
            </p>
          )}
          <p class="muted">Request id: {request.id}</p>
        </Layout>
      ),
      status,
    );
  } catch (pageError) {
    // The page around the message needs the database (the signed-in person's menu); when even
    // that fails, a plain page answers rather than Fastify's default, which shows the error's text.
    request.log.error({ err: pageError }, 'error page failed');
    return reply.code(status).type('text/html; charset=utf-8').send(plainErrorPage(title, message, request.id));
  }
}

/** An error page that needs nothing but its text. */
function plainErrorPage(title: string, message: string, requestId: string): string {
  return `<!doctype html>${render(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{`${title} · Tessera`}</title>
        <link rel="stylesheet" href="/assets/app.css" />
      </head>
      <body>
        <main id="main">
          <h1>{title}</h1>
          <p class="error-message">{message}</p>
          <p class="muted">Request id: {requestId}</p>
        </main>
      </body>
    </html>,
  )}`;
}

/**
 * What the router refuses before any route or hook runs: a path that is not valid percent-encoded
 * UTF-8 (`/api/v1/cos/%ZZ`, `%FF`, the overlong `%C0%80`) is VALIDATION_FAILED (400, field
 * `(path)`); a path parameter longer than any id (Fastify's `maxParamLength`) names nothing, so
 * NOT_FOUND (404). Anything else is a logged 500.
 */
function routerError(error: FastifyError, request: FastifyRequest): AppError | undefined {
  if (error.code === 'FST_ERR_BAD_URL') return new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: 'The address is not valid: it has a malformed percent-encoding', field: '(path)' });
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return new AppError(CORE_ERRORS.NOT_FOUND);
  return toAppError(error, request);
}

/**
 * Fastify's `frameworkErrors` option: answers the router's own refusals through the one error
 * path (the JSON error under /api/, a page elsewhere) with the headers every answer carries,
 * which `setHeaders` sets (the onRequest hooks that normally do never run for these).
 */
export function routerErrorHandler(ctx: RouteContext, setHeaders: (reply: FastifyReply, request: FastifyRequest) => void) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    setHeaders(reply, request);
    void sendError(ctx, request, reply, routerError(error, request));
  };
}

export function registerErrorHandling(app: FastifyInstance, ctx: RouteContext): void {
  app.setErrorHandler(async (error, request, reply) => sendError(ctx, request, reply, toAppError(error, request)));
  app.setNotFoundHandler(async (request, reply) => sendError(ctx, request, reply, new AppError(CORE_ERRORS.NOT_FOUND)));
}
