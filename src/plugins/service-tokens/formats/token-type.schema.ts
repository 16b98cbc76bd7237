import { z } from 'zod';
import { checkbox, text } from '../../../core/http/validation.ts';
import { makeTokenType, TOKEN_TYPE_LIMITS, type TokenType } from './token-types.ts';

const L = TOKEN_TYPE_LIMITS;

const emptyAsNull = (v: unknown) => (v === '' || v === undefined ? null : v);

/** A custom token type as an administrator defines it (form fields or JSON). */
export const customTokenTypeInput = z.object({
  label: z.preprocess(emptyAsNull, text({ max: 64 }).nullable()).default(null),
  alphabet: z
    .string()
    .refine((a) => /^[\x21-\x2c\x2e-\x7e]*$/.test(a), 'Only printable ASCII characters other than space and "-"')
    .refine((a) => new Set(a).size === a.length, 'Each character only once')
    .refine((a) => a.length >= L.minAlphabet && a.length <= L.maxAlphabet, `${L.minAlphabet} to ${L.maxAlphabet} characters`),
  length: z.coerce.number().int('A whole number').min(L.minLength, `At least ${L.minLength}`).max(L.maxLength, `At most ${L.maxLength}`),
  groupSize: z.preprocess(
    emptyAsNull,
    z.coerce.number().int('A whole number').min(L.minGroupSize, `At least ${L.minGroupSize}`).max(L.maxGroupSize, `At most ${L.maxGroupSize}`).nullable(),
  ).default(null),
  prefix: z.string().regex(L.prefix, 'Up to 12 lowercase letters, digits and "_"').default(''),
  checksum: checkbox.default(false),
});
export type CustomTokenTypeInput = z.infer<typeof customTokenTypeInput>;

export const CUSTOM_TOKEN_TYPE_ID = 'custom';

/** The token type of a validated custom definition; never legacy, so never plaintext. */
export function customTokenType(input: CustomTokenTypeInput): TokenType {
  const type = makeTokenType({
    id: CUSTOM_TOKEN_TYPE_ID,
    label: '',
    alphabet: input.alphabet,
    length: input.length,
    groupSize: input.groupSize,
    prefix: input.prefix,
    checksum: input.checksum,
  });
  const label = input.label ?? `Custom: ${type.length} characters from ${type.alphabet.length} (${type.entropyBits} bits)`;
  return Object.freeze({ ...type, label });
}
