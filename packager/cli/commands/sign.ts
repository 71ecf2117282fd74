import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { KpkgError } from '../../errors.js';
import { readRpm } from '../../rpm/reader.js';
import { loadSigningKey } from '../../sign/openpgp.js';
import { signRpm, type SignResult } from '../../sign/rpm.js';
import { renameAll, tempName } from '../../util/fs.js';

export interface SignOptions {
  /** secret key file, armored or binary; passphrase from KPKG_SIGN_PASSPHRASE */
  key: string;
  json?: boolean;
}

/**
 * Signs each package in place. Every package is read before anything is signed, so a missing or
 * unreadable one (exit 2) or an unusable key (exit 1) leaves all of them untouched.
 */
export async function sign(paths: string[], options: SignOptions): Promise<SignResult[]> {
  if (paths.length === 0) throw new KpkgError('USAGE', 'no package given');
  for (const path of paths) {
    await readRpm(path).catch((e: unknown) => {
      if (e instanceof KpkgError && e.code === 'BAD_PACKAGE') throw new KpkgError('BAD_PACKAGE', `${path}: ${e.message}`, { cause: e });
      throw e;
    });
  }
  const key = await loadSigningKey(options.key);
  // each signed beside itself under a temporary name, then all renamed into place: an error
  // (a full disk) leaves every package as it was
  const signed = paths.map((path) => tempName(path));
  try {
    const results: SignResult[] = [];
    for (const [i, path] of paths.entries()) results.push({ ...(await signRpm(path, key, signed[i])), file: path });
    await renameAll(paths.map((path, i) => [signed[i]!, path] as const), { syncDirs: true });
    return results;
  } finally {
    for (const tmp of signed) await rm(tmp, { force: true });
  }
}

export function registerSign(program: Command): void {
  program
    .command('sign')
    .description(`add an OpenPGP signature to packages, in place (passphrase from KPKG_SIGN_PASSPHRASE)`)
    .argument('<rpm...>', 'package files')
    .requiredOption('-k, --key <file>', 'OpenPGP secret key, armored or binary (RSA 2048-4096 or Ed25519)')
    .option('--json', 'print what was signed as JSON')
    .action(async (paths: string[], options: SignOptions) => {
      const results = await sign(paths, options);
      process.stdout.write(options.json ? `${JSON.stringify(results, null, 2)}\n` : results.map((r) => `signed ${r.file} (${r.algorithm} ${r.subkey ? 'subkey' : 'key'} ${r.keyId})\n`).join(''));
    });
}
