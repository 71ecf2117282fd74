/**
 * The questions every archetype asks, as data: each has a command-line option of its own name, a
 * default, and a validator that is a pure function (message on error, undefined when valid). The
 * Yeoman lifecycle in base.ts only decides where an answer comes from.
 */
import { COMPONENT_TYPES, cronScheduleError, type ComponentType } from '../../packager/descriptor/index.js';

export interface Answers {
  type: ComponentType;
  name: string;
  summary: string;
  /** webapp, web-service */
  port?: number;
  /** processing */
  schedule?: string;
  /** monitoring: percent of the file system used */
  warning?: number;
  critical?: number;
}

export type AnswerKey = Exclude<keyof Answers, 'type' | 'name'> | 'type' | 'name';

export interface Question {
  key: AnswerKey;
  /** Command-line option (and .yo-rc.json field): `--<option>` */
  option: string;
  message: string;
  kind: 'input' | 'number' | 'select';
  choices?: readonly string[];
  default: (a: Partial<Answers>) => string | number;
  /** An error message, or undefined when the value is fine. */
  validate: (value: unknown, a: Partial<Answers>) => string | undefined;
  /** From the option's string to the answer's value. */
  parse: (text: string) => unknown;
}

/** An answer refused by its validator: bad input (kpkg new exits 2), recognised by its name. */
export class AnswerError extends Error {
  override readonly name = 'AnswerError';
}

const NAME_RE = /^[a-z][a-z0-9-]*$/;

export function nameError(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'a component name is required';
  if (!NAME_RE.test(value)) return `component name ${JSON.stringify(value)}: use lower-case letters, digits and '-', starting with a letter (^[a-z][a-z0-9-]*$)`;
  if (value.length > 64) return `component name ${JSON.stringify(value)}: at most 64 characters`;
  if (value.endsWith('-')) return `component name ${JSON.stringify(value)}: must not end with '-'`;
  return undefined;
}

export function typeError(value: unknown): string | undefined {
  return typeof value === 'string' && (COMPONENT_TYPES as readonly string[]).includes(value) ? undefined : `component type ${JSON.stringify(value)}: one of ${COMPONENT_TYPES.join(', ')}`;
}

export function summaryError(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'a summary is required';
  if (/[\r\n]/.test(value)) return 'the summary is one line';
  if (value.length > 200) return 'the summary has at most 200 characters';
  return undefined;
}

export function portError(value: unknown): string | undefined {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535 ? undefined : `port ${JSON.stringify(value)}: an integer from 1 to 65535`;
}

export function scheduleError(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'a cron schedule is required, e.g. "*/15 * * * *"';
  const problem = cronScheduleError(value);
  return problem === undefined ? undefined : `cron schedule ${JSON.stringify(value)}: ${problem}`;
}

export function percentError(label: string, value: unknown): string | undefined {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 100 ? undefined : `${label} ${JSON.stringify(value)}: an integer percentage from 0 to 100`;
}

const asText = (t: string): unknown => t;
const asNumber = (t: string): unknown => (/^\s*-?\d+\s*$/.test(t) ? Number.parseInt(t, 10) : t);

export const TYPE_QUESTION: Question = {
  key: 'type',
  option: 'type',
  message: 'Which kind of component?',
  kind: 'select',
  choices: COMPONENT_TYPES,
  default: () => 'webapp',
  validate: typeError,
  parse: asText,
};

export const NAME_QUESTION: Question = {
  key: 'name',
  option: 'name',
  message: 'Component name (the RPM name)',
  kind: 'input',
  default: (a) => `my-${a.type ?? 'component'}`,
  validate: nameError,
  parse: asText,
};

const TYPE_LABEL: Record<ComponentType, string> = {
  webapp: 'web application',
  'web-service': 'web service',
  processing: 'batch job',
  'db-schema': 'database schema',
  monitoring: 'Nagios check',
};

/** The questions after type and name, for a component of `type`. */
export function questionsFor(type: ComponentType): Question[] {
  const questions: Question[] = [
    {
      key: 'summary',
      option: 'summary',
      message: 'One-line summary',
      kind: 'input',
      default: (a) => `The ${a.name ?? 'component'} ${TYPE_LABEL[type]}`,
      validate: summaryError,
      parse: asText,
    },
  ];
  if (type === 'webapp' || type === 'web-service') {
    questions.push({ key: 'port', option: 'port', message: 'Default HTTP port (config key listen_port)', kind: 'number', default: () => 8080, validate: portError, parse: asNumber });
  }
  if (type === 'processing') {
    questions.push({ key: 'schedule', option: 'schedule', message: 'Cron schedule of the batch', kind: 'input', default: () => '*/15 * * * *', validate: scheduleError, parse: asText });
  }
  if (type === 'monitoring') {
    questions.push(
      { key: 'warning', option: 'warning', message: 'Default WARNING threshold (% of the file system used)', kind: 'number', default: () => 90, validate: (v) => percentError('warning threshold', v), parse: asNumber },
      {
        key: 'critical',
        option: 'critical',
        message: 'Default CRITICAL threshold (% of the file system used)',
        kind: 'number',
        default: (a) => Math.max(95, a.warning ?? 0),
        validate: (v, a) => percentError('critical threshold', v) ?? (typeof a.warning === 'number' && (v as number) < a.warning ? `critical threshold ${String(v)}: must not be below the warning threshold ${a.warning}` : undefined),
        parse: asNumber,
      },
    );
  }
  return questions;
}
