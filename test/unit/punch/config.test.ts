// punch.conf, the Geppetto client's refusals (no token over plain HTTP to another host), and the
// state kept for rollback.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeFor, KpkgError } from '../../../packager/errors.js';
import { parseConfig } from '../../../punch/config.js';
import { parseNodeFile } from '../../../punch/file.js';
import { punchPaths } from '../../../punch/paths.js';
import { fetchNodeFile } from '../../../punch/restore.js';
import { ensureStateDir, readState, recordApplied } from '../../../punch/state.js';

const dir = mkdtempSync(join(tmpdir(), 'punch-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('punch.conf', () => {
  it('reads key = value lines, comments and a section header', () => {
    expect(parseConfig('# Punch\n[main]\nurl = https://g.example.com\n; token\ntoken_file=/etc/punch/token\nca_file = /etc/punch/ca.pem\nnode = web03.example.com\n', 'punch.conf')).toEqual({
      url: 'https://g.example.com',
      tokenFile: '/etc/punch/token',
      caFile: '/etc/punch/ca.pem',
      node: 'web03.example.com',
    });
  });

  it('refuses an unknown key or a line that is not key = value, naming the line', () => {
    expect(() => parseConfig('url = x\ntokenfile = y\n', 'punch.conf')).toThrow(/punch.conf:2: unknown key "tokenfile"/);
    expect(() => parseConfig('url\n', 'punch.conf')).toThrow(/punch.conf:1: expected key = value/);
  });
});

describe('the Geppetto client', () => {
  it.each(['http://geppetto.example.com', 'ftp://geppetto.example.com', 'file:///etc/passwd'])('refuses to send the token to %s', async (url) => {
    const err = await fetchNodeFile({ url, token: 't', node: 'web03' }, punchPaths(join(dir, 'client'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KpkgError);
    expect((err as Error).message).toMatch(/must be https:\/\//);
    expect(exitCodeFor(err)).toBe(2);
  });
});

describe('the state kept for rollback', () => {
  it('keeps the applied file and the one before it, and only rotates when the file changes', async () => {
    const paths = punchPaths(join(dir, 'state'));
    await ensureStateDir(paths);
    const file = (rev: number) => parseNodeFile(`classes: {}\nkelkoo: { revision: ${rev}, packages: [] }\n`, `r${rev}.yaml`);
    let state = await recordApplied(paths, await readState(paths), file(1), 'web03');
    state = await recordApplied(paths, state, file(2), 'web03');
    state = await recordApplied(paths, state, file(2), 'web03');
    expect(state.applied?.revision).toBe(2);
    expect(state.previous?.revision).toBe(1);
    expect(readFileSync(paths.previousFile, 'utf8')).toContain('revision: 1');
    expect(readFileSync(paths.appliedFile, 'utf8')).toContain('revision: 2');
  });
});
