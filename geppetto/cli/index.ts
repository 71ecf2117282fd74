import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { asKpkgError, exitCodeFor, KpkgError, oneLine } from '../../packager/errors.js';
import { packageVersion } from '../../packager/util/paths.js';
import { cliPrincipal, openGeppetto, ROLES, type Geppetto, type Role } from '../service/index.js';
import { storeError } from '../store/index.js';
import * as commands from './commands.js';

export interface GlobalOptions {
  data?: string;
  database?: string;
  debug?: boolean;
}

/** The data directory: --data, else $GEPPETTO_DATA, else $XDG_DATA_HOME/geppetto (~/.local/share/geppetto). */
export function dataDirOf(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (options.data !== undefined && options.data !== '') return options.data;
  if (env.GEPPETTO_DATA) return env.GEPPETTO_DATA;
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(xdg, 'geppetto');
}

export interface CliIo {
  /** What the command reads on stdin (passwords, `import -`); default: process.stdin. */
  stdin?: () => Promise<string>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Opens the service for one command, runs it, closes it; the output goes to stdout. */
function withGeppetto(cmd: Command, fn: (g: Geppetto) => Promise<string>): Promise<void> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  return (async () => {
    const g = await openGeppetto({ dataDir: dataDirOf(opts), database: opts.database ?? process.env.GEPPETTO_DATABASE });
    try {
      process.stdout.write(await fn(g));
    } finally {
      await g.close();
    }
  })();
}

const ROLE_CHOICES = [...ROLES];

function buildProgram(io: CliIo): Command {
  const stdin = io.stdin ?? readStdin;
  const program = new Command('geppetto')
    .description("Kelkoo's configuration back office: what each server runs, as per-server files for Punch")
    .addOption(new Option('--data <dir>', 'data directory: the SQLite database and secrets.key (default $XDG_DATA_HOME/geppetto)'))
    .addOption(new Option('--database <url>', 'postgres://... (then the data directory holds only secrets.key)'))
    .option('--debug', 'show stack traces of errors')
    .version(packageVersion(), '-V, --version', 'print the version of geppetto')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const me = cliPrincipal();

  program
    .command('serve')
    .description('serve the HTTP API and the web UI')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8420')
    .action(async (options: { listen: string }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      // the web layer (fastify and its plugins) is loaded only for `serve`
      const { serve } = await import('../web/serve.js');
      const database = opts.database ?? process.env.GEPPETTO_DATABASE;
      await serve({ dataDir: dataDirOf(opts), ...(database !== undefined ? { database } : {}), listen: options.listen });
    });

  const user = program.command('user').description('people who log in to the web UI');
  user
    .command('add')
    .description('add an account; the password is read from stdin')
    .argument('<name>', 'login name')
    .option('--admin', 'make it an admin (same as --role admin)')
    .addOption(new Option('--role <role>', 'viewer, editor or admin').choices(ROLE_CHOICES).default('viewer'))
    .action(async (name: string, options: { admin?: boolean; role: Role }, cmd: Command) => {
      const password = (await stdin()).replace(/\r?\n$/, '');
      if (password === '') throw new KpkgError('USAGE', 'no password on stdin (printf %s "$PASSWORD" | geppetto user add NAME)');
      await withGeppetto(cmd, (g) => commands.userAdd(g, me, name, password, options.admin ? 'admin' : options.role));
    });

  const server = program.command('server').description('servers and their tokens');
  server
    .command('add')
    .description('add a server (or change its environment and roles), published at once')
    .argument('<fqdn>', "the server's fully qualified name")
    .requiredOption('--environment <name>', 'its environment')
    .option('--roles <a,b>', 'its roles, in order, comma-separated', '')
    .action(async (fqdn: string, options: { environment: string; roles: string }, cmd: Command) => {
      const roles = options.roles.split(',').map((r) => r.trim()).filter((r) => r !== '');
      await withGeppetto(cmd, (g) => commands.serverAdd(g, me, fqdn, { environment: options.environment, roles }));
    });
  server
    .command('token')
    .description("print a new token for the server (alone on stdout); its previous token stops working")
    .argument('<fqdn>', "the server's fully qualified name")
    .action(async (fqdn: string, _o: unknown, cmd: Command) => withGeppetto(cmd, (g) => commands.serverToken(g, me, fqdn)));

  program
    .command('token')
    .description('API tokens for CI and scripts')
    .command('add')
    .description('print a new API token acting with the given role')
    .argument('<name>', 'what it is for, e.g. ci')
    .addOption(new Option('--role <role>', 'viewer, editor or admin').choices(ROLE_CHOICES).default('viewer'))
    .action(async (name: string, options: { role: Role }, cmd: Command) => withGeppetto(cmd, (g) => commands.tokenAdd(g, me, name, options.role)));

  program
    .command('import')
    .description('replace the whole state with a state file (YAML), as one published changeset; all or nothing')
    .argument('<file>', 'the state file, - for stdin')
    .action(async (file: string, _o: unknown, cmd: Command) => withGeppetto(cmd, (g) => commands.importFile(g, me, file, stdin)));

  program
    .command('export')
    .description('print the whole state as YAML (secrets as references unless --with-secrets)')
    .option('--with-secrets', "include secrets' values (keep the output safe)")
    .action(async (options: { withSecrets?: boolean }, cmd: Command) => withGeppetto(cmd, (g) => commands.exportState(g, me, options)));

  program
    .command('explain')
    .description("why a server's settings have their values: every definition, scope by scope")
    .argument('<fqdn>', 'the server')
    .argument('[key]', 'one setting, <component>.<key>')
    .action(async (fqdn: string, key: string | undefined, _o: unknown, cmd: Command) => withGeppetto(cmd, (g) => commands.explain(g, fqdn, key)));

  program
    .command('file')
    .description("print a server's published file, as Punch gets it (secrets included)")
    .argument('<fqdn>', 'the server')
    .option('--json', 'JSON instead of YAML')
    .option('--revision <n>', 'an older revision')
    .action(async (fqdn: string, options: { json?: boolean; revision?: string }, cmd: Command) => withGeppetto(cmd, (g) => commands.nodeFile(g, me, fqdn, options)));

  program
    .command('revert')
    .description('revert a published changeset (a new changeset, published at once)')
    .argument('<changeset>', 'its number')
    .action(async (id: string, _o: unknown, cmd: Command) => withGeppetto(cmd, (g) => commands.revert(g, me, id)));

  program
    .command('repo')
    .description("the catalog: components, versions and keys from the repositories' deployment packages")
    .command('refresh')
    .description('read the repositories (new packages only)')
    .option('--ca-file <file>', 'CA certificates for https repositories')
    .option('--json', 'print JSON')
    .action(async (options: { caFile?: string; json?: boolean }, cmd: Command) => withGeppetto(cmd, (g) => commands.repoRefresh(g, me, options)));
  return program;
}

/** Parses argv and dispatches; the one place an error becomes a message and an exit status. */
export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const program = buildProgram(io);
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (thrown) {
    if (thrown instanceof CommanderError) return thrown.exitCode === 0 ? 0 : 2;
    const err = asKpkgError(storeError(thrown));
    if (debug && err instanceof Error) process.stderr.write(`${err.stack ?? err.message}\n`);
    else {
      const message = err instanceof KpkgError ? err.message : `internal error: ${String(err instanceof Error ? err.message : err)}`;
      process.stderr.write(`geppetto: ${oneLine(message)}\n`);
    }
    return exitCodeFor(err);
  }
}
