// npm run demo: scaffolds a webapp with the archetype's defaults (kpkg new webapp hello-web
// --defaults) into demo-output/, builds its RPMs with kpkg build, publishes them into a yum
// repository (demo-output/repo) with kpkg publish, and prints the dnf line that installs from it.
// Then, with dnf, rpm and Puppet 7 (as root): Geppetto on SQLite in a temporary directory (import
// of a role and a server with a setting, repo refresh, a server token, geppetto serve on
// 127.0.0.1), punch restore --root demo-output/root from it, and the installed webapp run from
// that root with the configuration Puppet wrote: GET /health and the configured greeting. Without
// them it says which steps it skipped and why, and exits 0.
// Works offline after `npm ci`: the component has no runtime dependency, and its build (tsc, with
// @types/node) finds this repository's node_modules, as npm run and tsc look in parent directories.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kpkg = join(root, 'dist', 'bin', 'kpkg.js');
const outputRoot = join(root, 'demo-output');
const name = 'hello-web';
const component = join(outputRoot, name);
const output = join(outputRoot, 'target');

const rel = (p) => relative(process.cwd(), p) || '.';

function kpkgRun(args, what, options = {}) {
  try {
    return execFileSync(process.execPath, [kpkg, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
  } catch (e) {
    console.error(`demo: ${what} failed (exit ${e.status ?? e.message})`);
    process.exit(1);
  }
}

// a fresh component each time: the demo shows what the archetype writes today
rmSync(component, { recursive: true, force: true });
mkdirSync(outputRoot, { recursive: true });
console.log(`Scaffolding a webapp with the defaults: kpkg new webapp ${name} --defaults (in ${rel(outputRoot)})...\n`);
kpkgRun(['new', 'webapp', name, '--defaults'], 'kpkg new', { cwd: outputRoot, stdio: ['ignore', 'ignore', 'inherit'] });

// its build tools (tsc, @types/node) are this repository's: kpkg build wants a node_modules
// beside package.json, so the demo links this repository's there (the webapp has no runtime
// dependency: nothing of it is packaged)
symlinkSync(join(root, 'node_modules'), join(component, 'node_modules'));
console.log(`Building it: kpkg build ${rel(component)} (runs its npm run build, then writes the RPMs)...\n`);
const result = JSON.parse(kpkgRun(['build', component, '--output', output, '--json'], 'kpkg build'));
for (const a of result.artifacts) {
  console.log(`  ${a.role.padEnd(12)} ${rel(a.file)}  (${a.size} bytes, sha256 ${a.sha256.slice(0, 12)}...)`);
}
const app = result.artifacts.find((a) => a.role === 'application');
console.log(`\nLook inside without rpm installed:\n  node ${rel(kpkg)} inspect ${rel(app.file)}`);
console.log(`Run it from its sources:\n  (cd ${rel(component)} && KELKOO_CONFIG_DIR=. npm start)   # then http://localhost:8080/`);

// publish: the two RPMs into a yum repository under demo-output/repo, then the dnf line that
// installs from it. A fresh repository each run, as the component is fresh: the rebuilt packages
// have other bytes under the same name-version-release, which a published repository refuses.
const repo = join(outputRoot, 'repo');
rmSync(repo, { recursive: true, force: true });
const rpms = result.artifacts.filter((a) => a.file.endsWith('.rpm')).map((a) => a.file);
console.log(`\nPublishing them: kpkg publish ${rpms.map(rel).join(' ')} --repo ${rel(repo)}...\n`);
const published = JSON.parse(kpkgRun(['publish', ...rpms, '--repo', repo, '--json'], 'kpkg publish'));
for (const href of published.added) console.log(`  added ${href}`);
const deploy = result.artifacts.find((a) => a.role === 'deployment');
const deployName = deploy?.name ?? `${name}-deploy`;
console.log(`\nInstall from it on a server (the deployment package pulls the application with it):`);
console.log(`  dnf --repofrompath=kpkg-demo,file://${repo} --repo=kpkg-demo --nogpgcheck install ${deployName}`);
console.log(`(publish with --sign-key <key.asc> to sign the packages and repodata/repomd.xml; then drop --nogpgcheck)`);

// --- The rest of the flow: Geppetto decides, Punch deploys into a root, the installed webapp runs.
// Needs dnf, rpm and puppet (Punch runs them) and root (dnf changes even an --installroot only as
// root). Without them the demo stops here, saying what it skipped and why.
const { spawn } = await import('node:child_process');
const { existsSync, mkdtempSync, readFileSync, writeFileSync, createWriteStream } = await import('node:fs');
const { createServer } = await import('node:net');
const { tmpdir } = await import('node:os');

const onPath = (cmd) => (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, cmd)));
const missing = ['dnf', 'rpm', 'puppet'].filter((t) => !onPath(t));
const reasons = [...(missing.length > 0 ? [`${missing.join(', ')} not installed`] : []), ...(process.getuid?.() !== 0 ? ['not running as root (dnf --installroot needs it)'] : [])];
if (reasons.length > 0) {
  console.log(`\nSkipped: Geppetto, punch restore --root and running the installed webapp (${reasons.join('; ')}).`);
  console.log('Everything above ran; on a machine with dnf and Puppet 7, as root, npm run demo goes on to the whole flow.');
  process.exit(0);
}

const geppettoBin = join(root, 'dist', 'bin', 'geppetto.js');
const punchBin = join(root, 'dist', 'bin', 'punch.js');
const node = 'web01.demo.example.com';
const greeting = `Hello from Geppetto (${new Date().toISOString().slice(0, 19)}Z)`;
const freePort = () => new Promise((res, rej) => { const s = createServer(); s.once('error', rej); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });

// The temporary root stands for a server whose system already has node and Puppet (the host's):
// a small package tells dnf so (nodejs at the host's version with EL's epoch 1, puppet-agent,
// the tools the %pre scriptlet names); scriptlets are not run in the root (tsflags=noscripts).
const { writeRpm } = await import(join(root, 'dist', 'packager', 'rpm', 'writer.js'));
const EQ = 8;
const tool = (path) => ({ path, kind: 'file', mode: 0o755, content: '#!/bin/sh\n# the host provides this; scriptlets are not run in the demo root\nexit 0\n' });
const hostRpm = join(outputRoot, 'kpkg-demo-host-1.0-1.noarch.rpm');
await writeRpm({
  name: 'kpkg-demo-host', version: '1.0', release: '1', arch: 'noarch', license: 'Apache-2.0',
  summary: "What the demo root takes from the host: node, Puppet", description: "Stands for the base system of the demo's temporary root: the host runs node and Puppet.",
  provides: [{ name: 'nodejs', flags: EQ, version: `1:${process.versions.node}` }, { name: 'puppet-agent', flags: 0, version: '' }, { name: 'puppet', flags: 0, version: '' }],
  requires: [],
  files: [{ path: '/bin', kind: 'dir' }, tool('/bin/sh'), { path: '/usr', kind: 'dir' }, { path: '/usr/sbin', kind: 'dir' }, tool('/usr/sbin/groupadd'), tool('/usr/sbin/useradd')],
}, hostRpm);
kpkgRun(['publish', hostRpm, '--repo', repo, '--json'], 'kpkg publish (host package)');

const data = mkdtempSync(join(tmpdir(), 'kpkg-demo-geppetto-'));
const geppetto = (args, what) => {
  try {
    return execFileSync(process.execPath, [geppettoBin, '--data', data, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    console.error(`demo: ${what} failed (exit ${e.status ?? e.message})\n${e.stderr ?? ''}`);
    process.exit(1);
  }
};
const appVersion = `${result.version}-${result.release}`;
const repositories = [{ id: 'kpkg-demo', baseurl: `file://${repo}` }];
const empty = { settings: {}, unset: [] };
const stateDir = join(outputRoot, 'geppetto');
rmSync(stateDir, { recursive: true, force: true });
mkdirSync(stateDir, { recursive: true });
const { stringify } = await import('yaml');
writeFileSync(join(stateDir, 'repositories.yaml'), stringify({ repositories, global: empty, environments: { demo: empty }, roles: {}, servers: {} }));
const port = await freePort();
const state = {
  repositories,
  global: empty,
  environments: { demo: empty },
  roles: { front: { parents: [], components: { [name]: appVersion }, settings: { [`${name}.listen_port`]: port }, unset: [] } },
  servers: { [node]: { environment: 'demo', roles: ['front'], settings: { [`${name}.greeting`]: greeting }, unset: [] } },
};
writeFileSync(join(stateDir, 'state.yaml'), stringify(state));
console.log(`\nGeppetto on SQLite in ${data}:`);
console.log(`  geppetto import ${rel(join(stateDir, 'repositories.yaml'))}; geppetto repo refresh (reads ${rel(repo)}: components, versions, keys)`);
geppetto(['import', join(stateDir, 'repositories.yaml')], 'geppetto import');
geppetto(['repo', 'refresh'], 'geppetto repo refresh');
console.log(`  geppetto import ${rel(join(stateDir, 'state.yaml'))}: role front (${name} ${appVersion}, listen_port ${port}), server ${node} (greeting "${greeting}")`);
geppetto(['import', join(stateDir, 'state.yaml')], 'geppetto import');
const token = geppetto(['server', 'token', node], 'geppetto server token').trim();
const url = `http://127.0.0.1:${await freePort()}`;
const geppettoLog = join(outputRoot, 'geppetto.log');
const server = spawn(process.execPath, [geppettoBin, '--data', data, 'serve', '--listen', url.slice('http://'.length)], { stdio: ['ignore', 'pipe', 'pipe'] });
const logStream = createWriteStream(geppettoLog);
server.stdout.pipe(logStream);
server.stderr.pipe(logStream);
let webapp;
const stopAll = () => { webapp?.kill('SIGTERM'); server.kill('SIGTERM'); };
process.on('exit', stopAll);
const waitFor = async (u, what) => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    // the body read to its end: an answer left unread keeps its request in flight on the server
    const ok = await globalThis.fetch(u).then(async (r) => (await r.arrayBuffer(), r.ok)).catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) { console.error(`demo: ${what} did not answer ${u} within 60 s`); process.exit(1); }
    await new Promise((r) => setTimeout(r, 200));
  }
};
await waitFor(`${url}/api/openapi.json`, 'geppetto serve');
console.log(`  geppetto serve --listen ${url.slice(7)} (log: ${rel(geppettoLog)})`);

const serverRoot = join(outputRoot, 'root');
rmSync(serverRoot, { recursive: true, force: true });
mkdirSync(join(serverRoot, 'etc', 'punch'), { recursive: true });
const tokenFile = join(stateDir, 'token');
writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
const punchArgs = ['restore', '--root', serverRoot, '--url', url, '--token-file', tokenFile, '--node', node, '--releasever', '1', '--dnf-setopt', 'tsflags=noscripts'];
console.log(`\nDeploying: punch ${punchArgs.map((a) => (a.startsWith('/') ? rel(a) : a)).join(' ')}`);
// Debian's rpm keeps its database at $HOME/.rpmdb (inside the root too); a server's (EL) keeps it
// at /var/lib/rpm: a private HOME whose .rpmmacros says so makes the root look like a server's
const rpmHome = join(stateDir, 'home');
mkdirSync(rpmHome, { recursive: true });
writeFileSync(join(rpmHome, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
try {
  const out = execFileSync(process.execPath, [punchBin, ...punchArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000, env: { ...process.env, HOME: rpmHome } });
  for (const line of out.trim().split('\n')) console.log(`  ${line}`);
} catch (e) {
  console.error(`demo: punch restore failed (exit ${e.status ?? e.message})\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  process.exit(1);
}

const configDir = join(serverRoot, 'etc', 'kelkoo', name);
const launcher = join(serverRoot, 'opt', 'kelkoo', name, 'bin', name);
console.log(`\nPuppet wrote ${rel(join(configDir, 'config.json'))}: ${readFileSync(join(configDir, 'config.json'), 'utf8').trim()}`);
console.log(`Running the installed webapp: KELKOO_CONFIG_DIR=${rel(configDir)} ${rel(launcher)}`);
webapp = spawn(launcher, [], { env: { ...process.env, KELKOO_CONFIG_DIR: configDir, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }, stdio: ['ignore', 'ignore', 'inherit'] });
const appUrl = `http://127.0.0.1:${port}`;
await waitFor(`${appUrl}/health`, name);
const health = await globalThis.fetch(`${appUrl}/health`);
console.log(`  GET ${appUrl}/health -> ${health.status} ${(await health.text()).trim()}`);
const page = await (await globalThis.fetch(`${appUrl}/`)).text();
const shown = page.includes(greeting);
console.log(`  GET ${appUrl}/ -> the configured greeting ${shown ? 'is on the page' : 'is NOT on the page'}: "${greeting}"`);
stopAll();
await new Promise((r) => server.once('exit', r));
rmSync(data, { recursive: true, force: true });
console.log(`\nStopped the webapp and Geppetto (its temporary data directory removed). Left in ${rel(outputRoot)}: the component, the repository, geppetto/ (state files), the root (root/; rpm --root demo-output/root -qa lists its packages, with HOME=demo-output/geppetto/home on Debian), geppetto.log.`);
if (!shown) process.exit(1);
