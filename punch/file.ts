/**
 * The per-server file (schema/node.schema.json): read as YAML (JSON is YAML), checked against the
 * schema before anything is touched, plus the rules a schema cannot state (package names unique).
 * Every refusal is KpkgError INVALID_INPUT naming the file and the field (a JSON pointer).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { explain, pointerSegment } from '../packager/descriptor/explain.js';
import { inputError, KpkgError, oneLine } from '../packager/errors.js';
// schema/node.schema.json compiled ahead of time (scripts/generate-node-validator.mjs): loading
// and running ajv's compiler took ~0.4 s of every run
import validateNodeSchema from './generated/node-schema.js';

// The file's types are defined once, beside the code that writes it (geppetto/file.ts): Punch
// imports them as types only, so it loads nothing of Geppetto.
export type { Value } from '../geppetto/model.js';
export type { NodeFile, NodePackage as WantedPackage, NodeRepository as Repository } from '../geppetto/file.js';
import type { NodeFile } from '../geppetto/file.js';

/** A validated file with the text it came from and that text's digest (state and reports name it). */
export interface LoadedFile {
  file: NodeFile;
  text: string;
  sha256: string;
  /** Where it came from, for messages: a path, or a URL. */
  source: string;
}

/** Files are small; a bigger one is not a per-server file (and is not parsed). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Parses and validates the text of a per-server file. YAML 1.2 core schema (so `yes` stays a
 * string, as JSON would have it), no custom tags, aliases bounded (a "billion laughs" file is
 * refused), duplicate keys refused.
 */
export function parseNodeFile(text: string, source: string): LoadedFile {
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new KpkgError('INVALID_INPUT', `${source}: larger than ${MAX_FILE_BYTES} bytes, not a per-server file`);
  const doc = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: true, prettyErrors: true, strict: true });
  const problem = doc.errors[0];
  if (problem !== undefined) {
    const where = problem.linePos?.[0] ? ` (line ${problem.linePos[0].line}, column ${problem.linePos[0].col})` : '';
    throw new KpkgError('INVALID_INPUT', `${source}: not valid YAML or JSON${where}: ${oneLine((problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, ''))}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new KpkgError('INVALID_INPUT', `${source}: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  }
  const file = validateNodeFile(data, source);
  return { file, text, sha256: createHash('sha256').update(text).digest('hex'), source };
}

/** Throws INVALID_INPUT naming the field unless `data` is a per-server file. */
export function validateNodeFile(data: unknown, source: string): NodeFile {
  if (!validateNodeSchema(data)) {
    const { pointer, message } = explain(validateNodeSchema.errors ?? []);
    throw new KpkgError('INVALID_INPUT', `${source}: ${pointer ? `${oneLine(pointer)}: ` : ''}${message}`);
  }
  const file = data as NodeFile;
  const seen = new Map<string, number>();
  file.kelkoo.packages.forEach((p, i) => {
    const first = seen.get(p.name);
    if (first !== undefined) throw new KpkgError('INVALID_INPUT', `${source}: /kelkoo/packages/${i}/name: "${p.name}" is already wanted at /kelkoo/packages/${first}`);
    seen.set(p.name, i);
  });
  const ids = new Set<string>();
  (file.kelkoo.repositories ?? []).forEach((r, i) => {
    if (ids.has(r.id)) throw new KpkgError('INVALID_INPUT', `${source}: /kelkoo/repositories/${i}/id: "${r.id}" is listed twice`);
    ids.add(r.id);
  });
  for (const cls of Object.keys(file.kelkoo.sensitive ?? {})) {
    if (!Object.hasOwn(file.classes, cls)) throw new KpkgError('INVALID_INPUT', `${source}: /kelkoo/sensitive/${pointerSegment(cls)}: no such class in /classes`);
  }
  return file;
}

/** Reads and validates the file at `path` (a path that names no file is bad input, exit 2). */
export async function loadNodeFile(path: string): Promise<LoadedFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw inputError('read', path, e);
  }
  return parseNodeFile(decodeUtf8(bytes, path), path);
}

/** UTF-8 text, refusing bytes that are not UTF-8 (a value would otherwise change silently). */
export function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new KpkgError('INVALID_INPUT', `${source}: not UTF-8 text`);
  }
}
