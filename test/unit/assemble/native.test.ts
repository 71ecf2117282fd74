// A native addon among the production dependencies ships what it loads on the target (Linux, this
// architecture): not node-gyp's intermediates, the other platforms' prebuilds, nor its C sources.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddonExcludes } from '../../../packager/assemble/native.js';
import { exclusionMatcher } from '../../../packager/descriptor/files.js';

function tree(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kpkg-native-'));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  return dir;
}

/** The files of `files` kept by the exclusions, as mapFiles walks (a directory excluded hides its content). */
function kept(dir: string, files: string[], arch: string): string[] {
  const excluded = exclusionMatcher(nativeAddonExcludes(dir, arch));
  return files.filter((f) => {
    const parts = f.split('/');
    return !parts.some((_, i) => excluded(parts.slice(0, i + 1).join('/'), i < parts.length - 1));
  });
}

describe('native addons in the dependencies', () => {
  // the layouts of better-sqlite3 (compiled by node-gyp) and lzma-native (node-gyp-build prebuilds)
  const compiled = ['binding.gyp', 'package.json', 'lib/index.js', 'build/Release/better_sqlite3.node', 'build/Release/obj.target/a.o', 'build/Release/.deps/a.o.d', 'build/Release/sqlite3.a', 'build/Makefile', 'build/config.gypi', 'deps/sqlite3/sqlite3.c', 'deps/download.sh', 'src/addon.cpp', 'src/util/x.hpp'];
  const prebuilt = ['binding.gyp', 'package.json', 'index.js', 'bin/lzmajs', 'prebuilds/linux-x64/node.napi.node', 'prebuilds/linux-arm64/node.napi.node', 'prebuilds/darwin-x64/node.napi.node', 'prebuilds/win32-x64/node.napi.node', 'deps/xz-5.2.3.tar.bz2', 'src/filter.cpp'];

  it('keeps the binary node-gyp built, its JavaScript and package.json', () => {
    expect(kept(tree(compiled), compiled, 'x64')).toEqual(['binding.gyp', 'package.json', 'lib/index.js', 'build/Release/better_sqlite3.node']);
  });

  it("keeps this architecture's prebuilds only", () => {
    expect(kept(tree(prebuilt), prebuilt, 'x64')).toEqual(['binding.gyp', 'package.json', 'index.js', 'bin/lzmajs', 'prebuilds/linux-x64/node.napi.node']);
    expect(kept(tree(prebuilt), prebuilt, 'arm64')).toContain('prebuilds/linux-arm64/node.napi.node');
    expect(kept(tree(prebuilt), prebuilt, 'arm64')).not.toContain('prebuilds/linux-x64/node.napi.node');
  });

  it("keeps this architecture's prebuilds of a package built otherwise (Bare's addons: no binding.gyp)", () => {
    const bare = ['package.json', 'index.js', 'binding.c', 'CMakeLists.txt', 'prebuilds/linux-x64/bare-url.bare', 'prebuilds/android-arm64/bare-url.bare', 'prebuilds/ios-arm64-simulator/bare-url.bare'];
    expect(kept(tree(bare), bare, 'x64')).toEqual(['package.json', 'index.js', 'binding.c', 'CMakeLists.txt', 'prebuilds/linux-x64/bare-url.bare']);
  });

  it('keeps a src/ that JavaScript may load, and leaves packages without native code alone', () => {
    const mixed = ['binding.gyp', 'src/index.js', 'src/native.cc'];
    expect(kept(tree(mixed), mixed, 'x64')).toEqual(mixed);
    expect(nativeAddonExcludes(tree(['package.json', 'build/x.js', 'src/a.c', 'deps/x.js']))).toEqual([]);
  });
});
