// The progress reporter: a status line rewritten in place on a terminal, throttled, erased at the
// end; nothing but notes without a terminal; nothing at all when quiet.
import { describe, expect, it } from 'vitest';
import { formatBytes, plural, progressReporter } from '../../../packager/util/progress.js';

/** A stream that records what is written, a terminal or not, and a clock the test moves. */
function fakeStream(isTTY: boolean, columns = 80) {
  const stream = { isTTY, columns, text: '', write: (s: string) => ((stream.text += s), true) };
  return stream;
}
function clock() {
  const c = { t: 0, now: () => c.t };
  return c;
}

describe('progressReporter', () => {
  it('on a terminal: one line, rewritten with \\r, erased at the end', () => {
    const s = fakeStream(true);
    const c = clock();
    const p = progressReporter(s, { now: c.now, intervalMs: 100 });
    p.status('reading 3 packages');
    c.t = 150;
    p.status('copying 3 packages: 1');
    p.end();
    expect(s.text).toBe('\r\x1b[Kreading 3 packages\r\x1b[Kcopying 3 packages: 1\r\x1b[K');
    expect(s.text).not.toContain('\n');
    expect(s.text).not.toContain('kpkg:');
  });

  it('throttles: statuses within the interval are skipped, the next one after it is shown', () => {
    const s = fakeStream(true);
    const c = clock();
    const p = progressReporter(s, { now: c.now, intervalMs: 100 });
    for (let i = 1; i <= 1000; i++) {
      c.t = i; // 1 ms apart: 1000 statuses over 1 s
      p.status(`copying: ${i}`);
    }
    const shown = s.text.split('\r\x1b[K').filter(Boolean);
    expect(shown.length).toBeGreaterThanOrEqual(9);
    expect(shown.length).toBeLessThanOrEqual(11);
    expect(shown[0]).toBe('copying: 1');
  });

  it('a line longer than the terminal is cut to fit (a wrapped line cannot be rewritten)', () => {
    const s = fakeStream(true, 30);
    progressReporter(s).status(`copying ${'x'.repeat(100)}\nsecond line`);
    const line = s.text.replace('\r\x1b[K', '');
    expect(line.length).toBeLessThanOrEqual(29);
    expect(line).not.toContain('\n');
  });

  it('a note on a terminal goes above the status line, which is drawn again', () => {
    const s = fakeStream(true);
    const p = progressReporter(s);
    p.status('reading 2 packages');
    p.note('waiting for the publisher holding /srv/repo (pid 12 on build1)');
    expect(s.text).toBe('\r\x1b[Kreading 2 packages\r\x1b[Kwaiting for the publisher holding /srv/repo (pid 12 on build1)\nreading 2 packages');
  });

  it('without a terminal: no status at all, notes as plain lines', () => {
    const s = fakeStream(false);
    const p = progressReporter(s);
    p.status('reading 5000 packages');
    p.status('copying 5000 packages: 12');
    p.end();
    expect(s.text).toBe('');
    p.note('repodata/repomd.xml.asc removed');
    expect(s.text).toBe('repodata/repomd.xml.asc removed\n');
  });

  it('quiet: nothing, terminal or not', () => {
    for (const tty of [true, false]) {
      const s = fakeStream(tty);
      const p = progressReporter(s, { quiet: true });
      p.status('reading');
      p.note('a note');
      p.end();
      expect(s.text).toBe('');
    }
  });

  it('end without any status writes nothing', () => {
    const s = fakeStream(true);
    progressReporter(s).end();
    expect(s.text).toBe('');
  });
});

describe('plural and formatBytes', () => {
  it('one package, many packages', () => {
    expect(plural(0, 'package')).toBe('0 packages');
    expect(plural(1, 'package')).toBe('1 package');
    expect(plural(5000, 'package')).toBe('5000 packages');
    expect(plural(1, 'directory', 'directories')).toBe('1 directory');
    expect(plural(2, 'directory', 'directories')).toBe('2 directories');
  });

  it('sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12.3 * 1024 * 1024)).toBe('12.3 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});
