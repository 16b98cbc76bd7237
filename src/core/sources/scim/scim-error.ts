/** The SCIM error message schema (RFC 7644 §3.12). */
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * The `scimType` values of RFC 7644 §3.12 Table 9 that Tessera answers with, plus none (401, 404,
 * 413, 429 and 500 carry no scimType).
 */
export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

/**
 * An error a SCIM endpoint answers with a SCIM error body (RFC 7644 §3.12):
 * `{ schemas: [Error], status: "400", scimType?, detail }`. `headers` go out with it (Retry-After,
 * WWW-Authenticate).
 */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  /** The body to send: status as a string, as RFC 7644 §3.12 shows it. */
  body(): { schemas: string[]; status: string; scimType?: ScimType; detail: string } {
    return { schemas: [SCIM_ERROR_SCHEMA], status: String(this.status), ...(this.scimType ? { scimType: this.scimType } : {}), detail: this.message };
  }
}

/** 400 invalidValue: a value missing, of the wrong type, or not allowed for the attribute. */
export const invalidValue = (detail: string): ScimError => new ScimError(400, 'invalidValue', detail);
/** 400 invalidSyntax: the body is not JSON of the request's schema (e.g. an attribute no schema defines). */
export const invalidSyntax = (detail: string): ScimError => new ScimError(400, 'invalidSyntax', detail);
/** 400 invalidFilter: a filter outside the supported set, or one that does not parse. */
export const invalidFilter = (detail: string): ScimError => new ScimError(400, 'invalidFilter', detail);
/** 400 invalidPath: a PATCH path Tessera does not write. */
export const invalidPath = (detail: string): ScimError => new ScimError(400, 'invalidPath', detail);
/** 409 uniqueness: another resource of the CO holds this userName / displayName / externalId. */
export const uniqueness = (detail: string): ScimError => new ScimError(409, 'uniqueness', detail);
/** 404: no such resource of this source (another source's resource included). */
export const notFound = (resource: string, id: string): ScimError => new ScimError(404, undefined, `${resource} ${id} not found`);
