/**
 * `kpkg repo check`: what a reader needs of a local repository, checked as dnf would, through the
 * shared metadata reader (read-metadata.ts): repomd.xml lists files present with their checksums
 * and sizes, and every package primary lists is present with its checksum. Every problem is
 * listed, not only the first. Takes no lock: it looks at what a reader sees.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KpkgError } from '../errors.js';
import { locate, resolveSource } from './fetch.js';
import { parsePrimary } from './parse-primary.js';
import { parseRepomd, type Repomd, type RepomdChecksum } from './parse-repomd.js';
import { decodeUtf8, decompressMetadata, hashAlgorithm, MAX_PRIMARY_BYTES } from './read-metadata.js';

export interface CheckReport {
  ok: boolean;
  packages: number;
  problems: string[];
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The file at `href` under the repository, or a problem: missing, or a location outside. */
async function readListed(base: URL, href: string, lister: string, problems: string[]): Promise<Buffer | undefined> {
  let path: string;
  try {
    path = fileURLToPath(locate(base, href, lister));
  } catch (e) {
    problems.push(`${href}: ${message(e)}`);
    return undefined;
  }
  try {
    return await readFile(path);
  } catch {
    problems.push(`${href}: listed by ${lister}, missing`);
    return undefined;
  }
}

function checksum(expected: RepomdChecksum, data: Buffer): { type: string; actual: string } {
  return { type: expected.type, actual: createHash(hashAlgorithm(expected.type, 'checksum')).update(data).digest('hex') };
}

export async function checkRepository(repo: string): Promise<CheckReport> {
  const problems: string[] = [];
  const { base } = await resolveSource({ baseurl: repo });
  let repomd: Repomd;
  try {
    repomd = parseRepomd(await readFile(new URL('repodata/repomd.xml', base)), 'repomd.xml');
  } catch (e) {
    return { ok: false, packages: 0, problems: [e instanceof KpkgError ? message(e) : `repodata/repomd.xml: ${message(e)}`] };
  }
  let primaryXml: string | undefined;
  let primaryHref = '';
  for (const d of repomd.data) {
    const href = d.href;
    const data = await readListed(base, href, 'repomd.xml', problems);
    if (data === undefined) continue;
    try {
      const c = checksum(d.checksum, data);
      if (c.actual !== d.checksum.value) problems.push(`${href}: ${c.type} ${c.actual}, repomd.xml says ${d.checksum.value}`);
      if (d.size !== undefined && data.length !== d.size) problems.push(`${href}: ${data.length} bytes, repomd.xml says ${d.size}`);
      // database files (primary_db...) are not XML; the open checksum is checked for all that have one
      if (d.openChecksum === undefined && d.type !== 'primary') continue;
      const open = await decompressMetadata(data, href, Math.min(d.openSize ?? MAX_PRIMARY_BYTES, MAX_PRIMARY_BYTES));
      if (d.openChecksum !== undefined) {
        const o = checksum(d.openChecksum, open);
        if (o.actual !== d.openChecksum.value) problems.push(`${href}: open ${o.type} ${o.actual}, repomd.xml says ${d.openChecksum.value}`);
      }
      if (d.type === 'primary') {
        primaryXml = decodeUtf8(open, href);
        primaryHref = href;
      }
    } catch (e) {
      problems.push(message(e));
    }
  }
  if (primaryXml === undefined) return { ok: false, packages: 0, problems: [...problems, 'repomd.xml lists no primary'] };
  let primary;
  try {
    primary = parsePrimary(primaryXml, primaryHref);
  } catch (e) {
    return { ok: false, packages: 0, problems: [...problems, message(e)] };
  }
  for (const p of primary.packages) {
    let root = base;
    if (p.base !== undefined) {
      try {
        root = new URL(p.base.endsWith('/') ? p.base : `${p.base}/`, base);
      } catch {
        problems.push(`${p.href}: xml:base ${JSON.stringify(p.base)} is not a URL`);
        continue;
      }
    }
    const data = await readListed(root, p.href, 'primary', problems);
    if (data === undefined) continue;
    try {
      const c = checksum(p.checksum, data);
      if (c.actual !== p.checksum.value) problems.push(`${p.href}: ${c.type} ${c.actual}, primary says ${p.checksum.value}`);
    } catch (e) {
      problems.push(`${p.href}: ${message(e)}`);
    }
  }
  const packages = primary.packages.length;
  if (primary.declaredCount !== packages) problems.push(`primary: says packages="${primary.declaredCount}", lists ${packages}`);
  return { ok: problems.length === 0, packages, problems };
}
