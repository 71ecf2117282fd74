import { describe, expect, it } from 'vitest';
import { resolveComponent } from '../../../packager/descriptor/load.js';
import { KpkgError } from '../../../packager/errors.js';

const base = { name: 'shop', type: 'webapp', version: '1.0.0' };
const batch = { ...base, type: 'processing' };
const file = (m: Record<string, unknown>) => ({ ...base, files: [{ src: 'dist', dest: 'lib', ...m }] });
const key = (k: string, spec: unknown) => ({ ...base, config: { keys: { [k]: spec } } });
const dep = (map: Record<string, unknown>) => ({ ...base, requires: map });

/** [what, descriptor, JSON pointer named, something the message must also say] */
const CASES: [string, unknown, string, string][] = [
  ['descriptor is not an object', [], '', 'must be a JSON object'],
  ['no name', { type: 'webapp' }, '/name', 'is required'],
  ['no type', { name: 'shop' }, '/type', 'is required'],
  ['name in upper case', { ...base, name: 'Shop' }, '/name', 'lower case'],
  ['name starting with a digit', { ...base, name: '1shop' }, '/name', 'starting with a letter'],
  ['name with an underscore', { ...base, name: 'my_shop' }, '/name', 'lower case letters, digits'],
  ['name of 65 characters', { ...base, name: 'a'.repeat(65) }, '/name', 'at most 64'],
  ['name a Puppet reserved word', { ...base, name: 'class' }, '/name', 'reserved in Puppet'],
  ['unknown type', { ...base, type: 'webap' }, '/type', 'must be one of webapp, web-service, processing, db-schema, monitoring (got "webap")'],
  ['version with a v', { ...base, version: 'v1.0.0' }, '/version', 'semantic version'],
  ['version with two numbers', { ...base, version: '1.0' }, '/version', 'semantic version'],
  ['version a number', { ...base, version: 1 }, '/version', 'must be a string (got 1)'],
  ['prerelease with a hyphen', { ...base, version: '1.0.0-alpha-1' }, '/version', '"alpha.1"'],
  ['misspelt field', { ...base, verison: '1.0.0' }, '/verison', 'unknown field; did you mean "version"?'],
  ['unknown field', { ...base, colour: 'red' }, '/colour', 'unknown field (known fields: $schema, name'],
  ['summary on two lines', { ...base, summary: 'a\nb' }, '/summary', 'one non-empty line'],
  ['url without a scheme', { ...base, url: 'example.com' }, '/url', 'must be a URL'],
  ['release with a hyphen', { ...base, release: '1-2' }, '/release', "no '-'"],
  ['relative prefix', { ...base, prefix: 'opt/shop' }, '/prefix', 'absolute path'],
  ['prefix with ..', { ...base, prefix: '/opt/../etc' }, '/prefix', "'..'"],
  ['prefix with a final /', { ...base, prefix: '/opt/shop/' }, '/prefix', "final '/'"],
  ['prefix a shared directory', { ...base, prefix: '/opt/kelkoo' }, '/prefix', 'not the shared /opt/kelkoo'],
  ['user in upper case', { ...base, user: 'Shop' }, '/user', 'system user or group name'],
  ['default user too long', { ...base, name: `a${'b'.repeat(40)}` }, '/user', '32 characters'],
  ['files not an array', { ...base, files: { src: 'a' } }, '/files', 'must be an array'],
  ['mapping without dest', { ...base, files: [{ src: 'dist' }] }, '/files/0/dest', 'is required'],
  ['mapping with dst', { ...base, files: [{ src: 'dist', dst: 'lib' }] }, '/files/0/dst', 'did you mean "dest"?'],
  ['absolute src', file({ src: '/etc/passwd' }), '/files/0/src', 'not absolute'],
  ['src escaping the component', { ...base, files: [{ src: 'a', dest: 'a' }, { src: 'x/../../y', dest: 'b' }] }, '/files/1/src', 'must stay inside the component directory'],
  ['src with a newline', file({ src: 'a\nb' }), '/files/0/src', 'one line'],
  ['empty src', file({ src: '' }), '/files/0/src', 'must not be empty'],
  [
    'relative dest escaping the prefix',
    { ...base, files: [{ src: 'a', dest: 'a' }, { src: 'b', dest: 'b' }, { src: 'c', dest: '../../etc/cron.d/evil' }] },
    '/files/2/dest',
    'must stay inside the prefix (/opt/kelkoo/shop)',
  ],
  ['absolute dest with ..', file({ dest: '/opt/kelkoo/shop/../other' }), '/files/0/dest', "'..'"],
  ['mode not octal', file({ mode: '0999' }), '/files/0/mode', 'octal mode like "0755"'],
  ['mode too large', file({ mode: 4096 }), '/files/0/mode', 'between 0 and 4095'],
  ['mode a boolean', file({ mode: true }), '/files/0/mode', 'must be a string or an integer (got true)'],
  ['config not a boolean', file({ config: 'yes' }), '/files/0/config', 'must be a boolean'],
  ['exclude a string', file({ exclude: '*.map' }), '/files/0/exclude', 'must be an array'],
  ['owner not a user name', file({ user: 'root user' }), '/files/0/user', 'system user'],
  ['capability with a space', dep({ 'my lib': '*' }), '/requires/my lib', 'no spaces'],
  ['capability with a comma', dep({ 'a,b': '*' }), '/requires/a,b', 'commas'],
  ['capability with an operator', dep({ 'nodejs>=20': '*' }), '/requires/nodejs>=20', '< > ='],
  ['path capability with a space', { ...base, provides: { '/usr/bin/x y': '1.0.0' } }, '/provides/~1usr~1bin~1x y', 'no spaces'],
  ['range not semver', dep({ nodejs: 'latest' }), '/requires/nodejs', 'semver range'],
  ['range a number', { ...base, conflicts: { old: 2 } }, '/conflicts/old', 'must be a string'],
  ['cron on a webapp', { ...base, cron: [{ schedule: '@daily' }] }, '/cron', 'only a processing component'],
  ['cron without schedule', { ...batch, cron: [{ command: 'x' }] }, '/cron/0/schedule', 'is required'],
  ['cron with 4 fields', { ...batch, cron: [{ schedule: '* * * *' }] }, '/cron/0/schedule', 'must have 5 fields'],
  ['cron with the command in the schedule', { ...batch, cron: [{ schedule: '* * * * * /bin/true' }] }, '/cron/0/schedule', 'the command goes in "command"'],
  ['cron minute 60', { ...batch, cron: [{ schedule: '@daily' }, { schedule: '60 * * * *' }] }, '/cron/1/schedule', 'minute field "60": 60 is out of range 0-59'],
  ['cron hour range backwards', { ...batch, cron: [{ schedule: '0 9-5 * * *' }] }, '/cron/0/schedule', 'range 9-5 goes backwards'],
  ['cron step 0', { ...batch, cron: [{ schedule: '*/0 * * * *' }] }, '/cron/0/schedule', 'step 0 is out of range'],
  ['cron bad day name', { ...batch, cron: [{ schedule: '0 0 * * funday' }] }, '/cron/0/schedule', 'day-of-week field "funday"'],
  ['cron unknown nickname', { ...batch, cron: [{ schedule: '@fortnightly' }] }, '/cron/0/schedule', 'unknown nickname'],
  ['cron command on two lines', { ...batch, cron: [{ schedule: '@daily', command: 'a\nb' }] }, '/cron/0/command', 'one line'],
  ['cron command with NUL', { ...batch, cron: [{ schedule: '@daily', command: 'a\u0000b' }] }, '/cron/0/command', 'one line'],
  ['config key in camel case', key('listenPort', { type: 'Integer' }), '/config/keys/listenPort', 'lower case letters, digits and'],
  ['config key with a hyphen', key('db-host', { type: 'String' }), '/config/keys/db-host', 'Puppet parameter names'],
  ['config key a metaparameter', key('notify', { type: 'String' }), '/config/keys/notify', 'is reserved'],
  ['config key a module parameter', key('manage_service', { type: 'Boolean' }), '/config/keys/manage_service', 'is reserved'],
  ['config key a reserved word', key('unless', { type: 'String' }), '/config/keys/unless', 'is reserved'],
  ['config key $name', key('name', { type: 'String' }), '/config/keys/name', 'is reserved'],
  ['config key without type', key('port', { default: 1 }), '/config/keys/port/type', 'is required'],
  ['config key type in lower case', key('port', { type: 'integer' }), '/config/keys/port/type', 'must be one of String, Integer'],
  ['Integer default a string', key('port', { type: 'Integer', default: '8080' }), '/config/keys/port/default', 'must be an integer to match the key\'s type Integer (got "8080")'],
  ['Integer default a fraction', key('port', { type: 'Integer', default: 80.5 }), '/config/keys/port/default', 'an integer'],
  ['Float default a string', key('ratio', { type: 'Float', default: '0.5' }), '/config/keys/ratio/default', 'a number'],
  ['Boolean default a string', key('debug', { type: 'Boolean', default: 'false' }), '/config/keys/debug/default', 'true or false'],
  ['Array[String] default with a number', key('hosts', { type: 'Array[String]', default: ['a', 1] }), '/config/keys/hosts/default', 'an array of strings'],
  ['Hash default an array', key('labels', { type: 'Hash[String, String]', default: [] }), '/config/keys/labels/default', 'an object of string values'],
  ['String default null', key('label', { type: 'String', default: null }), '/config/keys/label/default', 'got null'],
  ['secret Integer', key('pin', { type: 'Integer', secret: true }), '/config/keys/pin/secret', 'only a String key can be secret'],
  ['config key with an unknown field', key('port', { type: 'Integer', defualt: 1 }), '/config/keys/port/defualt', 'did you mean "default"?'],
  ['config with keys misspelt', { ...base, config: { key: {} } }, '/config/key', 'did you mean "keys"?'],
  ['webapp listen_port as String', key('listen_port', { type: 'String' }), '/config/keys/listen_port/type', 'is Integer'],
];

describe('invalid descriptors', () => {
  it('has enough cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(CASES)('%s', (_what, descriptor, pointer, detail) => {
    let caught: unknown;
    try {
      resolveComponent({ dir: '/tmp/x', descriptor });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(KpkgError);
    const err = caught as KpkgError;
    expect(err.code).toBe('INVALID_DESCRIPTOR');
    expect(err.message.startsWith(pointer ? `component.json: ${pointer}: ` : 'component.json: ')).toBe(true);
    expect(err.message).toContain(detail);
    expect(err.message).not.toContain('\n');
  });
});
