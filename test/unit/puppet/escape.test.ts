// The escaping functions, checked by decoders written here from each language's rules (the real
// Puppet, Hiera and EPP read the same strings in test/system/puppet.test.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConfigValue } from '../../../packager/descriptor/types.js';
import { KpkgError } from '../../../packager/errors.js';
import {
  eppText,
  hieraText,
  hieraValue,
  jsonString,
  markdownCode,
  markdownText,
  puppetComment,
  puppetString,
  puppetValue,
  rubyString,
  unHieraText,
  yamlString,
} from '../../../packager/puppet/escape.js';

const HOSTILE = [
  "it's ${x} %{facts.os.family} $(id)",
  '"quoted" \\ back',
  "'single' \\' \\\\'",
  'trailing backslash \\',
  '<%= 1 %> <%% -%> %> <%- x -%>',
  '{{x}} {{{y}}}',
  'line1\nline2\r\nline3\rend',
  'tab\there',
  'héllo wörld ☃ 😀 日本語',
  '\u2028\u2029\u0085\u007f\u009f\ufeff',
  '%{literal(\'%\')}',
  '%{} %{::} %%{x} %{',
  '`cmd` ``code`` #',
  '',
];

/** Fragments that break naive escaping, glued with arbitrary text by the property tests. */
const fragment = fc.oneof(
  fc.constantFrom("'", '"', '\\', '$', '{', '}', '%', '%{', '<%', '%>', '<%%', '${x}', '$(id)', '\n', '\r', '\t', '`', '#', ' '),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const hostileText = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join('').replace(/\0/g, ''));

function refusesNul(fn: (s: string) => unknown): void {
  expect(() => fn('a\0b')).toThrow(KpkgError);
  expect(() => fn('a\0b')).toThrow(/NUL character \(at index 1\)/);
}

/** A Puppet single-quoted string literal read as Puppet's lexer does. */
function readPuppetSingleQuoted(lit: string): string {
  expect(lit.startsWith("'") && lit.endsWith("'") && lit.length >= 2).toBe(true);
  const body = lit.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "'") throw new Error(`unescaped quote at ${i} in ${lit}`);
    if (c === '\\' && (body[i + 1] === '\\' || body[i + 1] === "'")) {
      out += body[i + 1];
      i++;
    } else out += c;
  }
  return out;
}

/** Hiera 5's interpolation (Puppet::Pops::Lookup::Interpolation): %{...} by /%\{([^\}]*)\}/. */
function hieraInterpolate(s: string): string {
  return s.replace(/%\{([^}]*)\}/g, (_m, expr: string) => {
    const e = expr.trim();
    if (["literal('%')", 'literal("%")'].includes(e)) return '%';
    if (['', '::', '""', "''", '"::"', "'::'"].includes(e)) return '';
    throw new Error(`Hiera would look up ${JSON.stringify(e)}`);
  });
}

function hieraRead(value: unknown): unknown {
  if (typeof value === 'string') return hieraInterpolate(value);
  if (Array.isArray(value)) return value.map(hieraRead);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [hieraInterpolate(k), hieraRead(v)]));
  }
  return value;
}

/** EPP text as Puppet's EPP lexer scans it: `<%%` is a literal `<%`, any other `<%` opens a tag. */
function readEppText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('<%%', i)) {
      out += '<%';
      i += 2;
    } else if (text.startsWith('<%', i)) {
      throw new Error(`a tag opens at ${i}`);
    } else out += text[i];
  }
  return out;
}

/** The content of a CommonMark code span. */
function readCodeSpan(span: string): string {
  const fence = /^`+/.exec(span)?.[0] ?? '';
  expect(span.endsWith(fence)).toBe(true);
  let inner = span.slice(fence.length, span.length - fence.length);
  expect(inner.includes(fence) && new RegExp(`(^|[^\`])${fence}([^\`]|$)`).test(inner)).toBe(false);
  if (inner.length >= 2 && inner.startsWith(' ') && inner.endsWith(' ') && inner.trim() !== '') inner = inner.slice(1, -1);
  return inner;
}

describe('puppetString', () => {
  it('quotes and escapes backslashes and single quotes only', () => {
    expect(puppetString("it's ${x} %{facts.os.family} $(id)")).toBe("'it\\'s ${x} %{facts.os.family} $(id)'");
    expect(puppetString('"quoted" \\ back')).toBe("'\"quoted\" \\\\ back'");
    expect(puppetString('')).toBe("''");
    expect(puppetString('a\nb')).toBe("'a\nb'");
    expect(puppetString('trailing \\')).toBe("'trailing \\\\'");
  });

  it.each(HOSTILE)('reads back %j', (s) => {
    expect(readPuppetSingleQuoted(puppetString(s))).toBe(s);
  });

  it('reads back any text', () => {
    fc.assert(fc.property(hostileText, (s) => readPuppetSingleQuoted(puppetString(s)) === s));
  });

  it('refuses NUL and lone surrogates', () => {
    refusesNul(puppetString);
    expect(() => puppetString('a\ud800b')).toThrow(/lone UTF-16 surrogate \(at index 1\)/);
    expect(puppetString('😀')).toBe("'😀'");
  });
});

describe('puppetValue', () => {
  it('writes every config type', () => {
    expect(puppetValue(8080, 'Integer')).toBe('8080');
    expect(puppetValue(-3)).toBe('-3');
    expect(puppetValue(0.5, 'Float')).toBe('0.5');
    expect(puppetValue(5, 'Float')).toBe('5.0');
    expect(puppetValue(1e21, 'Float')).toBe('1.0e21');
    expect(puppetValue(1.5e-7, 'Float')).toBe('1.5e-7');
    expect(puppetValue(true, 'Boolean')).toBe('true');
    expect(puppetValue(false)).toBe('false');
    expect(puppetValue("it's", 'String')).toBe("'it\\'s'");
    expect(puppetValue(['a', "b'"], 'Array[String]')).toBe("['a', 'b\\'']");
    expect(puppetValue([], 'Array[String]')).toBe('[]');
    expect(puppetValue({ "k'": 'v\\' }, 'Hash[String, String]')).toBe("{ 'k\\'' => 'v\\\\' }");
    expect(puppetValue({}, 'Hash[String, String]')).toBe('{}');
  });

  it('refuses a value that is not of the declared type', () => {
    expect(() => puppetValue(1.5, 'Integer')).toThrow(/1.5 is not a value of type Integer/);
    expect(() => puppetValue('8080', 'Integer')).toThrow(KpkgError);
    expect(() => puppetValue(Number.NaN, 'Float')).toThrow(/not a value of type Float/);
    expect(() => puppetValue(Number.POSITIVE_INFINITY)).toThrow(KpkgError);
    expect(() => puppetValue(['a', 1] as unknown as string[], 'Array[String]')).toThrow(KpkgError);
    expect(() => puppetValue({ a: 1 } as unknown as Record<string, string>, 'Hash[String, String]')).toThrow(KpkgError);
    expect(() => puppetValue(2 ** 60, 'Integer')).toThrow(KpkgError);
  });

  it('refuses NUL inside arrays and hashes', () => {
    expect(() => puppetValue(['ok', 'a\0'])).toThrow(/NUL/);
    expect(() => puppetValue({ 'k\0': 'v' })).toThrow(/NUL/);
  });
});

describe('yamlString', () => {
  // Our output uses only escapes JSON shares with YAML (\" \\ \n \t \r \uXXXX) and raw characters
  // both accept, so JSON.parse reads it as YAML does.
  it.each(HOSTILE)('reads back %j', (s) => {
    expect(JSON.parse(yamlString(s))).toBe(s);
  });

  it('escapes what YAML 1.1 does not take raw or would fold', () => {
    expect(yamlString('\u2028\u2029\u0085\u007f\u009f\ufeff\ufffe\uffff\u0001')).toBe(
      '"\\u2028\\u2029\\u0085\\u007F\\u009F\\uFEFF\\uFFFE\\uFFFF\\u0001"',
    );
    expect(yamlString('a\nb\tc\rd"e\\f')).toBe('"a\\nb\\tc\\rd\\"e\\\\f"');
    expect(yamlString('héllo 😀')).toBe('"héllo 😀"');
  });

  it('puts no raw control or line-breaking character in the scalar', () => {
    fc.assert(
      fc.property(hostileText, (s) => {
        const y = yamlString(s);
        return JSON.parse(y) === s && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/.test(y);
      }),
    );
  });

  it('refuses NUL', () => refusesNul(yamlString));
});

describe('hieraText and hieraValue', () => {
  it('escapes %{ with the literal interpolation', () => {
    expect(hieraText('%{facts.os.family}')).toBe("%{literal('%')}{facts.os.family}");
    expect(hieraText('100% %d %%{')).toBe("100% %d %%{literal('%')}{");
    expect(hieraValue("it's ${x} %{facts.os.family} $(id)")).toBe(`"it's \${x} %{literal('%')}{facts.os.family} $(id)"`);
  });

  it.each(HOSTILE)('Hiera reads back %j', (s) => {
    expect(hieraRead(JSON.parse(hieraValue(s)))).toBe(s);
    expect(unHieraText(hieraText(s))).toBe(s);
  });

  it('Hiera reads back any text, and unHieraText is the inverse', () => {
    fc.assert(
      fc.property(hostileText, (s) => hieraRead(JSON.parse(hieraValue(s))) === s && unHieraText(hieraText(s)) === s),
    );
  });

  it('writes every config type as one line of YAML', () => {
    expect(hieraValue(8080, 'Integer')).toBe('8080');
    expect(hieraValue(0.5, 'Float')).toBe('0.5');
    expect(hieraValue(5, 'Float')).toBe('5.0');
    expect(hieraValue(1e21, 'Float')).toBe('1.0e+21');
    expect(hieraValue(1.5e-7, 'Float')).toBe('1.5e-7');
    expect(hieraValue(-2.25e30, 'Float')).toBe('-2.25e+30');
    expect(hieraValue(true, 'Boolean')).toBe('true');
    expect(hieraValue([], 'Array[String]')).toBe('[]');
    expect(hieraValue({}, 'Hash[String, String]')).toBe('{}');
    expect(hieraValue({ '%{k}': 'v' }, 'Hash[String, String]')).toBe(`{"%{literal('%')}{k}": "v"}`);
  });

  const configValue: fc.Arbitrary<ConfigValue> = fc.oneof(
    hostileText,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.array(hostileText, { maxLength: 4 }),
    fc.dictionary(hostileText, hostileText, { maxKeys: 4 }),
  );

  it('round-trips every config value through Hiera', () => {
    fc.assert(
      fc.property(configValue, (v) => {
        const back = hieraRead(JSON.parse(hieraValue(v)));
        expect(back).toEqual(typeof v === 'number' && Object.is(v, -0) ? 0 : v);
      }),
    );
  });

  it('keeps floats floats: a dot and a signed exponent, as YAML 1.1 wants', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        // Psych's float pattern (psych/scalar_scanner.rb, FLOAT)
        return /^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$/.test(hieraValue(d, 'Float'));
      }),
    );
  });

  it('keeps floats floats in Puppet: a dot and an exponent its lexer reads', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        // Puppet's lexer (lexer2.rb): 0?\d+(?:\.\d+)?(?:[eE]-?\d+)?, after an optional unary minus
        return /^-?\d+\.\d+(?:[eE]-?\d+)?$/.test(puppetValue(d, 'Float'));
      }),
    );
  });
});

describe('eppText', () => {
  it('doubles the % of every tag opener', () => {
    expect(eppText('<%= 1 %> <%% -%>')).toBe('<%%= 1 %> <%%% -%>');
    expect(eppText('{{x}} ${y}')).toBe('{{x}} ${y}');
    expect(eppText('')).toBe('');
  });

  it.each(HOSTILE)('EPP reads back %j with no tag opened', (s) => {
    expect(readEppText(eppText(s))).toBe(s);
  });

  it('EPP reads back any text', () => {
    fc.assert(fc.property(hostileText, (s) => readEppText(eppText(s)) === s));
  });

  it('refuses NUL', () => refusesNul(eppText));
});

describe('puppetComment', () => {
  it('prefixes every line, and wraps long ones', () => {
    expect(puppetComment('one\ntwo')).toBe('# one\n# two');
    expect(puppetComment('one\r\n\r\ntwo', '#   ')).toBe('#   one\n#\n#   two');
    const long = `${'word '.repeat(60)}end`;
    const lines = puppetComment(long).split('\n');
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((l) => l.startsWith('# ') && l.length <= 100)).toBe(true);
    expect(lines.map((l) => l.slice(2)).join(' ')).toBe(long);
  });

  it('cuts a word longer than a line', () => {
    const lines = puppetComment('x'.repeat(250)).split('\n');
    expect(lines.map((l) => l.length)).toEqual([100, 100, 56]);
  });

  it('never lets text escape the comment, nor exceeds 140 characters', () => {
    fc.assert(
      fc.property(hostileText, fc.constantFrom('# ', '#   '), (s, prefix) => {
        const c = puppetComment(s, prefix);
        return c.split('\n').every((l) => l.startsWith('#') && [...l].length <= 140 && !/[\r\u0000-\u0009\u000b-\u001f\u007f]|\s$/.test(l));
      }),
    );
  });

  it('refuses NUL', () => refusesNul((s) => puppetComment(s)));
});

describe('jsonString, rubyString', () => {
  it.each(HOSTILE)('read back %j', (s) => {
    expect(JSON.parse(jsonString(s))).toBe(s);
    expect(readPuppetSingleQuoted(rubyString(s))).toBe(s); // Ruby's single quotes have Puppet's two escapes
  });

  it('refuse NUL', () => {
    refusesNul(jsonString);
    refusesNul(rubyString);
  });
});

describe('markdown', () => {
  it('escapes inline syntax and block starts in prose', () => {
    expect(markdownText('# not a *heading* <b> [x](y) `c` a|b')).toBe('\\# not a \\*heading\\* \\<b\\> \\[x\\](y) \\`c\\` a\\|b');
    expect(markdownText('- item\nnext')).toBe('\\- item next');
    expect(markdownText('1. first')).toBe('1\\. first');
    expect(markdownText("it's ${x} %{y} $(id)")).toBe("it's ${x} %{y} $(id)");
  });

  it('makes code spans whatever backticks the text holds', () => {
    expect(markdownCode('8080')).toBe('`8080`');
    expect(markdownCode('a`b')).toBe('``a`b``');
    expect(markdownCode('``x')).toBe('``` ``x ```');
    expect(markdownCode(' ')).toBe('` `');
    expect(markdownCode(' x ')).toBe('`  x  `');
    fc.assert(
      fc.property(hostileText, (s) => {
        const line = s.replace(/[\r\n]+/g, ' ');
        return line === '' || readCodeSpan(markdownCode(s)) === line;
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses NUL', () => {
    refusesNul(markdownText);
    refusesNul(markdownCode);
  });
});
