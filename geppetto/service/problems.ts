/** The refusal of a state that has problems (conflicts, type errors, missing keys...): HTTP 422, exit 2. */
import { KpkgError } from '../../packager/errors.js';
import type { Problem } from '../model.js';

const problemSummary = (problems: Problem[]): string => {
  const first = problems[0];
  if (!first) return '';
  const where = [first.server, first.key].filter((s) => s !== undefined).join(' ');
  return `${where ? `${where}: ` : ''}${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''}`;
};

/** A refused change: the problems that block publishing, the first one in the message. */
export class ProblemsError extends KpkgError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super('INVALID_INPUT', `cannot publish: ${problemSummary(problems)}`);
    this.name = 'ProblemsError';
    this.problems = problems;
  }
}
