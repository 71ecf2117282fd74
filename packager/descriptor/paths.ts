import { posix } from 'node:path';

/**
 * Directories a component package never owns. A package owns the directories it creates for
 * itself (its prefix, its configuration directory, the directories below them), never shared
 * ones: those belong to the `filesystem` package or to the tool that reads them (systemd, cronie,
 * nagios-plugins, nrpe, puppet-agent), or are common to all Kelkoo components. Owning one makes
 * rpm reset its mode on install, leaves it behind or removes it on erase, and rpmlint and the
 * Fedora packaging guidelines complain. Keep this the one list.
 */
export const SYSTEM_DIRS: ReadonlySet<string> = new Set([
  // the filesystem package (FHS)
  '/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/media', '/mnt', '/opt', '/proc',
  '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var',
  '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib64', '/usr/libexec', '/usr/include', '/usr/src',
  '/usr/local', '/usr/local/bin', '/usr/local/sbin', '/usr/local/lib', '/usr/local/lib64', '/usr/local/share', '/usr/local/etc',
  '/usr/share', '/usr/share/doc', '/usr/share/licenses', '/usr/share/man', '/usr/share/info', '/usr/share/locale',
  '/usr/share/man/man1', '/usr/share/man/man5', '/usr/share/man/man7', '/usr/share/man/man8',
  '/var/lib', '/var/log', '/var/cache', '/var/spool', '/var/tmp', '/var/run', '/var/opt', '/var/lock', '/var/empty',
  '/etc/opt', '/etc/default', '/etc/sysconfig', '/etc/profile.d', '/etc/logrotate.d', '/etc/sudoers.d',
  '/etc/security', '/etc/pki', '/etc/ssl', '/etc/rsyslog.d', '/etc/tmpfiles.d', '/etc/sysctl.d',
  // shared by every Kelkoo component
  '/opt/kelkoo', '/etc/kelkoo', '/var/log/kelkoo', '/var/lib/kelkoo', '/var/cache/kelkoo',
  // cron (cronie)
  '/etc/cron.d', '/etc/cron.hourly', '/etc/cron.daily', '/etc/cron.weekly', '/etc/cron.monthly', '/var/spool/cron',
  // systemd
  '/etc/systemd', '/etc/systemd/system', '/usr/lib/systemd', '/usr/lib/systemd/system', '/usr/lib/systemd/user',
  '/usr/lib/sysusers.d', '/usr/lib/tmpfiles.d',
  // Nagios plugins and NRPE
  '/usr/lib64/nagios', '/usr/lib64/nagios/plugins', '/usr/lib/nagios', '/usr/lib/nagios/plugins', '/etc/nrpe.d', '/etc/nagios',
  // Puppet (puppet-agent)
  '/etc/puppetlabs', '/etc/puppetlabs/puppet', '/etc/puppetlabs/code', '/etc/puppetlabs/code/modules',
  '/etc/puppetlabs/code/environments', '/etc/puppetlabs/code/environments/production',
  '/etc/puppetlabs/code/environments/production/modules', '/opt/puppetlabs', '/opt/puppetlabs/puppet',
  '/opt/puppetlabs/puppet/modules',
]);

export function isSystemDir(path: string): boolean {
  return SYSTEM_DIRS.has(path);
}

/** The longest path an installed file may have (PATH_MAX less the final NUL). */
export const MAX_PATH_BYTES = 4095;

/** `child` is `parent` or below it (both normalised absolute POSIX paths). */
export function isInside(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(`${parent}/`);
}

/** Control characters break rpm's file lists, cron files and most tools reading paths. */
export function hasControlCharacter(s: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(s);
}

/** `..` segments of a path, before normalisation. */
export function hasDotDotSegment(p: string): boolean {
  return p.split('/').includes('..');
}

export type DestResolution = { ok: true; path: string; intoDirectory: boolean } | { ok: false; reason: string };

/**
 * Where a mapping's `dest` installs: absolute as given, or relative to `prefix`. A final '/'
 * asks to keep a file's own name inside that directory.
 */
export function resolveDest(prefix: string, dest: string): DestResolution {
  if (dest.length === 0) return { ok: false, reason: 'must not be empty' };
  if (hasControlCharacter(dest)) return { ok: false, reason: 'must be one line without control characters' };
  const intoDirectory = dest.endsWith('/');
  if (dest.startsWith('/')) {
    if (hasDotDotSegment(dest)) return { ok: false, reason: "must not contain '..' segments" };
    const path = posix.normalize(dest).replace(/(.)\/+$/, '$1');
    return { ok: true, path, intoDirectory };
  }
  const path = posix.join(prefix, dest).replace(/(.)\/+$/, '$1');
  if (!isInside(path, prefix)) return { ok: false, reason: `must stay inside the prefix (${prefix})` };
  return { ok: true, path, intoDirectory };
}

export type SrcResolution = { ok: true; path: string } | { ok: false; reason: string };

/** A mapping's `src`, normalised and relative to the component directory. */
export function normaliseSrc(src: string): SrcResolution {
  if (src.length === 0) return { ok: false, reason: 'must not be empty' };
  if (hasControlCharacter(src)) return { ok: false, reason: 'must be one line without control characters' };
  if (src.startsWith('/')) return { ok: false, reason: 'must be relative to the component directory, not absolute' };
  const path = posix.normalize(src).replace(/(.)\/+$/, '$1');
  if (path === '..' || path.startsWith('../')) return { ok: false, reason: 'must stay inside the component directory' };
  return { ok: true, path };
}
