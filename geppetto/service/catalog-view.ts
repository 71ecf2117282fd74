/**
 * A component's versions as people and scripts see them, for the API's /components and the UI's
 * component pages alike: in rpm's version order, each with its configuration keys (a secret key's
 * default masked) and its module's own parameters apart.
 */
import { compareEVR, parseEVR } from '../../packager/rpm/version.js';
import type { ComponentVersion, Value } from '../model.js';
import { SECRET_MASK } from './secrets.js';

export interface ComponentVersionView {
  evr: string;
  package: string;
  class: string;
  repository: string;
  /** The configuration keys ops set; `default` absent when the key has none (it must then be set). */
  keys: { name: string; type: string; default?: Value; secret: boolean; description?: string }[];
  /** The module's own parameters (config_dir, manage_service...), by name. */
  builtins: string[];
}

/** The versions of one component, oldest first as rpm orders them (1.10.0 after 1.9.0). */
export function componentVersionsView(versions: Readonly<Record<string, ComponentVersion>>): ComponentVersionView[] {
  return Object.values(versions)
    .sort((a, b) => compareEVR(parseEVR(a.evr), parseEVR(b.evr)))
    .map((v) => ({
      evr: v.evr,
      package: v.package,
      class: v.class,
      repository: v.repository,
      keys: v.parameters
        .filter((p) => !p.builtin)
        .map((p) => ({
          name: p.name,
          type: p.type,
          ...(p.default !== undefined ? { default: p.secret ? SECRET_MASK : p.default } : {}),
          secret: p.secret,
          ...(p.description !== undefined ? { description: p.description } : {}),
        })),
      builtins: v.parameters.filter((p) => p.builtin).map((p) => p.name),
    }));
}
