// What Punch hands Puppet (Hiera data, site.pp) and what it reads back (the run summary, the JSON
// log as Puppet leaves it), with fixtures written by Puppet 7 (fixtures/README.md).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { NodeFile, Value } from '../../../punch/file.js';
import { punchPaths } from '../../../punch/paths.js';
import { DESCRIPTION_FILE, renderPuppetModule } from '../../../packager/puppet/module.js';
import { sampleComponent } from '../../helpers/component.js';
import { changedResources, classInputs, errorMessages, hieraData, parseJsonLog, parseSummary, puppetLiteral, renderHieraData, renderSite, resourceOf } from '../../../punch/puppet.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('reading Puppet', () => {
  it('reads a run summary', () => {
    expect(parseSummary(fixture('last_run_summary.yaml'))).toEqual({ changed: 1, outOfSync: 1, failed: 0, total: 8, events: { success: 1, failure: 0, noop: 0 } });
  });

  it('reads the changes a noop run left pending although it exited 0', () => {
    const summary = parseSummary(fixture('noop_summary.yaml'));
    expect(summary).toMatchObject({ changed: 0, outOfSync: 2, failed: 0 });
    const log = parseJsonLog(fixture('noop_log.json'));
    expect(changedResources(log)).toEqual(['File[/tmp/puppet-fixture/f]', 'Notify[a/b]c]']);
    expect(errorMessages(log)).toEqual([]);
  });

  it('gives no summary for a failed compilation or garbage', () => {
    expect(parseSummary('---\nversion:\n  puppet: 7.23.0\n')).toBeUndefined();
    expect(parseSummary(': : :')).toBeUndefined();
    expect(parseSummary('')).toBeUndefined();
  });

  it('reads a log cut short by a kill, and tolerates garbage', () => {
    expect(parseJsonLog('[\n{"level":"err","message":"boom","source":"Puppet"}\n,\n')).toEqual([{ level: 'err', message: 'boom', source: 'Puppet' }]);
    expect(parseJsonLog('not json')).toEqual([]);
    expect(parseJsonLog('')).toEqual([]);
    expect(errorMessages([{ level: 'err', message: 'Permission denied', source: 'Facter' }, { level: 'err', message: 'Evaluation Error: x', source: 'Puppet' }])).toEqual(['Evaluation Error: x']);
  });

  it('names the resource of a log source, titles with slashes and brackets included', () => {
    expect(resourceOf('/Stage[main]/Shop/File[/etc/kelkoo/shop/config.json]/content')).toBe('File[/etc/kelkoo/shop/config.json]');
    expect(resourceOf('/Stage[main]/Shop/File[/etc/kelkoo/shop]')).toBe('File[/etc/kelkoo/shop]');
    expect(resourceOf('/Stage[main]/A::B/Foo::Bar[x]/ensure')).toBe('Foo::Bar[x]');
    expect(resourceOf('Class[Main]')).toBeUndefined();
    expect(resourceOf('Puppet')).toBeUndefined();
  });
});

const HOSTILE = "it's ${x} %{facts.os.family} $(id) \"q\" \\ \n\t ü 😀 \u2028";

describe('writing for Puppet', () => {
  it('writes Hiera data that reads back as the values, %{ escaped, floats kept floats', () => {
    const text = renderHieraData([
      { name: 'shop', parameters: { banner: HOSTILE, port: 8080, ratio: 3, tags: [HOSTILE, 'x'], map: { [HOSTILE]: { n: [1, true] } } }, sensitive: ['banner'], floats: ['ratio'] },
      { name: 'a::b', parameters: { on: false }, sensitive: [], floats: [] },
    ]);
    const data = parse(text) as Record<string, unknown>;
    const unhiera = (v: unknown): unknown =>
      typeof v === 'string' ? v.replace(/%\{literal\('%'\)\}/g, '%') : Array.isArray(v) ? v.map(unhiera) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [unhiera(k), unhiera(x)])) : v;
    expect(unhiera(data['shop::banner'])).toBe(HOSTILE);
    expect(data['shop::port']).toBe(8080);
    expect(text).toContain('"shop::ratio": 3.0');
    expect(unhiera(data['shop::tags'])).toEqual([HOSTILE, 'x']);
    expect(unhiera(data['shop::map'])).toEqual({ [HOSTILE]: { n: [1, true] } });
    expect(data['a::b::on']).toBe(false);
    expect(data.lookup_options).toEqual({ 'shop::banner': { convert_to: 'Sensitive' } });
    expect(text).not.toMatch(/%\{facts/);
  });

  it('writes floats Puppet reads as Float', () => {
    expect(hieraData(3, true)).toBe('3.0');
    expect(hieraData(1e21, true)).toBe('1.0e+21');
    expect(hieraData(0.25, true)).toBe('0.25');
    expect(hieraData(7)).toBe('7');
  });

  it('writes site.pp with top-scope variables quoted and one include per class', () => {
    const site = renderSite(
      { classes: { 'a::b': {}, shop: {} }, parameters: { kelkoo_node: "web'03\\", kelkoo_revision: 42, list: ['x', { k: true }] }, kelkoo: { packages: [] } },
      [
        { name: 'a::b', parameters: {}, sensitive: [], floats: [] },
        { name: 'shop', parameters: {}, sensitive: [], floats: [] },
      ],
    );
    expect(site).toBe(["# Written by punch from the per-server file.", "$kelkoo_node = 'web\\'03\\\\'", '$kelkoo_revision = 42', "$list = ['x', {'k' => true}]", "include 'a::b'", "include 'shop'", ''].join('\n'));
    expect(puppetLiteral('${x}')).toBe("'${x}'");
  });
});

describe('the classes Punch hands to Puppet', () => {
  // the module as kpkg build writes it for a db-schema component (its kelkoo.json), in a root
  const dbRoot = () => {
    const root = mkdtempSync(join(tmpdir(), 'punch-classes-'));
    const files = renderPuppetModule(sampleComponent({ name: 'shop-db', type: 'db-schema', service: false, configKeys: { db_host: { type: 'String', default: 'localhost' } } }));
    const description = files.find((f) => f.path === DESCRIPTION_FILE);
    expect(description).toBeDefined();
    const dir = join(punchPaths(root).modulesDir, 'shop_db');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, DESCRIPTION_FILE), description?.content ?? '');
    return root;
  };
  const file = (params: Record<string, Value>): NodeFile => ({ classes: { shop_db: params }, kelkoo: { packages: [{ name: 'shop-db-deploy', evr: '1.0-1' }] } });

  it('with --root: no migrations, user or service, and the configuration inside the root', async () => {
    const root = dbRoot();
    const [input] = await classInputs(file({ db_host: 'db1', manage_migrations: true }), punchPaths(root));
    expect(input?.parameters).toEqual({ db_host: 'db1', manage_migrations: false, manage_user: false, manage_service: false, config_dir: join(root, 'etc/kelkoo/shop-db') });
  });

  it('on the server itself: the file decides, migrations included', async () => {
    const root = dbRoot();
    const onServer = { ...punchPaths(root), confined: false };
    const [input] = await classInputs(file({ db_host: 'db1' }), onServer);
    expect(input?.parameters).toEqual({ db_host: 'db1' });
  });
});
