import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helpers } from './test-adapter.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../packager/cli/index.js';
import { loadComponent, validateDescriptor } from '../../../packager/descriptor/index.js';
import { ensureCompiled, generatorPath } from './compiled.js';
import { kpkg } from '../../helpers/cli.js';
import { listFiles as files } from '../../helpers/files.js';

beforeAll(() => ensureCompiled(), 180_000);

const TYPES = ['webapp', 'web-service', 'processing', 'db-schema', 'monitoring'] as const;


const json = (path: string): Record<string, any> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;

/** Runs a compiled generator in `cwd` (default a new temporary directory, which yeoman-test leaves alone). */
function generate(generator: string, args: string[], options: Record<string, unknown>, cwd = mkdtempSync(join(tmpdir(), 'kelkoo-gen-'))) {
  return helpers.run(generatorPath(generator)).withArguments(args).withOptions(options).cd(cwd);
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
    // ${{ ... }} is GitHub Actions' own expression syntax
    for (const f of all) expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/(?<!\$)\{\{|\[object Object\]/);
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
    const entries = Object.values((typeof pkg.bin === 'object' ? pkg.bin : { main: pkg.main }) as Record<string, string>);
    const mapped = (json(join(dir, 'component.json')).files as { src: string }[]).map((m) => m.src);
    for (const entry of entries) expect(mapped.some((src) => entry === src || entry.startsWith(`${src}/`)), entry).toBe(true);
    expect(mapped).toContain('package.json'); // "type": "module" must reach the installed tree
    expect(Object.keys(pkg.devDependencies as Record<string, string>)).toEqual(expect.arrayContaining(['typescript', '@types/node']));
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

describe('what every component gets to work with', () => {
  let dir = '';
  beforeAll(async () => {
    const r = await generate('web-service', ['price-api'], { defaults: true });
    dir = join(r.cwd, 'price-api');
  });
  const readme = () => readFileSync(join(generatorPath('..'), '..', 'README.md'), 'utf8');

  it('npm test lints with ESLint and typescript-eslint first; build empties dist/ before compiling', () => {
    const pkg = json(join(dir, 'package.json'));
    const versions = json(join(generatorPath('..'), '..', 'templates', 'archetypes', 'versions.json'));
    expect(pkg.scripts.test).toBe('npm run lint && npm run build && node --test dist/test/*.test.js');
    expect(pkg.scripts.lint).toBe('eslint .');
    expect(pkg.scripts.build).toBe('npm run clean && tsc -p tsconfig.json');
    expect(pkg.scripts.clean).toBe(`node -e "require('node:fs').rmSync('dist', { recursive: true, force: true })"`);
    for (const name of ['eslint', '@eslint/js', 'typescript-eslint']) expect(pkg.devDependencies[name], name).toBe(versions.dependencies[name]);
    const config = readFileSync(join(dir, 'eslint.config.js'), 'utf8');
    expect(config).toContain("import tseslint from 'typescript-eslint';");
    expect(config).toMatch(/js\.configs\.recommended,\n\s+tseslint\.configs\.recommended,/);
    expect(config).toContain("ignores: ['dist/', 'target/', 'node_modules/']");
  });

  it('$schema names a file beside component.json: the package\'s schema, against which the descriptor is valid', async () => {
    const descriptor = json(join(dir, 'component.json'));
    expect(descriptor.$schema).toBe('./component.schema.json');
    const schemaPath = join(dir, descriptor.$schema as string);
    expect(readFileSync(schemaPath, 'utf8')).toBe(readFileSync(join(generatorPath('..'), '..', 'schema', 'component.schema.json'), 'utf8'));
    const { Ajv } = await import('ajv');
    const ajv = new Ajv({ strict: false, allErrors: true });
    const valid = ajv.compile(json(schemaPath));
    expect(valid(descriptor), JSON.stringify(valid.errors)).toBe(true);
    expect(valid({ ...descriptor, type: 'war' })).toBe(false);
  });

  it('the GitHub Actions workflow: kpkg installed as the README says, npm ci, npm test, kpkg build, publish on a push to main only', async () => {
    const { parse } = await import('yaml');
    const workflow = parse(readFileSync(join(dir, '.github', 'workflows', 'ci.yml'), 'utf8')) as { on: Record<string, unknown>; jobs: Record<string, { steps: { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> }[]; env: Record<string, string> }> };
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    const job = workflow.jobs.build!;
    const runs = job.steps.filter((s) => s.run !== undefined).map((s) => s.run!.trim());
    expect(runs.slice(1)).toEqual(['npm ci', 'npm test', 'kpkg build', 'kpkg publish target/*.rpm --repo "$KPKG_REPO"']);
    expect(runs[0]).toMatch(/^npm install -g --prefix "\$HOME\/\.kpkg" --allow-scripts=better-sqlite3 "\$KPKG_TARBALL"\n/);
    expect(readme()).toContain('npm install -g --allow-scripts=better-sqlite3 ./generator-kelkoo-0.1.0.tgz');
    expect(job.steps.find((s) => s.run?.startsWith('kpkg publish'))?.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(job.steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with?.['node-version']).toBe(20);
    expect(job.env).toEqual({ KPKG_TARBALL: '${{ vars.KPKG_TARBALL }}', KPKG_REPO: '${{ vars.KPKG_REPO }}' });
  });

  it('the Jenkinsfile: the same steps, stage by stage, publishing from main only', () => {
    const jenkinsfile = readFileSync(join(dir, 'Jenkinsfile'), 'utf8');
    const stages = [...jenkinsfile.matchAll(/stage\('([^']+)'\) \{([\s\S]*?)\n {4}\}/g)].map((m) => ({ name: m[1], body: m[2]! }));
    expect(stages.map((s) => s.name)).toEqual(['kpkg', 'Install', 'Test', 'Package', 'Publish']);
    const sh = (body: string) => [...body.matchAll(/sh '([^']*)'/g)].map((m) => m[1]);
    expect(stages.map((s) => sh(s.body))).toEqual([
      ['npm install -g --prefix "$KPKG_PREFIX" --allow-scripts=better-sqlite3 "$KPKG_TARBALL"'],
      ['npm ci'],
      ['npm test'],
      ['kpkg build'],
      ['kpkg publish target/*.rpm --repo "$KPKG_REPO"'],
    ]);
    expect(stages[4]!.body).toMatch(/when \{\n\s+branch 'main'\n\s+\}/);
    for (const s of stages.slice(0, 4)) expect(s.body).not.toContain('when');
    expect(jenkinsfile).toContain('PATH = "${WORKSPACE}/.kpkg/bin:${env.PATH}"');
  });
});

describe('unattended use and answers', () => {
  it('a bad name or option value is refused with a message naming it, and nothing is written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kelkoo-gen-'));
    // the name is an argument: no --name option exists to name
    await expect(generate('webapp', ['Shop'], { defaults: true }, cwd)).rejects.toThrow(/^component name "Shop"/);
    await expect(generate('webapp', ['shop'], { defaults: true, port: '99999' }, cwd)).rejects.toThrow(/--port: port 99999/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('prompts when interactive; a question answered by an option is not asked', async () => {
    const asked: string[] = [];
    const r = await helpers
      .run(generatorPath('app'))
      .cd(mkdtempSync(join(tmpdir(), 'kelkoo-gen-')))
      .withOptions({ interactive: true, port: '9090' } as never)
      .withAnswers({ type: 'web-service', name: 'catalog', summary: 'The catalog' }, { callback: (answer: unknown, options: { question: { name: string } }) => (asked.push(options.question.name), answer) });
    expect(asked).toEqual(['type', 'name', 'summary']);
    expect(json(join(r.cwd, 'catalog', '.yo-rc.json'))['generator-kelkoo']).toEqual({ type: 'web-service', name: 'catalog', summary: 'The catalog', port: 9090 });
  });

  it('--defaults asks nothing even on a terminal: a changed file is refused, not prompted for', async () => {
    const first = await generate('processing', ['nightly-job'], { defaults: true });
    const dir = join(first.cwd, 'nightly-job');
    writeFileSync(join(dir, 'src', 'job.ts'), '// mine\n');
    await expect(generate('processing', ['nightly-job'], { defaults: true, interactive: true, force: false }, first.cwd)).rejects.toThrow(/would overwrite 1 changed file\(s\): src\/job\.ts; use --force/);
    expect(readFileSync(join(dir, 'src', 'job.ts'), 'utf8')).toBe('// mine\n');
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

  it('a bad answer is one line on stderr, without colours, naming the option; a bad name names no --name', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kpkg-new-'));
    const port = await kpkg('new', 'webapp', 'shop', '--defaults', '--port', 'abc');
    expect(port).toMatchObject({ code: 2, stdout: '' });
    expect(port.stderr).toBe('kpkg: --port: port "abc": an integer from 1 to 65535\n');
    const name = await kpkg('new', 'webapp', 'shop-', '--defaults');
    expect(name).toMatchObject({ code: 2, stderr: "kpkg: component name \"shop-\": must not end with '-'\n" });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('with --defaults over an edited component: prompts nothing, refuses the changed files (exit 2, naming them), overwrites them with --force', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kpkg-new-'));
    const before = process.cwd();
    process.chdir(cwd);
    try {
      expect((await kpkg('new', 'web-service', 'stock', '--defaults')).code).toBe(0);
      const dir = join(cwd, 'stock');
      const original = readFileSync(join(dir, 'src', 'app.ts'), 'utf8');
      writeFileSync(join(dir, 'src', 'app.ts'), `${original}// mine\n`);
      writeFileSync(join(dir, 'README.md'), 'my notes\n');
      writeFileSync(join(dir, 'notes.txt'), 'not generated\n');
      const refused = await kpkg('new', 'web-service', 'stock', '--defaults');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(`kpkg: ${dir}: would overwrite 2 changed file(s): README.md, src/app.ts; use --force to overwrite them\n`);
      expect(readFileSync(join(dir, 'src', 'app.ts'), 'utf8')).toBe(`${original}// mine\n`);
      // unchanged files are no conflict
      expect((await kpkg('new', 'web-service', 'other', '--defaults')).code).toBe(0);
      expect((await kpkg('new', 'web-service', 'other', '--defaults')).code).toBe(0);
      const forced = await kpkg('new', 'web-service', 'stock', '--defaults', '--force');
      expect(forced.code, forced.stderr).toBe(0);
      expect(readFileSync(join(dir, 'src', 'app.ts'), 'utf8')).toBe(original);
      expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('not generated\n');
    } finally {
      process.chdir(before);
    }
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
    expect(shipped.has('LICENSE')).toBe(true);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    expect(json(join(ROOT, 'package.json')).license).toBe('Apache-2.0');
    // every sourceMappingURL comment points at a map that ships, and the map carries its sources
    const js = [...shipped].filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(10);
    for (const f of js) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(ROOT, f), 'utf8'))?.[1];
      if (url === undefined) continue;
      const map = join(f, '..', url);
      expect(shipped.has(map), map).toBe(true);
      const parsed = json(join(ROOT, map)) as { sources: string[]; sourcesContent?: string[] };
      expect(parsed.sourcesContent?.length, map).toBe(parsed.sources.length);
    }
    for (const g of ['app', ...TYPES]) {
      expect(shipped.has(`generators/${g}/index.js`), g).toBe(true);
      expect(shipped.has(`dist/generators/${g}/generator.js`), g).toBe(true);
    }
  });
});
