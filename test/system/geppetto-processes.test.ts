// Geppetto processes on one database: two publishing at once, and one killed with SIGKILL in the
// middle of a publish, on SQLite and on a real PostgreSQL. After each, every server's file must be
// all there or not at all: each head has its revision row, numbering has no gap, each file opens
// and carries the value of the changeset that made it, and a killed publish left no revision.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cliPrincipal, openGeppetto, type Geppetto } from '../../geppetto/service/index.js';
import { POSTGRES_TOOLS, startPostgres, type Postgres } from './helpers/postgres.js';
import { describeWithTools, tmpDir } from './tools.js';

const WORKER = join(import.meta.dirname, 'helpers', 'geppetto-worker.mjs');
const SERVERS = 1000;
const admin = cliPrincipal();

interface Worker {
  proc: ChildProcess;
  lines: string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startWorker(args: string[]): Worker {
  const proc = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return {
    proc,
    lines,
    exit,
    waitFor(re, timeoutMs = 240_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line ${re} within ${timeoutMs} ms; got:\n${lines.join('\n')}\n${stderr}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exit.then(({ code }) => reject(new Error(`worker exited (${code}) before ${re}:\n${lines.join('\n')}\n${stderr}`)));
      });
    },
  };
}

async function runWorker(args: string[]): Promise<string[]> {
  const w = startWorker(args);
  const { code, stderr } = await w.exit;
  expect(code, stderr).toBe(0);
  return w.lines;
}

/** Every server's head has its revision; revisions number 1..head with no gap; each file opens and is at its revision. */
async function checkAllOrNothing(g: Geppetto): Promise<Map<string, { revision: number; file: { classes: Record<string, Record<string, unknown>>; kelkoo: { revision: number } } }>> {
  const heads = await g.db.selectFrom('heads').selectAll().execute();
  expect(heads.length).toBe(SERVERS);
  const counts = await g.db.selectFrom('revisions').select(['fqdn', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max<number>('revision').as('top')]).groupBy('fqdn').execute();
  const byFqdn = new Map(counts.map((c) => [c.fqdn, c]));
  const out = new Map<string, { revision: number; file: { classes: Record<string, Record<string, unknown>>; kelkoo: { revision: number } } }>();
  for (const h of heads) {
    const c = byFqdn.get(h.fqdn);
    expect(Number(c?.top), h.fqdn).toBe(h.revision);
    expect(Number(c?.n), h.fqdn).toBe(h.revision);
    const file = YAML.parse((await g.nodeFile(admin, h.fqdn)).body) as { classes: Record<string, Record<string, unknown>>; kelkoo: { revision: number } };
    expect(file.kelkoo.revision).toBe(h.revision);
    out.set(h.fqdn, { revision: h.revision, file });
  }
  // a publish's revisions are all there: each publish_seq covers the servers its change touches
  const perSeq = await g.db.selectFrom('revisions').select(['publish_seq', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('publish_seq').execute();
  const published = await g.db.selectFrom('changesets').select(['publish_seq', 'status']).where('status', '=', 'published').execute();
  const seqs = new Set(published.map((p) => p.publish_seq));
  for (const s of perSeq) expect(seqs.has(s.publish_seq), `revisions of publish ${s.publish_seq} without its changeset published`).toBe(true);
  return out;
}

function processSuite(name: string, target: () => Promise<{ dataDir: string; url?: string }>): void {
  describe(name, () => {
    it('two processes publish at once: every publish lands, in turn, no revision lost', async () => {
      const { dataDir, url } = await target();
      const db = url ? [url] : [];
      expect((await runWorker(['setup', dataDir, ...db, String(SERVERS)])).join()).toContain(`imported ${SERVERS}`);
      const a = startWorker(['publish', dataDir, ...db, 'A', '4', 'global', 'c000.k06']);
      const b = startWorker(['publish', dataDir, ...db, 'B', '4', 'environment:production', 'c000.k07']);
      const [ea, eb] = await Promise.all([a.exit, b.exit]);
      expect(ea.code, ea.stderr).toBe(0);
      expect(eb.code, eb.stderr).toBe(0);
      const seqOf = (lines: string[]) => lines.filter((l) => l.startsWith('published')).map((l) => Number(/seq (\d+)/.exec(l)?.[1]));
      const seqs = [...seqOf(a.lines), ...seqOf(b.lines)];
      expect(seqs).toHaveLength(8);
      expect(new Set(seqs).size).toBe(8);
      const g = await openGeppetto({ dataDir, database: url });
      try {
        const files = await checkAllOrNothing(g);
        const state = await g.state();
        for (const [fqdn, { file }] of files) {
          expect(file.classes.c000?.k06, fqdn).toBe('A 4');
          if (state.servers[fqdn]?.environment === 'production') expect(file.classes.c000?.k07, fqdn).toBe('B 4');
        }
        // every server got A's 4 publishes on top of the import; production ones B's 4 as well
        const [prod, other] = [...files].reduce<[number[], number[]]>((acc, [f, v]) => (acc[state.servers[f]?.environment === 'production' ? 0 : 1].push(v.revision), acc), [[], []]);
        expect(new Set(prod)).toEqual(new Set([9]));
        expect(new Set(other)).toEqual(new Set([5]));
      } finally {
        await g.close();
      }
    });

    it('kill -9 during a publish: the revision is all there or not at all, and the next publish works', async () => {
      const { dataDir, url } = await target();
      const db = url ? [url] : [];
      await runWorker(['setup', dataDir, ...db, String(SERVERS)]);
      let killedMidway = 0;
      for (const [round, delay] of [50, 250, 600, 1200].entries()) {
        // two publishes: the kill lands during the second or after it, never past it (with a third,
        // a quick machine finished it before the kill and the files said K 3)
        const w = startWorker(['publish', dataDir, ...db, `K${round}`, '2', 'global', 'c000.k06']);
        const line = await w.waitFor(/^publishing \S+ 2 /);
        const changeset = Number(/changeset (\d+)/.exec(line)?.[1]);
        await new Promise((r) => setTimeout(r, delay));
        w.proc.kill('SIGKILL');
        const { signal } = await w.exit;
        const g = await openGeppetto({ dataDir, database: url });
        try {
          const status = (await g.changeset(changeset)).status;
          const rows = await g.db.selectFrom('revisions').select((eb) => eb.fn.countAll<number>().as('n')).where('changeset_id', '=', changeset).executeTakeFirstOrThrow();
          if (signal === 'SIGKILL' && status === 'open') killedMidway++;
          // all or nothing: published with a revision for every server, or open with none
          expect([status, Number(rows.n)]).toEqual(status === 'published' ? ['published', SERVERS] : ['open', 0]);
          const files = await checkAllOrNothing(g);
          const want = status === 'published' ? `K${round} 2` : `K${round} 1`;
          for (const [fqdn, { file }] of files) expect(file.classes.c000?.k06, fqdn).toBe(want);
          // the database is usable: the killed changeset can still be published
          if (status === 'open') expect((await g.publish(changeset, admin)).revisions).toHaveLength(SERVERS);
        } finally {
          await g.close();
        }
      }
      // at least one kill must have landed inside a publish, or the test proved nothing
      expect(killedMidway).toBeGreaterThan(0);
    });
  });
}

processSuite('Geppetto processes on one SQLite file', async () => ({ dataDir: tmpDir('geppetto-proc') }));

describeWithTools(POSTGRES_TOOLS, 'Geppetto processes on one PostgreSQL', () => {
  let postgres: Postgres | undefined;
  let n = 0;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(() => postgres?.stop());
  processSuite('publish and kill', async () => {
    if (!postgres) throw new Error('PostgreSQL did not start');
    return { dataDir: tmpDir('geppetto-proc-pg'), url: await postgres.createDatabase(`proc${n++}`) };
  });
});
