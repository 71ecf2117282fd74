/**
 * Tag numbers and data types of the RPM v4 header format, as rpm's include/rpm/rpmtag.h
 * defines them. A tag written with another type than rpm's table says is read wrongly or
 * rejected by some rpm versions, so the type of every tag we write is fixed here, in one place.
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

/** Tags of the main header (rpmTag_e, rpmtag.h). */
export const Tag = {
  HEADERSIGNATURES: 62, // region tag of the signature header
  HEADERIMMUTABLE: 63, // region tag of the main header
  HEADERI18NTABLE: 100, // s[] locales of I18NSTRING entries

  NAME: 1000, // s
  VERSION: 1001, // s
  RELEASE: 1002, // s
  EPOCH: 1003, // i
  SUMMARY: 1004, // s{}
  DESCRIPTION: 1005, // s{}
  BUILDTIME: 1006, // i
  BUILDHOST: 1007, // s
  SIZE: 1009, // i
  DISTRIBUTION: 1010, // s
  VENDOR: 1011, // s
  LICENSE: 1014, // s
  PACKAGER: 1015, // s
  GROUP: 1016, // s{}
  URL: 1020, // s
  OS: 1021, // s
  ARCH: 1022, // s
  PREIN: 1023, // s
  POSTIN: 1024, // s
  PREUN: 1025, // s
  POSTUN: 1026, // s
  OLDFILENAMES: 1027, // s[]
  FILESIZES: 1028, // i[]
  FILEMODES: 1030, // h[]
  FILERDEVS: 1033, // h[]
  FILEMTIMES: 1034, // i[]
  FILEDIGESTS: 1035, // s[]
  FILELINKTOS: 1036, // s[]
  FILEFLAGS: 1037, // i[]
  FILEUSERNAME: 1039, // s[]
  FILEGROUPNAME: 1040, // s[]
  SOURCERPM: 1044, // s
  FILEVERIFYFLAGS: 1045, // i[]
  ARCHIVESIZE: 1046, // i
  PROVIDENAME: 1047, // s[]
  REQUIREFLAGS: 1048, // i[]
  REQUIRENAME: 1049, // s[]
  REQUIREVERSION: 1050, // s[]
  CONFLICTFLAGS: 1053, // i[]
  CONFLICTNAME: 1054, // s[]
  CONFLICTVERSION: 1055, // s[]
  RPMVERSION: 1064, // s
  CHANGELOGTIME: 1080, // i[]
  CHANGELOGNAME: 1081, // s[]
  CHANGELOGTEXT: 1082, // s[]
  PREINPROG: 1085, // s[]
  POSTINPROG: 1086, // s[]
  PREUNPROG: 1087, // s[]
  POSTUNPROG: 1088, // s[]
  OBSOLETENAME: 1090, // s[]
  FILEDEVICES: 1095, // i[]
  FILEINODES: 1096, // i[]
  FILELANGS: 1097, // s[]
  PREFIXES: 1098, // s[]
  PROVIDEFLAGS: 1112, // i[]
  PROVIDEVERSION: 1113, // s[]
  OBSOLETEFLAGS: 1114, // i[]
  OBSOLETEVERSION: 1115, // s[]
  DIRINDEXES: 1116, // i[]
  BASENAMES: 1117, // s[]
  DIRNAMES: 1118, // s[]
  PAYLOADFORMAT: 1124, // s
  PAYLOADCOMPRESSOR: 1125, // s
  PAYLOADFLAGS: 1126, // s
  PLATFORM: 1132, // s
  FILECOLORS: 1140, // i[]
  PRETRANS: 1151, // s
  POSTTRANS: 1152, // s
  PRETRANSPROG: 1153, // s[]
  POSTTRANSPROG: 1154, // s[]
  LONGFILESIZES: 5008, // l[]
  LONGSIZE: 5009, // l
  FILECAPS: 5010, // s[]
  FILEDIGESTALGO: 5011, // i
  BUGURL: 5012, // s
  RECOMMENDNAME: 5046, // s[]
  RECOMMENDVERSION: 5047, // s[]
  RECOMMENDFLAGS: 5048, // i[]
  SUGGESTNAME: 5049, // s[]
  SUGGESTVERSION: 5050, // s[]
  SUGGESTFLAGS: 5051, // i[]
  SUPPLEMENTNAME: 5052, // s[]
  SUPPLEMENTVERSION: 5053, // s[]
  SUPPLEMENTFLAGS: 5054, // i[]
  ENHANCENAME: 5055, // s[]
  ENHANCEVERSION: 5056, // s[]
  ENHANCEFLAGS: 5057, // i[]
  ENCODING: 5062, // s
  PAYLOADDIGEST: 5092, // s[]
  PAYLOADDIGESTALGO: 5093, // i
  PAYLOADDIGESTALT: 5097, // s[]
} as const;

/** Tags of the signature header (rpmSigTag_e, rpmtag.h). */
export const SigTag = {
  SIZE: 1000, // i   header + compressed payload size
  MD5: 1004, // x   MD5 of header + compressed payload
  GPG: 1005, // x   OpenPGP signature of header + payload (DSA/RSA/EdDSA)
  PAYLOADSIZE: 1007, // i   uncompressed archive size
  RESERVEDSPACE: 1008, // x
  DSA: 267, // x   OpenPGP DSA/EdDSA signature of the header
  RSA: 268, // x   OpenPGP RSA signature of the header
  SHA1: 269, // s   hex SHA-1 of the header
  LONGSIZE: 270, // l   64-bit SIZE
  LONGARCHIVESIZE: 271, // l   64-bit PAYLOADSIZE
  SHA256: 273, // s   hex SHA-256 of the header
} as const;

/**
 * The type each tag must be written with. Tags not listed cannot be written by us, which keeps a
 * wrong type from slipping in.
 */
export const TAG_TYPES: ReadonlyMap<number, TagType> = new Map<number, TagType>([
  [Tag.HEADERI18NTABLE, TagType.STRING_ARRAY],
  [Tag.NAME, TagType.STRING],
  [Tag.VERSION, TagType.STRING],
  [Tag.RELEASE, TagType.STRING],
  [Tag.EPOCH, TagType.INT32],
  [Tag.SUMMARY, TagType.I18NSTRING],
  [Tag.DESCRIPTION, TagType.I18NSTRING],
  [Tag.BUILDTIME, TagType.INT32],
  [Tag.BUILDHOST, TagType.STRING],
  [Tag.SIZE, TagType.INT32],
  [Tag.DISTRIBUTION, TagType.STRING],
  [Tag.VENDOR, TagType.STRING],
  [Tag.LICENSE, TagType.STRING],
  [Tag.PACKAGER, TagType.STRING],
  [Tag.GROUP, TagType.I18NSTRING],
  [Tag.URL, TagType.STRING],
  [Tag.OS, TagType.STRING],
  [Tag.ARCH, TagType.STRING],
  [Tag.PREIN, TagType.STRING],
  [Tag.POSTIN, TagType.STRING],
  [Tag.PREUN, TagType.STRING],
  [Tag.POSTUN, TagType.STRING],
  [Tag.FILESIZES, TagType.INT32],
  [Tag.FILEMODES, TagType.INT16],
  [Tag.FILERDEVS, TagType.INT16],
  [Tag.FILEMTIMES, TagType.INT32],
  [Tag.FILEDIGESTS, TagType.STRING_ARRAY],
  [Tag.FILELINKTOS, TagType.STRING_ARRAY],
  [Tag.FILEFLAGS, TagType.INT32],
  [Tag.FILEUSERNAME, TagType.STRING_ARRAY],
  [Tag.FILEGROUPNAME, TagType.STRING_ARRAY],
  [Tag.SOURCERPM, TagType.STRING],
  [Tag.FILEVERIFYFLAGS, TagType.INT32],
  [Tag.PROVIDENAME, TagType.STRING_ARRAY],
  [Tag.REQUIREFLAGS, TagType.INT32],
  [Tag.REQUIRENAME, TagType.STRING_ARRAY],
  [Tag.REQUIREVERSION, TagType.STRING_ARRAY],
  [Tag.CONFLICTFLAGS, TagType.INT32],
  [Tag.CONFLICTNAME, TagType.STRING_ARRAY],
  [Tag.CONFLICTVERSION, TagType.STRING_ARRAY],
  [Tag.RPMVERSION, TagType.STRING],
  [Tag.CHANGELOGTIME, TagType.INT32],
  [Tag.CHANGELOGNAME, TagType.STRING_ARRAY],
  [Tag.CHANGELOGTEXT, TagType.STRING_ARRAY],
  // s[] as rpmtag.h says; rpmbuild 4.18 stores a lone interpreter as a plain string, rpm reads both
  [Tag.PREINPROG, TagType.STRING_ARRAY],
  [Tag.POSTINPROG, TagType.STRING_ARRAY],
  [Tag.PREUNPROG, TagType.STRING_ARRAY],
  [Tag.POSTUNPROG, TagType.STRING_ARRAY],
  [Tag.PRETRANSPROG, TagType.STRING_ARRAY],
  [Tag.POSTTRANSPROG, TagType.STRING_ARRAY],
  [Tag.OBSOLETENAME, TagType.STRING_ARRAY],
  [Tag.FILEDEVICES, TagType.INT32],
  [Tag.FILEINODES, TagType.INT32],
  [Tag.FILELANGS, TagType.STRING_ARRAY],
  [Tag.PREFIXES, TagType.STRING_ARRAY],
  [Tag.PROVIDEFLAGS, TagType.INT32],
  [Tag.PROVIDEVERSION, TagType.STRING_ARRAY],
  [Tag.OBSOLETEFLAGS, TagType.INT32],
  [Tag.OBSOLETEVERSION, TagType.STRING_ARRAY],
  [Tag.DIRINDEXES, TagType.INT32],
  [Tag.BASENAMES, TagType.STRING_ARRAY],
  [Tag.DIRNAMES, TagType.STRING_ARRAY],
  [Tag.PAYLOADFORMAT, TagType.STRING],
  [Tag.PAYLOADCOMPRESSOR, TagType.STRING],
  [Tag.PAYLOADFLAGS, TagType.STRING],
  [Tag.PLATFORM, TagType.STRING],
  [Tag.FILECOLORS, TagType.INT32],
  [Tag.PRETRANS, TagType.STRING],
  [Tag.POSTTRANS, TagType.STRING],
  [Tag.LONGFILESIZES, TagType.INT64],
  [Tag.LONGSIZE, TagType.INT64],
  [Tag.FILECAPS, TagType.STRING_ARRAY],
  [Tag.FILEDIGESTALGO, TagType.INT32],
  [Tag.BUGURL, TagType.STRING],
  [Tag.RECOMMENDNAME, TagType.STRING_ARRAY],
  [Tag.RECOMMENDVERSION, TagType.STRING_ARRAY],
  [Tag.RECOMMENDFLAGS, TagType.INT32],
  [Tag.SUGGESTNAME, TagType.STRING_ARRAY],
  [Tag.SUGGESTVERSION, TagType.STRING_ARRAY],
  [Tag.SUGGESTFLAGS, TagType.INT32],
  [Tag.SUPPLEMENTNAME, TagType.STRING_ARRAY],
  [Tag.SUPPLEMENTVERSION, TagType.STRING_ARRAY],
  [Tag.SUPPLEMENTFLAGS, TagType.INT32],
  [Tag.ENHANCENAME, TagType.STRING_ARRAY],
  [Tag.ENHANCEVERSION, TagType.STRING_ARRAY],
  [Tag.ENHANCEFLAGS, TagType.INT32],
  [Tag.ENCODING, TagType.STRING],
  [Tag.PAYLOADDIGEST, TagType.STRING_ARRAY],
  [Tag.PAYLOADDIGESTALGO, TagType.INT32],
  [Tag.PAYLOADDIGESTALT, TagType.STRING_ARRAY],
]);

export const SIG_TAG_TYPES: ReadonlyMap<number, TagType> = new Map<number, TagType>([
  [SigTag.SIZE, TagType.INT32],
  [SigTag.MD5, TagType.BIN],
  [SigTag.GPG, TagType.BIN],
  [SigTag.PAYLOADSIZE, TagType.INT32],
  [SigTag.RESERVEDSPACE, TagType.BIN],
  [SigTag.DSA, TagType.BIN],
  [SigTag.RSA, TagType.BIN],
  [SigTag.SHA1, TagType.STRING],
  [SigTag.LONGSIZE, TagType.INT64],
  [SigTag.LONGARCHIVESIZE, TagType.INT64],
  [SigTag.SHA256, TagType.STRING],
]);

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

/** Human names for messages and `kpkg inspect --json`. */
export const TAG_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(Tag).map(([name, num]) => [num as number, name]),
);
export const SIG_TAG_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(SigTag).map(([name, num]) => [num as number, name]),
);
