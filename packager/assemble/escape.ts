/**
 * One escaping function per language the application package writes into: POSIX shell, systemd
 * unit files, cron tables. Each takes any text and returns a form the target reads back as that
 * exact text, or refuses what the target cannot carry (a newline in a cron line).
 */
import { KpkgError } from '../errors.js';

function refuseNul(s: string, where: string): void {
  if (s.includes('\0')) throw new KpkgError('INVALID_INPUT', `${where}: NUL characters cannot be written`);
}

/** A single shell word: `it's` becomes `'it'\''s'`. Nothing inside single quotes is expanded. */
export function shellQuote(s: string): string {
  refuseNul(s, 'shell word');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A systemd value that is free text (Description=): `%` starts a specifier and `\` an escape, so
 * both are doubled; a line break would end the setting, so control characters are refused.
 */
export function systemdText(s: string): string {
  if (/[\x00-\x1f\x7f]/.test(s)) throw new KpkgError('INVALID_INPUT', `systemd value ${JSON.stringify(s)}: control characters cannot be written in a unit file`);
  return s.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}

/**
 * One argument of ExecStart= and the like, double-quoted: systemd unquotes C-style escapes, expands
 * `%` specifiers and `$VARIABLES` in command lines, so `\`, `"`, `%` and `$` are escaped.
 */
export function systemdArg(s: string): string {
  if (/[\x00-\x1f\x7f]/.test(s)) throw new KpkgError('INVALID_INPUT', `systemd argument ${JSON.stringify(s)}: control characters cannot be written in a unit file`);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** An Environment= assignment, quoted as a whole. */
export function systemdEnvironment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new KpkgError('INVALID_INPUT', `environment variable name ${JSON.stringify(name)} is not valid`);
  return systemdArg(`${name}=${value}`);
}

/**
 * The command field of a cron line: cron turns an unescaped `%` into a newline (and what follows into
 * standard input), so `%` becomes `\%`; a newline would end the line, so it is refused.
 */
export function cronCommand(s: string): string {
  if (/[\x00-\x1f\x7f]/.test(s)) throw new KpkgError('INVALID_INPUT', `cron command ${JSON.stringify(s)}: control characters (a newline ends the cron line) cannot be written`);
  return s.replace(/%/g, '\\%');
}
