// The console's entry point: the session (token) and the page router.

import { REFUSED, call, errorOf, setToken, token } from './api.js';
import { $, html, render } from './dom.js';
import { submitPage } from './submit.js';
import { batchPage } from './batch.js';
import { batchesPage } from './batches.js';

/**
 * session says whether the API wants a token and whether ours is good:
 * {required, ok, readable}. It asks GET /batches?limit=1, which every
 * engine serves: 401 means a token is wanted (or ours is refused), 403 a
 * token without the read scope.
 */
async function probe() {
  let resp;
  try {
    resp = await call('/batches?limit=1');
  } catch (err) {
    return { required: false, ok: false, readable: false, error: `the engine does not answer: ${err.message}` };
  }
  if (resp.status === 401) {
    const err = await errorOf(resp);
    return { required: true, ok: false, readable: false, error: token() ? err.message : '' };
  }
  if (token()) {
    // Accepted with our token: is one wanted at all?
    const open = await fetch('/batches?limit=1', { cache: 'no-store', credentials: 'omit' }).catch(() => null);
    if (open && open.ok) setToken('');
    return { required: !(open && open.ok), ok: true, readable: resp.status !== 403 };
  }
  return { required: false, ok: true, readable: true };
}

function showSession(s) {
  const el = $('#session');
  if (s.required && s.ok) {
    // A 403 to the read says no more than that: a token of the sign scope
    // alone may not submit either.
    render(el, html`<span class="muted">Signed in${s.readable ? '' : ' (no read scope: this token cannot read batches)'}</span>
      <button type="button" id="signout" class="link">Sign out</button>`);
    $('#signout').addEventListener('click', () => { setToken(''); location.reload(); });
  } else if (s.required) {
    render(el, html`<span class="muted">Not signed in</span>`);
  } else {
    render(el, html`<span class="muted" title="This engine runs without tokens: every request is the default tenant's">Open engine (no tokens)</span>`);
  }
}

/** signIn shows the sign-in form and resolves once a token is accepted. */
function signIn(s) {
  const box = $('#signin');
  box.hidden = false;
  $('#signin-error').textContent = s.error || '';
  const input = $('#token');
  input.focus();
  return new Promise((resolve) => {
    const form = $('#signin-form');
    const submit = async (ev) => {
      ev.preventDefault();
      const t = input.value.trim();
      // A character past printable ASCII (a zero-width space pasted with
      // the token, a typographic quote) cannot be sent in a header, and no
      // token of the engine's holds one: say so rather than that the
      // engine does not answer, as the failed call would.
      const bad = /[^\x21-\x7e]/u.exec(t);
      if (bad) {
        const cp = bad[0].codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
        $('#signin-error').textContent = `This token holds a character no token has (U+${cp}, character ${[...t.slice(0, bad.index)].length + 1}): ` +
          'a token is letters, digits and ASCII punctuation, with no space. Paste it again without it.';
        input.select();
        return;
      }
      setToken(t);
      const again = await probe();
      if (again.ok) {
        input.value = '';
        box.hidden = true;
        form.removeEventListener('submit', submit); // the form may be shown again: one listener at a time
        resolve(again);
        return;
      }
      setToken('');
      $('#signin-error').textContent = again.error || 'The engine refused this token.';
      input.select();
    };
    form.addEventListener('submit', submit);
  });
}

function route() {
  const p = location.pathname.replace(/\/+$/, '') || '/';
  if (p === '/ui') return { name: 'submit', run: (main, s) => submitPage(main, s) };
  if (p === '/ui/batches') return { name: 'batches', run: batchesPage };
  const notFound = { name: '', run: (main) => render(main, html`<h1>Not found</h1><p>No console page at ${location.pathname}. <a href="/ui/">Submit a batch</a>.</p>`) };
  const m = /^\/ui\/batches\/([^/]+)$/.exec(p);
  if (m) {
    let id;
    try { id = decodeURIComponent(m[1]); } catch { return notFound; } // a malformed escape (%E0%A4) names no batch
    return { name: 'batch', run: (main, s) => batchPage(main, s, id) };
  }
  return notFound;
}

/**
 * watchRefusal turns the session shown into a refused one when the engine
 * refuses the token the page signed in with (a 401 to any call), with a
 * button to sign in again; signing in loads the page again, but for the
 * submit page, which keeps its input to be submitted again. (A page
 * drawn again in place would have the old one's timers and event stream,
 * which take the new token at their next call, drawing beside it.)
 */
function watchRefusal(r) {
  const refused = () => {
    render($('#session'), html`<span class="refused">Signed out: the engine refused the token (revoked, or no longer valid)</span>
      <button type="button" id="signin-again" class="link">Sign in again</button>`);
    $('#signin-again').addEventListener('click', async () => {
      setToken('');
      render($('#session'), html`<span class="muted">Not signed in</span>`);
      const s = await signIn({ error: '' });
      showSession(s);
      window.addEventListener(REFUSED, refused, { once: true });
      if (r.name !== 'submit') location.reload();
    }, { once: true });
  };
  window.addEventListener(REFUSED, refused, { once: true });
}

async function main() {
  const r = route();
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === r.name) a.setAttribute('aria-current', 'page');
  }
  let s = await probe();
  showSession(s);
  const mainEl = $('#main');
  if (s.error && !s.required) {
    render(mainEl, html`<p class="error-text" role="alert">${s.error}</p>`);
    return;
  }
  if (s.required && !s.ok) {
    render(mainEl, html`<p class="muted">Sign in to use the console.</p>`);
    s = await signIn(s);
    showSession(s);
  }
  if (s.required) watchRefusal(r);
  await r.run(mainEl, s);
}

main();
