import { pointerSegment } from '../descriptor/schema.js';
import type { DependencyMap } from '../descriptor/types.js';
import { semverRangeToRpm, type RangeOptions } from './semver-range.js';
import { type Dependency } from '../rpm/dependency.js';
import { KpkgError } from '../errors.js';

/** `{ capability: semver range }` of the descriptor as RPM dependencies, naming the field on error. */
export function dependencyList(map: DependencyMap, field: string, options: RangeOptions = {}): Dependency[] {
  const out: Dependency[] = [];
  for (const [capability, range] of Object.entries(map)) {
    try {
      out.push(...semverRangeToRpm(capability, range, options));
    } catch (e) {
      throw new KpkgError('INVALID_DESCRIPTOR', `component.json: /${field}/${pointerSegment(capability)}: ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
}
