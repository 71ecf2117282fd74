import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cronCommand, shellQuote, systemdArg, systemdText } from '../../../packager/assemble/escape.js';

const HOSTILE = [`it's \${x} %{facts.os.family} $(id)`, '"quoted" \\ back', '`id`', "a'b'c", '{{x}}', '<%= 1 %>', 'café 日本', '', '%%', '$HOME', '\\n'];

describe('shellQuote', () => {
  it('gives /bin/sh back every hostile string literally', () => {
    for (const s of HOSTILE) {
      expect(execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(s)}`], { encoding: 'utf8' })).toBe(s);
    }
  });

  it('round-trips arbitrary strings through the shell', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 0, maxLength: 20 }).filter((s) => !s.includes('\0')), (s) => {
        expect(execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(s)}`], { encoding: 'utf8' })).toBe(s);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses NUL, which no shell word can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('systemd', () => {
  it('doubles % and \\ in free text and refuses line breaks', () => {
    expect(systemdText('50% of \\x')).toBe('50%% of \\\\x');
    expect(() => systemdText('a\nExecStart=/bin/evil')).toThrow(/control characters/);
  });

  it('quotes arguments so that specifiers, variables and quotes stay literal', () => {
    expect(systemdArg('/opt/my app/bin/x')).toBe('"/opt/my app/bin/x"');
    expect(systemdArg(`it's "\${x}" %n $(id)`)).toBe(`"it's \\"$\${x}\\" %%n $$(id)"`);
  });
});

describe('cronCommand', () => {
  it('escapes % (cron makes it a newline) and refuses newlines', () => {
    expect(cronCommand("date +%Y-%m-%d >> '/tmp/x'")).toBe("date +\\%Y-\\%m-\\%d >> '/tmp/x'");
    expect(() => cronCommand('true\n* * * * * root evil')).toThrow(/newline/);
  });
});
