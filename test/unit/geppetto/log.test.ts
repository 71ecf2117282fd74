// The server's log: what a line may never show, and the batched writer of the default stdout log.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openGeppetto } from '../../../geppetto/service/index.js';
import { BatchedLines, buildServer, redactLogObject } from '../../../geppetto/web/server.js';

describe('Geppetto server log', () => {
  it('credentials, headers and bodies are replaced, at the top level and one level down; the rest is kept', () => {
    const line = redactLogObject({
      msg: 'x',
      token: 'gpt_top',
      password: 'pw-top',
      cookie: 'geppetto_session=abc',
      body: { password: 'in-body' },
      headers: { authorization: 'Bearer gpt_header' },
      user: { name: 'alice', password: 'pw-nested', token: 'gpt_nested', cookie: 'c-nested' },
      count: 3,
      list: ['a'],
    });
    const text = JSON.stringify(line);
    for (const secret of ['gpt_top', 'pw-top', 'geppetto_session', 'in-body', 'gpt_header', 'pw-nested', 'gpt_nested', 'c-nested']) expect(text).not.toContain(secret);
    expect(line).toMatchObject({ msg: 'x', count: 3, list: ['a'], user: { name: 'alice', password: '[redacted]' }, headers: '[redacted]' });
    // nothing to hide: the same object, no copy
    const plain = { msg: 'request', ms: 1.2, res: { statusCode: 200 } };
    expect(redactLogObject(plain)).toBe(plain);
  });

  it('a server logging a token, a password, headers or a body writes none of them', async () => {
    const lines: string[] = [];
    const g = await openGeppetto({ dataDir: mkdtempSync(join(tmpdir(), 'geppetto-log-')) });
    try {
      const app = await buildServer(g, { logger: { level: 'info', stream: { write: (l: string) => void lines.push(l) } } });
      app.log.info({ token: 'gpt_line', headers: { authorization: 'Bearer gpt_header' }, body: 'pw-body', user: { password: 'pw-nested' } }, 'logged');
      await app.close();
    } finally {
      await g.close();
    }
    const text = lines.join('');
    expect(text).toContain('logged');
    for (const secret of ['gpt_line', 'gpt_header', 'pw-body', 'pw-nested']) expect(text).not.toContain(secret);
  });

  it('batched lines: written together, in order, once per turn of the event loop; close writes what is pending', async () => {
    const writes: string[] = [];
    const out = new BatchedLines({ write: (t: string) => writes.push(t) });
    out.write('a\n');
    out.write('b\n');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n']);
    out.write('c\n');
    out.close();
    expect(writes).toEqual(['a\nb\n', 'c\n']);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });
});
