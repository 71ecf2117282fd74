/**
 * What a native addon among the production dependencies does not need once installed on the
 * target (Linux, this machine's architecture: kpkg builds an arch-specific RPM for it). A package
 * ships prebuilt binaries in `prebuilds/<platform>-<arch>/` (prebuildify's layout, read by
 * node-gyp-build and Bare's require-addon): only the target's are kept. A package with a
 * `binding.gyp` is compiled by node-gyp at `npm install` and loads `build/Release/*.node`: node-gyp's
 * intermediates (the rest of `build/`) and the vendored sources it was compiled from (`deps/`, and
 * `src/` when it holds only C/C++) are left out. A rule on the conventions, not a list of packages.
 */
import { existsSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

const NATIVE_SOURCE = new Set(['.c', '.cc', '.cpp', '.cxx', '.h', '.hh', '.hpp', '.hxx', '.lzz', '.gyp', '.gypi']);

/** Every file under `dir` is C/C++ source or header (nothing JavaScript could load). */
function onlyNativeSources(dir: string): boolean {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!onlyNativeSources(join(dir, e.name))) return false;
    } else if (!NATIVE_SOURCE.has(extname(e.name).toLowerCase())) return false;
  }
  return true;
}

/**
 * Exclusion patterns (descriptor syntax: anchored at the package directory) for the dependency in
 * `packageDir`; none when it ships no native code. `arch` is Node's name (x64, arm64), as the
 * prebuilds directories use it.
 */
export function nativeAddonExcludes(packageDir: string, arch: string = process.arch): string[] {
  const out = existsSync(join(packageDir, 'prebuilds')) ? [`/prebuilds/!(linux-${arch})/`] : [];
  if (!existsSync(join(packageDir, 'binding.gyp'))) return out;
  out.push('/build/!(Release)', '/build/Release/!(*.node)', '/deps/');
  const src = join(packageDir, 'src');
  if (existsSync(src) && onlyNativeSources(src)) out.push('/src/');
  return out;
}
