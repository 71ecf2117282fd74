/**
 * The Puppet types Geppetto checks settings against: parsed from a parameter's declaration, a
 * value matched against them. The same table is put to Puppet itself in the system tests.
 */
import { describe, expect, it } from 'vitest';
import { acceptsUndef, parsePuppetType, valueMatches, wantsFloat } from '../../../geppetto/resolve/puppet-type.js';
import { TYPE_CASES } from '../../helpers/puppet-types.js';

describe('valueMatches', () => {
  it.each(TYPE_CASES)('%s with %j: %s', (type, value, matches) => {
    const t = parsePuppetType(type);
    expect(t, `${type} parses`).toBeDefined();
    if (t !== undefined) expect(valueMatches(value, t)).toBe(matches);
  });
});

describe('parsePuppetType', () => {
  it('reads bounds, `default` keeping one open', () => {
    expect(parsePuppetType('Array[String, 1]')).toEqual({ kind: 'Array', of: { kind: 'String', min: 0, max: Infinity }, min: 1, max: Infinity });
    expect(parsePuppetType('Hash[String, Integer, default, 3]')).toEqual({
      kind: 'Hash',
      key: { kind: 'String', min: 0, max: Infinity },
      value: { kind: 'Integer', min: -Infinity, max: Infinity },
      min: 0,
      max: 3,
    });
    expect(parsePuppetType('Integer[default, 10]')).toEqual({ kind: 'Integer', min: -Infinity, max: 10 });
    expect(parsePuppetType(' Optional [ String [ 1 ] ] ')).toEqual({ kind: 'Optional', of: { kind: 'String', min: 1, max: Infinity } });
  });

  it('gives undefined for what it cannot check, never a guess', () => {
    for (const text of ['Pattern[/a/]', 'Sensitive[String]', 'Array[String', 'Hash[String]', 'Integer[1, 2, 3]', 'String]', 'Enum[a]', 'Stdlib::Port', '']) {
      expect(parsePuppetType(text), text).toBeUndefined();
    }
  });

  it('knows which types take undef and which want Floats', () => {
    const t = (text: string) => parsePuppetType(text) ?? expect.fail(`${text} does not parse`);
    expect(acceptsUndef(t('Optional[String]'))).toBe(true);
    expect(acceptsUndef(t('Variant[Integer, Optional[String]]'))).toBe(true);
    expect(acceptsUndef(t('String'))).toBe(false);
    expect(wantsFloat(t('Array[Float]'))).toBe(true);
    expect(wantsFloat(t('Hash[String, Optional[Float]]'))).toBe(true);
    expect(wantsFloat(t('Variant[Integer, Float]'))).toBe(false);
  });
});
