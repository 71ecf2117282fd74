// The payload compressors against the real tools: gzip, zstd and xz decompress what we write, we
// decompress what they write (levels, multi-member/multi-frame/multi-block, .lzma), and we read
// the payloads rpmbuild itself writes, compared with rpm2cpio's output.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { KpkgError } from '../../packager/errors.js';
import {
  createCompressor,
  createDecompressor,
  createJsZstdDecompressor,
  createWasmZstdCompressor,
  detectCompression,
  FRAME_SIZE,
  type PayloadCompression,
} from '../../packager/rpm/compress.js';
import { through } from '../helpers/streams.js';
import { describeWithTools, runBufferOk, runOk, tmpDir } from './tools.js';

/** Text and noise, like a tree of source files: deterministic. */
function sample(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  const words = ['const', 'function', 'return', 'import', 'export', '{', '}', '(', ')', ';', '\n', 'x', 'value', '=>'];
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; ) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const r = x >>> 0;
    if (r % 7 === 0) {
      out[i++] = r & 0xff;
    } else {
      const w = words[r % words.length]!;
      i += out.write(`${w} `, i);
    }
  }
  return out;
}


/** The tool's output for `input` on stdin. */
function tool(cmd: string, args: string[], input: Buffer): Buffer {
  return runBufferOk(cmd, args, { input, timeout: 120_000 }).stdout;
}

async function readsBack(algo: PayloadCompression, packed: Buffer, plain: Buffer): Promise<void> {
  expect(detectCompression(packed)).toBe(algo);
  for (const size of [7, 65_536, packed.length]) {
    if (size === 7 && packed.length > 256 << 10) continue; // slow, and covered by the unit tests
    expect((await through(createDecompressor(algo), packed, size)).equals(plain)).toBe(true);
  }
}

const plain = sample(3 << 20, 42);

describeWithTools(['gzip'], 'gzip, the tool and us', () => {
  it('gzip -dc reads what we write, at every level we use', async () => {
    for (const level of [undefined, 1, 9]) {
      const packed = await through(createCompressor('gzip', level), plain);
      expect(tool('gzip', ['-dc'], packed).equals(plain)).toBe(true);
      expect(runOk('gzip', ['-t'], { input: packed }).status).toBe(0);
    }
  });

  it('we read what gzip writes, members concatenated included', async () => {
    await readsBack('gzip', tool('gzip', ['-9c'], plain), plain);
    const two = Buffer.concat([tool('gzip', ['-1c'], plain.subarray(0, 1000)), tool('gzip', ['-c'], plain.subarray(1000))]);
    await readsBack('gzip', two, plain);
  });
});

describeWithTools(['zstd'], 'zstd, the tool and us', () => {
  it('zstd -dc reads what we write: this Node’s compressor, the WASM one, several frames', async () => {
    for (const level of [undefined, 1, 19]) {
      const packed = await through(createCompressor('zstd', level), plain);
      expect(tool('zstd', ['-dcq'], packed).equals(plain)).toBe(true);
    }
    const big = sample(FRAME_SIZE + 12_345, 7);
    const frames = await through(createWasmZstdCompressor(3), big);
    expect(tool('zstd', ['-dcq'], frames).equals(big)).toBe(true);
    expect(tool('zstd', ['-dcq'], await through(createWasmZstdCompressor(), Buffer.alloc(0))).length).toBe(0);
  });

  it('we read what zstd writes: levels, checksums, long windows, concatenated frames', async () => {
    const variants = [['-3'], ['-19'], ['-1', '--no-check'], ['-3', '--long=27'], ['-5', '-T2', '-B1048576']];
    for (const args of variants) {
      const packed = tool('zstd', ['-cq', ...args], plain);
      await readsBack('zstd', packed, plain);
      expect((await through(createJsZstdDecompressor(), packed)).equals(plain)).toBe(true);
    }
    const two = Buffer.concat([tool('zstd', ['-cq'], plain.subarray(0, 5000)), tool('zstd', ['-cq', '-9'], plain.subarray(5000))]);
    await readsBack('zstd', two, plain);
  });
});

describeWithTools(['xz'], 'xz, the tool and us', () => {
  it('xz -dc reads what we write', async () => {
    for (const level of [undefined, 0, 9]) {
      const packed = await through(createCompressor('xz', level), plain);
      expect(tool('xz', ['-dc'], packed).equals(plain)).toBe(true);
      expect(runOk('xz', ['-t'], { input: packed }).status).toBe(0);
    }
  }, 120_000);

  it('we read what xz writes: levels, SHA-256 checks, blocks, streams concatenated, .lzma', async () => {
    await readsBack('xz', tool('xz', ['-9c'], plain), plain);
    await readsBack('xz', tool('xz', ['-2c', '--check=sha256', '-T2', '--block-size=262144'], plain), plain);
    const two = Buffer.concat([tool('xz', ['-c'], plain.subarray(0, 777)), tool('xz', ['-1c'], plain.subarray(777))]);
    await readsBack('xz', two, plain);
    await readsBack('lzma', tool('xz', ['--format=lzma', '-6c'], plain), plain);
  }, 120_000);
});

/** Where the payload starts: after the lead, the signature header (padded to 8) and the header. */
function payloadOffset(rpm: Buffer): number {
  const LEAD = 96;
  const headerEnd = (start: number) => start + 16 + 16 * rpm.readUInt32BE(start + 8) + rpm.readUInt32BE(start + 12);
  const sigEnd = headerEnd(LEAD);
  return headerEnd(sigEnd + ((8 - (sigEnd % 8)) % 8));
}

describeWithTools(['rpmbuild', 'rpm2cpio'], 'payloads written by rpmbuild', () => {
  const dir = tmpDir('compress-rpmbuild');
  const spec = join(dir, 'payload.spec');
  const big = sample(2 << 20, 9).toString('base64');
  writeFileSync(join(dir, 'big.txt'), big);
  writeFileSync(
    spec,
    [
      'Name: payload',
      'Version: 1',
      'Release: 1',
      'Summary: payload compressions',
      'License: MIT',
      'BuildArch: noarch',
      '%define __os_install_post %{nil}',
      '%define _build_id_links none',
      '%description',
      'Every payload compression rpmbuild knows.',
      '%install',
      'mkdir -p %{buildroot}/opt/payload',
      `cp ${join(dir, 'big.txt')} %{buildroot}/opt/payload/big.txt`,
      'echo hello > %{buildroot}/opt/payload/small.txt',
      '%files',
      '/opt/payload',
      '',
    ].join('\n'),
  );

  function build(payload: string): Buffer {
    const top = join(dir, payload);
    mkdirSync(top, { recursive: true });
    runOk('rpmbuild', ['-bb', '--define', `_topdir ${top}`, '--define', `_rpmdir ${top}/out`, '--define', `_binary_payload ${payload}`, spec], {
      timeout: 300_000,
    });
    const outDir = join(top, 'out', 'noarch');
    return readFileSync(join(outDir, readdirSync(outDir)[0]!));
  }

  const cases: [string, PayloadCompression][] = [
    ['w9.gzdio', 'gzip'],
    ['w19.zstdio', 'zstd'],
    ['w2.xzdio', 'xz'],
    ['w6.lzdio', 'lzma'],
    ['w.ufdio', 'none'],
  ];
  for (const [payload, algo] of cases) {
    it(`${payload}: detected as ${algo}, decompressed as rpm2cpio does`, async () => {
      const rpm = build(payload);
      const packed = rpm.subarray(payloadOffset(rpm));
      expect(detectCompression(packed)).toBe(algo);
      const ours = await through(createDecompressor(algo), packed);
      const theirs = runBufferOk('rpm2cpio', [join(dir, payload, 'out', 'noarch', readdirSync(join(dir, payload, 'out', 'noarch'))[0]!)]).stdout;
      expect(ours.subarray(0, 6).toString()).toBe('070701');
      expect(ours.equals(theirs)).toBe(true);
    }, 300_000);
  }

  it('w9.bzdio: detected as bzip2, refused with a clear error', () => {
    const rpm = build('w9.bzdio');
    const algo = detectCompression(rpm.subarray(payloadOffset(rpm)));
    expect(algo).toBe('bzip2');
    expect(() => createDecompressor(algo)).toThrow(KpkgError);
  }, 300_000);
});

