#!/usr/bin/env node
// A Geppetto process for the concurrency and kill -9 tests: opens the service on a data directory
// (and a PostgreSQL URL, when given) and publishes changesets in a loop, saying on stdout what it
// is about to do and what it did, one line each, so the test knows when to kill it.
//
//   geppetto-worker.mjs setup DATA [URL] SERVERS      catalog + the large model, imported
//   geppetto-worker.mjs publish DATA [URL] NAME COUNT SCOPE KEY   COUNT changesets setting KEY
//                      to "NAME i" on SCOPE (`global`, or `environment:production`...)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { openGeppetto, cliPrincipal } = await import(join(ROOT, 'dist', 'geppetto', 'service', 'index.js'));
const { storePackage, setRepositoryPackages } = await import(join(ROOT, 'dist', 'geppetto', 'service', 'catalog.js'));
const { stringifyState } = await import(join(ROOT, 'dist', 'geppetto', 'state-file.js'));
const { largeModel } = await import(join(ROOT, 'bench', 'geppetto-model.mjs'));

const [mode, dataDir, ...rest] = process.argv.slice(2);
const database = rest[0]?.startsWith('postgres') ? rest.shift() : undefined;
const say = (line) => process.stdout.write(`${line}\n`);
const g = await openGeppetto({ dataDir, database });
const me = cliPrincipal();
try {
  if (mode === 'setup') {
    const model = largeModel({ servers: Number(rest[0]), roles: 60, components: 40, keys: 10, levels: 5 });
    const now = new Date().toISOString();
    for (const p of model.catalog) await storePackage(g.db, p.checksum, { name: p.name, evr: p.evr }, { component: p.component, stored: p.description }, now);
    await setRepositoryPackages(g.db, model.state.repositories[0], model.catalog.map((p) => p.checksum), now);
    const r = await g.importState(me, stringifyState(model.state));
    say(`imported ${r.revisions.length}`);
  } else if (mode === 'publish') {
    const [name, count, scopeArg, key] = rest;
    const [kind, scopeName = ''] = scopeArg.split(':');
    const scope = { kind, name: scopeName };
    for (let i = 1; i <= Number(count); i++) {
      const cs = await g.createChangeset(me, `${name} ${i}`);
      await g.setSetting(cs.id, me, scope, key, `${name} ${i}`);
      for (;;) {
        say(`publishing ${name} ${i} changeset ${cs.id}`);
        try {
          const r = await g.publish(cs.id, me);
          say(`published ${name} ${i} changeset ${cs.id} seq ${r.publishSeq} files ${r.revisions.length}`);
          break;
        } catch (err) {
          // another process published the same scope first: take its version and go again
          if (err?.code !== 'CONFLICT') throw err;
          say(`conflict ${name} ${i}`);
          await g.discard(cs.id, me);
          const again = await g.createChangeset(me, `${name} ${i} again`);
          await g.setSetting(again.id, me, scope, key, `${name} ${i}`);
          cs.id = again.id;
        }
      }
    }
  }
} finally {
  await g.close();
}
