import { KpkgError, type ErrorCode } from '../errors.js';

/**
 * JSON files users write (component.json, package.json), parsed with errors that name the line
 * and column. JSON.parse's messages differ between Node versions and often carry no position
 * at all (Node 20.x since V8 11.x: `Unexpected token '}', "{"a": }" is not valid JSON`), so when
 * it fails a small scanner finds the first error itself: same message and position everywhere.
 */

export interface JsonSyntaxError {
  /** UTF-16 offset of the first offending character (text.length at the end of input). */
  offset: number;
  message: string;
}

export interface LineColumn {
  /** 1-based */
  line: number;
  /** 1-based, in UTF-16 code units as editors count them; a tab counts 1 */
  column: number;
}

/**
 * Parses `text` (a leading byte order mark is ignored); a syntax error becomes a KpkgError
 * `<file>:<line>:<column>: <message>`.
 */
export function parseJson(text: string, file: string, code: ErrorCode = 'INVALID_DESCRIPTOR'): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (cause) {
    const found = findJsonSyntaxError(body) ?? { offset: 0, message: cause instanceof Error ? cause.message : String(cause) };
    const { line, column } = lineColumn(body, found.offset);
    throw new KpkgError(code, `${file}:${line}:${column}: ${found.message}`, { cause });
  }
}

export function lineColumn(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

type Expect =
  | 'value'
  | 'key'
  | 'firstKey'
  | 'colon'
  | 'afterValueInObject'
  | 'afterValueInArray'
  | 'firstValueInArray'
  | 'nextValueInArray'
  | 'end';

const EXPECTED: Record<Expect, string> = {
  value: 'a value',
  key: 'a property name in double quotes',
  firstKey: "a property name in double quotes or '}'",
  colon: "':' after the property name",
  afterValueInObject: "',' or '}' after the property value",
  afterValueInArray: "',' or ']' after the array element",
  firstValueInArray: "a value or ']'",
  nextValueInArray: 'a value',
  end: 'the end of the input after the JSON value',
};

/**
 * The first syntax error of `text` as JSON (RFC 8259, as JSON.parse reads it), or undefined
 * when it is valid. Iterative, so deep nesting cannot overflow the stack.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const stack: ('{' | '[')[] = [];
  let i = 0;
  let expect: Expect = 'value';

  const fail = (offset: number, message: string): JsonSyntaxError => ({ offset, message });
  const unexpected = (offset: number, what: Expect): JsonSyntaxError => {
    if (offset >= text.length) return fail(offset, `Unexpected end of input, expected ${EXPECTED[what]}`);
    return fail(offset, `Unexpected ${describeToken(text, offset)}, expected ${EXPECTED[what]}${hint(text, offset, what)}`);
  };
  const afterValue = (): Expect => {
    const top = stack[stack.length - 1];
    return top === '{' ? 'afterValueInObject' : top === '[' ? 'afterValueInArray' : 'end';
  };

  for (;;) {
    while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
    if (i >= text.length) return expect === 'end' ? undefined : unexpected(i, expect);
    const c = text[i]!;
    switch (expect) {
      case 'end':
        return unexpected(i, 'end');
      case 'colon':
        if (c !== ':') return unexpected(i, 'colon');
        i++;
        expect = 'value';
        continue;
      case 'afterValueInObject':
      case 'afterValueInArray': {
        const close = expect === 'afterValueInObject' ? '}' : ']';
        if (c === ',') {
          i++;
          expect = expect === 'afterValueInObject' ? 'key' : 'nextValueInArray';
        } else if (c === close) {
          i++;
          stack.pop();
          expect = afterValue();
        } else {
          return unexpected(i, expect);
        }
        continue;
      }
      case 'key':
      case 'firstKey': {
        if (c === '}' && expect === 'firstKey') {
          i++;
          stack.pop();
          expect = afterValue();
          continue;
        }
        if (c !== '"') return unexpected(i, expect);
        const end = scanString(text, i);
        if (typeof end !== 'number') return end;
        i = end;
        expect = 'colon';
        continue;
      }
      case 'value':
      case 'nextValueInArray':
      case 'firstValueInArray': {
        if (c === ']' && expect === 'firstValueInArray') {
          i++;
          stack.pop();
          expect = afterValue();
          continue;
        }
        if (c === '{') {
          stack.push('{');
          i++;
          expect = 'firstKey';
          continue;
        }
        if (c === '[') {
          stack.push('[');
          i++;
          expect = 'firstValueInArray';
          continue;
        }
        let end: number | JsonSyntaxError;
        if (c === '"') end = scanString(text, i);
        else if (c === '-' || (c >= '0' && c <= '9')) end = scanNumber(text, i);
        else if (c === 't' || c === 'f' || c === 'n') end = scanLiteral(text, i);
        else return unexpected(i, expect);
        if (typeof end !== 'number') return end;
        i = end;
        expect = afterValue();
        continue;
      }
    }
  }
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Returns the offset after the closing quote, or the error. */
function scanString(text: string, start: number): number | JsonSyntaxError {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) {
      return { offset: i, message: `Bad control character ${describeChar(text[i]!)} in string (write it as an escape such as \\n)` };
    }
    if (c === 0x5c) {
      const e = text[i + 1];
      if (e === undefined) break;
      if (e === 'u') {
        for (let k = i + 2; k < i + 6; k++) {
          if (k >= text.length) return unterminated(text, start);
          if (!/[0-9a-fA-F]/.test(text[k]!)) return { offset: k, message: 'Bad Unicode escape in string (expected \\u and 4 hex digits)' };
        }
        i += 6;
        continue;
      }
      if (!'"\\/bfnrt'.includes(e)) return { offset: i + 1, message: `Bad escape ${describeChar('\\' + e)} in string` };
      i += 2;
      continue;
    }
    i++;
  }
  return unterminated(text, start);
}

function unterminated(text: string, start: number): JsonSyntaxError {
  const { line, column } = lineColumn(text, start);
  return { offset: text.length, message: `Unterminated string starting at line ${line}, column ${column}` };
}

function scanNumber(text: string, start: number): number | JsonSyntaxError {
  let i = start;
  if (text[i] === '-') i++;
  const digits = (from: number): number => {
    let j = from;
    while (j < text.length && text[j]! >= '0' && text[j]! <= '9') j++;
    return j;
  };
  const bad = (at: number, what: string): JsonSyntaxError => ({
    offset: at,
    message: `${what}, found ${at >= text.length ? 'the end of input' : describeToken(text, at).replace(/^token /, '')}`,
  });
  if (text[i] === '0') {
    i++;
  } else {
    const j = digits(i);
    if (j === i) return bad(i, "No digit after '-'");
    i = j;
  }
  if (text[i] === '.') {
    const j = digits(i + 1);
    if (j === i + 1) return bad(j, "No digit after the decimal point");
    i = j;
  }
  if (text[i] === 'e' || text[i] === 'E') {
    i++;
    if (text[i] === '+' || text[i] === '-') i++;
    const j = digits(i);
    if (j === i) return bad(j, 'No digit in the exponent');
    i = j;
  }
  return i;
}

function scanLiteral(text: string, start: number): number | JsonSyntaxError {
  for (const literal of ['true', 'false', 'null']) {
    if (literal[0] !== text[start]) continue;
    for (let k = 1; k < literal.length; k++) {
      if (text[start + k] !== literal[k]) {
        // the offset of the first wrong character, as V8 reports it
        return { offset: start + k, message: `Unexpected ${describeToken(text, start)}, expected a value (JSON literals are true, false and null)` };
      }
    }
    return start + literal.length;
  }
  /* c8 ignore next */
  return { offset: start, message: `Unexpected ${describeToken(text, start)}, expected a value` };
}

/** What was found at `offset`: a word in full (`'True'`), else one character. */
function describeToken(text: string, offset: number): string {
  const word = /^[A-Za-z0-9_$.+-]+/.exec(text.slice(offset, offset + 40));
  if (word && word[0].length > 1) return `token '${word[0].slice(0, 30)}'`;
  return `token ${describeChar(String.fromCodePoint(text.codePointAt(offset)!))}`;
}

/** A character as the message shows it: `'x'`, or an escape like `'\\n'` for a control character. */
function describeChar(c: string): string {
  return `'${/[\u0000-\u001f\u007f]/.test(c) ? JSON.stringify(c).slice(1, -1) : c}'`;
}

function hint(text: string, offset: number, what: Expect): string {
  const c = text[offset];
  if (c === '/' && (text[offset + 1] === '/' || text[offset + 1] === '*')) return ' (comments are not allowed in JSON)';
  if (c === "'") return ' (strings use double quotes in JSON)';
  if ((what === 'key' || what === 'nextValueInArray') && (c === '}' || c === ']')) return ' (a trailing comma is not allowed in JSON)';
  if (what === 'afterValueInObject' || what === 'afterValueInArray') {
    if (c === '"' || c === '{' || c === '[') return ' (a comma is missing)';
  }
  if (what === 'key' || what === 'firstKey') {
    if (c !== undefined && /[A-Za-z_$]/.test(c)) return ' (property names need double quotes in JSON)';
  }
  return '';
}
