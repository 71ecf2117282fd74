// The Puppet module of the deployment package, judged by the real Puppet 7 and puppet-lint:
// `puppet parser validate`, `puppet epp validate` and `puppet-lint --fail-on-warnings` accept it;
// `puppet apply` writes config.json with every default literally (hostile strings included),
// overrides from the classification and from the node's Hiera; a secret stays out of Puppet's
// output (--debug included), its last run report and its state; the catalog holds the user, group
// and service only when asked. The escaping functions are checked against Puppet, Hiera and EPP
// directly too. Every Puppet run is isolated in a temporary confdir/vardir.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Component, ConfigKey, ConfigValue } from '../../packager/descriptor/types.js';
import { eppText, hieraValue, puppetString, puppetValue } from '../../packager/puppet/escape.js';
import { renderPuppetModule } from '../../packager/puppet/module.js';
import type { Value } from '../../geppetto/model.js';
import { parsePuppetType, valueMatches } from '../../geppetto/resolve/puppet-type.js';
import { sampleComponent } from '../helpers/component.js';
import { TYPE_CASES } from '../helpers/puppet-types.js';
import { describeWithTools, run, type RunResult, tmpDir } from './tools.js';

const HOSTILE = {
  injection: "it's ${x} %{facts.os.family} $(id)",
  quotes: '"quoted" \\ back \\\\ two \\\' \'',
  epp: '<%= 1 %> <%% -%> %> {{x}} {{{y}}}',
  multiline: 'line one\nline two\n\ttabbed\r\nCRLF\n',
  unicode: 'héllo wörld ☃ 日本語 😀',
  controls: 'bell \u0007 del \u007f nel \u0085 ls \u2028 bom \ufeff',
  literal: "%{literal('%')} %{} %%{x} %{",
};

const SECRET_DEFAULT = 'DEFAULT-s3cr3t %{x} ü';
const SECRET_GIVEN = 'GIVEN-s3cr3t';

const KEYS: Record<string, ConfigKey> = {
  listen_port: { type: 'Integer', default: 8080, description: 'The port it listens on.' },
  ratio: { type: 'Float', default: 0.25 },
  whole: { type: 'Float', default: 3 },
  huge: { type: 'Float', default: 1e21 },
  enabled: { type: 'Boolean', default: true },
  disabled: { type: 'Boolean', default: false },
  empty: { type: 'String', default: '' },
  ...Object.fromEntries(Object.entries(HOSTILE).map(([k, v]) => [`s_${k}`, { type: 'String', default: v, description: `Hostile: ${v}` }])),
  tags: { type: 'Array[String]', default: [...Object.values(HOSTILE), ''] },
  no_tags: { type: 'Array[String]', default: [] },
  labels: { type: 'Hash[String, String]', default: { ...Object.fromEntries(Object.entries(HOSTILE).map(([k, v]) => [v, k])), plain: HOSTILE.injection } },
  required_key: { type: 'String', description: 'No default: given by Hiera or the classification.' },
  db_password: { type: 'String', secret: true, default: SECRET_DEFAULT },
};

function component(overrides: Partial<Component> = {}): Component {
  return sampleComponent({
    version: '1.4.0-rc.2',
    summary: "The shop's front <%= x %> ${y}",
    description: 'Serves the shop.\n%{facts.os.family} `x` #',
    configKeys: KEYS,
    ...overrides,
  });
}

function defaults(keys: Record<string, ConfigKey>): Record<string, ConfigValue> {
  return Object.fromEntries(Object.entries(keys).flatMap(([k, v]) => (v.default === undefined ? [] : [[k, v.default]])));
}

/** Writes the module into `<modulepath>/<module>` and returns the module's directory. */
function writeModule(modulepath: string, c: Component): string {
  const root = join(modulepath, c.module);
  for (const f of renderPuppetModule(c)) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.content, { mode: f.mode ?? 0o644 });
  }
  return root;
}

/** A Puppet sandbox: its own confdir, vardir, codedir and (node-side) Hiera configuration. */
class Sandbox {
  readonly dir: string;
  readonly modulepath: string;
  readonly report: string;
  readonly hieraData: string;

  constructor(name: string) {
    this.dir = tmpDir(`puppet-${name}`);
    this.modulepath = join(this.dir, 'modules');
    this.report = join(this.dir, 'last_run_report.yaml');
    this.hieraData = join(this.dir, 'hieradata');
    for (const d of ['modules', 'conf', 'var', 'code', 'log', 'run', 'hieradata']) mkdirSync(join(this.dir, d), { recursive: true });
    writeFileSync(
      join(this.dir, 'hiera.yaml'),
      ['---', 'version: 5', 'defaults:', `  datadir: ${JSON.stringify(this.hieraData)}`, '  data_hash: yaml_data', 'hierarchy:', '  - name: node', '    path: node.yaml', ''].join('\n'),
    );
    this.nodeData({});
  }

  /** The node's Hiera data (hieradata/node.yaml), values written by hieraValue. */
  nodeData(data: Record<string, ConfigValue>): void {
    const lines = Object.entries(data).map(([k, v]) => `${k}: ${hieraValue(v)}`);
    writeFileSync(join(this.hieraData, 'node.yaml'), `---\n${lines.length === 0 ? '{}' : lines.join('\n')}\n`);
  }

  settings(): string[] {
    const d = this.dir;
    return [
      '--color=false',
      `--confdir=${join(d, 'conf')}`,
      `--vardir=${join(d, 'var')}`,
      `--codedir=${join(d, 'code')}`,
      `--logdir=${join(d, 'log')}`,
      `--rundir=${join(d, 'run')}`,
      `--hiera_config=${join(d, 'hiera.yaml')}`,
      `--modulepath=${this.modulepath}`,
    ];
  }

  /** `puppet apply --detailed-exitcodes -e <manifest>`; fails the test on an error or a failed resource. */
  apply(manifest: string, extra: string[] = []): RunResult {
    const res = run('puppet', ['apply', ...this.settings(), `--lastrunreport=${this.report}`, '--detailed-exitcodes', ...extra, '-e', manifest]);
    // Facter cannot read /proc/1/environ in some containers and says so as an "Error": harmless.
    const errors = `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => /^Error: /.test(l) && !/^Error: Facter: /.test(l));
    if (![0, 2].includes(res.status) || errors.length > 0) {
      throw new Error(`puppet apply failed (${res.status}): ${manifest}\n${errors.join('\n')}\n--- stderr\n${res.stderr.slice(-6000)}\n--- stdout\n${res.stdout.slice(-6000)}`);
    }
    return res;
  }

  /** The catalog `puppet catalog compile` makes of `manifest`, as JSON. */
  compile(manifest: string): CatalogResource[] {
    const site = join(this.dir, 'site.pp');
    writeFileSync(site, manifest);
    const res = run('puppet', ['catalog', 'compile', ...this.settings(), `--manifest=${site}`, '--render-as', 'json']);
    const start = res.stdout.indexOf('{');
    if (res.status !== 0 || start < 0) throw new Error(`puppet catalog compile failed (${res.status}):\n${res.stderr}\n${res.stdout}`);
    return (JSON.parse(res.stdout.slice(start)) as { resources: CatalogResource[] }).resources;
  }
}

interface CatalogResource {
  type: string;
  title: string;
  parameters?: Record<string, unknown>;
  sensitive_parameters?: string[];
}

/** A class declaration, every value written by puppetValue/puppetString. */
function declare(module: string, params: Record<string, ConfigValue>, raw: Record<string, string> = {}): string {
  const entries = [
    ...Object.entries(params).map(([k, v]) => `${k} => ${puppetValue(v, KEYS[k]?.type)}`),
    ...Object.entries(raw).map(([k, v]) => `${k} => ${v}`),
  ];
  return `class { ${puppetString(module)}: ${entries.join(', ')} }`;
}

function readConfig(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

/** What puppet prints and keeps: the files of its state (report, transaction store, filebucket...) holding `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  return filesUnder(dir).filter((f) => readFileSync(f).includes(needle));
}

describeWithTools(['puppet', 'puppet-lint'], 'the Puppet module of a component, applied by Puppet 7', () => {
  const c = component();
  const sandbox = new Sandbox('module');
  let moduleDir = '';
  const dev = { manage_service: false, manage_user: false };

  beforeAll(() => {
    moduleDir = writeModule(sandbox.modulepath, c);
  });

  it('passes puppet parser validate, puppet epp validate and puppet-lint --fail-on-warnings', () => {
    const parser = run('puppet', ['parser', 'validate', ...sandbox.settings(), join(moduleDir, 'manifests', 'init.pp')]);
    expect(parser.status, parser.stderr).toBe(0);
    const epp = run('puppet', ['epp', 'validate', ...sandbox.settings(), join(moduleDir, 'templates', 'config.json.epp')]);
    expect(epp.status, epp.stderr).toBe(0);
    const lint = run('puppet-lint', ['--fail-on-warnings', '--with-filename', join(moduleDir, 'manifests')]);
    expect(lint.status, `${lint.stdout}${lint.stderr}`).toBe(0);
    expect(lint.stdout).toBe('');
  });

  it('writes config.json with every default, literally, and a key without default from the classification', () => {
    const configDir = join(sandbox.dir, 'defaults');
    const res = sandbox.apply(declare(c.module, { required_key: HOSTILE.injection }, { config_dir: puppetString(configDir), ...flags(dev) }));
    expect(res.status).toBe(2);
    expect(readConfig(configDir)).toEqual({ ...defaults(KEYS), required_key: HOSTILE.injection });
    expect(statSync(join(configDir, 'config.json')).mode & 0o777).toBe(0o640);
    expect(statSync(configDir).isDirectory()).toBe(true);
    // A second run changes nothing.
    expect(sandbox.apply(declare(c.module, { required_key: HOSTILE.injection }, { config_dir: puppetString(configDir), ...flags(dev) })).status).toBe(0);
  });

  it('refuses to compile without the key that has no default', () => {
    const res = run('puppet', ['apply', ...sandbox.settings(), '-e', declare(c.module, {}, flags(dev))]);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/expects a value for parameter 'required_key'/);
  });

  it('takes overrides from the classification and the node\'s Hiera', () => {
    const configDir = join(sandbox.dir, 'overrides');
    const override: Record<string, ConfigValue> = {
      listen_port: 9090,
      ratio: 1e-7,
      enabled: false,
      s_injection: `${HOSTILE.injection} (classified)`,
      s_quotes: HOSTILE.multiline,
      tags: [HOSTILE.epp],
      labels: { [HOSTILE.literal]: HOSTILE.quotes },
    };
    const fromHiera: Record<string, ConfigValue> = {
      required_key: `${HOSTILE.literal} ${HOSTILE.injection}`,
      s_unicode: `${HOSTILE.unicode} (hiera)`,
      huge: 2.5e-30,
      no_tags: [HOSTILE.controls, HOSTILE.literal],
    };
    try {
      sandbox.nodeData(Object.fromEntries(Object.entries(fromHiera).map(([k, v]) => [`${c.module}::${k}`, v])));
      sandbox.apply(declare(c.module, override, { config_dir: puppetString(configDir), ...flags(dev) }));
    } finally {
      sandbox.nodeData({});
    }
    expect(readConfig(configDir)).toEqual({ ...defaults(KEYS), ...override, ...fromHiera });
  });

  describe('a secret key', () => {
    const secretSandbox = new Sandbox('secret');
    let runs = 0;

    beforeAll(() => {
      writeModule(secretSandbox.modulepath, c);
    });

    it.each([
      ['its default from the module data', {}, SECRET_DEFAULT],
      ['a plain value from the classification', { db_password: puppetString(SECRET_GIVEN) }, SECRET_GIVEN],
      ['a Sensitive value from the classification', { db_password: `Sensitive(${puppetString(`${SECRET_GIVEN}-sensitive`)})` }, `${SECRET_GIVEN}-sensitive`],
    ])('never shows %s, even with --debug, and makes config.json 0640', (what, given: Record<string, string>, secret) => {
      const configDir = join(secretSandbox.dir, `secret-${++runs}`);
      // As sites often do in site.pp: back every replaced file up into the filebucket (in vardir).
      const manifest = `File { backup => 'puppet' }\n${declare(c.module, { required_key: 'v' }, { config_dir: puppetString(configDir), ...flags(dev), ...given })}`;
      const first = secretSandbox.apply(manifest, ['--debug']);
      expect(readConfig(configDir).db_password).toBe(secret);
      expect(statSync(join(configDir, 'config.json')).mode & 0o777).toBe(0o640);
      // The content changes (a new required_key): no diff, no filebucket copy of the old one.
      const second = secretSandbox.apply(manifest.replace("required_key => 'v'", "required_key => 'w'"), ['--debug', '--show_diff']);
      expect(readConfig(configDir).required_key).toBe('w');
      expect(readdirSync(configDir)).toEqual(['config.json']);
      const printed = [first.stdout, first.stderr, second.stdout, second.stderr].join('\n');
      if (what.includes('module data')) {
        // Puppet --debug prints what lookups find: the module's backend hands the secret over Sensitive.
        expect(printed).toContain('Found key: "shop_front::db_password" value: #<Sensitive [value redacted]>');
      }
      expect(printed).toMatch(/File\[.*config\.json\]\/content: changed \[redacted\] to \[redacted\]/);
      expect(printed).not.toContain(secret);
      expect(printed).not.toContain('s3cr3t');
      expect(readFileSync(secretSandbox.report, 'utf8')).not.toContain('s3cr3t');
      expect(filesHolding(join(secretSandbox.dir, 'var'), 's3cr3t')).toEqual([]);
      expect(filesHolding(join(secretSandbox.dir, 'log'), 's3cr3t')).toEqual([]);
    });

    it('is marked sensitive in the catalog', () => {
      const resources = secretSandbox.compile(declare(c.module, { required_key: 'v' }));
      const config = resources.find((r) => r.type === 'File' && r.title.endsWith('/config.json'));
      expect(config?.sensitive_parameters).toEqual(['content']);
      expect(resources.find((r) => r.type === 'Class' && r.title === 'Shop_front')?.sensitive_parameters).toContain('db_password');
    });
  });

  describe('the catalog', () => {
    const resourcesOf = (params: Record<string, boolean>) => sandbox.compile(declare(c.module, { required_key: 'v' }, flags(params)));

    it('with manage_user and manage_service: the user, its group owning the configuration, the service', () => {
      const resources = resourcesOf({});
      const find = (type: string, title: string) => resources.find((r) => r.type === type && r.title === title);
      expect(find('Group', 'shop-front')?.parameters).toEqual({ ensure: 'present', system: true });
      expect(find('User', 'shop-front')?.parameters).toEqual({
        ensure: 'present',
        system: true,
        gid: 'shop-front',
        home: '/opt/kelkoo/shop-front',
        shell: '/sbin/nologin',
        managehome: false,
      });
      expect(find('File', '/etc/kelkoo/shop-front')?.parameters).toMatchObject({ ensure: 'directory', mode: '0750', owner: 'root', group: 'shop-front' });
      expect(find('File', '/etc/kelkoo/shop-front/config.json')?.parameters).toMatchObject({
        ensure: 'file',
        owner: 'root',
        group: 'shop-front',
        mode: '0640',
        show_diff: false,
        backup: false,
      });
      expect(find('Service', 'shop-front')?.parameters).toEqual({
        ensure: 'running',
        enable: true,
        subscribe: 'File[/etc/kelkoo/shop-front/config.json]',
      });
    });

    it('without: no user, no group, no owner, no service', () => {
      const resources = resourcesOf(dev);
      expect(resources.filter((r) => ['User', 'Group', 'Service'].includes(r.type))).toEqual([]);
      expect(resources.find((r) => r.type === 'File' && r.title === '/etc/kelkoo/shop-front')?.parameters).toMatchObject({ mode: '0755' });
      for (const r of resources.filter((x) => x.type === 'File')) {
        expect(r.parameters).not.toHaveProperty('owner');
        expect(r.parameters).not.toHaveProperty('group');
      }
    });
  });
});

describeWithTools(['puppet', 'puppet-lint'], 'other component types', () => {
  it('a monitoring component writes its NRPE command, the config dir quoted for sh', () => {
    const sandbox = new Sandbox('monitoring');
    const c = component({ name: 'disk-check', type: 'monitoring', service: false, configKeys: { warn: { type: 'Integer', default: 80 } } });
    const moduleDir = writeModule(sandbox.modulepath, c);
    expect(run('puppet', ['epp', 'validate', ...sandbox.settings(), join(moduleDir, 'templates', 'nrpe.cfg.epp')]).status).toBe(0);
    const lint = run('puppet-lint', ['--fail-on-warnings', join(moduleDir, 'manifests')]);
    expect(lint.status, lint.stdout).toBe(0);
    const configDir = join(sandbox.dir, "it's a $(dir) `x` \\ ${y}");
    const nrpeDir = join(sandbox.dir, 'nrpe.d');
    mkdirSync(nrpeDir);
    // no systemd in a test container: manage_service => false leaves NRPE alone (the reload is in the catalog test below)
    sandbox.apply(declare(c.module, {}, { config_dir: puppetString(configDir), nrpe_config_dir: puppetString(nrpeDir), ...flags({ manage_user: false, manage_service: false }) }));
    expect(readConfig(configDir)).toEqual({ warn: 80 });
    const cfg = readFileSync(join(nrpeDir, 'disk-check.cfg'), 'utf8');
    const line = cfg.split('\n').find((l) => l.startsWith('command[check_disk_check]='));
    expect(line).toBeDefined();
    const command = (line as string).slice('command[check_disk_check]='.length);
    expect(command.endsWith(' /usr/lib64/nagios/plugins/check_disk_check')).toBe(true);
    // NRPE runs the line with /bin/sh: with printenv for the plugin, sh shows what it would get.
    const shown = run('sh', ['-c', command.replace(/\/usr\/lib64\/nagios\/plugins\/check_disk_check$/, 'printenv KELKOO_CONFIG_DIR')]);
    expect(shown.stdout).toBe(`${configDir}\n`);
    // manage_nrpe => false writes nothing more.
    const other = join(sandbox.dir, 'nrpe-off');
    mkdirSync(other);
    sandbox.apply(declare(c.module, {}, { config_dir: puppetString(configDir), nrpe_config_dir: puppetString(other), ...flags({ manage_user: false, manage_nrpe: false }) }));
    expect(readdirSync(other)).toEqual([]);
    // with manage_service, Puppet reloads NRPE when (and only when) the command file changes
    const catalog = sandbox.compile(declare(c.module, {}, { nrpe_config_dir: puppetString(nrpeDir), nrpe_service: puppetString('nagios-nrpe-server') }));
    const reload = catalog.find((r) => r.type === 'Exec');
    expect(reload).toMatchObject({
      title: 'disk_check: reload NRPE',
      parameters: { command: ['systemctl', 'try-reload-or-restart', 'nagios-nrpe-server'], refreshonly: true, subscribe: `File[${nrpeDir}/disk-check.cfg]` },
    });
    expect(sandbox.compile(declare(c.module, {}, flags({ manage_service: false }))).some((r) => r.type === 'Exec')).toBe(false);
  });

  it('a db-schema component: an exec runs <name>-migrate unless --check finds nothing pending; manage_migrations => false declares none', () => {
    const sandbox = new Sandbox('db-schema');
    const c = component({ name: 'orders-db', type: 'db-schema', service: false, prefix: "/opt/it's here", configKeys: { db_host: { type: 'String', default: 'localhost' } } });
    const moduleDir = writeModule(sandbox.modulepath, c);
    expect(run('puppet', ['parser', 'validate', ...sandbox.settings(), join(moduleDir, 'manifests', 'init.pp')]).status).toBe(0);
    const lint = run('puppet-lint', ['--fail-on-warnings', join(moduleDir, 'manifests')]);
    expect(lint.status, lint.stdout).toBe(0);
    const configDir = join(sandbox.dir, 'conf.d');
    const catalog = sandbox.compile(declare(c.module, {}, { config_dir: puppetString(configDir), ...flags({ manage_user: false }) }));
    const migrate = "/opt/it's here/bin/orders-db-migrate";
    expect(catalog.find((r) => r.type === 'Exec')).toMatchObject({
      title: 'orders_db: migrate',
      parameters: { command: [migrate], unless: [[migrate, '--check']], environment: [`KELKOO_CONFIG_DIR=${configDir}`], require: `File[${configDir}/config.json]` },
    });
    const manual = sandbox.compile(declare(c.module, {}, { config_dir: puppetString(configDir), ...flags({ manage_user: false, manage_migrations: false }) }));
    expect(manual.some((r) => r.type === 'Exec')).toBe(false);
  });

  it('a component without keys nor secrets: config.json is {} and 0644', () => {
    const sandbox = new Sandbox('empty');
    const c = component({ name: 'batch', type: 'processing', service: false, configKeys: {} });
    const moduleDir = writeModule(sandbox.modulepath, c);
    expect(run('puppet', ['epp', 'validate', ...sandbox.settings(), join(moduleDir, 'templates', 'config.json.epp')]).status).toBe(0);
    expect(run('puppet-lint', ['--fail-on-warnings', join(moduleDir, 'manifests')]).status).toBe(0);
    const configDir = join(sandbox.dir, 'conf.d');
    const res = sandbox.apply(declare(c.module, {}, { config_dir: puppetString(configDir), ...flags({ manage_user: false }) }));
    expect(res.stdout + res.stderr).not.toMatch(/Warning: /);
    expect(readConfig(configDir)).toEqual({});
    expect(statSync(join(configDir, 'config.json')).mode & 0o777).toBe(0o644);
  });
});

describeWithTools(['puppet'], 'the escaping functions, read by Puppet, Hiera and EPP', () => {
  const sandbox = new Sandbox('escape');
  const texts = [...Object.values(HOSTILE), '', 'x'.repeat(300)];

  it('puppetString: Puppet reads back the text', () => {
    const out = join(sandbox.dir, 'strings');
    mkdirSync(out);
    const manifest = texts.map((t, i) => `file { ${puppetString(join(out, String(i)))}: content => ${puppetString(t)} }`).join('\n');
    sandbox.apply(manifest);
    texts.forEach((t, i) => expect(readFileSync(join(out, String(i)), 'utf8')).toBe(t));
  });

  it('eppText: EPP renders the text literally', () => {
    const template = join(sandbox.dir, 'texts.epp');
    const separator = '\n--8<--\n';
    // `puppet epp render` ends its output with a newline unless it has one: END makes sure.
    writeFileSync(template, `${texts.map(eppText).join(separator)}END`);
    const res = run('puppet', ['epp', 'render', ...sandbox.settings(), template]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout.slice(0, -'END\n'.length).split(separator)).toEqual(texts);
  });

  it('hieraValue: puppet lookup reads back every type from the node\'s data', () => {
    const values: Record<string, ConfigValue> = {
      ...Object.fromEntries(texts.map((t, i) => [`s${i}`, t])),
      a: texts,
      h: Object.fromEntries(texts.map((t, i) => [t, String(i)])),
      i: -42,
      f: 1e21,
      g: 5,
      b: false,
    };
    // One lookup: the values under one key, as a block mapping of hieraValue lines.
    const lines = Object.entries(values).map(([k, v]) => `  ${k}: ${hieraValue(v, k === 'g' ? 'Float' : undefined)}`);
    writeFileSync(join(sandbox.hieraData, 'node.yaml'), `---\nt::all:\n${lines.join('\n')}\n`);
    const res = run('puppet', ['lookup', ...sandbox.settings(), '--render-as', 'json', 't::all']);
    expect(res.status, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual(values);
    // 5 stayed a Float (written 5.0): Puppet would refuse an Integer for a Float parameter.
    const typed = run('puppet', ['apply', ...sandbox.settings(), '-e', "notice(type(lookup('t::all')['g']))"]);
    expect(typed.stdout).toMatch(/Notice: Scope\(Class\[main\]\): Float\[5\.0, 5\.0\]/);
  });
});

describeWithTools(['puppet'], "Geppetto's type checks, against Puppet's own", () => {
  const sandbox = new Sandbox('types');

  // A Puppet literal of any value a setting holds.
  const literal = (v: Value): string => {
    if (typeof v === 'string') return puppetString(v);
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
    return `{${Object.entries(v)
      .map(([k, x]) => `${puppetString(k)} => ${literal(x)}`)
      .join(', ')}}`;
  };

  it('Puppet (`value =~ Type`) agrees with geppetto/resolve/puppet-type.ts on every case', () => {
    // one run for the whole table: each answer on a line of its own
    const manifest = TYPE_CASES.map(([type, value], i) => `$r${i} = ${literal(value)} =~ ${type}\nnotice("case ${i}: \${r${i}}")`).join('\n');
    const res = sandbox.apply(manifest);
    const puppet = new Map([...res.stdout.matchAll(/Notice: Scope\(Class\[main\]\): case (\d+): (true|false)/g)].map((m) => [Number(m[1]), m[2] === 'true']));
    expect(puppet.size).toBe(TYPE_CASES.length);
    TYPE_CASES.forEach(([type, value, matches], i) => {
      const t = parsePuppetType(type);
      expect(t, type).toBeDefined();
      const ours = t !== undefined && valueMatches(value, t);
      expect({ type, value, puppet: puppet.get(i) }).toEqual({ type, value, puppet: ours });
      expect(ours, `${type} with ${JSON.stringify(value)}`).toBe(matches);
    });
  });
});

function flags(params: Record<string, boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
}
