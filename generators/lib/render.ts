/**
 * What a component of each type is made of, as pure functions of the answers: the files from the
 * Handlebars templates under templates/archetypes/ (common/ then <type>/, which wins), plus
 * package.json and component.json built as data and serialised (no hand-escaped JSON).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import Handlebars from 'handlebars';
import semver from 'semver';
import { moduleName, type ComponentDescriptor, type ConfigKey } from '../../packager/descriptor/index.js';
import { pluginName } from '../../packager/descriptor/names.js';
import { packageRoot, templatesDir } from '../../packager/util/paths.js';
import type { Answers } from './answers.js';

/** The pinned versions of what generated components depend on: templates/archetypes/versions.json */
export interface Versions {
  node: string;
  dependencies: Record<string, string>;
}

export function versions(): Versions {
  return JSON.parse(readFileSync(templatesDir('archetypes', 'versions.json'), 'utf8')) as Versions;
}

function pinned(v: Versions, name: string): string {
  const version = v.dependencies[name];
  if (version === undefined) throw new Error(`templates/archetypes/versions.json: no version for ${name}`);
  return version;
}

/**
 * The schema of component.json, written beside it (SCHEMA_FILE) so that editors complete and
 * check the descriptor on any machine, with nothing installed: the copy of the generator that
 * wrote the component.
 */
export const SCHEMA_FILE = 'component.schema.json';

function schemaText(): string {
  return readFileSync(join(packageRoot(), 'schema', 'component.schema.json'), 'utf8');
}

const hbs = Handlebars.create();
// values that land in TypeScript or JSON source are written as JSON literals
hbs.registerHelper('json', (value: unknown) => JSON.stringify(value));
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hbs.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map(String).join(''));

function walk(dir: string): string[] {
  let out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out = out.concat(walk(path));
    else if (entry.isFile() && entry.name.endsWith('.hbs')) out.push(path);
  }
  return out;
}

/**
 * Template name -> file name: `.hbs` dropped; `_gitignore` -> `.gitignore` (npm pack would drop a
 * real .gitignore from our package) and `app_test.ts` -> `app.test.ts` (our package.json's files
 * leave out every `*.test.*`).
 */
export function outputName(templatePath: string): string {
  return templatePath
    .slice(0, -'.hbs'.length)
    .split('/')
    .map((part) => (part.startsWith('_') ? `.${part.slice(1)}` : part).replace(/_test\.ts$/, '.test.ts'))
    .join('/');
}

/** The values templates see. */
export function templateContext(a: Answers): Record<string, unknown> {
  const module = moduleName(a.name);
  return {
    ...a,
    module,
    plugin: pluginName(module),
    configDir: `/etc/kelkoo/${a.name}`,
    prefix: `/opt/kelkoo/${a.name}`,
    migrate: `${a.name}-migrate`,
    title: a.name
      .split('-')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(' '),
    isService: a.type === 'webapp' || a.type === 'web-service',
    /** The oldest Node major engines.node allows: what CI runs. */
    nodeMajor: semver.minVersion(versions().node)?.major ?? 20,
  };
}

/** Every generated file: relative path -> content. */
export function renderComponent(a: Answers): Map<string, string> {
  const context = templateContext(a);
  const files = new Map<string, string>();
  for (const layer of ['common', a.type]) {
    const root = templatesDir('archetypes', layer);
    for (const path of walk(root).sort()) {
      const rel = relative(root, path).split(sep).join('/');
      const template = hbs.compile(readFileSync(path, 'utf8'), { strict: true, noEscape: true });
      files.set(outputName(rel), template(context));
    }
  }
  files.set('package.json', `${JSON.stringify(packageJson(a), null, 2)}\n`);
  files.set('component.json', `${JSON.stringify(componentJson(a), null, 2)}\n`);
  files.set(SCHEMA_FILE, schemaText());
  return new Map([...files.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

export function packageJson(a: Answers): Record<string, unknown> {
  const v = versions();
  const entry: Record<string, unknown> =
    a.type === 'db-schema'
      ? { bin: { [`${a.name}-migrate`]: 'dist/src/migrate.js' } }
      : a.type === 'monitoring'
        ? { bin: { [pluginName(moduleName(a.name))]: 'dist/src/check.js' } }
        : { main: 'dist/src/index.js' };
  const dependencies: Record<string, string> = a.type === 'db-schema' ? { pg: pinned(v, 'pg') } : {};
  const dev = ['@eslint/js', '@types/node', ...(a.type === 'db-schema' ? ['@types/pg'] : []), 'eslint', 'typescript', 'typescript-eslint'];
  const devDependencies: Record<string, string> = Object.fromEntries(dev.map((name) => [name, pinned(v, name)]));
  const scripts: Record<string, string> = {
    // dist/ emptied first: a deleted or renamed source never ships from an old build
    clean: "node -e \"require('node:fs').rmSync('dist', { recursive: true, force: true })\"",
    build: 'npm run clean && tsc -p tsconfig.json',
    lint: 'eslint .',
    test: 'npm run lint && npm run build && node --test dist/test/*.test.js',
  };
  if (a.type === 'webapp' || a.type === 'web-service' || a.type === 'processing') scripts.start = 'node dist/src/index.js';
  return {
    name: a.name,
    version: '0.1.0',
    description: a.summary,
    license: 'UNLICENSED',
    private: true,
    type: 'module',
    ...entry,
    engines: { node: v.node },
    scripts,
    ...(Object.keys(dependencies).length > 0 ? { dependencies } : {}),
    devDependencies,
  };
}

export function componentJson(a: Answers): ComponentDescriptor {
  const files: NonNullable<ComponentDescriptor['files']> = [
    { src: 'dist/src', dest: 'dist/src', exclude: ['*.map'] },
    { src: 'package.json', dest: 'package.json' },
  ];
  const keys: Record<string, ConfigKey> = {};
  switch (a.type) {
    case 'webapp':
      files.push({ src: 'public', dest: 'public' });
      keys.listen_port = { type: 'Integer', default: a.port ?? 8080, description: 'TCP port the HTTP server listens on' };
      keys.greeting = { type: 'String', default: 'Welcome', description: 'Heading of the home page' };
      break;
    case 'web-service':
      keys.listen_port = { type: 'Integer', default: a.port ?? 8080, description: 'TCP port the HTTP server listens on' };
      break;
    case 'processing':
      keys.input_dir = { type: 'String', default: `/var/lib/kelkoo/${a.name}/input`, description: 'Directory the batch reads' };
      keys.output_dir = { type: 'String', default: `/var/lib/kelkoo/${a.name}/output`, description: 'Directory the batch writes' };
      keys.lock_file = { type: 'String', default: `/tmp/${a.name}.lock`, description: 'Lock file that keeps two runs from overlapping' };
      break;
    case 'db-schema':
      files.push({ src: 'migrations', dest: 'migrations' });
      break;
    case 'monitoring':
      keys.path = { type: 'String', default: '/', description: 'File system the check measures' };
      keys.warning = { type: 'Integer', default: a.warning ?? 90, description: 'WARNING above this percentage used (-w overrides)' };
      keys.critical = { type: 'Integer', default: a.critical ?? 95, description: 'CRITICAL above this percentage used (-c overrides)' };
      break;
  }
  const descriptor: ComponentDescriptor = {
    $schema: `./${SCHEMA_FILE}`,
    name: a.name,
    type: a.type,
    summary: a.summary,
    files,
  };
  if (a.type === 'processing') descriptor.cron = [{ schedule: a.schedule ?? '*/15 * * * *' }];
  if (Object.keys(keys).length > 0) descriptor.config = { keys };
  return descriptor;
}
