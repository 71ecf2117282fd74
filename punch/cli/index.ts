/**
 * The `punch` program: parses argv and dispatches; the one place where an error becomes a message
 * and an exit status (0 the server matches its file, 1 something failed, 2 bad input).
 */
import { Command, CommanderError, Option } from 'commander';
import { asKpkgError, exitCodeFor, KpkgError, oneLine } from '../../packager/errors.js';
import { packageVersion } from '../../packager/util/paths.js';
import type { PunchConfig } from '../config.js';
import { loadNodeFile, type LoadedFile } from '../file.js';
import { CONFIG_FILE, inRoot, punchPaths, type PunchPaths } from '../paths.js';
import { describeChange } from '../plan.js';
import type { GeppettoClient } from '../restore.js';
import { defaultNode, runPunch, type Command as RunCommand, type RunOptions, type RunReport } from '../run.js';
import type { StatusReport } from '../status.js';

// What a run with nothing to change does not need is imported when needed: Geppetto's client
// (node:https), the repository metadata reader (saxes, decompressors), status. A no-change run
// spends most of its own time loading modules (bench/punch.mjs).

interface CommonFlags {
  root?: string;
  json?: boolean;
  quiet?: boolean;
  wait?: string;
  releasever?: string;
  dnfSetopt?: string[];
  config?: string;
  url?: string;
  tokenFile?: string;
  caFile?: string;
  node?: string;
  noop?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'work on the system rooted at DIR (dnf --installroot, rpm --root, configuration under DIR)')
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--wait <seconds>', 'how long to wait for another run', '600')
    .option('--releasever <version>', "dnf's --releasever (an image root has nothing to detect it from)")
    .addOption(new Option('--dnf-setopt <key=value>', 'a dnf setting for this run (repeatable), e.g. tsflags=noscripts').argParser(collect));
}

function withGeppetto(cmd: Command): Command {
  return cmd
    .option('--config <file>', `Punch's configuration (default ${CONFIG_FILE}, under --root when given)`)
    .option('--url <url>', "Geppetto's base URL (https://...)")
    .option('--token-file <file>', "a file holding this server's token")
    .option('--ca-file <file>', "CA certificates to trust for Geppetto's HTTPS and the repositories' (default: ca_file of punch.conf)")
    .option('--node <fqdn>', "this server's name in Geppetto (default: the host's name)");
}

function runOptions(flags: CommonFlags, paths: PunchPaths, command: RunCommand, caFile?: string): RunOptions {
  const wait = Number(flags.wait ?? '600');
  if (!Number.isFinite(wait) || wait < 0) throw new KpkgError('USAGE', `--wait ${flags.wait ?? ''}: expected a number of seconds`);
  const progress = !flags.quiet && !flags.json ? (line: string) => process.stderr.write(`punch: ${oneLine(line)}\n`) : undefined;
  return {
    paths,
    command,
    waitMs: wait * 1000,
    dnf: {
      ...(flags.releasever !== undefined ? { releasever: flags.releasever } : {}),
      ...(flags.dnfSetopt !== undefined ? { setopt: flags.dnfSetopt } : {}),
      ...(caFile !== undefined ? { caFile } : {}),
    },
    ...(progress ? { progress } : {}),
    readRepositories: async (repos) => (await import('../repositories.js')).readRepositoryPackages(repos, { ...(caFile !== undefined ? { caFile } : {}), cacheDir: paths.repoCacheDir }),
  };
}

async function geppetto(flags: CommonFlags, paths: PunchPaths): Promise<{ client: GeppettoClient; config: PunchConfig }> {
  const { loadConfig, resolveToken } = await import('../config.js');
  const { readCa } = await import('../restore.js');
  const path = flags.config ?? inRoot(paths, CONFIG_FILE);
  const fromFile = await loadConfig(path, flags.config !== undefined);
  const config: PunchConfig = {
    ...fromFile,
    ...(flags.url !== undefined ? { url: flags.url } : {}),
    ...(flags.tokenFile !== undefined ? { tokenFile: flags.tokenFile, token: '' } : {}),
    ...(flags.caFile !== undefined ? { caFile: flags.caFile } : {}),
    ...(flags.node !== undefined ? { node: flags.node } : {}),
  };
  if (config.url === undefined) throw new KpkgError('USAGE', `no Geppetto URL: give --url or url in ${path}`);
  const token = await resolveToken(config);
  if (token === undefined || token === '') throw new KpkgError('USAGE', `no token: give --token-file or token_file in ${path}`);
  const ca = await readCa(config.caFile);
  return { client: { url: config.url, token, node: config.node ?? defaultNode(), ...(ca !== undefined ? { ca } : {}) }, config };
}

/**
 * The CA file for the repositories when the file is local (apply, rollback, plan FILE): --ca-file,
 * else punch.conf's ca_file when that file exists (the same trust restore uses for them).
 */
async function repositoryCa(flags: CommonFlags, paths: PunchPaths): Promise<string | undefined> {
  if (flags.caFile !== undefined) return flags.caFile;
  const { loadConfig } = await import('../config.js');
  return (await loadConfig(flags.config ?? inRoot(paths, CONFIG_FILE), flags.config !== undefined)).caFile;
}

function withCa(cmd: Command): Command {
  return cmd
    .option('--ca-file <file>', 'CA certificates to trust for the repositories over HTTPS (default: ca_file of punch.conf)')
    .option('--config <file>', `Punch's configuration, read for ca_file (default ${CONFIG_FILE}, under --root when given)`);
}

function printReport(report: RunReport, flags: CommonFlags): void {
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  for (const e of report.errors) process.stderr.write(`punch: ${oneLine(e)}\n`);
  if (report.leftAsItWas.length > 0) process.stderr.write(`punch: left as it was: ${report.leftAsItWas.join(', ')}\n`);
  if (flags.quiet) return;
  const what = `${report.node}${report.revision !== undefined ? ` revision ${report.revision}` : ''}`;
  const lines: string[] = [];
  if (report.command === 'plan') {
    lines.push(`plan for ${what}:`);
    if (report.packages.changes.length === 0) lines.push('  packages: no change');
    else lines.push('  packages:', ...report.packages.changes.map((c) => `    ${describeChange(c)}`));
    const p = report.puppet;
    if (p?.deferred) lines.push(`  configuration: evaluated after the package changes (classes ${p.classes.join(', ')})`);
    else if (p !== undefined && p.resources.length === 0 && p.changes === 0) lines.push('  configuration: no change');
    else if (p !== undefined) lines.push(`  configuration: ${p.changes} resource${p.changes === 1 ? '' : 's'} would change`, ...p.resources.map((r) => `    ${r}`));
  } else if (report.exitCode === 0) {
    if (report.unchanged) lines.push(`${what}: nothing to change, the server matches its file`);
    else {
      const n = report.packages.changes.length;
      const r = report.puppet?.changes ?? 0;
      lines.push(`${what}: ${n} package change${n === 1 ? '' : 's'}, ${r} resource${r === 1 ? '' : 's'} changed`);
      lines.push(...report.packages.changes.map((c) => `  ${describeChange(c)}`), ...(report.puppet?.resources ?? []).map((x) => `  changed   ${x}`));
    }
  } else lines.push(`${what}: failed`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printStatus(s: StatusReport, flags: CommonFlags): void {
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  if (flags.quiet) return;
  const lines: string[] = [];
  if (s.applied) lines.push(`applied:  ${s.applied.node}${s.applied.revision !== undefined ? ` revision ${s.applied.revision}` : ''} (${s.applied.source}, ${s.applied.at})`);
  else lines.push('applied:  nothing yet');
  if (s.previous) lines.push(`previous: ${s.previous.node}${s.previous.revision !== undefined ? ` revision ${s.previous.revision}` : ''} (${s.previous.at})`);
  if (s.lastRun) lines.push(`last run: ${s.lastRun.command} at ${s.lastRun.at}, exit ${s.lastRun.exitCode}`);
  lines.push('packages:');
  for (const p of s.packages) lines.push(`  ${p.name.padEnd(30)} wanted ${(p.wanted ?? '-').padEnd(14)} installed ${p.installed.join(', ') || '-'}`);
  lines.push(s.matches ? 'the packages match the applied file' : `the packages differ from the applied file: ${s.drift.map(describeChange).join('; ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function deployCommand(loaded: LoadedFile, flags: CommonFlags, command: RunCommand, client?: GeppettoClient, caFile?: string): Promise<number> {
  const paths = punchPaths(flags.root);
  const report = await runPunch(loaded, runOptions(flags, paths, command, caFile));
  if (client !== undefined && command === 'restore') {
    try {
      const { postReport } = await import('../restore.js');
      await postReport(client, report);
    } catch (e) {
      process.stderr.write(`punch: warning: the report was kept under ${paths.reportsDir} but not posted: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
    }
  }
  printReport(report, flags);
  return report.exitCode;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('punch')
    .description("Installs on this server what the back office (Geppetto) defines for it: deployment packages with dnf, their configuration with Puppet")
    .option('--debug', 'show stack traces of errors')
    .version(packageVersion(), '-V, --version', 'print the version of punch')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  withGeppetto(withCommon(program.command('restore').description("fetch this server's file from Geppetto and apply it; the report goes back to Geppetto"))).action(async (flags: CommonFlags) => {
    const paths = punchPaths(flags.root);
    const { client, config } = await geppetto(flags, paths);
    const progress = !flags.quiet && !flags.json;
    const { fetchNodeFile } = await import('../restore.js');
    const fetched = await fetchNodeFile(client, paths);
    if (progress) process.stderr.write(`punch: ${fetched.notModified ? 'file unchanged in Geppetto (304), applying it again' : `fetched the file of ${client.node}`}\n`);
    setExit(await deployCommand(fetched.loaded, flags, flags.noop ? 'plan' : 'restore', flags.noop ? undefined : client, config.caFile));
  }).option('--noop', 'only say what would change');

  withCa(withCommon(program.command('apply').argument('<file>', 'the per-server file (YAML or JSON)').description('apply a per-server file: packages, then configuration')))
    .option('--noop', 'only say what would change (as punch plan)')
    .action(async (file: string, flags: CommonFlags) => {
      const loaded = await loadNodeFile(file);
      setExit(await deployCommand(loaded, flags, flags.noop ? 'plan' : 'apply', undefined, await repositoryCa(flags, punchPaths(flags.root))));
    });

  withGeppetto(withCommon(program.command('plan').argument('[file]', "the per-server file (default: this server's file from Geppetto)").description('what a run would change, packages and configuration, changing nothing'))).action(
    async (file: string | undefined, flags: CommonFlags) => {
      const paths = punchPaths(flags.root);
      let loaded: LoadedFile;
      let caFile: string | undefined;
      if (file !== undefined) {
        loaded = await loadNodeFile(file);
        caFile = await repositoryCa(flags, paths);
      } else {
        const { client, config } = await geppetto(flags, paths);
        const { fetchNodeFile } = await import('../restore.js');
        loaded = (await fetchNodeFile(client, paths)).loaded;
        caFile = config.caFile;
      }
      setExit(await deployCommand(loaded, flags, 'plan', undefined, caFile));
    },
  );

  withCommon(program.command('status').description('wanted versus installed, last run, revision applied')).action(async (flags: CommonFlags) => {
    const { punchStatus } = await import('../status.js');
    printStatus(await punchStatus(punchPaths(flags.root)), flags);
    setExit(0);
  });

  withCa(withCommon(program.command('rollback').description('apply the previously applied file again'))).action(async (flags: CommonFlags) => {
    const paths = punchPaths(flags.root);
    let loaded: LoadedFile;
    try {
      loaded = await loadNodeFile(paths.previousFile);
    } catch (e) {
      if (e instanceof KpkgError && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new KpkgError('USAGE', `nothing to roll back to: no previously applied file (${paths.previousFile})`);
      throw e;
    }
    setExit(await deployCommand(loaded, flags, 'rollback', undefined, await repositoryCa(flags, paths)));
  });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return code;
  } catch (thrown) {
    if (thrown instanceof CommanderError) return thrown.exitCode === 0 ? 0 : 2;
    const err = asKpkgError(thrown);
    if (debug && err instanceof Error) process.stderr.write(`${err.stack ?? err.message}\n`);
    else process.stderr.write(`punch: ${oneLine(err instanceof KpkgError ? err.message : `internal error: ${String(err instanceof Error ? err.message : err)}`)}\n`);
    return exitCodeFor(err);
  }
}
