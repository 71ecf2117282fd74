/**
 * /etc/punch/punch.conf (`<root>/etc/punch/punch.conf` with --root, or --config FILE): where
 * Geppetto is and how to prove who this server is. `key = value` lines, `#` comments, as dnf.conf
 * and puppet.conf read:
 *
 *   url = https://geppetto.example.com
 *   token_file = /etc/punch/token        (or: token = ...)
 *   ca_file = /etc/punch/ca.pem
 *   node = web03.example.com             (default: the host's name)
 *
 * Flags override the file.
 */
import { readFile } from 'node:fs/promises';
import { ioError, KpkgError, oneLine } from '../packager/errors.js';

export interface PunchConfig {
  url?: string;
  token?: string;
  tokenFile?: string;
  caFile?: string;
  node?: string;
}

const KEYS: Record<string, keyof PunchConfig> = { url: 'url', token: 'token', token_file: 'tokenFile', ca_file: 'caFile', node: 'node' };

export function parseConfig(text: string, source: string): PunchConfig {
  const config: PunchConfig = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || /^\[.*\]$/.test(line)) return;
    const eq = line.indexOf('=');
    if (eq < 0) throw new KpkgError('INVALID_INPUT', `${source}:${i + 1}: expected key = value`);
    const key = line.slice(0, eq).trim();
    const field = KEYS[key];
    if (field === undefined) throw new KpkgError('INVALID_INPUT', `${source}:${i + 1}: unknown key ${JSON.stringify(oneLine(key))} (known: ${Object.keys(KEYS).join(', ')})`);
    config[field] = line.slice(eq + 1).trim();
  });
  return config;
}

/** The configuration file, or {} when it does not exist and was not named explicitly. */
export async function loadConfig(path: string, explicit: boolean): Promise<PunchConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (!explicit && (e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw ioError('read', path, e);
  }
  return parseConfig(text, path);
}

/** The token: given, or the first line of token_file. */
export async function resolveToken(config: PunchConfig): Promise<string | undefined> {
  if (config.token !== undefined && config.token !== '') return config.token;
  if (config.tokenFile === undefined) return undefined;
  try {
    return (await readFile(config.tokenFile, 'utf8')).split('\n')[0]?.trim();
  } catch (e) {
    throw ioError('read the token file', config.tokenFile, e);
  }
}
