/**
 * A small parser for the Python literals NumPy writes in .npy headers: dicts, tuples, lists,
 * strings, integers, True, False and None. It parses data and evaluates nothing: a name,
 * a call or an operator is a syntax error.
 */

export type PythonValue =
  | string
  | number
  | boolean
  | null
  | { kind: 'tuple'; items: PythonValue[] }
  | { kind: 'list'; items: PythonValue[] }
  | { kind: 'dict'; entries: [PythonValue, PythonValue][] };

/** Nesting deeper than this is not a NumPy header. */
const MAX_DEPTH = 16;

export class LiteralSyntaxError extends Error {}

export function parsePythonLiteral(text: string): PythonValue {
  let position = 0;

  const fail = (what: string): never => {
    throw new LiteralSyntaxError(`${what} at character ${position}`);
  };

  const skipSpace = (): void => {
    while (position < text.length && /\s/.test(text[position]!)) position++;
  };

  const parseString = (): string => {
    const quote = text[position]!;
    position++;
    let value = '';
    while (position < text.length && text[position] !== quote) {
      const char = text[position]!;
      if (char === '\\') {
        const next = text[position + 1];
        if (next === undefined) fail('unfinished escape');
        value += next === 'n' ? '\n' : next === 't' ? '\t' : next!;
        position += 2;
      } else {
        value += char;
        position++;
      }
    }
    if (position >= text.length) fail('unterminated string');
    position++;
    return value;
  };

  const parseSequence = (close: string, depth: number): PythonValue[] => {
    const items: PythonValue[] = [];
    skipSpace();
    while (text[position] !== close) {
      items.push(parseValue(depth + 1));
      skipSpace();
      if (text[position] === ',') {
        position++;
        skipSpace();
      } else if (text[position] !== close) {
        fail(`expected ',' or '${close}'`);
      }
    }
    position++;
    return items;
  };

  const parseValue = (depth: number): PythonValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    skipSpace();
    const char = text[position];
    if (char === undefined) return fail('unexpected end');
    if (char === "'" || char === '"') return parseString();
    if (char === '(') {
      position++;
      return { kind: 'tuple', items: parseSequence(')', depth) };
    }
    if (char === '[') {
      position++;
      return { kind: 'list', items: parseSequence(']', depth) };
    }
    if (char === '{') {
      position++;
      const entries: [PythonValue, PythonValue][] = [];
      skipSpace();
      while (text[position] !== '}') {
        const key = parseValue(depth + 1);
        skipSpace();
        if (text[position] !== ':') fail("expected ':'");
        position++;
        entries.push([key, parseValue(depth + 1)]);
        skipSpace();
        if (text[position] === ',') {
          position++;
          skipSpace();
        } else if (text[position] !== '}') {
          fail("expected ',' or '}'");
        }
      }
      position++;
      return { kind: 'dict', entries };
    }
    const integer = /^-?\d+L?/.exec(text.slice(position, position + 40));
    if (integer) {
      position += integer[0].length;
      const digits = integer[0].replace('L', '');
      // Extents beyond 2^53 are kept as approximate numbers; callers refuse them as unsafe.
      return Number(digits);
    }
    for (const [word, value] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (text.startsWith(word, position) && !/\w/.test(text[position + word.length] ?? '')) {
        position += word.length;
        return value;
      }
    }
    return fail('not a literal (names, calls and operators are not allowed)');
  };

  const value = parseValue(0);
  skipSpace();
  if (position < text.length) fail('unexpected text after the literal');
  return value;
}
