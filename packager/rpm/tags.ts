/**
 * Tag numbers and data types of the RPM v4 header format, as rpm's include/rpm/rpmtag.h
 * defines them: every tag kpkg reads or writes is defined here and nowhere else, with its number
 * and its type in one entry. A tag written with another type than rpm's table says is read wrongly
 * or rejected by some rpm versions, so the writer takes the type from here.
 */

/** Data types of header entries (rpmTagType_e, rpmtag.h). */
export const enum TagType {
  NULL = 0,
  CHAR = 1,
  INT8 = 2,
  INT16 = 3,
  INT32 = 4,
  INT64 = 5,
  STRING = 6,
  BIN = 7,
  STRING_ARRAY = 8,
  I18NSTRING = 9,
}

type TagTable = Readonly<Record<string, readonly [number, TagType]>>;

/** Tags of the main header (rpmTag_e, rpmtag.h): name -> [number, type]. */
const MAIN_TAGS = {
  HEADERIMAGE: [61, TagType.BIN], // region tag of a legacy (pre-rpm 4) header
  HEADERSIGNATURES: [62, TagType.BIN], // region tag of the signature header
  HEADERIMMUTABLE: [63, TagType.BIN], // region tag of the main header
  HEADERI18NTABLE: [100, TagType.STRING_ARRAY], // locales of I18NSTRING entries

  NAME: [1000, TagType.STRING],
  VERSION: [1001, TagType.STRING],
  RELEASE: [1002, TagType.STRING],
  EPOCH: [1003, TagType.INT32],
  SUMMARY: [1004, TagType.I18NSTRING],
  DESCRIPTION: [1005, TagType.I18NSTRING],
  BUILDTIME: [1006, TagType.INT32],
  BUILDHOST: [1007, TagType.STRING],
  SIZE: [1009, TagType.INT32],
  DISTRIBUTION: [1010, TagType.STRING],
  VENDOR: [1011, TagType.STRING],
  LICENSE: [1014, TagType.STRING],
  PACKAGER: [1015, TagType.STRING],
  GROUP: [1016, TagType.I18NSTRING],
  URL: [1020, TagType.STRING],
  OS: [1021, TagType.STRING],
  ARCH: [1022, TagType.STRING],
  PREIN: [1023, TagType.STRING],
  POSTIN: [1024, TagType.STRING],
  PREUN: [1025, TagType.STRING],
  POSTUN: [1026, TagType.STRING],
  OLDFILENAMES: [1027, TagType.STRING_ARRAY],
  FILESIZES: [1028, TagType.INT32],
  FILEMODES: [1030, TagType.INT16],
  FILERDEVS: [1033, TagType.INT16],
  FILEMTIMES: [1034, TagType.INT32],
  FILEDIGESTS: [1035, TagType.STRING_ARRAY],
  FILELINKTOS: [1036, TagType.STRING_ARRAY],
  FILEFLAGS: [1037, TagType.INT32],
  FILEUSERNAME: [1039, TagType.STRING_ARRAY],
  FILEGROUPNAME: [1040, TagType.STRING_ARRAY],
  SOURCERPM: [1044, TagType.STRING],
  FILEVERIFYFLAGS: [1045, TagType.INT32],
  ARCHIVESIZE: [1046, TagType.INT32],
  PROVIDENAME: [1047, TagType.STRING_ARRAY],
  REQUIREFLAGS: [1048, TagType.INT32],
  REQUIRENAME: [1049, TagType.STRING_ARRAY],
  REQUIREVERSION: [1050, TagType.STRING_ARRAY],
  CONFLICTFLAGS: [1053, TagType.INT32],
  CONFLICTNAME: [1054, TagType.STRING_ARRAY],
  CONFLICTVERSION: [1055, TagType.STRING_ARRAY],
  RPMVERSION: [1064, TagType.STRING],
  TRIGGERSCRIPTS: [1065, TagType.STRING_ARRAY], // one body per trigger script
  TRIGGERNAME: [1066, TagType.STRING_ARRAY], // one entry per condition; TRIGGERINDEX names its script
  TRIGGERVERSION: [1067, TagType.STRING_ARRAY],
  TRIGGERFLAGS: [1068, TagType.INT32], // RPMSENSE_TRIGGER* and the comparison
  TRIGGERINDEX: [1069, TagType.INT32],
  VERIFYSCRIPT: [1079, TagType.STRING],
  CHANGELOGTIME: [1080, TagType.INT32],
  CHANGELOGNAME: [1081, TagType.STRING_ARRAY],
  CHANGELOGTEXT: [1082, TagType.STRING_ARRAY],
  // s[] as rpmtag.h says; rpmbuild 4.18 stores a lone interpreter as a plain string, rpm reads both
  PREINPROG: [1085, TagType.STRING_ARRAY],
  POSTINPROG: [1086, TagType.STRING_ARRAY],
  PREUNPROG: [1087, TagType.STRING_ARRAY],
  POSTUNPROG: [1088, TagType.STRING_ARRAY],
  OBSOLETENAME: [1090, TagType.STRING_ARRAY],
  VERIFYSCRIPTPROG: [1091, TagType.STRING_ARRAY],
  TRIGGERSCRIPTPROG: [1092, TagType.STRING_ARRAY],
  FILEDEVICES: [1095, TagType.INT32],
  FILEINODES: [1096, TagType.INT32],
  FILELANGS: [1097, TagType.STRING_ARRAY],
  PREFIXES: [1098, TagType.STRING_ARRAY],
  SOURCEPACKAGE: [1106, TagType.INT32], // set in source packages
  PROVIDEFLAGS: [1112, TagType.INT32],
  PROVIDEVERSION: [1113, TagType.STRING_ARRAY],
  OBSOLETEFLAGS: [1114, TagType.INT32],
  OBSOLETEVERSION: [1115, TagType.STRING_ARRAY],
  DIRINDEXES: [1116, TagType.INT32],
  BASENAMES: [1117, TagType.STRING_ARRAY],
  DIRNAMES: [1118, TagType.STRING_ARRAY],
  PAYLOADFORMAT: [1124, TagType.STRING],
  PAYLOADCOMPRESSOR: [1125, TagType.STRING],
  PAYLOADFLAGS: [1126, TagType.STRING],
  PLATFORM: [1132, TagType.STRING],
  FILECOLORS: [1140, TagType.INT32],
  PRETRANS: [1151, TagType.STRING],
  POSTTRANS: [1152, TagType.STRING],
  PRETRANSPROG: [1153, TagType.STRING_ARRAY],
  POSTTRANSPROG: [1154, TagType.STRING_ARRAY],
  OLDSUGGESTSNAME: [1156, TagType.STRING_ARRAY], // pre-4.12 weak dependencies (SUSE's rpm 4.x Suggests)
  OLDSUGGESTSVERSION: [1157, TagType.STRING_ARRAY],
  OLDSUGGESTSFLAGS: [1158, TagType.INT32],
  OLDENHANCESNAME: [1159, TagType.STRING_ARRAY],
  OLDENHANCESVERSION: [1160, TagType.STRING_ARRAY],
  OLDENHANCESFLAGS: [1161, TagType.INT32],
  LONGFILESIZES: [5008, TagType.INT64],
  LONGSIZE: [5009, TagType.INT64],
  FILECAPS: [5010, TagType.STRING_ARRAY],
  FILEDIGESTALGO: [5011, TagType.INT32],
  BUGURL: [5012, TagType.STRING],
  ORDERNAME: [5035, TagType.STRING_ARRAY], // OrderWithRequires
  ORDERVERSION: [5036, TagType.STRING_ARRAY],
  ORDERFLAGS: [5037, TagType.INT32],
  RECOMMENDNAME: [5046, TagType.STRING_ARRAY],
  RECOMMENDVERSION: [5047, TagType.STRING_ARRAY],
  RECOMMENDFLAGS: [5048, TagType.INT32],
  SUGGESTNAME: [5049, TagType.STRING_ARRAY],
  SUGGESTVERSION: [5050, TagType.STRING_ARRAY],
  SUGGESTFLAGS: [5051, TagType.INT32],
  SUPPLEMENTNAME: [5052, TagType.STRING_ARRAY],
  SUPPLEMENTVERSION: [5053, TagType.STRING_ARRAY],
  SUPPLEMENTFLAGS: [5054, TagType.INT32],
  ENHANCENAME: [5055, TagType.STRING_ARRAY],
  ENHANCEVERSION: [5056, TagType.STRING_ARRAY],
  ENHANCEFLAGS: [5057, TagType.INT32],
  ENCODING: [5062, TagType.STRING],
  FILETRIGGERSCRIPTS: [5066, TagType.STRING_ARRAY],
  FILETRIGGERSCRIPTPROG: [5067, TagType.STRING_ARRAY],
  FILETRIGGERSCRIPTFLAGS: [5068, TagType.INT32],
  FILETRIGGERNAME: [5069, TagType.STRING_ARRAY], // path prefixes
  FILETRIGGERINDEX: [5070, TagType.INT32],
  FILETRIGGERVERSION: [5071, TagType.STRING_ARRAY],
  FILETRIGGERFLAGS: [5072, TagType.INT32],
  TRANSFILETRIGGERSCRIPTS: [5076, TagType.STRING_ARRAY],
  TRANSFILETRIGGERSCRIPTPROG: [5077, TagType.STRING_ARRAY],
  TRANSFILETRIGGERSCRIPTFLAGS: [5078, TagType.INT32],
  TRANSFILETRIGGERNAME: [5079, TagType.STRING_ARRAY],
  TRANSFILETRIGGERINDEX: [5080, TagType.INT32],
  TRANSFILETRIGGERVERSION: [5081, TagType.STRING_ARRAY],
  TRANSFILETRIGGERFLAGS: [5082, TagType.INT32],
  FILETRIGGERPRIORITIES: [5084, TagType.INT32],
  TRANSFILETRIGGERPRIORITIES: [5085, TagType.INT32],
  FILESIGNATURES: [5090, TagType.STRING_ARRAY], // IMA signatures, hex, one per file ('' for none)
  FILESIGNATURELENGTH: [5091, TagType.INT32],
  PAYLOADDIGEST: [5092, TagType.STRING_ARRAY],
  PAYLOADDIGESTALGO: [5093, TagType.INT32],
  PAYLOADDIGESTALT: [5097, TagType.STRING_ARRAY],
} as const satisfies TagTable;

/** Tags of the signature header (rpmSigTag_e, rpmtag.h). */
const SIGNATURE_TAGS = {
  DSA: [267, TagType.BIN], // OpenPGP DSA/EdDSA signature of the header (RPMTAG_DSAHEADER)
  RSA: [268, TagType.BIN], // OpenPGP RSA signature of the header (RPMTAG_RSAHEADER)
  SHA1: [269, TagType.STRING], // hex SHA-1 of the header
  LONGSIZE: [270, TagType.INT64], // 64-bit SIZE
  LONGARCHIVESIZE: [271, TagType.INT64], // 64-bit PAYLOADSIZE
  SHA256: [273, TagType.STRING], // hex SHA-256 of the header
  OPENPGP: [278, TagType.STRING_ARRAY], // rpm >= 4.20: v6 signatures, one per key
  SIZE: [1000, TagType.INT32], // header + compressed payload size
  PGP: [1002, TagType.BIN], // OpenPGP RSA signature of header + payload (rpmsign --rpmv3)
  MD5: [1004, TagType.BIN], // MD5 of header + compressed payload
  GPG: [1005, TagType.BIN], // OpenPGP DSA/EdDSA signature of header + payload
  PAYLOADSIZE: [1007, TagType.INT32], // uncompressed archive size
  RESERVEDSPACE: [1008, TagType.BIN], // room rpmbuild leaves so that rpmsign can sign in place
} as const satisfies TagTable;

type Numbers<T extends TagTable> = { readonly [K in keyof T]: T[K][0] };

function numbers<T extends TagTable>(table: T): Numbers<T> {
  // the mapped type is what fromEntries builds; TypeScript cannot see it through Object.entries
  return Object.fromEntries(Object.entries(table).map(([name, [num]]) => [name, num])) as Numbers<T>;
}

/** Main header tag numbers by name: `Tag.NAME` is 1000. */
export const Tag = numbers(MAIN_TAGS);
/** Signature header tag numbers by name: `SigTag.SHA256` is 273. */
export const SigTag = numbers(SIGNATURE_TAGS);

/** The type each tag must be written with. */
export const TAG_TYPES: ReadonlyMap<number, TagType> = new Map(Object.values(MAIN_TAGS));
export const SIG_TAG_TYPES: ReadonlyMap<number, TagType> = new Map(Object.values(SIGNATURE_TAGS));

/** Human names for messages and `kpkg inspect --json`. */
export const TAG_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(MAIN_TAGS).map(([name, [num]]) => [num, name]));
export const SIG_TAG_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(SIGNATURE_TAGS).map(([name, [num]]) => [num, name]));

/** The three parallel arrays of each kind of dependency. */
export const DEPENDENCY_TAGS = {
  provides: { name: Tag.PROVIDENAME, version: Tag.PROVIDEVERSION, flags: Tag.PROVIDEFLAGS },
  requires: { name: Tag.REQUIRENAME, version: Tag.REQUIREVERSION, flags: Tag.REQUIREFLAGS },
  conflicts: { name: Tag.CONFLICTNAME, version: Tag.CONFLICTVERSION, flags: Tag.CONFLICTFLAGS },
  obsoletes: { name: Tag.OBSOLETENAME, version: Tag.OBSOLETEVERSION, flags: Tag.OBSOLETEFLAGS },
  recommends: { name: Tag.RECOMMENDNAME, version: Tag.RECOMMENDVERSION, flags: Tag.RECOMMENDFLAGS },
  suggests: { name: Tag.SUGGESTNAME, version: Tag.SUGGESTVERSION, flags: Tag.SUGGESTFLAGS },
  supplements: { name: Tag.SUPPLEMENTNAME, version: Tag.SUPPLEMENTVERSION, flags: Tag.SUPPLEMENTFLAGS },
  enhances: { name: Tag.ENHANCENAME, version: Tag.ENHANCEVERSION, flags: Tag.ENHANCEFLAGS },
} as const;
export type DependencyKind = keyof typeof DEPENDENCY_TAGS;
export const DEPENDENCY_KINDS = Object.keys(DEPENDENCY_TAGS) as DependencyKind[];

/** File flags (rpmfileAttrs_e, rpmfiles.h). */
export const FileFlag = {
  CONFIG: 1 << 0, // %config
  DOC: 1 << 1, // %doc
  MISSINGOK: 1 << 3, // %config(missingok)
  NOREPLACE: 1 << 4, // %config(noreplace)
  GHOST: 1 << 6, // %ghost
  LICENSE: 1 << 7, // %license
  README: 1 << 8, // %readme
  ARTIFACT: 1 << 12, // %artifact
} as const;

/** RPMVERIFY_ALL (rpmfiles.h): verify every attribute. */
export const RPMVERIFY_ALL = 0xffffffff;

/** Digest algorithms (pgpHashAlgo_e, rpmpgp.h). */
export const PGPHASHALGO_SHA256 = 8;

/** Lead and header magics (lib/rpmlead.c, lib/header.c). */
export const LEAD_MAGIC = Buffer.from([0xed, 0xab, 0xee, 0xdb]);
export const HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0x00, 0x00, 0x00, 0x00]);
export const LEAD_SIZE = 96;
/** RPMSIGTYPE_HEADERSIG (rpmlead.h): the lead announces a signature header. */
export const RPMSIGTYPE_HEADERSIG = 5;
