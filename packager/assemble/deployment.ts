/**
 * The deployment package: the component's Puppet module, installed where Puppet finds modules,
 * requiring the application at exactly its own version-release.
 */
import type { Component } from '../descriptor/types.js';
import { RPMSENSE_EQUAL } from '../rpm/dependency.js';
import type { PackageFile, PackageSpec } from '../rpm/spec.js';
import { renderPuppetModule } from '../puppet/module.js';

/** Puppet's base module path (puppet-agent on EL: $codedir/modules). */
export const PUPPET_MODULE_DIR = '/etc/puppetlabs/code/modules';

/** The capability every deployment package provides. */
export const DEPLOYMENT_CAPABILITY = 'kelkoo-deployment';

export function deploymentName(c: Component): string {
  return `${c.name}-deploy`;
}

/**
 * What applying the module needs: Puppet, as Puppet's own packages (`puppet-agent`, EL and
 * Debian) or a distribution's (`puppet`, Fedora and EPEL) provide it.
 */
export const PUPPET_REQUIREMENT = '(puppet-agent or puppet)';

/** rpmlint's limit for description lines (description-line-too-long above 79 columns). */
const DESCRIPTION_WIDTH = 79;

/**
 * `text` wrapped to lines of at most `width` columns by turning some of its spaces into newlines,
 * nothing else changed (so the summary inside stays byte for byte, bar those spaces); a word
 * longer than the width keeps a line of its own.
 */
export function wrapText(text: string, width = DESCRIPTION_WIDTH): string {
  return text
    .split('\n')
    .map((line) => {
      const lines: string[] = [];
      let current: string | undefined;
      for (const word of line.split(' ')) {
        if (current === undefined) current = word;
        else if (current !== '' && current.length + 1 + word.length > width) {
          lines.push(current);
          current = word;
        } else current = `${current} ${word}`;
      }
      if (current !== undefined) lines.push(current);
      return lines.join('\n');
    })
    .join('\n');
}

export function deploymentSpec(c: Component, version: string, release: string): PackageSpec {
  const root = `${PUPPET_MODULE_DIR}/${c.module}`;
  const files: PackageFile[] = [{ path: root, kind: 'dir', mode: 0o755 }];
  const dirs = new Set<string>([root]);
  for (const f of renderPuppetModule(c)) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = `${root}/${parts.slice(0, i).join('/')}`;
      if (!dirs.has(dir)) {
        dirs.add(dir);
        files.push({ path: dir, kind: 'dir', mode: 0o755 });
      }
    }
    files.push({ path: `${root}/${f.path}`, kind: 'file', mode: f.mode ?? 0o644, content: f.content });
  }
  return {
    name: deploymentName(c),
    version,
    release,
    arch: 'noarch',
    summary: `Puppet module that deploys ${c.name}`,
    description: wrapText(`The Puppet module ${c.module}: class ${c.module} installs and configures ${c.name} ${version}-${release} (${c.summary}).`),
    license: c.license,
    group: 'System Environment/Base',
    ...(c.url ? { url: c.url } : {}),
    ...(c.vendor ? { vendor: c.vendor } : {}),
    ...(c.packager ? { packager: c.packager } : {}),
    requires: [
      { name: c.name, flags: RPMSENSE_EQUAL, version: `${version}-${release}` },
      { name: PUPPET_REQUIREMENT, flags: 0, version: '' },
    ],
    // What Geppetto lists as a component and Punch manages: see docs/ (the deployment package).
    provides: [{ name: DEPLOYMENT_CAPABILITY }],
    files,
  };
}
