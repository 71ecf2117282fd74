#!/bin/sh
//bin/sh -c :; exec node --v8-pool-size=1 "$0" "$@"
/*
 * geppetto-service: what Geppetto's systemd unit runs (component.json's service.launcher). Reads
 * the configuration Puppet writes, $KELKOO_CONFIG_DIR/config.json (listen_address, listen_port,
 * data_dir, database), and runs `geppetto serve` with it. The database URL may hold a password:
 * it goes through GEPPETTO_DATABASE, not the command line that ps shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../geppetto/cli/index.js';

interface ServiceConfig {
  listen_address?: unknown;
  listen_port?: unknown;
  data_dir?: unknown;
  database?: unknown;
}

function fail(message: string): never {
  process.stderr.write(`geppetto-service: ${message}\n`);
  process.exit(2);
}

const dir = process.env.KELKOO_CONFIG_DIR ?? '/etc/kelkoo/geppetto';
const file = join(dir, 'config.json');
let config: ServiceConfig;
try {
  config = JSON.parse(readFileSync(file, 'utf8')) as ServiceConfig;
} catch (e) {
  fail(`cannot read ${file} (${(e as Error).message}); Punch writes it from Geppetto's settings`);
}
const address = typeof config.listen_address === 'string' && config.listen_address !== '' ? config.listen_address : '127.0.0.1';
if (typeof config.listen_port !== 'number' || !Number.isInteger(config.listen_port)) fail(`${file}: listen_port must be an integer`);
if (typeof config.data_dir !== 'string' || config.data_dir === '') fail(`${file}: data_dir must be a directory`);
if (typeof config.database === 'string' && config.database !== '') process.env.GEPPETTO_DATABASE = config.database;
const host = address.includes(':') ? `[${address}]` : address;
process.exitCode = await main([process.argv[0] ?? 'node', 'geppetto', '--data', config.data_dir, 'serve', '--listen', `${host}:${config.listen_port}`]);
