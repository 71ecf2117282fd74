import type { Command } from 'commander';
import { plural } from '../../util/progress.js';
import { KpkgError } from '../../errors.js';
import { checkRepository } from '../../repo/check.js';
import { indexRepository } from '../../repo/reindex.js';
import { pruneRepository } from '../../repo/prune.js';
import { finishing, renderResult, repoOptions, SIGN_KEY_HELP, withRepoOptions, withSigningKey, type RepoCommandFlags } from './publish.js';

export function registerRepo(program: Command): void {
  const repo = program.command('repo').description('maintain a yum repository made by kpkg publish');
  withRepoOptions(
    repo
      .command('index')
      .description('rebuild the metadata from the packages present, reading every one')
      .argument('<dir>', 'the repository directory')
      .option('--sign-key <file>', SIGN_KEY_HELP),
  ).action(async (dir: string, flags: RepoCommandFlags) => {
    const options = repoOptions(flags);
    process.stdout.write(renderResult(await finishing(options, async () => indexRepository(dir, await withSigningKey(flags, options))), flags));
  });
  withRepoOptions(
    repo
      .command('prune')
      .description('keep the N newest versions of each package name (per architecture)')
      .argument('<dir>', 'the repository directory')
      .requiredOption('--keep <n>', 'versions to keep per name')
      .option('--sign-key <file>', SIGN_KEY_HELP),
  ).action(async (dir: string, flags: RepoCommandFlags & { keep: string }) => {
    const keep = Number(flags.keep);
    if (!Number.isInteger(keep) || keep < 1) throw new KpkgError('USAGE', `--keep ${flags.keep}: expected a whole number, 1 or more`);
    const options = repoOptions(flags);
    process.stdout.write(renderResult(await finishing(options, async () => pruneRepository(dir, keep, await withSigningKey(flags, options))), flags));
  });
  repo
    .command('check')
    .description('check what readers see: repomd.xml checksums, every listed package present with its checksum')
    .argument('<dir>', 'the repository directory')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, flags: { json?: boolean }) => {
      const report = await checkRepository(dir);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : [...report.problems, `${dir}: ${plural(report.packages, 'package')}, ${report.ok ? 'OK' : 'NOT OK'}`].join('\n') + '\n');
      if (!report.ok) throw new KpkgError('IO', `${dir}: ${report.problems.length} problem(s)`);
    });
}
