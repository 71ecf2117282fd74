import { describe, expect, it } from 'vitest';
import { KpkgError } from '../../../packager/errors.js';
import { parseFormValue, showValue } from '../../../geppetto/web/ui/values.js';

describe('form values by key type', () => {
  it('strings stay exactly what was typed, whatever they look like', () => {
    for (const text of ['8080', 'true', '[1]', '{"a":1}', ' spaced ', '', '${facts} %{x} <b>']) {
      expect(parseFormValue('shop.banner', text, 'String')).toBe(text);
      expect(parseFormValue('shop.banner', text, 'Optional[String[1]]')).toBe(text);
    }
  });

  it('numbers, booleans, arrays and hashes are parsed and checked', () => {
    expect(parseFormValue('k.p', ' 8080 ', 'Integer')).toBe(8080);
    expect(parseFormValue('k.p', '-3', 'Optional[Integer[-10, 10]]')).toBe(-3);
    expect(parseFormValue('k.p', '0.25', 'Float')).toBe(0.25);
    expect(parseFormValue('k.p', 'TRUE', 'Boolean')).toBe(true);
    expect(parseFormValue('k.p', 'false', 'Boolean')).toBe(false);
    expect(parseFormValue('k.p', '["a", "b"]', 'Array[String]')).toEqual(['a', 'b']);
    expect(parseFormValue('k.p', '- a\n- b\n', 'Array[String]')).toEqual(['a', 'b']);
    expect(parseFormValue('k.p', '{"a": "b"}', 'Hash[String, String]')).toEqual({ a: 'b' });
    expect(parseFormValue('k.p', 'a: b', 'Sensitive[Hash]')).toEqual({ a: 'b' });
    for (const [text, type] of [
      ['eighty', 'Integer'],
      ['1.5', 'Integer'],
      ['99999999999999999999', 'Integer'],
      ['', 'Float'],
      ['yes', 'Boolean'],
      ['{"a": 1}', 'Array[String]'],
      ['[1]', 'Hash'],
      ['[unclosed', 'Array'],
    ] as const) {
      expect(() => parseFormValue('k.p', text, type), `${text} as ${type}`).toThrow(KpkgError);
    }
  });

  it('without a known type: JSON when it is a number, boolean, list or mapping, else the text', () => {
    expect(parseFormValue('x.y', '42', undefined)).toBe(42);
    expect(parseFormValue('x.y', 'true', undefined)).toBe(true);
    expect(parseFormValue('x.y', '["a"]', undefined)).toEqual(['a']);
    expect(parseFormValue('x.y', '"quoted"', undefined)).toBe('"quoted"');
    expect(parseFormValue('x.y', 'null', undefined)).toBe('null');
    expect(parseFormValue('x.y', 'plain words', undefined)).toBe('plain words');
  });

  it('shows values as JSON, a secret reference only as "(secret)", an unset as "unset"', () => {
    expect(showValue('a"b')).toBe('"a\\"b"');
    expect(showValue({ secret: 's_abc' })).toBe('(secret)');
    expect(showValue({ unset: true })).toBe('unset');
    expect(showValue({ secret: 's_abc', other: 1 })).toBe('{"secret":"s_abc","other":1}');
  });
});
