// The state file: parse(stringify(state)) equals the state for any state (hostile strings, secret
// references, empty scopes), the text is deterministic and sorted, the DESIGN's example reads, and
// what the schema refuses is named by its field.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseState, stringifyState } from '../../../geppetto/state-file.js';
import { KpkgError } from '../../../packager/errors.js';
import { state as stateArb } from './arbitraries.js';
import { must } from './helpers.js';

const DESIGN_EXAMPLE = `
repositories: [{ id: kelkoo, baseurl: "file:///srv/yum/kelkoo" }]
global: { settings: { "shop.banner": "Hello" } }
environments:
  production: { settings: {} }
roles:
  base: { parents: [], components: {}, settings: {} }
  shop-front:
    parents: [base]
    components: { shop: "1.4.0-1" }          # component -> version-release of its deploy package
    settings: { "shop.listen_port": 8080 }   # "<component>.<key>": value
    unset: []                                # "<component>.<key>" this scope removes
servers:
  web03.example.com: { environment: production, roles: [base, shop-front], settings: {} }
`;

describe('parseState', () => {
  it("reads the DESIGN's example, filling the fields it leaves out", () => {
    expect(parseState(DESIGN_EXAMPLE)).toEqual({
      repositories: [{ id: 'kelkoo', baseurl: 'file:///srv/yum/kelkoo' }],
      global: { settings: { 'shop.banner': 'Hello' }, unset: [] },
      environments: { production: { settings: {}, unset: [] } },
      roles: {
        base: { parents: [], components: {}, settings: {}, unset: [] },
        'shop-front': { parents: ['base'], components: { shop: '1.4.0-1' }, settings: { 'shop.listen_port': 8080 }, unset: [] },
      },
      servers: { 'web03.example.com': { environment: 'production', roles: ['base', 'shop-front'], settings: {}, unset: [] } },
    });
  });

  it('reads JSON, and an empty file as the empty state', () => {
    expect(parseState('{"servers": {"h": {"environment": "production"}}}').servers).toEqual({ h: { environment: 'production', roles: [], settings: {}, unset: [] } });
    expect(parseState('')).toEqual({ repositories: [], global: { settings: {}, unset: [] }, environments: {}, roles: {}, servers: {} });
  });

  const refused: [string, RegExp][] = [
    ['roles: { base: { parent: [x] } }', /^state file: roles\.base\.parent: unknown field$/],
    ['roles: { base: { parents: [1] } }', /^state file: roles\.base\.parents\[0\]: must be string$/],
    ['roles: { "bad role": {} }', /^state file: roles\["bad role"\]: not a valid name here/],
    ['servers: { web03: { roles: [] } }', /^state file: servers\.web03\.environment: required$/],
    ['servers: { "web_03": { environment: production } }', /^state file: servers\.web_03: not a valid name here/],
    ['global: { settings: { listen_port: 1 } }', /^state file: global\.settings\.listen_port: not a valid name here \(expected a setting key <component>\.<key>, e\.g\. shop\.listen_port\)$/],
    ['global: { settings: { "shop.x": null } }', /^state file: global\.settings\["shop\.x"\]: not a value/],
    ['global: { settings: { "shop.x": .inf } }', /^state file: global\.settings\["shop\.x"\]: Infinity is not a finite number$/],
    ['global: { unset: [shop.x, shop.x] }', /^state file: global\.unset: holds the same item twice$/],
    ['roles: { r: { components: { shop: latest } } }', /^state file: roles\.r\.components\.shop: expected \[epoch:\]version-release/],
    ['environments: { Prod: {} }', /^state file: environments\.Prod: not a valid name here/],
    ['repositories: [{ id: a, baseurl: "ftp://x" }]', /^state file: repositories\[0\]\.baseurl: must match pattern/],
    ['repositories: [{ id: a, baseurl: "file:///a" }, { id: a, baseurl: "file:///b" }]', /^state file: repositories\[1\]\.id: "a" is given twice$/],
    ['roles: { a: {}, a: {} }', /^state file: line 1, column 17: Map keys must be unique$/],
    ['roles: [', /^state file: line \d+, column \d+: /],
    ['roles: !!binary aGVsbG8=', /^state file: /],
    ['- just a list', /^state file: \(top level\): must be object$/],
    ['x: 1', /^state file: x: unknown field$/],
  ];
  for (const [text, message] of refused) {
    it(`refuses ${JSON.stringify(text)} naming the field`, () => {
      let error: unknown;
      try {
        parseState(text);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(KpkgError);
      expect((error as KpkgError).code).toBe('INVALID_INPUT');
      expect((error as KpkgError).message).toMatch(message);
    });
  }
});

describe('stringifyState', () => {
  it('parse(stringify(state)) deep-equals state, and the text is deterministic (property)', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const text = stringifyState(s);
        const back = parseState(text);
        expect(back).toEqual(s);
        expect(stringifyState(back)).toBe(text);
      }),
      { numRuns: 150 },
    );
  });

  it('sorts maps and keeps lists in order, secrets as references', () => {
    const s = parseState(DESIGN_EXAMPLE);
    must(s.servers['web03.example.com'], 'web03').settings['shop.db_password'] = { secret: 'shop-db' };
    must(s.roles['shop-front'], 'shop-front').parents = ['zz', 'base'];
    const text = stringifyState(s);
    expect(text).toContain('parents:\n      - zz\n      - base\n');
    expect(text).toContain('shop.db_password:\n        secret: shop-db\n');
    expect(text.indexOf('environments:')).toBeLessThan(text.indexOf('global:'));
    expect(text.indexOf('  base:')).toBeLessThan(text.indexOf('  shop-front:'));
  });
});
