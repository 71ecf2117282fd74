// Hostile but valid text from component.json and package.json to every file kpkg writes, read
// back with our own reader (Node only; test/system/hostile.test.ts asks the real tools): the RPM
// headers hold it byte for byte; the systemd unit, the launcher, the cron table and the Puppet
// module hold it through their escaping function, in a form that reads back as the same text;
// the repository metadata holds it literally. Nothing of it ever runs (the marker stays absent).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { cronCommand, shellQuote, systemdText } from '../../../packager/assemble/escape.js';
import type { ConfigKeyType } from '../../../packager/descriptor/types.js';
import { hieraValue, markdownText, puppetComment, unHieraText } from '../../../packager/puppet/escape.js';
import { publish } from '../../../packager/repo/publish.js';
import { packageInfo, readRpm, type RpmInfo, type RpmPackage } from '../../../packager/rpm/reader.js';
import { readPayload } from '../../../packager/rpm/payload-reader.js';
import { kpkg } from '../../helpers/cli.js';
import { scratch } from '../../helpers/files.js';
import { hostileComponent, type HostileComponent } from '../../helpers/hostile.js';
import { childText, parseXml, type XmlElement } from '../repo/xml-parse.js';

const { work, fresh } = scratch('hostile');
const marker = join(work, 'pwned');
const MODULE = '/etc/puppetlabs/code/modules/shop';
const TYPES: Record<string, ConfigKeyType> = { listen_port: 'Integer', motto: 'String', tags: 'Array[String]', labels: 'Hash[String, String]' };

interface Built {
  c: HostileComponent;
  app: RpmPackage;
  deploy: RpmPackage;
  /** Every file of both payloads, by install path. */
  files: Map<string, string>;
}

async function payload(pkg: RpmPackage, into: Map<string, string>): Promise<void> {
  let path: string | undefined;
  const chunks: Buffer[] = [];
  const flush = () => {
    if (path !== undefined) into.set(path, Buffer.concat(chunks).toString('utf8'));
    chunks.length = 0;
  };
  for await (const ev of readPayload(pkg)) {
    if (ev.type === 'entry') {
      flush();
      path = ev.path;
    } else if (ev.type === 'data') chunks.push(ev.chunk);
    else flush();
  }
}

async function build(type: 'webapp' | 'processing'): Promise<Built> {
  const root = fresh(type);
  const c = hostileComponent(root, type, marker);
  const out = join(root, 'out');
  const r = await kpkg('build', c.dir, '--output', out, '--skip-build');
  expect(r.code, r.stderr).toBe(0);
  const app = await readRpm(join(out, 'shop-1.0.0-1.noarch.rpm'));
  const deploy = await readRpm(join(out, 'shop-deploy-1.0.0-1.noarch.rpm'));
  const files = new Map<string, string>();
  await payload(app, files);
  await payload(deploy, files);
  return { c, app, deploy, files };
}

/** The NUL-terminated UTF-8 string as the header's data store holds it. */
function stored(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

/** A YAML scalar of ours back to the value Hiera gives Puppet (our YAML is JSON; %{literal('%')} is a %). */
function hieraRead(yaml: string): unknown {
  const read = (v: unknown): unknown =>
    typeof v === 'string' ? unHieraText(v) : Array.isArray(v) ? v.map(read) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [unHieraText(k), read(x)])) : v;
  return read(JSON.parse(yaml));
}

let webapp: Built;
let processing: Built;

beforeAll(async () => {
  webapp = await build('webapp');
  processing = await build('processing');
});

describe('hostile text in a component', () => {
  it('reaches both RPM headers byte for byte', () => {
    for (const b of [webapp, processing]) {
      const { c } = b;
      const app = packageInfo(b.app);
      expect(app).toMatchObject({ summary: c.summary, description: c.description, url: c.url, vendor: c.vendor, license: c.license, packager: c.packager } satisfies Partial<RpmInfo>);
      for (const s of [c.summary, c.description, c.url, c.vendor, c.license, c.packager]) expect(b.app.headerBytes.includes(stored(s))).toBe(true);
      const deploy = packageInfo(b.deploy);
      expect(deploy).toMatchObject({ url: c.url, vendor: c.vendor, license: c.license });
      // the generated description is wrapped at 79 columns (rpmlint): the summary is in it, line breaks aside
      expect(unwrapped(deploy.description)).toContain(`(${unwrapped(c.summary ?? '')})`);
    }
  });

  it('reaches the systemd unit escaped for systemd, on its Description line only', () => {
    const unit = webapp.files.get('/usr/lib/systemd/system/shop.service')!;
    const lines = unit.split('\n');
    expect(lines.filter((l) => l.startsWith('Description='))).toEqual([`Description=${systemdText(webapp.c.summary)}`]);
    // systemd reads %% as % and \\ as \: what it shows is the summary
    const shown = lines.find((l) => l.startsWith('Description='))!.slice('Description='.length).replace(/%%|\\\\/g, (m) => m[0]!);
    expect(shown).toBe(webapp.c.summary);
    expect(lines.filter((l) => l.includes('touch'))).toHaveLength(1);
    expect(lines.find((l) => l.startsWith('ExecStart='))).toBe('ExecStart="/opt/kelkoo/shop/bin/shop"');
  });

  it('reaches the launcher only as one single-quoted shell word and a comment', () => {
    const script = webapp.files.get('/opt/kelkoo/shop/bin/shop')!;
    expect(script).toContain(`exec node "$root"/${shellQuote(webapp.c.entry)} "$@"\n`);
    const lines = script.split('\n').filter((l) => l.includes('touch'));
    expect(lines).toEqual([expect.stringMatching(/^# /), `exec node "$root"/${shellQuote(webapp.c.entry)} "$@"`]);
    expect(webapp.files.has(`/opt/kelkoo/shop/${webapp.c.entry}`)).toBe(true);
    expect(processing.files.get('/opt/kelkoo/shop/bin/shop')).toBe(script);
  });

  it('reaches the cron table with % escaped, the launcher entry quoted', () => {
    const table = processing.files.get('/etc/cron.d/shop')!.split('\n');
    expect(table).toContain(`@daily shop ${cronCommand(processing.c.cronCommand!)}`);
    expect(table).toContain(`*/5 * * * * shop ${shellQuote('/opt/kelkoo/shop/bin/shop')}`);
    // cron reads \% as %: the command it runs is the one given
    const line = table.find((l) => l.startsWith('@daily '))!;
    expect(line.slice('@daily shop '.length).replace(/\\%/g, '%')).toBe(processing.c.cronCommand);
    expect(line).not.toMatch(/(^|[^\\])%/);
  });

  it('reaches the Hiera data as the escaped YAML of each default, which Hiera reads back as the default', () => {
    for (const b of [webapp, processing]) {
      const data = b.files.get(`${MODULE}/data/common.yaml`)!;
      const values = new Map(data.split('\n').flatMap((l) => {
        const m = /^shop::(\w+): (.*)$/.exec(l);
        return m ? [[m[1]!, m[2]!] as const] : [];
      }));
      expect([...values.keys()].sort()).toEqual(Object.keys(b.c.defaults).sort());
      for (const [key, value] of Object.entries(b.c.defaults)) {
        expect(values.get(key), key).toBe(hieraValue(value, TYPES[key]));
        expect(hieraRead(values.get(key)!), key).toEqual(value);
      }
      expect(data).not.toContain('%{::hostname}');
      expect(data).not.toContain('%{lua');
    }
  });

  it('reaches the manifest only in comments, and the EPP template not at all', () => {
    const manifest = webapp.files.get(`${MODULE}/manifests/init.pp`)!;
    expect(manifest).toContain(`${puppetComment(webapp.c.summary)}\n`);
    expect(manifest).toContain(`${puppetComment(webapp.c.description)}\n`);
    expect(manifest).toContain(`${puppetComment(webapp.c.description, '#   ')}\n`);
    // up to the class, every line is a comment: nothing of the text can be read as code
    const head = manifest.slice(0, manifest.indexOf('\nclass shop ('));
    expect(head.split('\n').filter((l) => !l.startsWith('#'))).toEqual([]);
    expect(manifest.slice(head.length)).not.toContain('touch');
    const epp = webapp.files.get(`${MODULE}/templates/config.json.epp`)!;
    expect(epp).not.toContain('touch');
    expect(epp.match(/<%/g)).toHaveLength(1 + Object.keys(webapp.c.defaults).length);
  });

  it('reaches metadata.json and the README as JSON and escaped Markdown', () => {
    const metadata = JSON.parse(webapp.files.get(`${MODULE}/metadata.json`)!) as Record<string, unknown>;
    expect(metadata).toMatchObject({ summary: webapp.c.summary, license: webapp.c.license, source: webapp.c.url });
    const readme = webapp.files.get(`${MODULE}/README.md`)!;
    expect(readme).toContain(markdownText(webapp.c.summary));
  });

  it('reaches the repository metadata literally', async () => {
    const repo = fresh('repo');
    await publish([webapp.app.path, webapp.deploy.path], repo);
    const repomd = readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8');
    const href = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)![1]!;
    const primary = parseXml(gunzipSync(readFileSync(join(repo, href))).toString('utf8'));
    const packages = new Map(primary.children.filter((p) => p.name === 'package').map((p) => [childText(p, 'name'), p]));
    const app = packages.get('shop')!;
    const format = app.children.find((e) => e.name === 'format') as XmlElement;
    const c = webapp.c;
    expect([childText(app, 'summary'), childText(app, 'description'), childText(app, 'url'), childText(app, 'packager')]).toEqual([c.summary, c.description, c.url, c.packager]);
    expect([childText(format, 'rpm:license'), childText(format, 'rpm:vendor')]).toEqual([c.license, c.vendor]);
    expect(unwrapped(childText(packages.get('shop-deploy')!, 'description') ?? '')).toContain(`(${unwrapped(c.summary ?? '')})`);
  });

  it('never runs', () => {
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes('pwned'))).toEqual([]);
  });
});

/** Text with every run of white space as one space: what a wrapped paragraph says. */
function unwrapped(s: string): string {
  return s.replace(/\s+/g, ' ');
}
