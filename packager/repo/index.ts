// The yum repository: records and XML (record.ts, xml.ts), metadata files (metadata.ts), and the
// commands publish.ts, reindex.ts, prune.ts, check.ts, each run in a session (session.ts) holding
// the lock (lock.ts) over the incremental store (store.ts); packages are read by read.ts.
export { publish } from './publish.js';
export { indexRepository } from './reindex.js';
export { packagesToPrune, pruneRepository } from './prune.js';
export { checkRepository, type CheckReport } from './check.js';
export { packageHref } from './read.js';
export { DEFAULT_GRACE_MS, DEFAULT_LOCK_TIMEOUT_MS, type PublishResult, type RepoOptions } from './session.js';
export { acquireLock, type Lock, type LockOptions, type LockOwner } from './lock.js';
export { loadState, type RepoState, type StoredPackage } from './store.js';
