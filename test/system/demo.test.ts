// npm run demo end to end (scripts/demo.mjs after npm run build): scaffold, build, publish,
// Geppetto on SQLite, punch restore --root, the installed webapp's /health and configured greeting.
// Its output is what a newcomer reads: the test checks that it says what happened, and that the
// root it leaves in demo-output/ holds what dnf and Puppet put there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/components.js';
import { describeAsRoot } from './helpers/dnf.js';
import { rpmHome, TOOLS } from './helpers/punch.js';
import { run, runOk } from './tools.js';

describeAsRoot(TOOLS, 'npm run demo, the whole flow', () => {
  it('deploys the scaffolded webapp through Geppetto and Punch into a root, and runs it there', () => {
    const res = run(process.execPath, [join(REPO_ROOT, 'scripts', 'demo.mjs')], { cwd: REPO_ROOT, timeout: 900_000 });
    expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
    const out = res.stdout;
    expect(out).not.toMatch(/^Skipped:/m);
    expect(out).toMatch(/added Packages\/h\/hello-web-deploy-0\.1\.0-1\.noarch\.rpm/);
    expect(out).toMatch(/geppetto serve --listen 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/punch restore --root demo-output\/root --url http:\/\/127\.0\.0\.1:\d+ --token-file \S+ --node web01\.demo\.example\.com/);
    expect(out).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/health -> 200 /);
    const greeting = /the configured greeting is on the page: "(Hello from Geppetto[^"]*)"/.exec(out)?.[1];
    expect(greeting, out).toBeDefined();
    const root = join(REPO_ROOT, 'demo-output', 'root');
    const config = JSON.parse(readFileSync(join(root, 'etc', 'kelkoo', 'hello-web', 'config.json'), 'utf8')) as { greeting?: string };
    expect(config.greeting).toBe(greeting);
    const installed = runOk('rpm', ['--root', root, '-qa', '--qf', '%{NAME}\\n'], { env: { HOME: rpmHome() } }).stdout.split('\n');
    expect(installed).toEqual(expect.arrayContaining(['hello-web', 'hello-web-deploy']));
    // Geppetto stopped at once: no request of the demo's was left in flight (an answer it never read)
    const log = readFileSync(join(REPO_ROOT, 'demo-output', 'geppetto.log'), 'utf8');
    expect(log).toMatch(/"msg":"stopping"/);
    expect(log).not.toMatch(/after the stop timeout/);
  }, 900_000);
});
