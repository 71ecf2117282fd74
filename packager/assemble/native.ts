/**
 * What a native addon among the production dependencies does not need once installed on the
 * target (Linux, this machine's architecture: kpkg builds an arch-specific RPM for it). A package
 * with a `binding.gyp` is compiled by node-gyp at `npm install`, or ships prebuilt binaries for
 * node-gyp-build (`prebuilds/<platform>-<arch>/`); at run time it loads one `.node` file. So:
 * node-gyp's intermediates (`build/` but `build/Release/*.node`), the prebuilds of other
 * platforms, the vendored sources it was compiled from (`deps/`, and `src/` when it holds only
 * C/C++) are left out. A rule on the conventions, not a list of packages.
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
 * `packageDir`; none when it is not a native addon. `arch` is Node's name (x64, arm64), as the
 * prebuilds directories use it.
 */
export function nativeAddonExcludes(packageDir: string, arch: string = process.arch): string[] {
  if (!existsSync(join(packageDir, 'binding.gyp'))) return [];
  const out = ['/build/!(Release)', '/build/Release/!(*.node)', `/prebuilds/!(linux-${arch})/`, '/deps/'];
  const src = join(packageDir, 'src');
  if (existsSync(src) && onlyNativeSources(src)) out.push('/src/');
  return out;
}
