// Calls to the public API, with the signed-in token.
//
// The token is kept in sessionStorage (this tab only) and sent as
// Authorization: Bearer on each call, never as a cookie: the engine's
// guard checks one credential, the same for curl and the console, and
// a page of another site cannot make the browser send it (no CSRF).

const KEY = 'pricefn.token';

/** token returns the signed-in token, '' when none. */
export function token() {
  try { return sessionStorage.getItem(KEY) || ''; } catch { return ''; }
}

/** setToken signs in with t ('' signs out). */
export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(KEY, t); else sessionStorage.removeItem(KEY);
  } catch { /* storage disabled: the token lasts until the page is left */ }
}

/** APIError is an answer of the API with an error status. */
export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * REFUSED is the event sent to window when the engine answers 401 to a
 * call that carried a token: the token was removed from the engine's
 * tokens file (or lost a scope's worth of rights) since the page signed
 * in, and the session the page shows no longer holds.
 */
export const REFUSED = 'pricefn:token-refused';

/** call sends a request with the token and returns the fetch Response. */
export async function call(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const h = new Headers(headers);
  const t = token();
  if (t) h.set('Authorization', `Bearer ${t}`);
  const resp = await fetch(path, { method, body, headers: h, signal, cache: 'no-store', credentials: 'omit' });
  if (resp.status === 401 && t) window.dispatchEvent(new Event(REFUSED));
  return resp;
}

/** errorOf reads the {"error": ...} of a failed answer. */
export async function errorOf(resp) {
  const text = await resp.text();
  let msg = text.trim();
  try { msg = JSON.parse(text).error || msg; } catch { /* not JSON */ }
  return new APIError(resp.status, msg || `${resp.status} ${resp.statusText}`);
}

/**
 * json calls path and returns {status, body, text} for a 2xx answer; it
 * throws an APIError with the server's message for any other, and one of
 * status 0 saying so when the engine does not answer (the browser's own
 * words, "Failed to fetch", do not say whose the failure is).
 */
export async function json(path, opts) {
  let resp;
  try {
    resp = await call(path, opts);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new APIError(0, `the engine does not answer (${err.message})`);
  }
  if (!resp.ok) throw await errorOf(resp);
  const text = await resp.text();
  return { status: resp.status, body: text ? JSON.parse(text) : null, text, resp };
}
