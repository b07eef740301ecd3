// HTML building with escaping, and small DOM helpers.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** esc escapes text for HTML content and attribute values. */
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Raw is markup that html`` inserts as is. */
export class Raw {
  constructor(s) { this.s = s; }
  toString() { return this.s; }
}

/** raw marks trusted markup. */
export function raw(s) { return new Raw(String(s)); }

function part(v) {
  if (v instanceof Raw) return v.s;
  if (Array.isArray(v)) return v.map(part).join('');
  if (v === null || v === undefined || v === false) return '';
  return esc(v);
}

/** html is a template tag: interpolated values are escaped, Raw and arrays of them are not. */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => { out += part(v) + strings[i + 1]; });
  return new Raw(out);
}

/** $ returns the first element matching sel. */
export function $(sel, root = document) { return root.querySelector(sel); }

/** $$ returns every element matching sel. */
export function $$(sel, root = document) { return Array.from(root.querySelectorAll(sel)); }

/** render replaces el's content with markup. */
export function render(el, markup) { el.innerHTML = part(markup); }

/** download offers data as a file named name. */
export function download(name, data, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
