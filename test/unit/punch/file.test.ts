// The per-server file: what the schema accepts, and hostile files refused with exit 2 naming the field.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { exitCodeFor, KpkgError } from '../../../packager/errors.js';
import { main } from '../../../punch/cli/index.js';
import { parseNodeFile } from '../../../punch/file.js';

const GOOD = {
  environment: 'production',
  classes: { shop: { listen_port: 9090, banner: 'Hello' } },
  parameters: { kelkoo_node: 'web03.example.com', kelkoo_revision: 42 },
  kelkoo: {
    node: 'web03.example.com',
    revision: 42,
    repositories: [{ id: 'kelkoo', baseurl: 'https://yum.example.com/kelkoo', gpgkey: 'https://yum.example.com/key' }],
    packages: [{ name: 'shop-deploy', evr: '1.4.0-1' }],
    sensitive: { shop: ['banner'] },
  },
};

function refused(text: string): KpkgError {
  try {
    parseNodeFile(text, 'web03.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(KpkgError);
    expect(exitCodeFor(e)).toBe(2);
    expect((e as Error).message).not.toMatch(/\n/);
    return e as KpkgError;
  }
  throw new Error(`accepted: ${text}`);
}

const edit = (f: (d: typeof GOOD & Record<string, unknown>) => void) => {
  const d = structuredClone(GOOD) as typeof GOOD & Record<string, unknown>;
  f(d);
  return JSON.stringify(d);
};

describe('the per-server file', () => {
  it('reads the YAML of DESIGN and its JSON form alike', () => {
    const yaml = parseNodeFile(stringify(GOOD), 'web03.yaml');
    const json = parseNodeFile(JSON.stringify(GOOD), 'web03.json');
    expect(yaml.file).toEqual(GOOD);
    expect(json.file).toEqual(GOOD);
    expect(yaml.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts a hand-written file with only classes and kelkoo.packages', () => {
    expect(parseNodeFile('classes: { shop: {} }\nkelkoo: { packages: [{ name: shop-deploy, evr: "1:1.4.0-1" }] }\n', 'f').file.kelkoo.packages[0]?.evr).toBe('1:1.4.0-1');
  });

  it('keeps YAML 1.1 look-alikes as strings (yes, 0777, 1e3 quoted stays text)', () => {
    const f = parseNodeFile('classes: { shop: { a: yes, b: "0777", c: no } }\nkelkoo: { packages: [] }\n', 'f').file;
    expect(f.classes.shop).toEqual({ a: 'yes', b: '0777', c: 'no' });
  });

  it.each([
    ['a missing kelkoo', JSON.stringify({ classes: {} }), /web03\.yaml: \/kelkoo: is required/],
    ['an EVR without release', edit((d) => (d.kelkoo.packages[0]!.evr = '1.4.0')), /\/kelkoo\/packages\/0\/evr: must match/],
    ['an EVR with a space', edit((d) => (d.kelkoo.packages[0]!.evr = '1.4.0-1 --nogpgcheck')), /\/kelkoo\/packages\/0\/evr/],
    ['a package name with a newline', edit((d) => (d.kelkoo.packages[0]!.name = 'shop\nrun')), /\/kelkoo\/packages\/0\/name/],
    ['a package name that is an option', edit((d) => (d.kelkoo.packages[0]!.name = '-y')), /\/kelkoo\/packages\/0\/name/],
    ['a package name with a glob', edit((d) => (d.kelkoo.packages[0]!.name = 'shop*')), /\/kelkoo\/packages\/0\/name/],
    ['the same package twice', edit((d) => d.kelkoo.packages.push({ name: 'shop-deploy', evr: '1.5.0-1' })), /\/kelkoo\/packages\/1\/name: "shop-deploy" is already wanted at \/kelkoo\/packages\/0/],
    ['a repository id twice', edit((d) => d.kelkoo.repositories.push({ id: 'kelkoo', baseurl: 'file:///srv' } as never)), /\/kelkoo\/repositories\/1\/id/],
    ['a baseurl with a newline (an INI injection)', edit((d) => (d.kelkoo.repositories[0]!.baseurl = 'https://x/\n[evil]\nbaseurl=file:///')), /\/kelkoo\/repositories\/0\/baseurl/],
    ['a baseurl of another scheme', edit((d) => (d.kelkoo.repositories[0]!.baseurl = 'ftp://x/')), /\/kelkoo\/repositories\/0\/baseurl/],
    ['a class name with Puppet code', edit((d) => ((d.classes as Record<string, unknown>)["shop'); exec { 'x"] = {})), /\/classes\/shop'\); exec/],
    ['an upper-case class name', edit((d) => ((d.classes as Record<string, unknown>).Shop = {})), /\/classes\/Shop/],
    ['a parameter name with a dollar', edit((d) => ((d.classes.shop as Record<string, unknown>)['$x'] = 1)), /\/classes\/shop\/\$x/],
    ['a null value', edit((d) => ((d.classes.shop as Record<string, unknown>).banner = null)), /\/classes\/shop\/banner/],
    ['an unknown field in kelkoo', edit((d) => ((d.kelkoo as Record<string, unknown>).packges = [])), /\/kelkoo\/packges: unknown field/],
    ['a negative revision', edit((d) => (d.kelkoo.revision = -1)), /\/kelkoo\/revision/],
    ['sensitive keys of a class that is not there', edit((d) => ((d.kelkoo as Record<string, unknown>).sensitive = { other: ['x'] })), /\/kelkoo\/sensitive\/other: no such class/],
    ['a node name with a slash', edit((d) => (d.kelkoo.node = '../../etc')), /\/kelkoo\/node/],
  ])('refuses %s, naming the field', (_what, text, message) => {
    expect(refused(text).message).toMatch(message);
  });

  it('refuses what is not YAML, duplicate keys, custom tags and alias bombs', () => {
    expect(refused('classes: [\n').message).toMatch(/web03\.yaml: not valid YAML or JSON \(line/);
    expect(refused('classes: {}\nclasses: {}\nkelkoo: { packages: [] }\n').message).toMatch(/not valid YAML/);
    expect(refused('classes: !!js/function "x"\nkelkoo: { packages: [] }\n').message).toMatch(/web03\.yaml/);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(refused(bomb).message).toMatch(/web03\.yaml/);
  });

  it('refuses __proto__ and other keys that are not names', () => {
    expect(refused('{"classes": {"__proto__": {}}, "kelkoo": {"packages": []}}').message).toMatch(/\/classes\/__proto__/);
  });

  it('refuses a file too large to be a per-server file, without parsing it', () => {
    expect(refused(`# ${'x'.repeat(17 * 1024 * 1024)}\n`).message).toMatch(/larger than/);
  });
});

describe('a path that names no file', () => {
  const stderrOf = async (argv: string[]): Promise<{ code: number; stderr: string }> => {
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    try {
      return { code: await main(['node', 'punch', ...argv]), stderr };
    } finally {
      spy.mockRestore();
    }
  };

  it('is bad input (exit 2) for punch apply and punch plan, naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'punch-missing-'));
    try {
      for (const argv of [['apply', join(dir, 'web03.yaml')], ['plan', join(dir, 'web03.yaml')], ['apply', dir]]) {
        const r = await stderrOf(argv);
        expect(r.code, argv.join(' ')).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^punch: cannot read ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      }
      const back = await stderrOf(['rollback', '--root', dir]);
      expect(back.code).toBe(2);
      expect(back.stderr).toMatch(/nothing to roll back to: no previously applied file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
