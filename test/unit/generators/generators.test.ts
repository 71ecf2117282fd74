import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helpers from 'yeoman-test';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../packager/cli/index.js';
import { loadComponent, validateDescriptor } from '../../../packager/descriptor/index.js';
import { ensureCompiled, generatorPath } from './compiled.js';
import { listFiles as files } from '../../helpers/files.js';

beforeAll(() => ensureCompiled(), 180_000);

const TYPES = ['webapp', 'web-service', 'processing', 'db-schema', 'monitoring'] as const;


const json = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;

/** Runs a compiled generator in `cwd` (default a new temporary directory, which yeoman-test leaves alone). */
function generate(generator: string, args: string[], options: Record<string, unknown>, cwd = mkdtempSync(join(tmpdir(), 'kelkoo-gen-'))) {
  return helpers.run(generatorPath(generator)).withArguments(args).withOptions(options as never).cd(cwd);
}

describe.each(TYPES)('kelkoo:%s --defaults', (type) => {
  let dir = '';
  beforeAll(async () => {
    const result = await generate(type, ['shop-thing'], { defaults: true });
    dir = join(result.cwd, 'shop-thing');
  });

  it('writes the component into ./<name>/ with package.json, TypeScript sources and tests, component.json, README, .gitignore', () => {
    const all = files(dir);
    for (const f of ['package.json', 'component.json', 'README.md', '.gitignore', 'tsconfig.json', '.yo-rc.json', 'src/config.ts']) expect(all).toContain(f);
    expect(all.some((f) => /^src\/.*\.ts$/.test(f))).toBe(true);
    expect(all.some((f) => /^test\/.*\.test\.ts$/.test(f))).toBe(true);
    for (const f of all) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/\{\{|\[object Object\]/);
  });

  it('component.json is valid against the schema and loads as a component of that type', async () => {
    const descriptor = json(join(dir, 'component.json'));
    expect(() => validateDescriptor(descriptor)).not.toThrow();
    const component = await loadComponent(dir);
    expect(component.type).toBe(type);
    expect(component.name).toBe('shop-thing');
    expect(component.version).toBe('0.1.0');
    expect(component.nodeEngine).toBe('>=20.17');
    expect(component.hasBuildScript).toBe(true);
  });

  it('package.json: build and test scripts, engines, an entry the files mapping installs', () => {
    const pkg = json(join(dir, 'package.json'));
    expect(pkg.scripts.build).toMatch(/tsc/);
    expect(pkg.scripts.test).toMatch(/node --test/);
    expect(pkg.engines.node).toBe('>=20.17');
    expect(pkg.type).toBe('module');
    const entries = Object.values<string>(typeof pkg.bin === 'object' ? pkg.bin : { main: pkg.main });
    const mapped = (json(join(dir, 'component.json')).files as { src: string }[]).map((m) => m.src);
    for (const entry of entries) expect(mapped.some((src) => entry === src || entry.startsWith(`${src}/`)), entry).toBe(true);
    expect(mapped).toContain('package.json'); // "type": "module" must reach the installed tree
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['typescript', '@types/node']));
  });

  it('keeps the answers in .yo-rc.json', () => {
    expect(json(join(dir, '.yo-rc.json'))['generator-kelkoo']).toMatchObject({ type, name: 'shop-thing' });
  });
});

describe('type conventions in what is generated', () => {
  it('webapp: listen_port from --port, a public/ stylesheet, main mapped', async () => {
    const r = await generate('webapp', ['front'], { defaults: true, port: '3000' });
    const dir = join(r.cwd, 'front');
    expect(json(join(dir, 'component.json')).config.keys.listen_port.default).toBe(3000);
    expect(existsSync(join(dir, 'public', 'style.css'))).toBe(true);
    expect(readFileSync(join(dir, 'src', 'app.ts'), 'utf8')).toContain('listen_port: 3000');
  });

  it('processing: the cron schedule from --schedule', async () => {
    const r = await generate('processing', ['importer'], { defaults: true, schedule: '30 2 * * *' });
    expect(json(join(r.cwd, 'importer', 'component.json')).cron).toEqual([{ schedule: '30 2 * * *' }]);
  });

  it('db-schema: <name>-migrate bin, pg pinned, ordered migrations shipped; db keys from the type conventions', async () => {
    const r = await generate('db-schema', ['orders-schema'], { defaults: true });
    const dir = join(r.cwd, 'orders-schema');
    const pkg = json(join(dir, 'package.json'));
    expect(pkg.bin).toEqual({ 'orders-schema-migrate': 'dist/src/migrate.js' });
    expect(pkg.dependencies.pg).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readdirSync(join(dir, 'migrations'))).toEqual(['001-create-example.sql', '002-example-label-index.sql']);
    const component = await loadComponent(dir);
    expect(component.configKeys.db_password).toMatchObject({ secret: true });
    expect(Object.keys(component.configKeys)).toEqual(expect.arrayContaining(['db_host', 'db_port', 'db_name', 'db_user']));
  });

  it('monitoring: bin check_<module>, thresholds from the options', async () => {
    const r = await generate('monitoring', ['disk-space'], { defaults: true, warning: '70', critical: '85' });
    const dir = join(r.cwd, 'disk-space');
    expect(json(join(dir, 'package.json')).bin).toEqual({ check_disk_space: 'dist/src/check.js' });
    expect(json(join(dir, 'component.json')).config.keys.critical.default).toBe(85);
  });

  it('versions of what components depend on come from templates/archetypes/versions.json', async () => {
    const versions = json(join(generatorPath('..'), '..', 'templates', 'archetypes', 'versions.json'));
    const r = await generate('web-service', ['api'], { defaults: true });
    expect(json(join(r.cwd, 'api', 'package.json')).devDependencies.typescript).toBe(versions.dependencies.typescript);
  });
});

describe('unattended use and answers', () => {
  it('a bad name or option value is refused with a message naming it, and nothing is written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kelkoo-gen-'));
    await expect(generate('webapp', ['Shop'], { defaults: true }, cwd)).rejects.toThrow(/--name: component name "Shop"/);
    await expect(generate('webapp', ['shop'], { defaults: true, port: '99999' }, cwd)).rejects.toThrow(/--port: port 99999/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('prompts when interactive; a question answered by an option is not asked', async () => {
    const asked: string[] = [];
    const r = await helpers
      .run(generatorPath('app'))
      .cd(mkdtempSync(join(tmpdir(), 'kelkoo-gen-')))
      .withOptions({ interactive: true, port: '9090' } as never)
      .withAnswers({ type: 'web-service', name: 'catalog', summary: 'The catalog' }, { callback: (answer: unknown, options: { question: { name: string } }) => (asked.push(options.question.name), answer) } as never);
    expect(asked).toEqual(['type', 'name', 'summary']);
    expect(json(join(r.cwd, 'catalog', '.yo-rc.json'))['generator-kelkoo']).toEqual({ type: 'web-service', name: 'catalog', summary: 'The catalog', port: 9090 });
  });

  it('kelkoo (the menu) with --type generates that type', async () => {
    const r = await generate('app', ['nightly'], { defaults: true, type: 'processing' });
    expect(json(join(r.cwd, 'nightly', 'component.json')).type).toBe('processing');
  });

  it('a re-run keeps the answers of .yo-rc.json: nothing asked again', async () => {
    const first = await generate('web-service', ['catalog'], { defaults: true, summary: 'Catalog API', port: '8181' });
    const dir = join(first.cwd, 'catalog');
    await generate('web-service', [], { defaults: true }, dir);
    expect(json(join(dir, 'component.json'))).toMatchObject({ summary: 'Catalog API', config: { keys: { listen_port: { default: 8181 } } } });
    expect(existsSync(join(dir, 'catalog'))).toBe(false);
  });
});

describe('kpkg new', () => {
  it('scaffolds ./<name>/ with the same generator, exit 0', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kpkg-new-'));
    const before = process.cwd();
    process.chdir(cwd);
    try {
      expect(await main(['node', 'kpkg', 'new', 'monitoring', 'check-queue', '--defaults', '--warning', '60'])).toBe(0);
    } finally {
      process.chdir(before);
    }
    const dir = join(cwd, 'check-queue');
    expect(statSync(join(dir, 'component.json')).isFile()).toBe(true);
    expect(json(join(dir, '.yo-rc.json'))['generator-kelkoo']).toMatchObject({ type: 'monitoring', warning: 60 });
    expect(json(join(dir, 'package.json')).bin).toEqual({ check_queue: 'dist/src/check.js' });
  });

  it('bad input exits 2', async () => {
    expect(await main(['node', 'kpkg', 'new', 'war', 'shop', '--defaults'])).toBe(2);
    expect(await main(['node', 'kpkg', 'new', 'webapp', 'Shop', '--defaults'])).toBe(2);
    expect(await main(['node', 'kpkg', 'new', 'processing', 'job', '--defaults', '--schedule', 'soon'])).toBe(2);
  });
});

describe('the npm package', () => {
  it('ships every archetype template, the generators yo finds and their compiled code', async () => {
    const { execFileSync } = await import('node:child_process');
    const { ROOT } = await import('./compiled.js');
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--silent'], { cwd: ROOT, encoding: 'utf8' })) as { files: { path: string }[] }[];
    const shipped = new Set(packed[0]!.files.map((f) => f.path));
    for (const f of files(join(ROOT, 'templates', 'archetypes'))) expect(shipped.has(`templates/archetypes/${f}`), f).toBe(true);
    for (const g of ['app', ...TYPES]) {
      expect(shipped.has(`generators/${g}/index.js`), g).toBe(true);
      expect(shipped.has(`dist/generators/${g}/generator.js`), g).toBe(true);
    }
  });
});
