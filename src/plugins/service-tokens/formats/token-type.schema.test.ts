import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { customTokenType, customTokenTypeInput } from './token-type.schema.ts';
import { ALPHABETS, checkTokenFormat, displayHint, generateToken, makeTokenType, normalizeToken } from './token-types.ts';

describe('token types', () => {
  describe('custom types', () => {
    it('are made from a plain configuration and behave like built-ins', () => {
      const input = customTokenTypeInput.parse({ alphabet: ALPHABETS.upperUnambiguous, length: '30', groupSize: '5', prefix: 'acme_', checksum: 'on' });
      const type = customTokenType(input);
      assert.equal(type.id, 'custom');
      assert.equal(type.legacy, false);
      assert.equal(type.entropyBits, 150);
      assert.equal(type.checksumLength, 7);
      assert.match(type.label, /150 bits/);
      const token = generateToken(type);
      assert.match(token, /^acme_(?:[A-Z2-9]{5}-){7}[A-Z2-9]{2}$/);
      assert.equal(checkTokenFormat(type, token), null);
      assert.equal(normalizeToken(type, token.replaceAll('-', '').toLowerCase().replace('acme_', 'ACME_')), token);
      assert.equal(displayHint(type, token), `acme_…${token.replaceAll('-', '').slice(-4)}`);
    });

    it('take defaults for the optional fields, empty form fields included', () => {
      const input = customTokenTypeInput.parse({ alphabet: ALPHABETS.base62, length: 40, groupSize: '', label: '' });
      assert.deepEqual(input, { alphabet: ALPHABETS.base62, length: 40, groupSize: null, prefix: '', checksum: false, label: null });
      assert.equal(customTokenType({ ...input, label: 'Wiki' }).label, 'Wiki');
    });

    it('refuse unusable configurations', () => {
      const base = { alphabet: ALPHABETS.base62, length: 20 };
      const bad: Array<[string, Record<string, unknown>]> = [
        ['alphabet under 10', { ...base, alphabet: 'abcdefghi' }],
        ['repeated character', { ...base, alphabet: 'abcdefghijka' }],
        ['dash in the alphabet', { ...base, alphabet: 'abcdefghij-' }],
        ['space in the alphabet', { ...base, alphabet: 'abcdefghij ' }],
        ['non-ASCII in the alphabet', { ...base, alphabet: 'abcdefghijé' }],
        ['length 7', { ...base, length: 7 }],
        ['length 129', { ...base, length: 129 }],
        ['fractional length', { ...base, length: 20.5 }],
        ['group of 1', { ...base, groupSize: 1 }],
        ['group of 17', { ...base, groupSize: 17 }],
        ['uppercase prefix', { ...base, prefix: 'TST_' }],
        ['long prefix', { ...base, prefix: 'abcdefghijklm' }],
        ['prefix with dash', { ...base, prefix: 'ab-' }],
        ['no alphabet', { length: 20 }],
      ];
      for (const [name, config] of bad) {
        assert.equal(customTokenTypeInput.safeParse(config).success, false, name);
      }
      assert.throws(() => makeTokenType({ id: 'x', label: 'x', alphabet: 'abc', length: 20 }), RangeError);
      assert.throws(() => makeTokenType({ id: 'x', label: 'x', alphabet: ALPHABETS.base62, length: 20, prefix: 'A' }), RangeError);
    });
  });
});
