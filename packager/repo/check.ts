/** `kpkg repo check`: what a reader of the repository sees, checked as dnf would. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CheckReport {
  ok: boolean;
  packages: number;
  problems: string[];
}

/**
 * What a reader needs of the repository, checked as dnf would: repomd.xml lists files present
 * with their checksums and sizes, and every package primary lists is present with its checksum.
 * Takes no lock: it looks at what a reader sees.
 */
export async function checkRepository(repo: string): Promise<CheckReport> {
  const problems: string[] = [];
  let repomd: string;
  try {
    repomd = await readFile(join(repo, 'repodata', 'repomd.xml'), 'utf8');
  } catch (e) {
    return { ok: false, packages: 0, problems: [`repodata/repomd.xml: ${(e as Error).message}`] };
  }
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  let primaryXml: string | undefined;
  for (const m of repomd.matchAll(/<data type="(\w+)">([\s\S]*?)<\/data>/g)) {
    const body = m[2]!;
    const href = /<location href="([^"]+)"/.exec(body)?.[1];
    const checksum = /<checksum type="sha256">([0-9a-f]+)</.exec(body)?.[1];
    const openChecksum = /<open-checksum type="sha256">([0-9a-f]+)</.exec(body)?.[1];
    const size = Number(/<size>(\d+)</.exec(body)?.[1]);
    if (!href) {
      problems.push(`repomd.xml: ${m[1]} has no location`);
      continue;
    }
    let data: Buffer;
    try {
      data = await readFile(join(repo, href));
    } catch {
      problems.push(`${href}: listed by repomd.xml, missing`);
      continue;
    }
    if (sha(data) !== checksum) problems.push(`${href}: sha256 ${sha(data)}, repomd.xml says ${checksum}`);
    if (data.length !== size) problems.push(`${href}: ${data.length} bytes, repomd.xml says ${size}`);
    const open = await decompress(href, data);
    if (sha(open) !== openChecksum) problems.push(`${href}: open sha256 ${sha(open)}, repomd.xml says ${openChecksum}`);
    if (m[1] === 'primary') primaryXml = open.toString('utf8');
  }
  if (primaryXml === undefined) return { ok: false, packages: 0, problems: [...problems, 'repomd.xml lists no primary'] };
  let packages = 0;
  for (const m of primaryXml.matchAll(/<package type="rpm">([\s\S]*?)<\/package>/g)) {
    packages++;
    const body = m[1]!;
    const href = /<location href="([^"]+)"/.exec(body)?.[1] ?? '';
    const checksum = /<checksum type="sha256" pkgid="YES">([0-9a-f]+)</.exec(body)?.[1];
    try {
      const data = await readFile(join(repo, href));
      if (sha(data) !== checksum) problems.push(`${href}: sha256 ${sha(data)}, primary says ${checksum}`);
    } catch {
      problems.push(`${href}: listed by primary, missing`);
    }
  }
  const declared = Number(/packages="(\d+)"/.exec(primaryXml)?.[1]);
  if (declared !== packages) problems.push(`primary: says packages="${declared}", lists ${packages}`);
  return { ok: problems.length === 0, packages, problems };
}

async function decompress(href: string, data: Buffer): Promise<Buffer> {
  const { gunzipSync } = await import('node:zlib');
  if (href.endsWith('.gz')) return gunzipSync(data);
  if (href.endsWith('.zst')) {
    const { createDecompressor } = await import('../rpm/compress.js');
    const { Readable } = await import('node:stream');
    const parts: Buffer[] = [];
    for await (const chunk of Readable.from([data]).pipe(createDecompressor('zstd'))) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }
  return data;
}
