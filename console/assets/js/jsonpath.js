// Finding what an error names in the JSON text the user typed: a JSON
// path such as trades[3].strike, or a byte offset of malformed JSON.

// A path is a top-level field, then .key or [index] steps; a key is the
// name as the batch spells it, spaces included ("market.curves.US D.rate"),
// so it ends at the ": " before the reason (a key holding ":" is not found).
const PATH_RE = /\bbatch: ((?:[A-Za-z_$][\w$-]*|\[\d+\])(?:\.[^.:[\]]+|\[\d+\])*): /;
const BYTE_RE = /\bmalformed JSON at byte (\d+)/;

/**
 * faultOf reads an ingress error message: {path} for "batch: PATH: why",
 * {byte} for "batch: malformed JSON at byte N: why", {} otherwise.
 */
export function faultOf(message) {
  const b = BYTE_RE.exec(message);
  if (b) return { byte: Number(b[1]) };
  const p = PATH_RE.exec(message);
  if (p) return { path: p[1] };
  return {};
}

/**
 * locate returns {start, end, exact} for the value at path in text (char
 * offsets), or for its deepest enclosing value that text has (exact
 * false) when the path names something missing; null when nothing
 * matches. It reads as far as the text is valid JSON. The path is matched
 * as the engine writes it, key by key against the text's own keys, so a
 * key holding a space or a dot ("US D", "US.D") is found.
 */
export function locate(text, path) {
  if (!path) return null;
  let i = 0;
  let best = null;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const fail = () => { throw new SyntaxError(`bad JSON at ${i}`); };
  // cur is the path of the value being read, written as the engine does.
  const within = (cur) => cur === '' || cur === path || path.startsWith(`${cur}.`) || path.startsWith(`${cur}[`);
  const step = (cur, key) => (typeof key === 'number' ? `${cur}[${key}]` : cur === '' ? key : `${cur}.${key}`);
  const string = () => {
    if (text[i] !== '"') fail();
    const s = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(s, i));
  };
  const value = (cur, inPath) => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) i++;
      else {
        for (let n = 0; ; n++) {
          ws();
          let key = n;
          if (c === '{') {
            key = string();
            ws();
            if (text[i] !== ':') fail();
            i++;
          }
          const next = inPath ? step(cur, key) : cur;
          value(next, inPath && within(next));
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === close) { i++; break; }
          fail();
        }
      }
    } else if (c === '"') {
      string();
    } else {
      while (i < text.length && !',]}: \t\n\r'.includes(text[i])) i++;
      if (i === start) fail();
    }
    // The value the path names, else the deepest one enclosing it.
    if (inPath && (!best || (!best.exact && (cur === path || cur.length > best.cur.length)))) {
      best = { cur, start, end: i, exact: cur === path };
    }
  };
  try { value('', true); } catch { /* best so far */ }
  if (!best) return null;
  return { start: best.start, end: best.end, exact: best.exact };
}

/** charOffset converts a UTF-8 byte offset in text to a char (UTF-16) offset. */
export function charOffset(text, byteOffset) {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    if (bytes >= byteOffset) return i;
    const cp = text.codePointAt(i);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (cp >= 0x10000) i++;
  }
  return text.length;
}

/** lineCol returns the 1-based line and column of char offset off. */
export function lineCol(text, off) {
  const before = text.slice(0, off);
  const line = before.split('\n').length;
  return { line, col: off - before.lastIndexOf('\n') };
}
