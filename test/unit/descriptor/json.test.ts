import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError, lineColumn, parseJson } from '../../../packager/descriptor/json.js';
import { KpkgError } from '../../../packager/errors.js';

function errorOf(text: string): string {
  try {
    parseJson(text, 'component.json');
  } catch (err) {
    expect(err).toBeInstanceOf(KpkgError);
    expect((err as KpkgError).code).toBe('INVALID_DESCRIPTOR');
    return (err as KpkgError).message;
  }
  throw new Error(`parsed: ${text}`);
}

describe('parseJson', () => {
  it('parses what JSON.parse parses, ignoring a byte order mark', () => {
    expect(parseJson('{"a": [1, 2.5e3, -0, true, null, "\\u00e9\\n"]}', 'f')).toEqual({ a: [1, 2500, -0, true, null, 'é\n'] });
    expect(parseJson('\uFEFF {}', 'f')).toEqual({});
  });

  it.each([
    ['{\n  "name": "shop",\n  "type": "webapp",\n}', "component.json:4:1: Unexpected token '}', expected a property name in double quotes (a trailing comma is not allowed in JSON)"],
    ['{\n  "name": "shop"\n  "type": "webapp"\n}', `component.json:3:3: Unexpected token '"', expected ',' or '}' after the property value (a comma is missing)`],
    ['{"name": }', "component.json:1:10: Unexpected token '}', expected a value"],
    ['{"files": [1, 2,]}', "component.json:1:17: Unexpected token ']', expected a value (a trailing comma is not allowed in JSON)"],
    ['{\n  name: "x"\n}', "component.json:2:3: Unexpected token 'name', expected a property name in double quotes or '}' (property names need double quotes in JSON)"],
    ["{'name': 'x'}", "component.json:1:2: Unexpected token ''', expected a property name in double quotes or '}' (strings use double quotes in JSON)"],
    ['{\n  // a comment\n  "a": 1\n}', "component.json:2:3: Unexpected token '/', expected a property name in double quotes or '}' (comments are not allowed in JSON)"],
    ['{"a": True}', "component.json:1:7: Unexpected token 'True', expected a value"],
    ['{"a": tru}', "component.json:1:10: Unexpected token 'tru', expected a value (JSON literals are true, false and null)"],
    ['{"a": 01}', "component.json:1:8: Unexpected token '1', expected ',' or '}' after the property value"],
    ['{"a": 1.}', "component.json:1:9: No digit after the decimal point, found '}'"],
    ['{"a": -}', "component.json:1:8: No digit after '-', found '}'"],
    ['{"a": 1e', "component.json:1:9: No digit in the exponent, found the end of input"],
    ['{"a": "x\ty"}', "component.json:1:9: Bad control character '\\t' in string (write it as an escape such as \\n)"],
    ['{"a": "\\x"}', "component.json:1:9: Bad escape '\\x' in string"],
    ['{"a": "\\u12G4"}', 'component.json:1:12: Bad Unicode escape in string (expected \\u and 4 hex digits)'],
    ['{"a":\n  "never closed}', 'component.json:2:17: Unterminated string starting at line 2, column 3'],
    ['{"a": 1', "component.json:1:8: Unexpected end of input, expected ',' or '}' after the property value"],
    ['', 'component.json:1:1: Unexpected end of input, expected a value'],
    ['   \n  ', 'component.json:2:3: Unexpected end of input, expected a value'],
    ['{} {}', "component.json:1:4: Unexpected token '{', expected the end of the input after the JSON value"],
    ['{"a": "é"}}', "component.json:1:11: Unexpected token '}', expected the end of the input after the JSON value"],
    ['{"a": 1}\r\n\r\n x', "component.json:3:2: Unexpected token 'x', expected the end of the input after the JSON value"],
  ])('%j -> %s', (text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('finds an error after 100000 nested arrays without overflowing the stack', () => {
    expect(errorOf('['.repeat(100_000))).toBe("component.json:1:100001: Unexpected end of input, expected a value or ']'");
  });

  it('counts lines across \\n, \\r\\n and a lone \\r', () => {
    expect(lineColumn('a\nb\r\nc\rd', 7)).toEqual({ line: 4, column: 1 });
    expect(lineColumn('a\nb\r\nc\rd', 8)).toEqual({ line: 4, column: 2 });
    expect(lineColumn('abc', 2)).toEqual({ line: 1, column: 3 });
  });
});

describe('findJsonSyntaxError agrees with JSON.parse', () => {
  const accepts = (text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };

  it('on valid JSON of any shape', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(findJsonSyntaxError(text)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('on JSON with a character inserted, deleted or replaced', () => {
    const alphabet = fc.constantFrom(...'{}[],:" \\/\n\t0123456789.-+eEtrufalsn\u0000\u001f\u00e9x'.split(''));
    fc.assert(
      fc.property(fc.json(), fc.nat(), alphabet, fc.constantFrom('insert', 'delete', 'replace'), (json, at, ch, op) => {
        const i = json.length === 0 ? 0 : at % (json.length + (op === 'insert' ? 1 : 0));
        const text = op === 'insert' ? json.slice(0, i) + ch + json.slice(i) : op === 'delete' ? json.slice(0, i) + json.slice(i + 1) : json.slice(0, i) + ch + json.slice(i + 1);
        const found = findJsonSyntaxError(text);
        expect(found === undefined).toBe(accepts(text));
        if (found) expect(found.offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('where Node states a position, finds the same one', () => {
    // Node 20.x and 22+ (V8 >= 11) say "... in JSON at position N" for some errors only
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom(',', '}', ']', ':', '"', 'x', '1'), (json, at, ch) => {
        const i = at % (json.length + 1);
        const text = json.slice(0, i) + ch + json.slice(i);
        let nodePosition: number | undefined;
        try {
          JSON.parse(text);
        } catch (err) {
          const m = /at position (\d+)/.exec((err as Error).message);
          if (m) nodePosition = Number(m[1]);
        }
        if (nodePosition !== undefined) expect(findJsonSyntaxError(text)?.offset).toBe(nodePosition);
      }),
      { numRuns: 2000 },
    );
  });
});
