import { Command, CommanderError } from 'commander';
import { exitCodeFor, KpkgError } from '../errors.js';
import { registerBuild } from './commands/build.js';
import { registerInspect } from './commands/inspect.js';
import { registerNew } from './commands/new.js';
import { registerPublish } from './commands/publish.js';
import { registerRepo } from './commands/repo.js';
import { registerSign } from './commands/sign.js';
import { registerValidate } from './commands/validate.js';

/**
 * Parses argv and dispatches to a command. Commands are plain async functions that throw;
 * this is the one place where an error becomes a message and an exit status.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('kpkg')
    .description('Package Node components as RPMs and publish them to a yum repository')
    .option('--debug', 'show stack traces of errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerBuild(program);
  registerInspect(program);
  registerNew(program);
  registerPublish(program);
  registerRepo(program);
  registerSign(program);
  registerValidate(program);
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or the help text, exit code 0)
      return err.exitCode === 0 ? 0 : 2;
    }
    report(err, debug);
    return exitCodeFor(err);
  }
}

function report(err: unknown, debug: boolean): void {
  if (debug && err instanceof Error) {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    return;
  }
  const message = err instanceof KpkgError ? err.message : `internal error: ${String(err instanceof Error ? err.message : err)}`;
  process.stderr.write(`kpkg: ${message}\n`);
}
