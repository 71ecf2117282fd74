/** Geppetto's service, as the CLI and the HTTP layer use it. */
import { KpkgError } from '../../packager/errors.js';
import { storeError } from '../store/index.js';

export { storeError } from '../store/index.js';

export { Geppetto, openGeppetto, type GeppettoOptions } from './geppetto.js';
export { cliPrincipal, principalName, ROLES, type Principal, type Role } from './access.js';
export { ProblemsError } from './problems.js';
export { SECRET_MASK } from './secrets.js';
export { describeRef, type EntityBody, type EntityKind, type EntityRef } from './entities.js';
export type { ChangesetInfo } from './changesets.js';
export type { Preview, ServerPreview } from './preview.js';
export type { PublishResult } from './publish.js';
export { maskNodeFile, type ChangesetRevisions, type NodeFileAnswer } from './revisions.js';
export type { RefreshResult, UnpublishedVersion } from './catalog-refresh.js';
export { componentVersionsView, type ComponentVersionView } from './catalog-view.js';
export type { ReportInput, ServerHealth, ServerStatus } from './reports.js';
export type { AuditEntry } from './audit.js';
export type { SessionInfo, UserInfo } from './users.js';
export type { NodeFile } from './engine.js';

/** The HTTP status of an error the service threw (the HTTP layer's one mapping). */
export function httpStatusFor(thrown: unknown): number {
  const err = storeError(thrown);
  if (!(err instanceof KpkgError)) return 500;
  switch (err.code) {
    case 'USAGE':
    case 'INVALID_INPUT':
    case 'INVALID_DESCRIPTOR':
    case 'BAD_PACKAGE':
      return err.name === 'ProblemsError' ? 422 : 400;
    case 'CONFLICT':
    case 'PACKAGE_CONFLICT':
      return 409;
    case 'NOT_FOUND':
      return 404;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'RATE_LIMITED':
      return 429;
    case 'LOCK_TIMEOUT':
      return 503;
    default:
      return 500;
  }
}
