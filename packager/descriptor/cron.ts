/**
 * Cron schedules as cronie reads them in /etc/cron.d (crontab(5)): five fields or a nickname.
 * Checked here so a bad schedule fails `kpkg validate` instead of being skipped by crond on a
 * server with nothing but a line in its log.
 */

/** Nicknames cronie accepts in place of the five fields. */
export const CRON_NICKNAMES = ['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] as const;

interface CronField {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly CronField[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTHS },
  // 0 and 7 are both Sunday
  { label: 'day-of-week', min: 0, max: 7, names: DAYS },
];

/** Why a schedule is not valid, or undefined when it is. */
export function cronScheduleError(schedule: string): string | undefined {
  const trimmed = schedule.trim();
  if (trimmed.startsWith('@')) {
    return (CRON_NICKNAMES as readonly string[]).includes(trimmed)
      ? undefined
      : `unknown nickname "${trimmed}" (known: ${CRON_NICKNAMES.join(' ')})`;
  }
  const parts = trimmed.split(/[ \t]+/).filter((p) => p !== '');
  if (parts.length !== FIELDS.length) {
    const hint = parts.length > FIELDS.length ? '; the command goes in "command" and the user in "user"' : '';
    return `must have 5 fields (minute hour day-of-month month day-of-week) or be a nickname like @daily, found ${parts.length} field${parts.length === 1 ? '' : 's'}${hint}`;
  }
  for (let i = 0; i < FIELDS.length; i++) {
    const reason = fieldError(parts[i]!, FIELDS[i]!);
    if (reason) return `${FIELDS[i]!.label} field "${parts[i]}": ${reason}`;
  }
  return undefined;
}

function fieldError(text: string, field: CronField): string | undefined {
  for (const item of text.split(',')) {
    if (item === '') return 'empty list item';
    const reason = itemError(item, field);
    if (reason) return reason;
  }
  return undefined;
}

function itemError(item: string, field: CronField): string | undefined {
  const slash = item.indexOf('/');
  const base = slash < 0 ? item : item.slice(0, slash);
  if (slash >= 0) {
    const step = item.slice(slash + 1);
    if (!/^[0-9]+$/.test(step)) return `step "${step}" must be a number`;
    const n = Number(step);
    if (n < 1 || n > field.max) return `step ${n} is out of range 1-${field.max}`;
    if (base !== '*' && !base.includes('-')) return `a step needs '*' or a range before it (like */${n} or ${field.min}-${field.max}/${n})`;
  }
  if (base === '*') return undefined;
  const dash = base.indexOf('-');
  if (dash < 0) return valueError(base, field).reason;
  const from = valueError(base.slice(0, dash), field);
  if (from.reason) return from.reason;
  const to = valueError(base.slice(dash + 1), field);
  if (to.reason) return to.reason;
  if (from.value! > to.value!) return `range ${base} goes backwards`;
  return undefined;
}

function valueError(text: string, field: CronField): { value?: number; reason?: string } {
  if (/^[0-9]+$/.test(text)) {
    const value = Number(text);
    if (value < field.min || value > field.max) return { reason: `${value} is out of range ${field.min}-${field.max}` };
    return { value };
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index >= 0) return { value: index + field.min };
  if (text === '') return { reason: 'missing value' };
  const names = field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : '';
  return { reason: `"${text}" is not a number ${field.min}-${field.max}${names}` };
}
