/**
 * The one error type of Tessera. Services throw it with a code from a catalogue; the HTTP layer
 * maps it to a status and a JSON body (API) or a page (web UI) in one place.
 */
export type ErrorKind =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNPROCESSABLE'
  | 'TOO_MANY_REQUESTS'
  | 'UNAVAILABLE';

const STATUS: Record<ErrorKind, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNPROCESSABLE: 422,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
};

export interface ErrorCode {
  code: string;
  kind: ErrorKind;
  message: string;
}

/** Declares a catalogue of error codes; each plugin has its own. */
export function defineErrorCodes<K extends string>(
  codes: Record<K, { kind: ErrorKind; message: string }>,
): Record<K, ErrorCode> {
  const out = {} as Record<K, ErrorCode>;
  for (const key of Object.keys(codes) as K[]) out[key] = { code: key, ...codes[key] };
  return out;
}

export interface FieldIssue {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly status: number;
  /** Which input field is wrong, when one is. */
  readonly field: string | undefined;
  /** Every field that is wrong, for forms that show all messages at once. */
  readonly issues: FieldIssue[];
  readonly headers: Record<string, string>;

  constructor(
    error: ErrorCode,
    options: { message?: string; field?: string; issues?: FieldIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(options.message ?? error.message);
    this.name = 'AppError';
    this.code = error.code;
    this.kind = error.kind;
    this.status = STATUS[error.kind];
    this.field = options.field ?? options.issues?.[0]?.field;
    this.issues = options.issues ?? (options.field ? [{ field: options.field, message: this.message }] : []);
    this.headers = options.headers ?? {};
  }
}

export function assertThat(condition: unknown, error: ErrorCode, options?: { message?: string; field?: string }): asserts condition {
  if (!condition) throw new AppError(error, options);
}
