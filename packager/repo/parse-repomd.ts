/**
 * repomd.xml -> the metadata files it lists, read with saxes (a conforming XML parser) in
 * namespace mode. A DOCTYPE is refused: repomd.xml never has one, and refusing it is the simple
 * answer to entity expansion and external entities.
 */
import { SaxesParser } from 'saxes';
import { KpkgError } from '../errors.js';
import { NS } from './metadata.js';

/** repomd.xml is a few KB; Fedora's, with modules and updateinfo, under 20 KB. */
export const MAX_REPOMD_BYTES = 4 << 20;

export interface RepomdChecksum {
  /** As written: sha256, sha1, sha (= sha1), sha512, md5... */
  type: string;
  /** Lower-case hex. */
  value: string;
}

/** One `<data type="...">` of repomd.xml. */
export interface RepomdData {
  type: string;
  href: string;
  /** `<location xml:base>`, when given. */
  base?: string;
  checksum: RepomdChecksum;
  openChecksum?: RepomdChecksum;
  size?: number;
  openSize?: number;
  timestamp?: number;
}

export interface Repomd {
  revision: string;
  data: RepomdData[];
}

type Field = 'checksum' | 'open-checksum' | 'size' | 'open-size' | 'timestamp' | 'revision';
const FIELDS: ReadonlySet<string> = new Set(['checksum', 'open-checksum', 'size', 'open-size', 'timestamp']);

/** Parses repomd.xml; throws KpkgError BAD_PACKAGE naming `file` (and the line) at the first problem. */
export function parseRepomd(xml: string | Buffer, file: string): Repomd {
  let text: string;
  try {
    text = typeof xml === 'string' ? xml : new TextDecoder('utf-8', { fatal: true }).decode(xml);
  } catch {
    throw new KpkgError('BAD_PACKAGE', `${file}: not valid UTF-8`);
  }
  const parser = new SaxesParser({ xmlns: true, position: true });
  const out: Repomd = { revision: '', data: [] };
  let error: KpkgError | undefined;
  const fail = (message: string): void => {
    error ??= new KpkgError('BAD_PACKAGE', `${file}: line ${parser.line}, column ${parser.column}: ${message}`);
  };
  const path: string[] = [];
  let current: Partial<RepomdData> & { type?: string } = {};
  let checksumType = '';
  let field: Field | undefined;
  let value = '';

  parser.on('doctype', () => fail('a DOCTYPE is not accepted in repository metadata (it could declare entities)'));
  parser.on('error', (e) => fail(e.message.replace(/^[^:]*:\d+:\d+: /, '')));
  parser.on('opentag', (tag) => {
    const depth = path.length;
    path.push(tag.local);
    const ns = tag.uri;
    if (depth === 0) {
      if (tag.local !== 'repomd' || ns !== NS.repo) fail(`the root element is <${tag.name}>, not <repomd xmlns="${NS.repo}">`);
      return;
    }
    if (ns !== NS.repo) return; // extensions (rpm:tags, ...) are not ours to read
    const attr = (name: string) => {
      const a = tag.attributes[name];
      return a === undefined || a.uri !== '' ? undefined : a.value;
    };
    if (depth === 1 && tag.local === 'revision') {
      field = 'revision';
      value = '';
    } else if (depth === 1 && tag.local === 'data') {
      current = {};
      const type = attr('type');
      if (type === undefined || type === '') fail('<data> has no type');
      else current.type = type;
    } else if (depth === 2 && path[1] === 'data') {
      if (tag.local === 'location') {
        const href = attr('href');
        if (href === undefined || href === '') fail(`<data type="${current.type}">: <location> has no href`);
        else current.href = href;
        const base = Object.values(tag.attributes).find((a) => a.uri === 'http://www.w3.org/XML/1998/namespace' && a.local === 'base');
        if (base !== undefined && base.value !== '') current.base = base.value;
      } else if (FIELDS.has(tag.local)) {
        field = tag.local as Field;
        value = '';
        checksumType = attr('type') ?? '';
      }
    }
  });
  parser.on('text', (t) => {
    if (field !== undefined) value += t;
  });
  parser.on('closetag', (tag) => {
    path.pop();
    if (field !== undefined && path.length <= 2 && tag.uri === NS.repo && tag.local === field) {
      const v = value.trim();
      const where = `<data type="${current.type}">`;
      const int = (): number | undefined => {
        if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v))) {
          fail(`${where}: <${field}> ${JSON.stringify(v.slice(0, 40))} is not a whole number`);
          return undefined;
        }
        return Number(v);
      };
      switch (field) {
        case 'revision':
          out.revision = v;
          break;
        case 'checksum':
        case 'open-checksum': {
          if (checksumType === '' || !/^[0-9a-fA-F]+$/.test(v)) fail(`${where}: <${field}> needs a type and a hexadecimal value`);
          const c = { type: checksumType, value: v.toLowerCase() };
          if (field === 'checksum') current.checksum = c;
          else current.openChecksum = c;
          break;
        }
        case 'size':
        case 'open-size':
        case 'timestamp': {
          const n = int();
          if (n === undefined) break;
          if (field === 'size') current.size = n;
          else if (field === 'open-size') current.openSize = n;
          else current.timestamp = n;
          break;
        }
      }
      field = undefined;
    } else if (path.length === 1 && tag.local === 'data' && tag.uri === NS.repo) {
      if (current.href === undefined) fail(`<data type="${current.type}"> has no <location href>`);
      else if (current.checksum === undefined) fail(`<data type="${current.type}"> has no <checksum>`);
      else if (current.type !== undefined) {
        const d: RepomdData = { type: current.type, href: current.href, checksum: current.checksum };
        if (current.base !== undefined) d.base = current.base;
        if (current.openChecksum !== undefined) d.openChecksum = current.openChecksum;
        if (current.size !== undefined) d.size = current.size;
        if (current.openSize !== undefined) d.openSize = current.openSize;
        if (current.timestamp !== undefined) d.timestamp = current.timestamp;
        if (out.data.some((o) => o.type === d.type)) fail(`<data type="${d.type}"> is listed twice`);
        out.data.push(d);
      }
    }
  });
  try {
    parser.write(text).close();
  } catch (e) {
    fail((e as Error).message);
  }
  if (error) throw error;
  return out;
}
