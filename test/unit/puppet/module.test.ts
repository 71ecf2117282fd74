// renderPuppetModule: what the class, its data, its templates and its metadata say, read back
// without Puppet (test/system/puppet.test.ts has Puppet read them).
import type { DeploymentDescription } from '../../../packager/puppet/module.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import type { Component, ConfigKey, ConfigValue } from '../../../packager/descriptor/types.js';
import { KpkgError } from '../../../packager/errors.js';
import { unHieraText } from '../../../packager/puppet/escape.js';
import { MODULE_PARAMETERS } from '../../../packager/descriptor/names.js';
import { renderPuppetModule, TEMPLATE_HELPERS, type ModuleFile } from '../../../packager/puppet/module.js';
import { templatesDir } from '../../../packager/util/paths.js';
import { sampleComponent } from '../../helpers/component.js';

const HOSTILE = "it's ${x} %{facts.os.family} $(id)";

function component(overrides: Partial<Component> = {}): Component {
  return sampleComponent({
    dir: '/src/shop-front',
    configKeys: {
      listen_port: { type: 'Integer', default: 8080, description: 'The port it listens on.' },
      greeting: { type: 'String', default: HOSTILE, description: "Shown on the home page: it's ${x} %{y} <%= z %>\nsecond line" },
      quoted: { type: 'String', default: '"quoted" \\ back\nline two <%= 1 %> {{x}} héllo ☃' },
      ratio: { type: 'Float', default: 5 },
      enabled: { type: 'Boolean', default: true },
      tags: { type: 'Array[String]', default: ['a', HOSTILE] },
      labels: { type: 'Hash[String, String]', default: { [HOSTILE]: '%{v}', k: 'v' } },
      required_key: { type: 'String' },
      db_password: { type: 'String', secret: true, default: 'pw %{x}' },
    },
    ...overrides,
  });
}

function file(files: ModuleFile[], path: string): string {
  const f = files.find((x) => x.path === path);
  if (f === undefined) throw new Error(`no ${path} in ${files.map((x) => x.path).join(', ')}`);
  return f.content;
}

/** The class's parameter list: `name -> { type, default? }`. */
function classParameters(initPp: string, module: string): Map<string, { type: string; default?: string }> {
  const m = new RegExp(`^class ${module} \\(\\n([\\s\\S]*?)\\n\\) \\{`, 'm').exec(initPp);
  if (m === null) throw new Error('no class header');
  const params = new Map<string, { type: string; default?: string }>();
  for (const line of (m[1] as string).split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const p = /^ {2}(\S.*?) \$([a-z][a-z0-9_]*)(?: = (.*))?,$/.exec(line);
    if (p === null) throw new Error(`unexpected parameter line ${JSON.stringify(line)}`);
    params.set(p[2] as string, { type: p[1] as string, ...(p[3] !== undefined ? { default: p[3] } : {}) });
  }
  return params;
}

/** What Hiera reads from data/common.yaml: our values are one-line JSON-compatible YAML. */
function commonYaml(yaml: string): { data: Record<string, unknown>; lookupOptions: Record<string, unknown> } {
  const data: Record<string, unknown> = {};
  const lookupOptions: Record<string, unknown> = {};
  const lines = yaml.split('\n');
  expect(lines[0]).toBe('---');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '' || line.startsWith('#') || line === '{}') continue;
    if (line === 'lookup_options:') {
      for (i++; i < lines.length && /^ {2}\S/.test(lines[i] as string); i += 2) {
        const key = (lines[i] as string).trim().replace(/:$/, '');
        lookupOptions[key] = (lines[i + 1] as string).trim();
      }
      i--;
      continue;
    }
    const m = /^([a-z][a-z0-9_]*::[a-z][a-z0-9_]*): (.*)$/.exec(line);
    if (m === null) throw new Error(`unexpected line ${JSON.stringify(line)}`);
    data[m[1] as string] = unHiera(JSON.parse(m[2] as string));
  }
  return { data, lookupOptions };
}

function unHiera(v: unknown): unknown {
  if (typeof v === 'string') return unHieraText(v);
  if (Array.isArray(v)) return v.map(unHiera);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [unHieraText(k), unHiera(x)]));
  return v;
}

/** Renders config.json.epp as Puppet would, with to_json as JSON.stringify. */
function renderConfigEpp(epp: string, module: string, values: Record<string, ConfigValue>): string {
  const body = epp.replace(/^<%- \|\n[\s\S]*?\n\| -%>\n/, '');
  const expr = new RegExp(`<%= ${module}::to_json\\(\\$([a-z][a-z0-9_]*)(\\.unwrap)?\\) %>`, 'g');
  expect(body.replace(expr, '')).not.toContain('<%');
  return body.replace(expr, (_m, key: string) => JSON.stringify(values[key]));
}

describe('renderPuppetModule', () => {
  const c = component();
  const files = renderPuppetModule(c);
  const initPp = file(files, 'manifests/init.pp');

  it('writes the module files, sorted, 0644', () => {
    expect(files.map((f) => f.path)).toEqual([
      'README.md',
      'data/common.yaml',
      'hiera.yaml',
      'kelkoo.json',
      'lib/puppet/functions/shop_front/sensitive_yaml_data.rb',
      'lib/puppet/functions/shop_front/to_json.rb',
      'manifests/init.pp',
      'metadata.json',
      'templates/config.json.epp',
    ]);
    expect(files.every((f) => f.mode === 0o644 && f.content.endsWith('\n'))).toBe(true);
  });

  it('is deterministic', () => {
    expect(renderPuppetModule(component())).toEqual(files);
  });

  it('describes every class parameter in kelkoo.json: keys as declared, then the module\'s own', () => {
    const described = JSON.parse(file(files, 'kelkoo.json')) as DeploymentDescription;
    expect(described).toMatchObject({ format: 1, component: c.name, type: c.type, class: c.module, version: c.version });
    const keys = Object.entries(c.configKeys).map(([name, key]) => ({
      name,
      type: key.type,
      ...(key.default !== undefined ? { default: key.default } : {}),
      secret: key.secret === true,
      ...(key.description !== undefined && key.description.trim() !== '' ? { description: key.description } : {}),
    }));
    expect(described.parameters.filter((p) => p.builtin !== true)).toEqual(keys);
    // every parameter of init.pp's class is described, and nothing else
    const block = initPp.slice(initPp.indexOf(`class ${c.module} (`), initPp.indexOf(') {'));
    const declared = [...block.matchAll(/\$([a-z][a-z0-9_]*)(?: =.*)?,$/gm)].map((m) => m[1]).sort();
    expect(described.parameters.map((p) => p.name).sort()).toEqual(declared);
    expect(described.parameters.find((p) => p.name === 'config_dir')).toMatchObject({ type: 'String', default: c.configDir, builtin: true });
  });

  it('gives the class one typed parameter per key, with no default in the class', () => {
    const params = classParameters(initPp, 'shop_front');
    expect(Object.fromEntries(params)).toEqual({
      listen_port: { type: 'Integer' },
      greeting: { type: 'String' },
      quoted: { type: 'String' },
      ratio: { type: 'Float' },
      enabled: { type: 'Boolean' },
      tags: { type: 'Array[String]' },
      labels: { type: 'Hash[String, String]' },
      required_key: { type: 'String' },
      db_password: { type: 'Variant[String, Sensitive[String]]' },
      config_dir: { type: 'Pattern[/\\A\\/[^[:cntrl:]]*\\z/]', default: "'/etc/kelkoo/shop-front'" },
      manage_service: { type: 'Boolean', default: 'true' },
      manage_user: { type: 'Boolean', default: 'true' },
    });
  });

  it('documents every parameter', () => {
    for (const p of classParameters(initPp, 'shop_front').keys()) expect(initPp).toMatch(new RegExp(`^# @param ${p}$`, 'm'));
    expect(initPp).toContain("#   Shown on the home page: it's ${x} %{y} <%= z %>\n#   second line\n");
  });

  it('puts the defaults in data/common.yaml, and nothing for a key without one', () => {
    const { data, lookupOptions } = commonYaml(file(files, 'data/common.yaml'));
    const expected = Object.fromEntries(
      Object.entries(c.configKeys)
        .filter(([, k]) => k.default !== undefined)
        .map(([name, k]) => [`shop_front::${name}`, k.default]),
    );
    expect(data).toEqual(expected);
    expect(data).not.toHaveProperty('shop_front::required_key');
    expect(lookupOptions).toEqual({ 'shop_front::db_password': "convert_to: 'Sensitive'" });
    expect(file(files, 'data/common.yaml')).toContain(`shop_front::greeting: "it's \${x} %{literal('%')}{facts.os.family} $(id)"`);
  });

  it('points the module-level Hiera at data/common.yaml, through the Sensitive-aware backend', () => {
    const hiera = file(files, 'hiera.yaml');
    expect(hiera).toMatch(/^version: 5$/m);
    expect(hiera).toMatch(/^ {2}datadir: 'data'$/m);
    expect(hiera).toMatch(/^ {2}data_hash: 'shop_front::sensitive_yaml_data'$/m);
    expect(hiera).toMatch(/^ {4}path: 'common.yaml'$/m);
    expect(file(files, 'lib/puppet/functions/shop_front/sensitive_yaml_data.rb')).toContain("[ 'shop_front::db_password' ]".replace(/ /g, ''));
  });

  it('renders config.json from every key, the secret unwrapped only in the template', () => {
    const epp = file(files, 'templates/config.json.epp');
    expect(epp).toContain('  Sensitive[String] $db_password,\n');
    expect(epp).toContain('  Hash[String, String] $labels,\n');
    const values: Record<string, ConfigValue> = { ...Object.fromEntries(Object.entries(c.configKeys).map(([k, v]) => [k, v.default ?? 'given'])) };
    expect(JSON.parse(renderConfigEpp(epp, 'shop_front', values))).toEqual(values);
    expect(initPp).toContain("    'db_password'  => Sensitive($db_password),\n");
  });

  it('keeps a secret Sensitive: content, mode 0640, no diff, no backup', () => {
    expect(initPp).toMatch(/content {3}=> Sensitive\(\$config_content\),\n {4}mode {6}=> '0640',\n {4}show_diff => false,\n {4}backup {4}=> false,/);
  });

  it('without secrets: plain content, 0644, yaml_data', () => {
    const plain = renderPuppetModule(component({ configKeys: { port: { type: 'Integer', default: 1 } } }));
    expect(file(plain, 'manifests/init.pp')).toMatch(/content => \$config_content,\n {4}mode {4}=> '0644',/);
    expect(file(plain, 'hiera.yaml')).toMatch(/data_hash: 'yaml_data'/);
    expect(plain.map((f) => f.path)).not.toContain('lib/puppet/functions/shop_front/sensitive_yaml_data.rb');
    expect(commonYaml(file(plain, 'data/common.yaml')).lookupOptions).toEqual({});
  });

  it('names the user only under manage_user', () => {
    const [before, rest] = (initPp.split('\n) {\n')[1] as string).split('  if $manage_user {\n') as [string, string];
    const [userBlock, otherwise] = rest.split('  } else {\n') as [string, string];
    const end = otherwise.indexOf('\n  }\n');
    const [elseBlock, after] = [otherwise.slice(0, end + 1), otherwise.slice(end + 5)];
    expect(elseBlock).toMatch(/^ {4}\$owner_attrs = \{\}$/m);
    expect(elseBlock).not.toContain('shop-front');
    expect(before).not.toMatch(/shop-front'|owner|group/);
    expect(userBlock).toContain("group { 'shop-front':");
    expect(userBlock).toMatch(/user \{ 'shop-front':\n(.*\n)*? {6}home {7}=> '\/opt\/kelkoo\/shop-front',\n {6}shell {6}=> '\/sbin\/nologin',/);
    expect(userBlock).toContain("$owner_attrs = { 'owner' => 'root', 'group' => 'shop-front' }\n    $config_dir_mode = '0750'\n");
    expect(after).not.toMatch(/owner =>|group =>|User\[|Group\[/);
    expect(elseBlock).toContain("    $config_dir_mode = '0755'\n");
    expect(after).toMatch(/^\n {2}file \{ \$config_dir:\n {4}ensure => directory,\n {4}mode {3}=> \$config_dir_mode,/);
    expect(after.match(/\* +=> \$owner_attrs,/g)).toHaveLength(2);
  });

  it('manages the service of a service component only', () => {
    expect(initPp).toMatch(/ {2}if \$manage_service \{\n {4}service \{ 'shop-front':\n {6}ensure {4}=> running,\n {6}enable {4}=> true,\n {6}subscribe => File\[\$config_file\],/);
    const batch = renderPuppetModule(component({ type: 'processing', service: false }));
    const pp = file(batch, 'manifests/init.pp');
    expect(pp).not.toContain('service {');
    expect(classParameters(pp, 'shop_front').get('manage_service')).toEqual({ type: 'Boolean', default: 'true' });
  });

  it('gives a monitoring component its NRPE command', () => {
    const mon = renderPuppetModule(component({ name: 'disk-check', type: 'monitoring', service: false }));
    const pp = file(mon, 'manifests/init.pp');
    expect(classParameters(pp, 'disk_check').get('manage_nrpe')).toEqual({ type: 'Boolean', default: 'true' });
    expect(pp).toContain('file { "${nrpe_config_dir}/disk-check.cfg":');
    expect(file(mon, 'templates/nrpe.cfg.epp')).toContain(
      'command[check_disk_check]=/usr/bin/env KELKOO_CONFIG_DIR=<%= disk_check::shell_quote($config_dir) %> /usr/lib64/nagios/plugins/check_disk_check\n',
    );
    expect(mon.map((f) => f.path)).toContain('lib/puppet/functions/disk_check/shell_quote.rb');
    expect(files.map((f) => f.path)).not.toContain('templates/nrpe.cfg.epp');
    // A component already named check-...: its plugin is not check_check_...
    const named = renderPuppetModule(component({ name: 'check-disk', type: 'monitoring', service: false }));
    expect(file(named, 'templates/nrpe.cfg.epp')).toContain('command[check_disk]=/usr/bin/env KELKOO_CONFIG_DIR=');
    expect(file(named, 'templates/nrpe.cfg.epp')).toContain(' /usr/lib64/nagios/plugins/check_disk\n');
  });

  it('keeps a monitoring config directory traversable by NRPE, and reloads NRPE when its command changes', () => {
    const mon = renderPuppetModule(component({ name: 'disk-check', type: 'monitoring', service: false }));
    const pp = file(mon, 'manifests/init.pp');
    expect(pp).toContain("$owner_attrs = { 'owner' => 'root', 'group' => 'disk-check' }\n    # NRPE runs the plugin as its own user, outside the group: the directory stays traversable.\n    $config_dir_mode = '0755'\n");
    expect(pp).not.toContain("$config_dir_mode = '0750'");
    expect(classParameters(pp, 'disk_check').get('nrpe_service')).toEqual({ type: 'Pattern[/\\A[A-Za-z0-9@:._-]+\\z/]', default: "'nrpe'" });
    // only with manage_service (a developer's machine or punch --root touch no service), only on a change of the command file
    expect(pp).toMatch(
      / {4}if \$manage_service \{\n {6}exec \{ 'disk_check: reload NRPE':\n {8}command {5}=> \['systemctl', 'try-reload-or-restart', \$nrpe_service\],\n {8}path {8}=> \['\/usr\/bin', '\/bin'\],\n {8}refreshonly => true,\n {8}subscribe {3}=> File\["\$\{nrpe_config_dir\}\/disk-check\.cfg"\],/,
    );
    expect(initPp).not.toContain('NRPE');
    const described = JSON.parse(file(mon, 'kelkoo.json')) as DeploymentDescription;
    expect(described.parameters.filter((p) => p.builtin === true).map((p) => p.name)).toEqual(['config_dir', 'manage_service', 'manage_user', 'manage_nrpe', 'nrpe_config_dir', 'nrpe_service']);
  });

  it('runs the migrations of a db-schema component when some are pending, unless told not to', () => {
    const db = renderPuppetModule(component({ name: 'shop-db', type: 'db-schema', service: false, prefix: "/opt/it's here" }));
    const pp = file(db, 'manifests/init.pp');
    expect(classParameters(pp, 'shop_db').get('manage_migrations')).toEqual({ type: 'Boolean', default: 'true' });
    expect(pp).toContain(
      [
        '  if $manage_migrations {',
        "    exec { 'shop_db: migrate':",
        "      command     => ['/opt/it\\'s here/bin/shop-db-migrate'],",
        "      unless      => [['/opt/it\\'s here/bin/shop-db-migrate', '--check']],",
        '      environment => ["KELKOO_CONFIG_DIR=${config_dir}"],',
        '      logoutput   => true,',
        '      require     => File[$config_file],',
        '    }',
        '  }',
      ].join('\n'),
    );
    expect(initPp).not.toContain('migrate');
    const described = JSON.parse(file(db, 'kelkoo.json')) as DeploymentDescription;
    expect(described.parameters.find((p) => p.name === 'manage_migrations')).toMatchObject({ type: 'Boolean', default: true, builtin: true });
    expect(MODULE_PARAMETERS).toEqual(expect.arrayContaining(['manage_migrations', 'nrpe_service']));
  });

  it('writes metadata.json', () => {
    expect(JSON.parse(file(files, 'metadata.json'))).toMatchObject({
      name: 'kelkoo-shop_front',
      version: '1.4.0',
      license: 'Apache-2.0',
      dependencies: [],
      requirements: [{ name: 'puppet', version_requirement: '>= 7.0.0' }],
    });
    const rc = renderPuppetModule(component({ version: '1.3.0-rc.2' }));
    expect((JSON.parse(file(rc, 'metadata.json')) as { version: string }).version).toBe('1.3.0-rc.2');
  });

  it('documents the keys in the README, hiding secret defaults', () => {
    const readme = file(files, 'README.md');
    expect(readme).toContain('# kelkoo-shop_front\n');
    expect(readme).toContain("- `listen_port` (`Integer`, default `8080`): The port it listens on.");
    expect(readme).toContain('- `required_key` (`String`, **required**)');
    expect(readme).toContain('- `db_password` (`Variant[String, Sensitive[String]]`, has a default, secret: kept `Sensitive`');
    expect(readme).not.toContain('pw %');
  });

  it('renders a component without keys', () => {
    const none = renderPuppetModule(component({ configKeys: {} }));
    expect(file(none, 'templates/config.json.epp')).toBe('{\n}\n');
    expect(file(none, 'data/common.yaml')).toMatch(/^---\n(#.*\n)*\{\}\n$/);
    expect(file(none, 'manifests/init.pp')).toContain("$config_content = epp('shop_front/config.json.epp')\n");
    expect([...classParameters(file(none, 'manifests/init.pp'), 'shop_front').keys()]).toEqual(['config_dir', 'manage_service', 'manage_user']);
  });

  it('keeps every line of init.pp within puppet-lint limits, even with the longest names', () => {
    const long = 'k'.repeat(50);
    const big = renderPuppetModule(
      component({
        name: `x${'-y'.repeat(31)}`,
        user: 'u'.repeat(32),
        group: 'g'.repeat(32),
        summary: 'word '.repeat(100),
        configKeys: { [long]: { type: 'Hash[String, String]', secret: true, description: 'z'.repeat(300) } },
      }),
    );
    for (const line of file(big, 'manifests/init.pp').split('\n')) {
      expect([...line].length, line).toBeLessThanOrEqual(140);
      expect(line).not.toMatch(/\s$|\t/);
    }
  });
});

describe('renderPuppetModule refuses', () => {
  const withKey = (name: string, key: ConfigKey) => component({ configKeys: { [name]: key } });
  const refusal = (c: Component): KpkgError => {
    try {
      renderPuppetModule(c);
    } catch (err) {
      expect(err).toBeInstanceOf(KpkgError);
      return err as KpkgError;
    }
    throw new Error('did not refuse');
  };

  it('a NUL in a default, naming the key', () => {
    const err = refusal(withKey('greeting', { type: 'String', default: 'a\0b' }));
    expect(err.code).toBe('INVALID_DESCRIPTOR');
    expect(err.message).toMatch(/^config\.keys\.greeting\.default: contains a NUL character/);
    expect(refusal(withKey('tags', { type: 'Array[String]', default: ['ok', '\0'] })).message).toMatch(/^config\.keys\.tags\.default/);
    expect(refusal(withKey('k', { type: 'String', description: '\0' })).message).toMatch(/^config\.keys\.k\.description/);
    expect(refusal(component({ summary: 'x\0' })).message).toMatch(/^summary: /);
  });

  it('a default not of its type', () => {
    expect(refusal(withKey('port', { type: 'Integer', default: '8080' })).message).toBe('config.keys.port.default: not a value of type Integer');
    expect(refusal(withKey('port', { type: 'Integer', default: 1.5 })).code).toBe('INVALID_DESCRIPTOR');
    expect(refusal(withKey('t', { type: 'Array[Integer]' as never })).message).toMatch(/^config\.keys\.t\.type: expected one of/);
  });

  it.each([...MODULE_PARAMETERS, 'name', 'title', 'tag', 'require', 'facts', 'config_file', 'config_dir_mode'])('the reserved key %s', (key) => {
    expect(refusal(withKey(key, { type: 'String', default: 'x' })).message).toMatch(new RegExp(`^config\\.keys\\.${key}: "${key}" is reserved`));
  });

  it('a key that is no Puppet parameter name, or too long', () => {
    for (const key of ['Port', '1port', 'my-port', '_x', 'a b', "x'"]) {
      expect(refusal(withKey(key, { type: 'String' })).message).toMatch(/Puppet parameter name/);
    }
    expect(refusal(withKey('k'.repeat(51), { type: 'String' })).message).toMatch(/at most 50 characters/);
  });

  it('names and paths Puppet code cannot hold', () => {
    expect(refusal(component({ name: "x'y", module: "x'y" })).message).toMatch(/^name: /);
    expect(refusal(component({ version: 'one' })).message).toMatch(/^version: /);
    expect(refusal(component({ user: "root'" })).message).toMatch(/^user: /);
    expect(refusal(component({ group: 'g'.repeat(33) })).message).toMatch(/^group: .*at most 32 characters/);
    expect(refusal(component({ prefix: 'relative' })).message).toMatch(/^prefix: /);
    expect(refusal(component({ configDir: '/etc/x\ny' })).message).toMatch(/^configDir: /);
  });
});

describe('templates/deploy', () => {
  // Fields the module validates to identifiers (or derives from a fixed set) before rendering:
  // the only ones a template may output without an escaping helper.
  const SAFE_FIELDS = new Set(['module', '@root.module', 'name', 'version', 'user', 'group', 'type', 'paramType', 'eppType', 'plugin', 'this']);
  const dir = join(templatesDir(), 'deploy');
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  const templates = walk(dir).filter((f) => f.endsWith('.hbs'));

  it('has the templates', () => {
    expect(templates.length).toBeGreaterThanOrEqual(9);
  });

  it.each(templates.map((f) => relative(dir, f)))('%s outputs values only through escaping helpers, triple-stashed', (rel) => {
    const ast = Handlebars.parse(readFileSync(join(dir, rel), 'utf8'));
    const problems: string[] = [];
    const visit = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      const n = node as { type?: string; path?: { original?: string }; escaped?: boolean; params?: unknown[]; loc?: { start: { line: number } } };
      if (n.type === 'MustacheStatement') {
        const head = n.path?.original ?? '?';
        const where = `line ${n.loc?.start.line}: ${head}`;
        if (n.escaped === true) problems.push(`${where} uses {{ }} (HTML escaping), not {{{ }}}`);
        if ((n.params ?? []).length > 0 ? !TEMPLATE_HELPERS.includes(head) : !SAFE_FIELDS.has(head)) problems.push(`${where} is no escaping helper nor a validated field`);
      }
      for (const v of Object.values(node)) {
        if (Array.isArray(v)) v.forEach(visit);
        else if (typeof v === 'object') visit(v);
      }
    };
    visit(ast);
    expect(problems).toEqual([]);
  });
});
