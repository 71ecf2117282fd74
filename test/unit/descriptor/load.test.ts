import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LICENSE, loadComponent, resolveComponent } from '../../../packager/descriptor/load.js';
import { COMPONENT_TYPES } from '../../../packager/descriptor/types.js';
import { expectInvalid, FIXTURES, tempDir } from './helpers.js';

describe('loadComponent on the example components', () => {
  it('webapp: a service with listen_port, package.json defaults, keys in order', async () => {
    const c = await loadComponent(join(FIXTURES, 'shop'));
    expect(c).toMatchObject({
      dir: join(FIXTURES, 'shop'),
      name: 'shop',
      type: 'webapp',
      version: '1.4.0',
      summary: 'The shop front',
      description: 'The shop front.\nServes the product pages and the basket.',
      license: 'Proprietary',
      url: 'https://git.example.com/kelkoo/shop',
      vendor: 'Kelkoo',
      packager: 'Jane Doe <jane@example.com>',
      prefix: '/opt/kelkoo/shop',
      module: 'shop',
      user: 'shop',
      group: 'shop',
      configDir: '/etc/kelkoo/shop',
      logDir: '/var/log/kelkoo/shop',
      nodeEngine: '>=20.17',
      hasBuildScript: true,
      service: true,
      requires: { nginx: '>=1.20.0' },
      recommends: {},
      cron: [],
    });
    // the descriptor restates listen_port to change its default; the convention's description stays
    expect(c.configKeys.listen_port).toEqual({ type: 'Integer', default: 3000, description: 'TCP port the HTTP server listens on' });
    expect(Object.keys(c.configKeys)).toEqual(['listen_port', 'catalog_url', 'features']);
    expect(c.files).toEqual([
      { src: 'dist', dest: '/opt/kelkoo/shop/lib', exclude: ['*.map'] },
      { src: 'config/shop.yaml', dest: '/etc/kelkoo/shop/shop.yaml', config: true, mode: 0o640, group: 'shop' },
    ]);
  });

  it('web-service: listen_port added with 8080; version from the descriptor without package.json', async () => {
    const c = await loadComponent(join(FIXTURES, 'catalog-api'));
    expect(c).toMatchObject({ type: 'web-service', version: '2.0.0-rc.1', service: true, module: 'catalog_api', summary: 'Catalog HTTP API', description: 'Catalog HTTP API', license: 'Apache-2.0', hasBuildScript: false });
    expect(c.configKeys).toEqual({ listen_port: { type: 'Integer', default: 8080, description: 'TCP port the HTTP server listens on' } });
    expect(c.url).toBeUndefined();
    expect(c.nodeEngine).toBeUndefined();
    expect(c.files[1]).toEqual({ src: 'openapi.json', dest: '/opt/kelkoo/catalog-api/share/' });
  });

  it('processing: not a service, its cron entries kept', async () => {
    const c = await loadComponent(join(FIXTURES, 'nightly-import'));
    expect(c).toMatchObject({ type: 'processing', version: '0.3.1', service: false, license: 'MIT', summary: "Imports the merchants' feeds every night" });
    expect(c.cron).toEqual([
      { schedule: '30 2 * * mon-fri' },
      { schedule: '@weekly', command: '/opt/kelkoo/nightly-import/bin/nightly-import --full' },
    ]);
    expect(c.configKeys).toEqual({ batch_size: { type: 'Integer', default: 500 }, feed_token: { type: 'String', secret: true } });
  });

  it('db-schema: the five database keys, db_password secret without a default, a restated default kept', async () => {
    const c = await loadComponent(join(FIXTURES, 'orders-schema'));
    expect(c.service).toBe(false);
    expect(Object.keys(c.configKeys)).toEqual(['db_host', 'db_port', 'db_name', 'db_user', 'db_password']);
    expect(c.configKeys.db_host).toMatchObject({ type: 'String', default: 'localhost' });
    expect(c.configKeys.db_port).toMatchObject({ type: 'Integer', default: 5432 });
    expect(c.configKeys.db_name).toMatchObject({ type: 'String', default: 'orders' });
    expect(c.configKeys.db_user).toMatchObject({ type: 'String', default: 'orders_schema' });
    expect(c.configKeys.db_password).toMatchObject({ type: 'String', secret: true });
    expect(c.configKeys.db_password).not.toHaveProperty('default');
    expect(c).toMatchObject({ summary: 'orders-schema db-schema component', description: 'orders-schema db-schema component', license: DEFAULT_LICENSE, version: '5.0.0' });
  });

  it('monitoring: not a service, no keys, absolute dests kept', async () => {
    const c = await loadComponent(join(FIXTURES, 'check-shop'));
    expect(c).toMatchObject({ type: 'monitoring', service: false, configKeys: {} });
    expect(c.files.map((f) => f.dest)).toEqual(['/usr/lib64/nagios/plugins/check_shop', '/etc/nrpe.d/']);
  });
});

describe('resolveComponent', () => {
  const dir = '/tmp/component';
  const resolve = (descriptor: unknown, packageJson?: unknown) => resolveComponent({ dir, descriptor, packageJson });

  it.each(COMPONENT_TYPES)('resolves a minimal %s with the defaults', (type) => {
    const c = resolve({ name: 'my-thing', type, version: '1.0.0' });
    expect(c).toMatchObject({
      prefix: '/opt/kelkoo/my-thing',
      module: 'my_thing',
      user: 'my-thing',
      group: 'my-thing',
      configDir: '/etc/kelkoo/my-thing',
      logDir: '/var/log/kelkoo/my-thing',
      summary: `my-thing ${type} component`,
      license: 'Proprietary',
      files: [],
      cron: [],
      service: type === 'webapp' || type === 'web-service',
      hasBuildScript: false,
    });
    expect(Object.keys(c.configKeys)).toEqual(
      type === 'db-schema' ? ['db_host', 'db_port', 'db_name', 'db_user', 'db_password'] : type.startsWith('web') ? ['listen_port'] : [],
    );
  });

  it('db-schema defaults db_name and db_user to the name with - as _', () => {
    const c = resolve({ name: 'a-b-c', type: 'db-schema', version: '1.0.0' });
    expect(c.configKeys.db_name?.default).toBe('a_b_c');
    expect(c.configKeys.db_user?.default).toBe('a_b_c');
  });

  it('takes the version from package.json when the descriptor has none, and prefers the descriptor', () => {
    expect(resolve({ name: 'x', type: 'webapp' }, { version: '3.2.1' }).version).toBe('3.2.1');
    expect(resolve({ name: 'x', type: 'webapp', version: '1.0.0' }, { version: '3.2.1' }).version).toBe('1.0.0');
  });

  it('names both files when no version is given', async () => {
    await expectInvalid(() => resolve({ name: 'x', type: 'webapp' }, { name: 'x' }), 'component.json: /version:', 'component.json', 'package.json');
    await expectInvalid(() => resolve({ name: 'x', type: 'webapp' }), 'component.json: /version:');
  });

  it('maps package.json metadata: license, homepage or repository, author, engines, build script', () => {
    const c = resolve(
      { name: 'x', type: 'processing' },
      {
        version: '1.0.0',
        description: '  First line.  \nSecond line',
        license: 'MIT OR Apache-2.0',
        repository: { type: 'git', url: 'git+https://git.example.com/x.git' },
        author: 'Jo <jo@example.com> (https://jo.example.com)',
        engines: { node: '^20.17 || >=22' },
        scripts: { build: 'tsc' },
      },
    );
    expect(c).toMatchObject({
      summary: 'First line',
      description: 'First line.  \nSecond line',
      license: 'MIT OR Apache-2.0',
      url: 'https://git.example.com/x',
      packager: 'Jo <jo@example.com> (https://jo.example.com)',
      nodeEngine: '^20.17 || >=22',
      hasBuildScript: true,
    });
    expect(c.vendor).toBeUndefined();
  });

  it('treats npm\'s proprietary markers as Proprietary and an empty build script as none', () => {
    expect(resolve({ name: 'x', type: 'webapp' }, { version: '1.0.0', license: 'SEE LICENSE IN LICENSE.txt' }).license).toBe('Proprietary');
    expect(resolve({ name: 'x', type: 'webapp' }, { version: '1.0.0', license: { type: 'ISC' } }).license).toBe('ISC');
    expect(resolve({ name: 'x', type: 'webapp' }, { version: '1.0.0', scripts: { build: ' ' } }).hasBuildScript).toBe(false);
    expect(resolve({ name: 'x', type: 'webapp' }, { version: '1.0.0', repository: 'github:x/y' }).url).toBeUndefined();
  });

  it('lets the descriptor win over package.json', () => {
    const c = resolve(
      { name: 'x', type: 'webapp', version: '2.0.0', summary: 'S', description: 'D', license: 'GPL-2.0-only', url: 'https://x.example', vendor: 'V', release: '3' },
      { version: '1.0.0', description: 'P', license: 'MIT', homepage: 'https://p.example' },
    );
    expect(c).toMatchObject({ version: '2.0.0', summary: 'S', description: 'D', license: 'GPL-2.0-only', url: 'https://x.example', vendor: 'V', release: '3' });
  });

  it('resolves prefix, user, group and file destinations', () => {
    const c = resolve({
      name: 'x',
      type: 'webapp',
      version: '1.0.0',
      prefix: '/srv/x',
      user: 'www',
      files: [
        { src: './dist/', dest: 'lib/' },
        { src: 'a/../b', dest: './c/../d', mode: '755' },
        { src: 'e', dest: '.' },
        { src: 'f', dest: '/usr/share/doc/x//README', mode: 0o600 },
      ],
    });
    expect(c).toMatchObject({ prefix: '/srv/x', user: 'www', group: 'www' });
    expect(c.files).toEqual([
      { src: 'dist', dest: '/srv/x/lib/' },
      { src: 'b', dest: '/srv/x/d', mode: 0o755 },
      { src: 'e', dest: '/srv/x' },
      { src: 'f', dest: '/usr/share/doc/x/README', mode: 0o600 },
    ]);
  });

  it('keeps a webapp\'s listen_port Integer and a db_password secret', async () => {
    await expectInvalid(
      () => resolve({ name: 'x', type: 'webapp', version: '1.0.0', config: { keys: { listen_port: { type: 'String' } } } }),
      'component.json: /config/keys/listen_port/type:',
      'Integer',
    );
    await expectInvalid(
      () => resolve({ name: 'x', type: 'db-schema', version: '1.0.0', config: { keys: { db_password: { type: 'String', secret: false } } } }),
      'component.json: /config/keys/db_password/secret:',
    );
    const c = resolve({ name: 'x', type: 'db-schema', version: '1.0.0', config: { keys: { db_password: { type: 'String', description: 'pw' } } } });
    expect(c.configKeys.db_password).toEqual({ type: 'String', secret: true, description: 'pw' });
  });

  it('accepts every config key type with a matching default', () => {
    const keys = {
      s: { type: 'String', default: '${x} %{y} $(z) "q"' },
      i: { type: 'Integer', default: -3 },
      f: { type: 'Float', default: 0.5 },
      f2: { type: 'Float', default: 2 },
      b: { type: 'Boolean', default: false },
      a: { type: 'Array[String]', default: ['a', 'b'] },
      h: { type: 'Hash[String, String]', default: { k: 'v' } },
      secret: { type: 'String', secret: true, default: 'dev-only' },
      none: { type: 'Integer' },
    };
    const c = resolve({ name: 'x', type: 'processing', version: '1.0.0', config: { keys } });
    expect(c.configKeys).toEqual(keys);
  });
});

describe('loadComponent reading files', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('reports a missing component.json as a bad descriptor', async () => {
    await expectInvalid(() => loadComponent(dir), 'component.json: not found in', dir);
    await expectInvalid(() => loadComponent(join(dir, 'nope')), 'component.json: not found');
  });

  it('reads a descriptor with a byte order mark, and package.json is optional', async () => {
    await writeFile(join(dir, 'component.json'), '\uFEFF{"name": "x", "type": "monitoring", "version": "1.0.0"}');
    expect((await loadComponent(dir)).name).toBe('x');
  });

  it('reports JSON syntax errors with line and column, in either file', async () => {
    await writeFile(join(dir, 'component.json'), '{\n  "name": "x",\n  "type": "webapp",\n}\n');
    await expectInvalid(() => loadComponent(dir), /^component\.json:4:1: Unexpected token '}', expected a property name in double quotes \(a trailing comma is not allowed in JSON\)$/);
    await writeFile(join(dir, 'component.json'), '{"name": "x", "type": "webapp"}');
    await writeFile(join(dir, 'package.json'), '{\n  "version": "1.0.0"\n  "description": "x"\n}');
    await expectInvalid(() => loadComponent(dir), /^package\.json:3:3: Unexpected token '"', expected ',' or '}' after the property value \(a comma is missing\)$/);
  });

  it('refuses a descriptor that is not UTF-8', async () => {
    await writeFile(join(dir, 'component.json'), Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]));
    await expectInvalid(() => loadComponent(dir), 'component.json: is not valid UTF-8');
  });

  it('checks the package.json fields it uses', async () => {
    await writeFile(join(dir, 'component.json'), '{"name": "x", "type": "webapp"}');
    const cases: [unknown, string][] = [
      [[], 'package.json: must be a JSON object'],
      [{ version: 1 }, 'package.json: /version: must be a string'],
      [{ version: 'v1.0.0' }, 'package.json: /version: must be a semantic version'],
      [{ version: '1.0.0-alpha-1' }, "package.json: /version: prerelease \"alpha-1\" contains '-'"],
      [{ version: '1.0.0', engines: { node: 'soon' } }, 'package.json: /engines/node: must be a semver range'],
      [{ version: '1.0.0', homepage: 'not a url' }, 'package.json: /homepage: must be a URL'],
      [{ version: '1.0.0', license: 'MIT\nevil' }, 'package.json: /license: must be one line'],
      [{ version: '1.0.0', author: { name: 'a\nb' } }, 'package.json: /author/name: must be one line'],
      [{ version: '1.0.0', scripts: 'build' }, 'package.json: /scripts: must be a JSON object'],
    ];
    for (const [pkg, message] of cases) {
      await writeFile(join(dir, 'package.json'), JSON.stringify(pkg));
      await expectInvalid(() => loadComponent(dir), message);
    }
  });
});
