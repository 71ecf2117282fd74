// Geppetto's per-server file judged by Puppet 7: two components built by `kpkg build`, their
// deployment modules unpacked from the RPMs, their kelkoo.json read into a catalog, a state with
// roles, an environment, overrides, an unset, a secret and hostile strings resolved into the file of
// one server; then (a) the file's classes declared in a manifest, secrets as Sensitive, as Punch
// does, and (b) the ENC answer given to `puppet apply --node_terminus exec --external_nodes`, each
// compile and write exactly the resolved values (and the class defaults for the rest) into each
// component's config.json.
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { buildNodeFile, encYaml, floatParameters, nodeFileYaml, type NodeFile } from '../../geppetto/file.js';
import type { Catalog, ComponentVersion, ParameterDefinition, ResolvedServer, State, Value } from '../../geppetto/model.js';
import { resolveServers } from '../../geppetto/resolve/index.js';
import { parseState } from '../../geppetto/state-file.js';
import type { ConfigKeyType } from '../../packager/descriptor/types.js';
import type { DeploymentDescription } from '../../packager/puppet/module.js';
import { puppetString, puppetValue } from '../../packager/puppet/escape.js';
import { copyComponent, editJson, extractRpm, FIXTURE_COMPONENTS, kpkgBuild } from './helpers/components.js';
import { describeWithTools, run, type RunResult, tmpDir } from './tools.js';

const MODULE_DIR = '/etc/puppetlabs/code/modules';
const HOSTILE = "it's \"q\" ${facts} %{facts.os.family} %{literal('%')} $(id) `id` <script>x</script> '; DROP TABLE t; -- \\ é 😀\nline two";
const SECRET = 'p@ss %{x} "w0rd" \'';

interface Built {
  version: ComponentVersion;
  module: string;
}

/** Builds a copy of a fixture with `keys` as its config keys, unpacks its deployment RPM into `modulepath`. */
function build(fixture: string, name: string, keys: Record<string, unknown>, modulepath: string): Built {
  const dir = copyComponent(join(FIXTURE_COMPONENTS, fixture), name);
  editJson(join(dir, 'component.json'), (c) => {
    c.name = name;
    c.config = { keys };
  });
  const built = kpkgBuild(dir, { skipBuild: true, release: '3' });
  const root = extractRpm(built.deploy);
  const module = name.replace(/-/g, '_');
  const moduleRoot = join(root, MODULE_DIR, module);
  symlinkSync(moduleRoot, join(modulepath, module));
  const description = JSON.parse(readFileSync(join(moduleRoot, 'kelkoo.json'), 'utf8')) as DeploymentDescription;
  const parameters: ParameterDefinition[] = description.parameters.map((p) => ({ ...p }));
  const evr = `${built.json.version}-${built.json.release}`;
  return {
    module,
    version: { component: name, evr, package: `${name}-deploy`, class: description.class, parameters, repository: 'kelkoo' },
  };
}

/** A Puppet sandbox: its own confdir, vardir, codedir; the modules of the test under `modules`. */
function sandbox(): { dir: string; modulepath: string; settings: string[] } {
  const dir = tmpDir('geppetto-puppet');
  for (const d of ['conf', 'var', 'code', 'log', 'run', 'modules']) mkdirSync(join(dir, d));
  const modulepath = join(dir, 'modules');
  return {
    dir,
    modulepath,
    settings: [
      '--color=false',
      `--confdir=${join(dir, 'conf')}`,
      `--vardir=${join(dir, 'var')}`,
      `--codedir=${join(dir, 'code')}`,
      `--logdir=${join(dir, 'log')}`,
      `--rundir=${join(dir, 'run')}`,
      `--modulepath=${modulepath}`,
    ],
  };
}

function checked(res: RunResult, what: string): RunResult {
  const errors = `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => /^Error: /.test(l) && !/^Error: Facter: /.test(l));
  if (![0, 2].includes(res.status) || errors.length > 0) {
    throw new Error(`${what} failed (${res.status}):\n${errors.join('\n')}\n--- stderr\n${res.stderr.slice(-6000)}\n--- stdout\n${res.stdout.slice(-4000)}`);
  }
  return res;
}

function readConfig(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
}

/** What config.json must hold: every configuration key, its resolved value or else its class default. */
function expectedConfig(file: NodeFile, version: ComponentVersion): Record<string, unknown> {
  const params = file.classes[version.class] ?? {};
  const out: Record<string, unknown> = {};
  for (const p of version.parameters) {
    if (p.builtin === true) continue;
    const value = Object.prototype.hasOwnProperty.call(params, p.name) ? params[p.name] : p.default;
    if (value !== undefined) out[p.name] = value;
  }
  return out;
}

/** The class declarations of a file, each value a Puppet literal of its key's type, secrets Sensitive. */
function manifest(file: NodeFile, versions: ComponentVersion[]): string {
  const lines: string[] = [];
  for (const [cls, params] of Object.entries(file.classes).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const version = versions.find((v) => v.class === cls);
    if (version === undefined) throw new Error(`no version for class ${cls}`);
    const sensitive = new Set(file.kelkoo.sensitive?.[cls] ?? []);
    const entries = Object.entries(params).map(([name, value]) => {
      const type = version.parameters.find((p) => p.name === name)?.type as ConfigKeyType;
      const literal = puppetValue(value as Parameters<typeof puppetValue>[0], type);
      return `  ${name} => ${sensitive.has(name) ? `Sensitive(${literal})` : literal},`;
    });
    lines.push(`class { ${puppetString(cls)}:\n${entries.join('\n')}\n}`);
  }
  return `${lines.join('\n')}\n`;
}

describeWithTools(['puppet', 'ruby', 'rpm2cpio', 'cpio'], "Geppetto's per-server file applied by Puppet 7", () => {
  const box = sandbox();
  let shop: Built;
  let orders: Built;
  let resolved: ResolvedServer;
  let file: NodeFile;
  let state: State;
  const fqdn = 'web03.example.com';
  const shopDir = join(box.dir, 'out', 'shop');
  const ordersDir = join(box.dir, 'out', 'orders');

  beforeAll(() => {
    // Puppet makes config_dir, not its parents.
    for (const d of ['out', 'enc-out']) mkdirSync(join(box.dir, d));
    shop = build(
      'shop',
      'shop',
      {
        listen_port: { type: 'Integer', default: 3000 },
        catalog_url: { type: 'String' },
        banner: { type: 'String', default: 'Welcome' },
        features: { type: 'Array[String]', default: ['a'] },
        labels: { type: 'Hash[String, String]', default: {} },
        ratio: { type: 'Float', default: 0.5 },
        debug: { type: 'Boolean', default: true },
        db_password: { type: 'String', secret: true },
      },
      box.modulepath,
    );
    orders = build('shop', 'orders-api', { workers: { type: 'Integer', default: 2 }, motd: { type: 'String', default: 'hi' }, queue: { type: 'String' } }, box.modulepath);
    const catalog: Catalog = { components: { shop: { [shop.version.evr]: shop.version }, 'orders-api': { [orders.version.evr]: orders.version } } };
    // The state as `geppetto import` reads it.
    state = parseState(
      JSON.stringify({
        repositories: [{ id: 'kelkoo', baseurl: 'file:///srv/yum/kelkoo' }],
        global: { settings: { 'shop.banner': 'global banner', 'orders-api.queue': 'global-queue' } },
        environments: { production: { settings: { 'shop.features': ['prod', HOSTILE] } } },
        roles: {
          base: { settings: { 'shop.manage_user': false, 'shop.manage_service': false, 'orders-api.manage_user': false, 'orders-api.manage_service': false } },
          'shop-front': {
            parents: ['base'],
            components: { shop: shop.version.evr },
            settings: { 'shop.listen_port': 8080, 'shop.labels': { [HOSTILE]: HOSTILE, plain: 'x' }, 'shop.ratio': 3 },
            unset: ['shop.banner'],
          },
          orders: { parents: ['base'], components: { 'orders-api': orders.version.evr }, settings: { 'orders-api.workers': 8 } },
        },
        servers: {
          [fqdn]: {
            environment: 'production',
            roles: ['shop-front', 'orders'],
            settings: {
              'shop.listen_port': 9090,
              'shop.catalog_url': HOSTILE,
              'shop.db_password': { secret: 'shop-db' },
              'shop.config_dir': shopDir,
              'orders-api.config_dir': ordersDir,
            },
          },
        },
      }),
    );
    const r = resolveServers(state, catalog, [fqdn]).get(fqdn);
    if (r === undefined) throw new Error('not resolved');
    resolved = r;
    file = buildNodeFile(resolved, state, 5, (ref) => (ref.secret === 'shop-db' ? SECRET : ''));
  });

  it('resolves the state into the expected classes', () => {
    expect(resolved.problems).toEqual([]);
    expect(file.classes.shop).toEqual({
      catalog_url: HOSTILE,
      config_dir: shopDir,
      db_password: SECRET,
      features: ['prod', HOSTILE],
      labels: { [HOSTILE]: HOSTILE, plain: 'x' },
      listen_port: 9090,
      manage_service: false,
      manage_user: false,
      ratio: 3,
    });
    expect(file.classes.orders_api).toEqual({ config_dir: ordersDir, manage_service: false, manage_user: false, queue: 'global-queue', workers: 8 });
    expect(file.kelkoo.packages).toEqual([
      { name: 'orders-api-deploy', evr: orders.version.evr },
      { name: 'shop-deploy', evr: shop.version.evr },
    ]);
    expect(file.kelkoo.sensitive).toEqual({ shop: ['db_password'] });
    // The resolution holds only the secret's reference; the file, the value.
    expect(resolved.settings['shop.db_password']?.value).toEqual({ secret: 'shop-db' });
  });

  it('(a) the classes declared in a manifest compile and write the configured values into config.json', () => {
    const site = join(box.dir, 'site.pp');
    writeFileSync(site, manifest(file, [shop.version, orders.version]));
    const res = checked(run('puppet', ['apply', ...box.settings, '--detailed-exitcodes', site], { timeout: 180_000 }), 'puppet apply site.pp');
    expect(res.status).toBe(2);
    expect(`${res.stdout}${res.stderr}`).not.toContain('w0rd');
    const config = readConfig(shopDir);
    expect(config).toEqual(expectedConfig(file, shop.version));
    expect(config.banner).toBe('Welcome'); // unset by shop-front: the class default, not the global value
    expect(config.ratio).toBe(3);
    expect(readConfig(ordersDir)).toEqual(expectedConfig(file, orders.version));
  });

  it('(b) the ENC answer given to puppet apply --node_terminus exec compiles and writes the same config.json', () => {
    const encDir = join(box.dir, 'enc');
    mkdirSync(encDir);
    const answer = join(encDir, 'answer.yaml');
    // The file carries its own Float parameters' numbers as Floats (ratio: 3.0), as Puppet wants.
    // The same file, writing into other directories than (a) did.
    const classes = {
      ...file.classes,
      shop: { ...file.classes.shop, config_dir: join(box.dir, 'enc-out', 'shop') },
      orders_api: { ...file.classes.orders_api, config_dir: join(box.dir, 'enc-out', 'orders') },
    };
    const enc = encYaml({ ...file, classes }, { floats: floatParameters(resolved) });
    expect(enc).toContain('    ratio: 3.0\n');
    writeFileSync(answer, enc);
    const script = join(encDir, 'enc.sh');
    // Puppet runs the ENC with the node's name; it answers for that node only.
    writeFileSync(script, `#!/bin/sh\nif [ "$1" = ${JSON.stringify(fqdn)} ]; then exec cat ${JSON.stringify(answer)}; fi\nexit 1\n`);
    chmodSync(script, 0o755);
    // The node's environment (production) as a directory environment holding the modules.
    const envDir = join(box.dir, 'code', 'environments', 'production');
    mkdirSync(envDir, { recursive: true });
    symlinkSync(box.modulepath, join(envDir, 'modules'));
    const empty = join(encDir, 'empty.pp');
    // A top-scope variable from the ENC's parameters, printed by the manifest.
    writeFileSync(empty, 'notify { "kelkoo node ${kelkoo_node} revision ${kelkoo_revision}": }\n');
    const settings = box.settings.filter((s) => !s.startsWith('--modulepath='));
    const res = checked(
      run('puppet', ['apply', ...settings, '--detailed-exitcodes', `--certname=${fqdn}`, '--node_terminus=exec', `--external_nodes=${script}`, empty], {
        timeout: 180_000,
      }),
      'puppet apply with the ENC',
    );
    expect(res.status).toBe(2);
    expect(res.stdout).toContain(`kelkoo node ${fqdn} revision 5`);
    const shopConfig = readConfig(join(box.dir, 'enc-out', 'shop'));
    expect(shopConfig).toEqual(expectedConfig(file, shop.version));
    expect(readConfig(join(box.dir, 'enc-out', 'orders'))).toEqual(expectedConfig(file, orders.version));
  });

  it('the file itself validates as YAML that Punch and Puppet read back equal', () => {
    const text = nodeFileYaml(file, { floats: floatParameters(resolved) });
    // Ruby's Psych, as Puppet reads an ENC answer: the same classes, values literally.
    const ruby = run('ruby', ['-ryaml', '-rjson', '-e', 'puts JSON.generate(YAML.safe_load(STDIN.read))'], { input: text });
    expect(ruby.status, ruby.stderr).toBe(0);
    const back = JSON.parse(ruby.stdout) as { classes: Record<string, Record<string, Value>> };
    expect(back.classes).toEqual(file.classes);
  });
});
