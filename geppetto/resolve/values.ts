/**
 * Values as resolution compares and shows them: deep equality (an `unset` and a secret reference
 * are values too), the secret reference's shape, and a short one-line rendering for messages.
 */
import type { SecretRef, Value } from '../model.js';

/** What a definition holds: a value, a secret reference, or the explicit `unset`. */
export type DefinedValue = Value | SecretRef | { unset: true };

/** The one `{ unset: true }` every unset definition shares (frozen: callers must not edit it). */
export const UNSET: { unset: true } = Object.freeze({ unset: true as const });

/**
 * A secret reference is an object whose only property is `secret`, a string. (A Hash value of that
 * exact shape reads as a reference too: the state file's `{ secret: <id> }` is the contract.)
 */
export function isSecretRef(v: unknown): v is SecretRef {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === 'secret' && typeof (v as { secret: unknown }).secret === 'string';
}

export function isUnset(v: unknown): v is { unset: true } {
  return v === UNSET;
}

/** Structural equality of JSON-like values (key order ignored, -0 equals 0 as in JSON). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(rb, k) || !deepEqual(ra[k], rb[k])) return false;
  }
  return true;
}

/** A value on one line for messages and `explain`: JSON, secrets as `<secret id>`, long values cut. */
export function showValue(v: DefinedValue | undefined, max = 80): string {
  if (v === undefined) return '(none)';
  if (isUnset(v)) return 'unset';
  if (isSecretRef(v)) return `<secret ${JSON.stringify(v.secret)}>`;
  const s = JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
