// Puppet 7 run on a module directory, isolated: confdir, vardir, codedir, logdir and rundir in a
// temporary directory, so a test neither reads nor changes the machine's Puppet.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, tmpDir, type RunResult } from '../tools.js';

/** Puppet with everything (confdir, vardir, codedir...) in a temporary directory. */
export function puppetSettings(modulepath: string): string[] {
  const d = tmpDir('puppet');
  for (const s of ['conf', 'var', 'code', 'log', 'run']) mkdirSync(join(d, s));
  return ['--color=false', `--confdir=${d}/conf`, `--vardir=${d}/var`, `--codedir=${d}/code`, `--logdir=${d}/log`, `--rundir=${d}/run`, `--modulepath=${modulepath}`];
}

/** `puppet apply -e`; fails on an error or a failed resource, but not on Facter's complaint about /proc/1/environ (containers). */
export function puppetApply(modulepath: string, manifest: string): RunResult {
  const res = run('puppet', ['apply', ...puppetSettings(modulepath), '--detailed-exitcodes', '-e', manifest], { timeout: 120_000 });
  const errors = `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => /^Error: /.test(l) && !/^Error: Facter: /.test(l));
  if (![0, 2].includes(res.status) || errors.length > 0) {
    throw new Error(`puppet apply failed (${res.status}): ${manifest}\n${errors.join('\n')}\n--- stderr\n${res.stderr.slice(-4000)}\n--- stdout\n${res.stdout.slice(-4000)}`);
  }
  return res;
}
