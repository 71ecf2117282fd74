// writeRpm tells its progress as the payload is written: every file counted once, in order, the
// bytes adding up to the files' sizes (what `kpkg build` shows on a terminal).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PayloadProgress } from '../../../packager/rpm/spec.js';
import { writeRpm } from '../../../packager/rpm/writer.js';
import { scratch } from '../../helpers/files.js';

const { fresh } = scratch('writer-progress');

describe('writeRpm onProgress', () => {
  it('counts files and bytes up to the totals', async () => {
    const bodies = Array.from({ length: 50 }, (_, i) => 'x'.repeat(i * 100));
    const seen: PayloadProgress[] = [];
    await writeRpm(
      {
        name: 'progress',
        version: '1.0',
        release: '1',
        arch: 'noarch',
        summary: 'progress',
        description: 'progress',
        license: 'MIT',
        files: [{ path: '/opt/progress', kind: 'dir' }, ...bodies.map((content, i) => ({ path: `/opt/progress/f${i}`, kind: 'file' as const, content }))],
      },
      join(fresh('out'), 'progress-1.0-1.noarch.rpm'),
      { sourceDateEpoch: 1_700_000_000, onProgress: (p) => seen.push({ ...p }) },
    );
    const total = bodies.reduce((n, b) => n + b.length, 0);
    expect(seen).toHaveLength(51);
    expect(seen.map((p) => p.files)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(seen.every((p) => p.totalFiles === 51 && p.totalBytes === total)).toBe(true);
    expect(seen.at(-1)?.bytes).toBe(total);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytes).toBeGreaterThanOrEqual(seen[i - 1]!.bytes);
  });
});
