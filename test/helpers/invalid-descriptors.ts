/**
 * The corpus of invalid components, test/fixtures/invalid-descriptors/cases.json (its README says
 * how a case is written), and how a case becomes a real component directory: a copy of a fixture
 * component with the descriptor (and package.json, and files) the case gives.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Which part of kpkg finds the fault. */
export type Stage = 'json' | 'descriptor' | 'files' | 'packages';

export interface InvalidCase {
  what: string;
  stage: Stage;
  /** Where the one-line message starts: `component.json: /files/0/dest`, `component.json:5:1`, `package.json: /main`. */
  error: string;
  /** What the message also says. */
  detail: string;
  /** component.json is the base's descriptor with these top-level fields replaced (null: removed)... */
  base?: string;
  patch?: Record<string, unknown>;
  /** ...or this JSON value, or this text, or these bytes (base64). */
  descriptor?: unknown;
  text?: string;
  bytes?: string;
  /** Files of the fixture removed from the copy. */
  remove?: string[];
  /** package.json with these top-level fields replaced (null: removed), or this text. */
  package?: Record<string, unknown>;
  packageText?: string;
  /** Files added, relative to the component directory ("../x" lands beside it): text, or a symbolic link. */
  tree?: Record<string, string | { symlink: string }>;
}

interface Base {
  fixture: string;
  descriptor: Record<string, unknown>;
}

const corpus = JSON.parse(readFileSync(join(FIXTURES, 'invalid-descriptors', 'cases.json'), 'utf8')) as { bases: Record<string, Base>; cases: InvalidCase[] };

export const BASES: Readonly<Record<string, Base>> = corpus.bases;
export const CASES: readonly InvalidCase[] = corpus.cases;

function patched(object: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...object };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

function baseOf(c: InvalidCase): Base | undefined {
  if (c.base === undefined) return undefined;
  const base = BASES[c.base];
  if (!base) throw new Error(`${c.what}: unknown base ${c.base}`);
  return base;
}

/** The parsed component.json of a case, when it has one (not for text, bytes or a missing file). */
export function descriptorOf(c: InvalidCase): { value: unknown } | undefined {
  const base = baseOf(c);
  if (base) return { value: patched(base.descriptor, c.patch ?? {}) };
  if ('descriptor' in c) return { value: c.descriptor };
  return undefined;
}

/** A fixture component copied to `<root>/<fixture>`, made into the case; returns its directory. */
export function componentOf(c: InvalidCase, root: string): string {
  const fixture = baseOf(c)?.fixture ?? 'shop';
  const dir = join(root, fixture);
  cpSync(join(FIXTURES, 'components', fixture), dir, { recursive: true, verbatimSymlinks: true });
  writeCase(c, dir);
  return dir;
}

/** The base of a case, on its own, in `<root>/<fixture>`: what the case is once its fault is taken out. */
export function baseComponent(name: string, root: string): string {
  return componentOf({ what: `base ${name}`, stage: 'descriptor', error: '', detail: '', base: name, patch: {} }, root);
}

function writeCase(c: InvalidCase, dir: string): void {
  const descriptor = join(dir, 'component.json');
  const parsed = descriptorOf(c);
  if (parsed) writeFileSync(descriptor, `${JSON.stringify(parsed.value, null, 2)}\n`);
  else if (c.text !== undefined) writeFileSync(descriptor, c.text);
  else if (c.bytes !== undefined) writeFileSync(descriptor, Buffer.from(c.bytes, 'base64'));
  for (const rel of c.remove ?? []) rmSync(join(dir, rel), { recursive: true });

  const pkg = join(dir, 'package.json');
  if (c.packageText !== undefined) writeFileSync(pkg, c.packageText);
  else if (c.package) writeFileSync(pkg, `${JSON.stringify(patched(JSON.parse(readFileSync(pkg, 'utf8')) as Record<string, unknown>, c.package), null, 2)}\n`);

  for (const [rel, spec] of Object.entries(c.tree ?? {})) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof spec === 'string') writeFileSync(path, spec);
    else symlinkSync(spec.symlink, path);
  }
}
