import type { Command } from 'commander';
import { build, type BuildResult } from '../../assemble/build.js';
import { KpkgError } from '../../errors.js';
import type { Compression } from '../../rpm/compress.js';
import { stderrProgress } from '../../util/progress.js';

interface BuildFlags {
  output?: string;
  release?: string;
  skipBuild?: boolean;
  json?: boolean;
  quiet?: boolean;
  compress?: string;
  signKey?: string;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build the application RPM, the deployment RPM and the sources tarball of a component')
    .argument('[dir]', 'component directory', '.')
    .option('-o, --output <dir>', 'where to write (default <dir>/target)')
    .option('-r, --release <n>', 'RPM release (default: the release of component.json, else 1)')
    .option('--skip-build', 'do not run the component\'s build script')
    .option('--compress <algo>', 'payload compression: gzip, zstd, xz', 'gzip')
    .option('--sign-key <file>', 'sign both RPMs with this OpenPGP secret key (passphrase from KPKG_SIGN_PASSPHRASE)')
    .option('--json', 'print what was written as JSON (for CI)')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (dir: string, flags: BuildFlags) => {
      if (!['gzip', 'zstd', 'xz'].includes(flags.compress ?? 'gzip')) throw new KpkgError('USAGE', `--compress ${flags.compress}: expected gzip, zstd or xz`);
      // files and bytes as the payload is written, on a terminal only
      const progress = stderrProgress(flags.quiet === true || flags.json === true);
      const result = await build({
        dir,
        ...(flags.output ? { output: flags.output } : {}),
        ...(flags.release ? { release: flags.release } : {}),
        ...(flags.skipBuild ? { skipBuild: true } : {}),
        compression: (flags.compress ?? 'gzip') as Compression,
        ...(flags.signKey ? { signKey: flags.signKey } : {}),
        progress,
      }).finally(() => progress.end());
      if (!flags.quiet || flags.json) process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderBuild(result));
    });
}

function renderBuild(r: BuildResult): string {
  return r.artifacts.map((a) => `${a.role.padEnd(11)} ${a.file}\n`).join('');
}
