import type { Command } from 'commander';
import { KpkgError } from '../../errors.js';
import { publish } from '../../repo/publish.js';
import { type PublishResult, type RepoOptions } from '../../repo/session.js';
import { plural, stderrProgress } from '../../util/progress.js';

export interface RepoCommandFlags {
  repo?: string;
  compress?: string;
  grace?: string;
  lockTimeout?: string;
  json?: boolean;
  quiet?: boolean;
  signKey?: string;
}

/** The options every repository command shares, from its flags. */
export function repoOptions(flags: RepoCommandFlags): RepoOptions {
  const options: RepoOptions = {};
  if (flags.compress !== undefined) {
    if (flags.compress !== 'gzip' && flags.compress !== 'zstd') throw new KpkgError('USAGE', `--compress ${flags.compress}: expected gzip or zstd`);
    options.compress = flags.compress;
  }
  const seconds = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new KpkgError('USAGE', `${flag} ${value}: expected a number of seconds`);
    return n * 1000;
  };
  const grace = seconds('--grace', flags.grace);
  if (grace !== undefined) options.graceMs = grace;
  const lockTimeout = seconds('--lock-timeout', flags.lockTimeout);
  if (lockTimeout !== undefined) options.lockTimeoutMs = lockTimeout;
  // a status line on a terminal; nothing but notes in a pipe; nothing at all with --quiet or --json
  options.progress = stderrProgress(flags.quiet === true || flags.json === true);
  return options;
}

/** Adds the options of every repository command to `cmd`. */
export function withRepoOptions(cmd: Command): Command {
  return cmd
    .option('--compress <algo>', 'metadata compression: gzip or zstd (default: as the repository, else gzip)')
    .option('--grace <seconds>', 'how long files the new repomd.xml no longer lists stay for readers of the old one', '900')
    .option('--lock-timeout <seconds>', 'how long to wait for another publisher', '300')
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'print nothing but errors');
}

export function renderResult(r: PublishResult, flags: RepoCommandFlags): string {
  if (flags.json) return `${JSON.stringify(r, null, 2)}\n`;
  if (flags.quiet) return '';
  const lines = [
    ...r.added.map((h) => `added     ${h}`),
    ...r.unchanged.map((h) => `unchanged ${h}`),
    ...r.removed.map((h) => `removed   ${h}`),
    `${r.repo}: ${plural(r.packages, 'package')}${r.metadataWritten ? '' : ', metadata unchanged'}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs `fn`, then erases the status line, before the result or the error is printed. */
export async function finishing<T>(options: RepoOptions, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    options.progress?.end();
  }
}

export const SIGN_KEY_HELP = 'OpenPGP secret key: signs packages that arrive unsigned and writes repodata/repomd.xml.asc and repomd.xml.key (passphrase from KPKG_SIGN_PASSPHRASE)';

/**
 * Loads --sign-key first: a missing file or a wrong passphrase fails (exit 1) before anything is
 * read or written. openpgp.js is loaded only then.
 */
export async function withSigningKey(flags: RepoCommandFlags, options: RepoOptions): Promise<RepoOptions> {
  if (flags.signKey === undefined) return options;
  const { loadSigningKey } = await import('../../sign/openpgp.js');
  return { ...options, signKey: await loadSigningKey(flags.signKey) };
}

export function registerPublish(program: Command): void {
  withRepoOptions(
    program
      .command('publish')
      .description('add packages to a yum repository and update its metadata (packages go to <repo>/Packages/<first letter>/)')
      .argument('<rpm...>', 'package files')
      .requiredOption('--repo <dir>', 'the repository directory (created if needed)')
      .option('--sign-key <file>', SIGN_KEY_HELP),
  ).action(async (rpms: string[], flags: RepoCommandFlags) => {
    const options = repoOptions(flags);
    const result = await finishing(options, async () => publish(rpms, flags.repo!, await withSigningKey(flags, options)));
    process.stdout.write(renderResult(result, flags));
  });
}
