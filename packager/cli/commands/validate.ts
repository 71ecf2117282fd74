import type { Command } from 'commander';
import { join } from 'node:path';
import { planPackages } from '../../assemble/build.js';
import type { MappedFile } from '../../descriptor/files.js';
import { loadComponent } from '../../descriptor/load.js';
import type { Component } from '../../descriptor/types.js';
import { rpmVersionFromSemver } from '../../assemble/semver-version.js';

export interface ValidateResult {
  component: Component;
  files: MappedFile[];
  /** `component.json OK: shop 1.4.0 (webapp), 12 files` */
  summary: string;
}

/**
 * Checks the descriptor, its file mappings against the disk and what `kpkg build` decides from
 * them (launchers, dependencies, the Puppet module), writes nothing. Throws KpkgError
 * INVALID_DESCRIPTOR (exit 2) naming the field at fault.
 */
export async function validate(dir = '.'): Promise<ValidateResult> {
  const component = await loadComponent(dir);
  const { files } = await planPackages(component, rpmVersionFromSemver(component.version), component.release ?? '1', join(component.dir, 'target'));
  // files and symbolic links: what the package installs besides its directories
  const count = files.filter((f) => f.kind !== 'dir').length;
  const summary = `component.json OK: ${component.name} ${component.version} (${component.type}), ${count} file${count === 1 ? '' : 's'}`;
  return { component, files, summary };
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check component.json and its file mappings, build nothing')
    .argument('[dir]', 'component directory', '.')
    .action(async (dir: string) => {
      const result = await validate(dir);
      process.stdout.write(`${result.summary}\n`);
    });
}
