// The yum repository: records and XML (record.ts, xml.ts), metadata files (metadata.ts), and the
// commands publish.ts, reindex.ts, prune.ts, check.ts, each run in a session (session.ts) holding
// the lock (lock.ts) over the state (state.ts) and the segments (store.ts); read.ts reads packages.
export { publish } from './publish.js';
export { indexRepository } from './reindex.js';
export { packagesToPrune, pruneRepository } from './prune.js';
export { checkRepository, type CheckReport } from './check.js';
export { packageHref } from './read.js';
export { DEFAULT_GRACE_MS, DEFAULT_LOCK_TIMEOUT_MS, type PublishResult, type RepoOptions } from './session.js';
export { acquireLock, type Lock, type LockOptions, type LockOwner } from './lock.js';
export { loadState, type RepoState, type StoredPackage } from './state.js';
