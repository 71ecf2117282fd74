// Punch killed with -9 at several points of a run (lock taken, dnf transaction running, puppet
// apply running; and once with its dnf killed too), then a normal run: the server matches its file.
// Two runs at once: the second waits for the first (never interleaves), or refuses with --wait 0.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeAsRoot, writeBasePackage, YumRepo } from './helpers/dnf.js';
import { buildComponent, exited, parseReport, PunchRoot, TOOLS, writeNodeFile } from './helpers/punch.js';
import { tmpDir } from './tools.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `seen()` holds (polled every 5 ms); fails after `ms`. */
async function until(what: string, seen: () => boolean, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!seen()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function childRecord(root: PunchRoot): { cmd: string; pid: number } | undefined {
  try {
    return JSON.parse(readFileSync(root.path('var/lib/punch/child.json'), 'utf8')) as { cmd: string; pid: number };
  } catch {
    return undefined;
  }
}

describeAsRoot(TOOLS, 'punch killed, and punch twice at once', () => {
  let files: string;
  let a: string;
  let b: string;
  const wantA = ['alpha-1.0.0-1', 'alpha-deploy-1.0.0-1', 'beta-1.0.0-1', 'beta-deploy-1.0.0-1', 'kpkg-test-base-1.0-1'];
  const wantB = ['alpha-2.0.0-1', 'alpha-deploy-2.0.0-1', 'kpkg-test-base-1.0-1'];

  beforeAll(async () => {
    const out = join(tmpDir('punch-builds'), 'target');
    const built = [buildComponent('alpha', '1.0.0', out), buildComponent('alpha', '2.0.0', out), buildComponent('beta', '1.0.0', out)];
    const repo = new YumRepo();
    repo.add([...built.flatMap((x) => [x.app, x.deploy]), await writeBasePackage(tmpDir('base'))]);
    files = tmpDir('punch-files');
    a = writeNodeFile(files, 'a.yaml', { revision: 1, classes: { alpha: { greeting: 'A' }, beta: {} }, packages: { 'alpha-deploy': '1.0.0-1', 'beta-deploy': '1.0.0-1' }, repo: repo.dir });
    b = writeNodeFile(files, 'b.yaml', { revision: 2, classes: { alpha: { greeting: 'B' } }, packages: { 'alpha-deploy': '2.0.0-1' }, repo: repo.dir });
  });

  const points: { name: string; seen: (root: PunchRoot) => boolean; killChild?: boolean }[] = [
    { name: 'with the lock just taken', seen: (r) => existsSync(r.path('var/lib/punch/punch.lock')) },
    { name: 'during the dnf transaction', seen: (r) => childRecord(r)?.cmd === 'dnf' },
    { name: 'during the dnf transaction, dnf killed too', seen: (r) => childRecord(r)?.cmd === 'dnf', killChild: true },
    { name: 'during puppet apply', seen: (r) => childRecord(r)?.cmd === 'puppet' },
  ];

  it.each(points)('a run killed $name is repaired by the next run', async ({ seen, killChild }) => {
    const root = new PunchRoot('killed');
    expect(root.punch(['apply', a, '--quiet']).status).toBe(0);
    expect(root.installed()).toEqual(wantA);
    const child = root.spawnPunch(['apply', b, '--quiet']);
    const done = exited(child);
    await until('the point of the run', () => seen(root));
    const tool = childRecord(root);
    child.kill('SIGKILL');
    if (killChild && tool !== undefined) process.kill(tool.pid, 'SIGKILL');
    expect((await done).code).toBe(null);

    const repair = root.punch(['apply', b, '--json']);
    expect(repair.status, repair.stderr).toBe(0);
    expect(root.installed()).toEqual(wantB);
    expect(root.config('alpha')).toMatchObject({ greeting: 'B' });
    expect(parseReport(root.punch(['apply', b, '--json']))).toMatchObject({ exitCode: 0, unchanged: true });
  });

  it('runs one at a time: the second waits for the first, and --wait 0 refuses', async () => {
    const root = new PunchRoot('twice');
    const first = exited(root.spawnPunch(['apply', a, '--json']));
    await until('the first run to hold the lock', () => existsSync(root.path('var/lib/punch/punch.lock')));
    const second = exited(root.spawnPunch(['apply', b, '--json']));
    const refused = root.punch(['apply', b, '--wait', '0']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/is locked by process \d+/);
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r2.code, r2.stderr).toBe(0);
    const j1 = JSON.parse(r1.stdout) as { locked: string; finished: string };
    const j2 = JSON.parse(r2.stdout) as { locked: string; finished: string };
    // never interleaved: the second took the lock after the first had finished
    expect(Date.parse(j2.locked)).toBeGreaterThanOrEqual(Date.parse(j1.finished));
    expect(root.installed()).toEqual(wantB);
    expect(root.history().map((h) => h.comment)).toEqual(['punch: web03.example.com revision 1', 'punch: web03.example.com revision 2']);
  });
});
