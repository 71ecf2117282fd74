import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { cronScheduleError } from '../../../packager/descriptor/cron.js';
import { RESERVED_KEY_NAMES } from '../../../packager/descriptor/names.js';
import { componentSchema, isSemver, schemaPath, validateDescriptor } from '../../../packager/descriptor/schema.js';
import { COMPONENT_TYPES, CONFIG_KEY_TYPES } from '../../../packager/descriptor/types.js';
import { FIXTURES } from './helpers.js';

/** The parts of a JSON Schema (draft-07) this test walks. */
interface Schema {
  $schema?: string;
  $ref?: string;
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean | Schema;
  definitions?: Record<string, Schema>;
  enum?: unknown[];
  enumDescriptions?: string[];
  propertyNames?: Schema;
  not?: Schema;
}

describe('schema/component.schema.json', () => {
  const schema = componentSchema() as Schema;

  it('is a valid draft-07 schema that ajv compiles in strict mode', () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(() => validateDescriptor({ name: 'x', type: 'webapp' })).not.toThrow();
  });

  it('ships at the package root', () => {
    expect(schemaPath()).toBe(join(FIXTURES, '../../../schema/component.schema.json'));
  });

  it('gives editors a description for every field and closes every object', () => {
    const missing: string[] = [];
    const open: string[] = [];
    const resolve = (s: Schema): Schema => (s.$ref ? { ...schema.definitions?.[s.$ref.replace('#/definitions/', '')], ...s } : s);
    const visit = (s: Schema, path: string, seen: Set<string>) => {
      const r = resolve(s);
      if (r.type === 'object' && r.properties && r.additionalProperties !== false) open.push(path);
      for (const [name, child] of Object.entries<Schema>(r.properties ?? {})) {
        const c = resolve(child);
        if (!c.description) missing.push(`${path}/${name}`);
        const key = child.$ref ?? `${path}/${name}`;
        if (!seen.has(key)) visit(child, `${path}/${name}`, new Set([...seen, key]));
      }
      if (r.items) visit(r.items, `${path}/items`, seen);
      if (typeof r.additionalProperties === 'object') visit(r.additionalProperties, `${path}/*`, seen);
    };
    visit(schema, '', new Set());
    expect(missing).toEqual([]);
    expect(open).toEqual([]);
  });

  it('lists the types and key types the code knows', () => {
    expect(schema.properties?.type?.enum).toEqual([...COMPONENT_TYPES]);
    expect(schema.properties?.type?.enumDescriptions).toHaveLength(COMPONENT_TYPES.length);
    expect(schema.definitions?.configKey?.properties?.type?.enum).toEqual([...CONFIG_KEY_TYPES]);
  });

  it('reserves the same config key names as the code', () => {
    const listed = (schema.properties?.config?.properties?.keys?.propertyNames?.not?.enum ?? []) as string[];
    expect(new Set(listed)).toEqual(RESERVED_KEY_NAMES);
    expect(listed).toHaveLength(RESERVED_KEY_NAMES.size);
  });

  it.each(['shop', 'catalog-api', 'nightly-import', 'orders-schema', 'check-shop'])('accepts the example %s', (name) => {
    const descriptor: unknown = JSON.parse(readFileSync(join(FIXTURES, name, 'component.json'), 'utf8'));
    expect(() => validateDescriptor(descriptor)).not.toThrow();
  });

  it('accepts RPM capability names and npm ranges', () => {
    const requires = {
      nodejs: '>=20.17.0',
      'perl(Foo::Bar)': '*',
      '/usr/bin/psql': '',
      'libc.so.6()(64bit)': '*',
      'python3dist(requests)': '^2.28.0',
      'postgresql-server': '13 - 16',
      'kelkoo-base': '1.x || >=2.5.0 <3.0.0',
      _internal: '~1.2.3',
    };
    expect(() => validateDescriptor({ name: 'x', type: 'webapp', requires, provides: { 'shop-api': '1.4.0' } })).not.toThrow();
  });

  it('accepts semantic versions exactly as written', () => {
    for (const v of ['0.0.1', '1.3.0-rc.2', '1.0.0-0.3.7', '1.0.0+build.5', '10.20.30-alpha.1+sha.5114f85']) expect(isSemver(v), v).toBe(true);
    for (const v of ['v1.0.0', '=1.0.0', ' 1.0.0', '1.0', '01.0.0', '1.0.0-']) expect(isSemver(v), v).toBe(false);
  });
});

describe('cron schedules', () => {
  it.each([
    '* * * * *',
    '*/5 * * * *',
    '0 2 * * *',
    '30 2 * * mon-fri',
    '0 0 1 jan,jul *',
    '0 0 1-7 * sun',
    '0 0 * * 7',
    '0-30/10 8-18/2 */2 1-12/3 1,3,5',
    '15 3 31 DEC SAT',
    '  0\t0 * * *  ',
    '@reboot',
    '@hourly',
    '@daily',
    '@midnight',
    '@weekly',
    '@monthly',
    '@yearly',
    '@annually',
  ])('accepts %j', (schedule) => {
    expect(cronScheduleError(schedule)).toBeUndefined();
  });

  it.each([
    ['', 'found 0 fields'],
    ['* * * * * *', 'found 6 fields'],
    ['60 * * * *', 'minute field "60": 60 is out of range 0-59'],
    ['* 24 * * *', 'hour field "24": 24 is out of range 0-23'],
    ['* * 0 * *', 'day-of-month field "0": 0 is out of range 1-31'],
    ['* * 32 * *', 'day-of-month field "32"'],
    ['* * * 13 *', 'month field "13"'],
    ['* * * * 8', 'day-of-week field "8"'],
    ['* * * foo *', 'month field "foo": "foo" is not a number 1-12 or jan-dec'],
    ['5/10 * * * *', "a step needs '*' or a range before it"],
    ['*/x * * * *', 'step "x" must be a number'],
    ['*/60 * * * *', 'step 60 is out of range 1-59'],
    ['1,,2 * * * *', 'empty list item'],
    ['1- * * * *', 'missing value'],
    ['10-5 * * * *', 'range 10-5 goes backwards'],
    ['@every-5m', 'unknown nickname'],
    ['-1 * * * *', 'missing value'],
  ])('refuses %j', (schedule, reason) => {
    expect(cronScheduleError(schedule)).toContain(reason);
  });
});
