import type { Command } from 'commander';
import { KpkgError } from '../../errors.js';
import { packageInfo, readRpm, verifyDigests, type DigestReport, type RpmDependency, type RpmFileInfo, type RpmInfo, type RpmTrigger } from '../../rpm/reader.js';
import { formatDependency } from '../../rpm/dependency.js';
import { packageSignatures, type PackageSignature } from '../../sign/signatures.js';

export interface InspectOptions {
  json?: boolean;
}

export interface InspectResult extends RpmInfo {
  file: string;
  digests: Awaited<ReturnType<typeof verifyDigests>>;
  /** OpenPGP signatures, header-only first (not verified: that needs the public key) */
  signatures: PackageSignature[];
}

/** What `rpm -qip` and `rpm -qlvp` show, without rpm installed. */
export async function inspect(path: string): Promise<InspectResult> {
  const pkg = await readRpm(path);
  const info = packageInfo(pkg);
  const digests = await verifyDigests(pkg);
  return { file: path, ...info, digests, signatures: packageSignatures(pkg.signature) };
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what rpm -qip and rpm -qlvp show, without rpm installed')
    .argument('<rpm>', 'package file')
    .option('--json', 'print JSON')
    .action(async (path: string, options: InspectOptions) => {
      const result = await inspect(path);
      process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : renderText(result));
      // What was read is shown; a package whose bytes are not what its digests say is still bad input.
      const failed = failedDigests(result.digests);
      if (failed.length > 0) throw new KpkgError('BAD_PACKAGE', `${path}: digest mismatch: ${failed.join(', ')}`);
    });
}

const DIGEST_NAMES: Record<Exclude<keyof DigestReport, 'ok'>, string> = {
  headerSha256: 'header SHA-256',
  headerSha1: 'header SHA-1',
  payloadDigest: 'payload digest',
  md5: 'header+payload MD5',
  size: 'header+payload size',
};

/** The digests that do not match, by the names rpm -K uses for them. */
export function failedDigests(d: DigestReport): string[] {
  return (Object.keys(DIGEST_NAMES) as (keyof typeof DIGEST_NAMES)[]).filter((k) => d[k] === 'bad').map((k) => DIGEST_NAMES[k]);
}

const FIELD = (label: string, value: string | number | undefined) => `${label.padEnd(12)}: ${value ?? ''}\n`;

export function renderText(r: InspectResult): string {
  let out = '';
  out += FIELD('Name', r.name);
  if (r.epoch !== undefined) out += FIELD('Epoch', r.epoch);
  out += FIELD('Version', r.version);
  out += FIELD('Release', r.release);
  out += FIELD('Architecture', r.arch);
  if (r.source) out += FIELD('Package', 'source');
  out += FIELD('Group', r.group);
  out += FIELD('Size', r.installSize);
  out += FIELD('License', r.license);
  out += FIELD('Signature', r.signatures[0]?.summary ?? '(none)');
  // rpm -qi shows one signature; a package signed by several keys (OPENPGP) lists the others below
  for (const s of r.signatures.slice(1)) out += `${''.padEnd(14)}${s.summary}\n`;
  out += FIELD('Source RPM', r.sourceRpm ?? '(none)');
  out += FIELD('Build Date', r.buildTime !== undefined ? new Date(r.buildTime * 1000).toUTCString() : '(none)');
  out += FIELD('Build Host', r.buildHost);
  out += FIELD('Relocations', r.prefixes.length ? r.prefixes.join(' ') : '(not relocatable)');
  if (r.vendor) out += FIELD('Vendor', r.vendor);
  if (r.packager) out += FIELD('Packager', r.packager);
  if (r.url) out += FIELD('URL', r.url);
  out += FIELD('Summary', r.summary);
  out += FIELD('Payload', `${r.payloadFormat}, ${r.payloadCompressor}${r.payloadFlags ? ` level ${r.payloadFlags}` : ''}`);
  const d = r.digests;
  out += FIELD('Digests', d.ok ? 'OK' : `NOT OK (header sha256 ${d.headerSha256}, payload ${d.payloadDigest}, md5 ${d.md5}, size ${d.size})`);
  out += `Description :\n${r.description}\n`;
  const deps: [string, RpmDependency[]][] = [
    ['Provides', r.provides],
    ['Requires', r.requires],
    ['Conflicts', r.conflicts],
    ['Obsoletes', r.obsoletes],
    ['Recommends', r.recommends],
    ['Suggests', r.suggests],
    ['Supplements', r.supplements],
    ['Enhances', r.enhances],
    ['OrderWithRequires', r.orderWithRequires],
  ];
  for (const [label, list] of deps) {
    if (list.length === 0) continue;
    out += `${label}:\n`;
    for (const dep of list) out += `  ${formatDependency(dep)}\n`;
  }
  for (const [name, script] of Object.entries(r.scripts)) {
    out += `${name} scriptlet (using ${script.interpreter.join(' ') || '/bin/sh'}):\n${indent(script.body)}\n`;
  }
  out += renderTriggers(r) + renderFileTriggers(r);
  if (r.files.length) out += 'Files:\n';
  for (const f of r.files) {
    out += `${fileLine(f)}\n`;
    if (f.imaSignature !== undefined) out += `    IMA signature: ${f.imaSignature}\n`;
  }
  if (r.changelog.length) out += 'Changelog:\n';
  for (const c of r.changelog) {
    out += `* ${changelogDate(c.time)} ${c.author}\n${c.text}\n\n`;
  }
  return out;
}

/** `trigger<type> scriptlet (using <prog>) -- <conditions>` and the body: rpm -q --triggers, byte for byte. */
export function renderTriggers(r: Pick<RpmInfo, 'triggers'>): string {
  return r.triggers.map((t) => triggerBlock('trigger', t)).join('');
}

/** rpm -q --filetriggers: file triggers, then transaction file triggers. */
export function renderFileTriggers(r: Pick<RpmInfo, 'fileTriggers' | 'transFileTriggers'>): string {
  return r.fileTriggers.map((t) => triggerBlock('filetrigger', t)).join('') + r.transFileTriggers.map((t) => triggerBlock('transfiletrigger', t)).join('');
}

function triggerBlock(kind: string, t: RpmTrigger): string {
  return `${kind}${t.type} scriptlet (using ${t.interpreter.join(' ') || '/bin/sh'}) -- ${t.conditions.map(formatDependency).join(', ')}\n${t.body}\n`;
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

const TYPE_CHARS: Record<number, string> = { 0o100000: '-', 0o040000: 'd', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's' };

/** `ls -l`-style permissions, as rpm -qlv prints them. */
export function modeString(mode: number): string {
  const type = TYPE_CHARS[mode & 0o170000] ?? '?';
  const bits = 'rwxrwxrwx';
  let perms = '';
  for (let i = 0; i < 9; i++) perms += mode & (1 << (8 - i)) ? bits[i] : '-';
  const p = perms.split('');
  if (mode & 0o4000) p[2] = p[2] === 'x' ? 's' : 'S';
  if (mode & 0o2000) p[5] = p[5] === 'x' ? 's' : 'S';
  if (mode & 0o1000) p[8] = p[8] === 'x' ? 't' : 'T';
  return type + p.join('');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function fileLine(f: RpmFileInfo): string {
  const d = new Date(f.mtime * 1000);
  const date = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${d.getUTCFullYear()}`;
  const link = f.linkTo ? ` -> ${f.linkTo}` : '';
  return `${modeString(f.mode)} ${f.user.padEnd(8)} ${f.group.padEnd(8)} ${String(f.size).padStart(10)} ${date} ${f.path}${link}`;
}

function changelogDate(t: number): string {
  const d = new Date(t * 1000);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()}`;
}
