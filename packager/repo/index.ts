// The yum repository: records and XML (record.ts, xml.ts), metadata files (metadata.ts), and the
// publisher (publish.ts) with its lock (lock.ts) and incremental store (store.ts).
export { checkRepository, indexRepository, packageHref, packagesToPrune, publish, pruneRepository, DEFAULT_GRACE_MS, DEFAULT_LOCK_TIMEOUT_MS, type CheckReport, type PublishResult, type RepoOptions } from './publish.js';
export { acquireLock, type Lock, type LockOptions, type LockOwner } from './lock.js';
export { loadState, type RepoState, type StoredPackage } from './store.js';
