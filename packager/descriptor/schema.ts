import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import semver from 'semver';
import { KpkgError, oneLine } from '../errors.js';
import { schemaDir } from '../util/paths.js';
import { explain } from './explain.js';
import { cronScheduleError } from './cron.js';
import type { ComponentDescriptor } from './types.js';

/**
 * component.json against schema/component.schema.json (JSON Schema draft-07: what ajv's default
 * build and VS Code's JSON support both read fully). The schema carries the messages users see,
 * in VS Code's annotations `patternErrorMessage` and `errorMessage`, so an editor and
 * `kpkg validate` say the same thing.
 */

/** The schema as the package ships it: `schema/component.schema.json` at the package root. */
export function schemaPath(): string {
  return schemaDir('component.schema.json');
}

let cachedSchema: Record<string, unknown> | undefined;

export function componentSchema(): Record<string, unknown> {
  cachedSchema ??= JSON.parse(readFileSync(schemaPath(), 'utf8')) as Record<string, unknown>;
  return cachedSchema;
}

/** Annotations editors read that ajv must not reject in strict mode. */
const EDITOR_KEYWORDS = ['patternErrorMessage', 'errorMessage', 'markdownDescription', 'enumDescriptions', 'defaultSnippets', 'deprecationMessage'];

/** A version exactly as semver writes it (no `v`, no `=`, no spaces), with its build metadata. */
export function isSemver(v: string): boolean {
  const parsed = semver.parse(v);
  return parsed !== null && `${parsed.version}${parsed.build.length ? `+${parsed.build.join('.')}` : ''}` === v;
}

export function isSemverRange(r: string): boolean {
  return semver.validRange(r) !== null;
}

const FORMATS: Record<string, { validate: (s: string) => boolean; message: (s: string) => string }> = {
  semver: { validate: isSemver, message: () => 'must be a semantic version like 1.4.0 or 1.4.0-rc.1' },
  'semver-range': { validate: isSemverRange, message: () => 'must be a semver range like "^2.1.0", ">=1.4.0 <3", "1.x" or "*"' },
  'cron-schedule': {
    validate: (s) => cronScheduleError(s) === undefined,
    message: (s) => `is not a cron schedule: ${cronScheduleError(s) ?? ''}`,
  },
};

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  if (validator) return validator;
  const ajv = new Ajv({ allErrors: false, verbose: true, strict: true });
  for (const keyword of EDITOR_KEYWORDS) ajv.addKeyword({ keyword });
  for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate: format.validate });
  validator = ajv.compile(componentSchema());
  return validator;
}

/** Throws KpkgError INVALID_DESCRIPTOR naming the JSON pointer of the first problem. */
export function validateDescriptor(data: unknown, file = 'component.json'): asserts data is ComponentDescriptor {
  const validate = compiled();
  if (validate(data)) return;
  const { pointer, message } = explain(validate.errors ?? [], (name, value) => FORMATS[name]?.message(value));
  throw new KpkgError('INVALID_DESCRIPTOR', `${file}: ${pointer ? `${oneLine(pointer)}: ` : ''}${message}`);
}

// the error explanation lives in explain.ts (no ajv at run time); re-exported for existing importers
export { explain, got, pointerSegment, type Explained } from './explain.js';
