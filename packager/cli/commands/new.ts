import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMPONENT_TYPES, type ComponentType } from '../../descriptor/types.js';
import { KpkgError } from '../../errors.js';
import { packageRoot } from '../../util/paths.js';

export interface NewOptions {
  type: string;
  name: string;
  /** Where `<name>/` is created; default the current directory. */
  cwd?: string;
  defaults?: boolean;
  /** Answers by option name: summary, port, schedule, warning, critical. */
  answers?: Record<string, string>;
}

const NAME_RE = /^[a-z][a-z0-9-]*$/;

/**
 * `kpkg new <type> <name>`: runs the Yeoman generator `kelkoo:<type>` (the compiled one that yo
 * finds too) in-process, so no global yo is needed. Returns the component's directory.
 */
export async function newComponent(options: NewOptions): Promise<string> {
  if (!(COMPONENT_TYPES as readonly string[]).includes(options.type)) throw new KpkgError('USAGE', `type ${JSON.stringify(options.type)}: one of ${COMPONENT_TYPES.join(', ')}`);
  if (!NAME_RE.test(options.name)) throw new KpkgError('USAGE', `name ${JSON.stringify(options.name)}: use lower-case letters, digits and '-', starting with a letter (^[a-z][a-z0-9-]*$)`);
  const type = options.type as ComponentType;
  const generator = resolve(packageRoot(), 'generators', type, 'index.js');
  if (!existsSync(resolve(packageRoot(), 'dist', 'generators', type, 'generator.js'))) throw new KpkgError('TOOL', `the generators are not built (${generator} needs dist/generators): run npm run build`);
  const cwd = resolve(options.cwd ?? '.');
  const { createEnv } = await import('yeoman-environment');
  const env = createEnv({ cwd, skipInstall: true });
  env.register(generator, { namespace: `kelkoo:${type}` });
  const generatorOptions: Record<string, unknown> = { ...(options.answers ?? {}), skipInstall: true };
  if (options.defaults) generatorOptions.defaults = true;
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
    .option('--defaults', 'accept the default of every question not answered by an option')
    .option('--summary <text>', 'one-line summary')
    .option('--port <n>', 'webapp, web-service: default listen_port')
    .option('--schedule <cron>', 'processing: cron schedule')
    .option('--warning <percent>', 'monitoring: default WARNING threshold')
    .option('--critical <percent>', 'monitoring: default CRITICAL threshold')
    .action(async (type: string, name: string, opts: Record<string, string | boolean | undefined>) => {
      const answers: Record<string, string> = {};
      for (const key of ['summary', 'port', 'schedule', 'warning', 'critical']) if (typeof opts[key] === 'string') answers[key] = opts[key];
      await newComponent({ type, name, defaults: opts.defaults === true, answers });
    });
}
