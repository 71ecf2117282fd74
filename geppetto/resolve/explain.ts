/**
 * `geppetto explain FQDN [component.key]`: why a server gets what it gets. For one key: its value
 * and origin, then the chain (winners first, marked), each definition with the path it came by,
 * and the problems of that key. For the whole server: its components with the pin that chose each
 * version, every setting on one line, and every problem. Secrets show as references, never values.
 */
import type { Definition, ResolvedServer, ResolvedSetting, Value } from '../model.js';
import { compareStrings } from './keys.js';
import { isUnset, showValue } from './values.js';

function where(d: Definition): string {
  const s = d.source;
  const scope = s.scope === 'global' ? 'global' : `${s.scope} ${s.name}`;
  return `${scope} (${s.path.join(' > ')})`;
}

function winnersOf(setting: ResolvedSetting, resolved: ResolvedServer): number {
  const conflict = resolved.problems.find((p) => p.kind === 'conflict' && p.key === setting.key && p.definitions !== undefined);
  if (conflict?.definitions !== undefined) return conflict.definitions.length;
  return setting.chain.length > 0 ? 1 : 0;
}

function origin(setting: ResolvedSetting): string {
  const first = setting.chain[0];
  switch (setting.origin) {
    case 'definition':
      return first === undefined ? 'definition' : `set at ${where(first)}`;
    case 'default':
      return first !== undefined && isUnset(first.value) ? `class default (unset at ${where(first)})` : 'class default';
    case 'unset':
      return first !== undefined ? `unset at ${where(first)}; no default` : 'not set; no default';
  }
}

function valueText(setting: ResolvedSetting, defaultValue: Value | undefined, brief = false): string {
  if (setting.origin === 'definition') return setting.value === undefined ? '(conflict)' : showValue(setting.value, 200);
  if (setting.origin === 'default') {
    if (setting.secret) return '(secret class default)';
    return brief ? showValue(defaultValue, 200) : `${showValue(defaultValue, 200)} (class default)`;
  }
  return '(none)';
}

function defaultOf(resolved: ResolvedServer, key: string): Value | undefined {
  const dot = key.indexOf('.');
  const component = resolved.components[key.slice(0, dot)];
  return component?.version.parameters.find((p) => p.name === key.slice(dot + 1))?.default;
}

function explainKey(resolved: ResolvedServer, key: string): string {
  const lines: string[] = [];
  const setting = resolved.settings[key];
  const problems = resolved.problems.filter((p) => p.key === key);
  lines.push(`${resolved.fqdn} ${key}`);
  if (setting === undefined) {
    const component = key.slice(0, Math.max(0, key.indexOf('.')));
    lines.push(
      resolved.components[component] === undefined
        ? `  ${resolved.fqdn} does not have the component ${component || key}`
        : `  ${component} ${resolved.components[component]?.version.evr ?? ''} has no parameter ${key.slice(component.length + 1)}`,
    );
  } else {
    lines.push(`  value:  ${valueText(setting, defaultOf(resolved, key))}`);
    lines.push(`  origin: ${origin(setting)}`);
    if (setting.secret) lines.push('  secret: yes (handed to Puppet as Sensitive)');
    if (setting.chain.length === 0) {
      lines.push('  chain:  (no scope defines it)');
    } else {
      lines.push('  chain (winners first):');
      const winners = winnersOf(setting, resolved);
      setting.chain.forEach((d, i) => {
        lines.push(`    ${i < winners ? '*' : ' '} ${showValue(d.value, 60)}  ${i < winners ? '' : '(overridden) '}from ${where(d)}`);
      });
    }
  }
  for (const p of problems) lines.push(`  ${p.kind}: ${p.message}`);
  return `${lines.join('\n')}\n`;
}

/** The text `geppetto explain FQDN [component.key]` prints. */
export function explain(resolved: ResolvedServer, key?: string): string {
  if (key !== undefined) return explainKey(resolved, key);
  const lines: string[] = [`${resolved.fqdn} (environment ${resolved.environment})`];
  const names = Object.keys(resolved.components).sort(compareStrings);
  lines.push(names.length === 0 ? 'components: none' : 'components:');
  for (const c of names) {
    const comp = resolved.components[c];
    if (comp === undefined) continue;
    const pin = comp.chain[0];
    lines.push(`  ${c} ${comp.version.evr} (${comp.version.package}, class ${comp.version.class})${pin !== undefined ? ` pinned at ${pin.source.path.join(' > ')}` : ''}`);
  }
  const keys = Object.keys(resolved.settings).sort(compareStrings);
  if (keys.length > 0) lines.push('settings:');
  for (const k of keys) {
    const s = resolved.settings[k];
    if (s === undefined) continue;
    lines.push(`  ${k} = ${valueText(s, defaultOf(resolved, k), true)}  [${origin(s)}]`);
  }
  lines.push(resolved.problems.length === 0 ? 'problems: none' : `problems (${resolved.problems.length}, publishing blocked):`);
  for (const p of resolved.problems) lines.push(`  ${p.kind}: ${p.message}`);
  return `${lines.join('\n')}\n`;
}
