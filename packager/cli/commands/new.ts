import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMPONENT_TYPES, type ComponentType } from '../../descriptor/types.js';
import { KpkgError } from '../../errors.js';
import { packageRoot } from '../../util/paths.js';
import { nameError } from '../../../generators/lib/answers.js';

export interface NewOptions {
  type: string;
  name: string;
  /** Where `<name>/` is created; default the current directory. */
  cwd?: string;
  defaults?: boolean;
  /** Overwrite files that differ from what the generator writes. */
  force?: boolean;
  /** Answers by option name: summary, port, schedule, warning, critical. */
  answers?: Record<string, string>;
}

/**
 * `kpkg new <type> <name>`: runs the Yeoman generator `kelkoo:<type>` (the compiled one that yo
 * finds too) in-process, so no global yo is needed. Returns the component's directory.
 */
export async function newComponent(options: NewOptions): Promise<string> {
  if (!(COMPONENT_TYPES as readonly string[]).includes(options.type)) throw new KpkgError('USAGE', `type ${JSON.stringify(options.type)}: one of ${COMPONENT_TYPES.join(', ')}`);
  const badName = nameError(options.name);
  if (badName !== undefined) throw new KpkgError('USAGE', badName);
  const type = options.type as ComponentType;
  const generator = resolve(packageRoot(), 'generators', type, 'index.js');
  if (!existsSync(resolve(packageRoot(), 'dist', 'generators', type, 'generator.js'))) throw new KpkgError('TOOL', `the generators are not built (${generator} needs dist/generators): run npm run build`);
  const cwd = resolve(options.cwd ?? '.');
  const { createEnv } = await import('yeoman-environment');
  const env = createEnv({ cwd, skipInstall: true });
  env.register(generator, { namespace: `kelkoo:${type}` });
  // Yeoman logs a coloured "An error occured while running ..." before the error reaches us; the
  // CLI reports the error itself, on one line
  const log = (env as unknown as { adapter: { log: { error: (...args: unknown[]) => unknown } } }).adapter.log;
  log.error = () => log;
  const generatorOptions: Record<string, unknown> = { ...(options.answers ?? {}), skipInstall: true };
  if (options.defaults) generatorOptions.defaults = true;
  if (options.force) generatorOptions.force = true;
  try {
    await env.run([`kelkoo:${type}`, options.name], generatorOptions);
  } catch (err) {
    if (err instanceof Error && err.name === 'AnswerError') throw new KpkgError('USAGE', err.message, { cause: err });
    throw new KpkgError('TOOL', `generating the ${type} ${options.name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return resolve(cwd, options.name);
}

export function registerNew(program: Command): void {
  program
    .command('new')
    .description('scaffold ./<name>/ with the generator of that type (same as yo kelkoo:<type> <name>)')
    .argument('<type>', COMPONENT_TYPES.join(' | '))
    .argument('<name>', 'component name, ^[a-z][a-z0-9-]*$')
    .option('--defaults', 'accept the default of every question not answered by an option; never prompt, refuse to overwrite changed files')
    .option('--force', 'overwrite files that differ from what the generator writes')
    .option('--summary <text>', 'one-line summary')
    .option('--port <n>', 'webapp, web-service: default listen_port')
    .option('--schedule <cron>', 'processing: cron schedule')
    .option('--warning <percent>', 'monitoring: default WARNING threshold')
    .option('--critical <percent>', 'monitoring: default CRITICAL threshold')
    .action(async (type: string, name: string, opts: Record<string, string | boolean | undefined>) => {
      const answers: Record<string, string> = {};
      for (const key of ['summary', 'port', 'schedule', 'warning', 'critical']) if (typeof opts[key] === 'string') answers[key] = opts[key];
      await newComponent({ type, name, defaults: opts.defaults === true, force: opts.force === true, answers });
    });
}
