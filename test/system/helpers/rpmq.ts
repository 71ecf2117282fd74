// `rpm -qp --queryformat` as data: many tags in one rpm run, scalars and arrays, with separators
// that cannot occur in any value we write (file names, descriptions and scripts included).
import { runOk } from '../tools.js';

const TAG = '@@KPKG-TAG@@';
const VAL = '@@KPKG-VAL@@';
const ITEM = '@@KPKG-ITEM@@';

/** `NAME`, `FILEMODES:octal`...: a tag, optionally with one of rpm's output formats. */
export type TagQuery = string;

export interface QueryResult {
  /** Scalars: the value rpm printed (`(none)` when absent). */
  scalar(tag: TagQuery): string;
  /** Arrays: one string per element (empty when absent). */
  array(tag: TagQuery): string[];
  /** Whatever rpm printed on stderr: must be empty for a well-formed package. */
  stderr: string;
}

/**
 * Queries `pkg` (a package file, or with `installed` an installed package's name) for `scalars`
 * (`%{TAG}`) and `arrays` (`[%{TAG}...]`, one element per entry).
 */
export function rpmQuery(
  pkg: string,
  scalars: readonly TagQuery[],
  arrays: readonly TagQuery[] = [],
  options: { root?: string; installed?: boolean } = {},
): QueryResult {
  const fmt = (t: TagQuery) => `%{${t}}`;
  const qf = [
    ...scalars.map((t) => `${TAG}s:${t}${VAL}${fmt(t)}`),
    ...arrays.map((t) => `${TAG}a:${t}${VAL}[${fmt(t)}${ITEM}]`),
  ].join('');
  const args = [...(options.root ? ['--root', options.root] : []), options.installed ? '-q' : '-qp', '--queryformat', qf, pkg];
  const { stdout, stderr } = runOk('rpm', args);
  const values = new Map<string, string>();
  for (const chunk of stdout.split(TAG).slice(1)) {
    const at = chunk.indexOf(VAL);
    values.set(chunk.slice(0, at), chunk.slice(at + VAL.length));
  }
  const get = (key: string) => {
    const v = values.get(key);
    if (v === undefined) throw new Error(`rpmQuery: ${key} was not queried`);
    return v;
  };
  return {
    scalar: (t) => get(`s:${t}`),
    array: (t) => {
      const v = get(`a:${t}`);
      if (v === '') return [];
      if (!v.endsWith(ITEM)) throw new Error(`rpmQuery: unexpected output for ${t}: ${JSON.stringify(v.slice(-200))}`);
      return v.slice(0, -ITEM.length).split(ITEM);
    },
    stderr,
  };
}

/** Scalar tags every package of ours has, compared as strings. */
export const SCALAR_TAGS = [
  'NAME',
  'EPOCH',
  'VERSION',
  'RELEASE',
  'SUMMARY',
  'DESCRIPTION',
  'LICENSE',
  'URL',
  'VENDOR',
  'PACKAGER',
  'GROUP',
  'BUILDTIME',
  'BUILDHOST',
  'SOURCERPM',
  'ARCH',
  'OS',
  'PAYLOADFORMAT',
  'PAYLOADCOMPRESSOR',
  'PAYLOADFLAGS',
  'SIZE',
  'PREIN',
  'PREINPROG',
  'POSTIN',
  'POSTINPROG',
  'PREUN',
  'PREUNPROG',
  'POSTUN',
  'POSTUNPROG',
  'PRETRANS',
  'PRETRANSPROG',
  'POSTTRANS',
  'POSTTRANSPROG',
] as const;

/** The per-file arrays, in rpm's own formats where one exists (`:octal`, `:fflags`...). */
export const FILE_TAGS = [
  'FILENAMES',
  'FILEMODES',
  'FILEMODES:octal',
  'FILEMODES:perms',
  'FILESIZES',
  'FILEMTIMES',
  'FILEDIGESTS',
  'FILELINKTOS',
  'FILEFLAGS',
  'FILEFLAGS:fflags',
  'FILEUSERNAME',
  'FILEGROUPNAME',
  'FILEVERIFYFLAGS',
  'FILELANGS',
  'FILEINODES',
  'FILERDEVS',
] as const;

export const DEPENDENCY_KINDS = ['PROVIDE', 'REQUIRE', 'CONFLICT', 'OBSOLETE', 'RECOMMEND', 'SUGGEST', 'SUPPLEMENT', 'ENHANCE'] as const;

/** NAME, FLAGS, FLAGS:depflags and VERSION arrays of every dependency kind. */
export const DEPENDENCY_TAGS = DEPENDENCY_KINDS.flatMap((k) => [`${k}NAME`, `${k}FLAGS`, `${k}FLAGS:depflags`, `${k}VERSION`]);

export const CHANGELOG_TAGS = ['CHANGELOGTIME', 'CHANGELOGNAME', 'CHANGELOGTEXT'] as const;

/** One dependency list, as `name flags version` strings, for set comparisons. */
export function dependencies(q: QueryResult, kind: (typeof DEPENDENCY_KINDS)[number]): string[] {
  const names = q.array(`${kind}NAME`);
  const flags = q.array(`${kind}FLAGS`);
  const versions = q.array(`${kind}VERSION`);
  return names.map((n, i) => `${n} ${flags[i]} ${versions[i]}`);
}
