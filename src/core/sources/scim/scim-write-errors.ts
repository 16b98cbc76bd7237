import { AppError } from '../../errors/app-error.ts';
import { ScimError } from './scim-error.ts';

/**
 * Maps an error of the source writer or the core to the SCIM error a client understands
 * (RFC 7644 §3.12): a taken identifier or group name is 409 uniqueness; a rule of the core's
 * input (a name too long for the directory, …) is 400 invalidValue; a finalised or terminated
 * source is 403; anything else of the core keeps its status with its message. Other errors pass
 * through (to be logged as 500).
 */
export function translateWriteError(error: unknown): unknown {
  if (!(error instanceof AppError)) return error;
  if (error.code === 'IDENTIFIER_TAKEN' || error.code === 'GROUP_NAME_TAKEN' || error.kind === 'CONFLICT') {
    return new ScimError(409, error.code === 'GROUP_IN_USE' ? 'mutability' : 'uniqueness', error.message);
  }
  if (error.code === 'SOURCE_NOT_ACTIVE') return new ScimError(403, undefined, error.message);
  if (error.kind === 'BAD_REQUEST' || error.kind === 'UNPROCESSABLE') return new ScimError(400, 'invalidValue', `${error.field ? `${error.field}: ` : ''}${error.message}`);
  return new ScimError(error.status, undefined, error.message, error.headers);
}
