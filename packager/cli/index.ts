import { Command, CommanderError } from 'commander';
import { packageVersion } from '../util/paths.js';
import { asKpkgError, exitCodeFor, KpkgError, oneLine } from '../errors.js';
type Register = (program: Command) => void;

/**
 * The commands, each loaded only when it runs: `kpkg publish` need not load Puppet templates,
 * ajv or openpgp. `kpkg --help` and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  build: async () => (await import('./commands/build.js')).registerBuild,
  inspect: async () => (await import('./commands/inspect.js')).registerInspect,
  new: async () => (await import('./commands/new.js')).registerNew,
  publish: async () => (await import('./commands/publish.js')).registerPublish,
  repo: async () => (await import('./commands/repo.js')).registerRepo,
  sign: async () => (await import('./commands/sign.js')).registerSign,
  validate: async () => (await import('./commands/validate.js')).registerValidate,
};

/**
 * Parses argv and dispatches to a command. Commands are plain async functions that throw;
 * this is the one place where an error becomes a message and an exit status.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('kpkg')
    .description('Package Node components as RPMs and publish them to a yum repository')
    .option('--debug', 'show stack traces of errors')
    .version(packageVersion(), '-V, --version', 'print the version of kpkg')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const name = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const wanted = name !== undefined && name in COMMANDS ? [name] : Object.keys(COMMANDS);
  for (const command of wanted) (await (COMMANDS[command] as () => Promise<Register>)())(program);
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // commander already printed its message (or the help text, exit code 0)
      return thrown.exitCode === 0 ? 0 : 2;
    }
    const err = asKpkgError(thrown);
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
  process.stderr.write(`kpkg: ${oneLine(message)}\n`);
}
