/** The component descriptor: what other parts import. */
export * from './types.js';
export { loadComponent, resolveComponent, DEFAULT_LICENSE, DESCRIPTOR_FILE, PACKAGE_FILE, rpmVersionProblem } from './load.js';
export { mapFiles, addParentDirectories, compareBytes, exclusionMatcher, type MappedFile } from './files.js';
export { conventionFor, type TypeConvention } from './conventions.js';
export { SYSTEM_DIRS, isSystemDir } from './paths.js';
export { RESERVED_KEY_NAMES, moduleName } from './names.js';
export { cronScheduleError, CRON_NICKNAMES } from './cron.js';
export { parseJson } from './json.js';
export { validateDescriptor, schemaPath } from './schema.js';
