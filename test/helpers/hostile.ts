/**
 * A valid component whose free text is hostile: what rpm's macro expansion (%{lua:...}, %(...)),
 * a shell ($(...), backticks), Handlebars ({{...}}), ERB/EPP (<%= ... %>), Puppet (${...}) and
 * Hiera (%{::...}) would act on, with quotes, backslashes and non-ASCII text. Every command it
 * holds touches `marker`, so a test knows an interpretation happened if that file exists. Used by
 * test/unit/hardening/hostile.test.ts (our reader) and test/system/hostile.test.ts (the real tools).
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigValue } from '../../packager/descriptor/types.js';

const SHOP = fileURLToPath(new URL('../fixtures/components/shop', import.meta.url));

/** One line of everything hostile, each command touching `marker`. */
export function hostileLine(marker: string): string {
  return [
    `it's "double" 'single'`,
    String.raw`back\slash \\ \n \' \"`,
    '${facts} ${::hostname}',
    '%{::hostname} %{facts.os.family} %%{x} %',
    `%{lua: os.execute("touch ${marker}")}`,
    `%(touch ${marker})`,
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    '{{evil}} {{{raw}}} {{> partial}}',
    `<%= generate('/usr/bin/touch', '${marker}') %> <%= \`touch ${marker}\` %> <%% -%>`,
    'é 日本 😀',
  ].join(' ');
}

/** A file name (no '/') as hostile as the line; its commands touch `pwned` in the working directory. */
export const HOSTILE_FILE_NAME = `it's "q" \\ $(touch pwned) \`touch pwned\` %{lua:os.execute("touch pwned")} %(touch pwned) {{evil}} <%= x %> \${facts} é 日本 😀.js`;

export interface HostileComponent {
  dir: string;
  summary: string;
  description: string;
  url: string;
  vendor: string;
  license: string;
  /** package.json's author, rpm's Packager */
  packager: string;
  /** The config keys' defaults, as config.json must hold them. */
  defaults: Record<string, ConfigValue>;
  /** The first cron entry's command (processing only). */
  cronCommand?: string;
  /** package.json main, a file with a hostile name, and where the launcher finds it (relative to the prefix). */
  main: string;
  entry: string;
}

/**
 * The shop fixture copied to `<root>/shop`, made hostile: a webapp (systemd unit) or a processing
 * component (cron table).
 */
export function hostileComponent(root: string, type: 'webapp' | 'processing', marker: string): HostileComponent {
  const dir = join(root, 'shop');
  cpSync(SHOP, dir, { recursive: true });
  const line = hostileLine(marker);
  const summary = line;
  const description = `${line}\nSecond line:\t${line}\n\n  indented, and a final newline\n`;
  const url = `https://example.com/shop?a=%{lua:os.execute("touch${marker}")}&b=$(touch${marker})&c=\`id\`&d={{evil}}&e=<%=x%>&f=\${facts}&g='"\\&h=é日本😀`;
  const defaults: Record<string, ConfigValue> = {
    listen_port: 8080,
    motto: line,
    tags: [line, '', 'plain'],
    labels: { [line]: line, plain: line, '%{::hostname}': '${facts}' },
  };
  const main = `dist/${HOSTILE_FILE_NAME}`;
  writeFileSync(join(dir, main), "console.log(JSON.stringify(process.argv.slice(2)));\n");
  const descriptor: Record<string, unknown> = {
    name: 'shop',
    type,
    version: '1.0.0',
    summary,
    description,
    url,
    vendor: line,
    license: line,
    files: [{ src: 'dist', dest: 'lib', exclude: ['*.map'] }],
    config: {
      keys: {
        motto: { type: 'String', default: defaults.motto, description },
        tags: { type: 'Array[String]', default: defaults.tags, description: line },
        labels: { type: 'Hash[String, String]', default: defaults.labels, description: line },
      },
    },
  };
  let cronCommand: string | undefined;
  if (type === 'processing') {
    cronCommand = line;
    descriptor.cron = [{ schedule: '@daily', command: cronCommand }, { schedule: '*/5 * * * *' }];
    delete defaults.listen_port;
  }
  writeFileSync(join(dir, 'component.json'), `${JSON.stringify(descriptor, null, 2)}\n`);
  const author = { name: line, email: 'ops@example.com' };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'shop', version: '1.0.0', main, author }, null, 2)}\n`);
  return {
    dir,
    summary,
    description,
    url,
    vendor: line,
    license: line,
    packager: `${author.name} <${author.email}>`,
    defaults,
    ...(cronCommand !== undefined ? { cronCommand } : {}),
    main,
    entry: `lib/${HOSTILE_FILE_NAME}`,
  };
}
