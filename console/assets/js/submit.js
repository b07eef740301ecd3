// The submit page: paste, upload or pick an example; the engine's
// verdict next to the input, with the JSON path it names highlighted.

import { call, errorOf, token } from './api.js';
import { $, esc, html, render } from './dom.js';
import { bytes, count, int } from './format.js';
import { charOffset, faultOf, lineCol, locate } from './jsonpath.js';

/**
 * submitPage renders the submit page into main. A session that cannot
 * read batches (a submit-only token) stays on the page with the receipt
 * after a submission, instead of opening a batch page it may not read.
 */
export async function submitPage(main, session = { readable: true }) {
  document.title = 'Submit a batch · pricefn';
  let examples = [];
  try {
    const resp = await fetch('/ui/examples/index.json', { cache: 'no-cache' });
    if (resp.ok) examples = await resp.json();
  } catch { /* no examples: paste or upload */ }
  render(main, html`
    <h1>Submit a batch</h1>
    <p class="lead">Paste a batch (wire format section 1), upload a file or start from an example.
    The engine either accepts it, and you follow it on its page, or names the fault by its JSON path.</p>
    <form id="submit-form" class="card" novalidate>
      <div class="sources">
        <div class="field">
          <label for="example">Example from <code>examples/</code></label>
          <div class="row">
            <select id="example">
              <option value="">Choose an example…</option>
              ${examples.map((e) => html`<option value="${e.path}">${e.name} (${e.trades} ${e.trades === 1 ? 'trade' : 'trades'}: ${e.types.join(', ')})</option>`)}
            </select>
            <button type="button" id="load-example">Load</button>
          </div>
        </div>
        <div class="field">
          <label for="file">Or upload a batch file</label>
          <input id="file" type="file" accept=".json,application/json">
        </div>
      </div>
      <div class="editor-grid">
        <div class="field">
          <label for="batch-json">Batch JSON</label>
          <div class="editor">
            <pre class="mirror" id="mirror" aria-hidden="true"></pre>
            <textarea id="batch-json" name="batch" wrap="off" spellcheck="false" autocomplete="off"
              aria-describedby="batch-info batch-fault" placeholder='{"valuationDate": "2026-11-25", "market": {…}, "trades": […]}'></textarea>
          </div>
          <p id="batch-info" class="note">Empty.</p>
        </div>
        <aside id="batch-fault" class="fault" aria-live="polite" aria-label="The engine's verdict">
          <h2>Checks</h2>
          <p class="muted">${CHECKS}</p>
        </aside>
      </div>
      <div class="actions">
        <button type="submit" class="primary" id="submit-batch">Submit batch</button>
        <span class="note">or Ctrl+Enter in the input</span>
        <span id="submit-status" role="status"></span>
      </div>
    </form>`);

  const ta = $('#batch-json');
  const mirror = $('#mirror');
  const fault = $('#batch-fault');
  let loaded = ''; // the text of the last example or file loaded, unedited
  // A batch too large for the editor (over EDIT_LIMIT characters) is held
  // here as loaded, the editor left empty: a textarea of 100,000 trades
  // (24 MB) froze the page for 15 s and took 4 s a key. Typing or pasting
  // replaces it.
  let held = '';
  const batchText = () => held || ta.value;
  // outgoing is the text to submit: an example or file sent unedited goes
  // as loaded, byte for byte, though the editor shows its CRLF line ends
  // as LF: the engine tells a retry from other content under the same id
  // by the digest of the bytes.
  const outgoing = () => (held || (loaded && ta.value === loaded.replace(/\r\n?/g, '\n') ? loaded : ta.value));
  const placeholder = ta.placeholder;
  const hold = (text) => {
    held = text;
    ta.placeholder = held ? 'The batch loaded is too large to edit here: see below. Type or paste to replace it.' : placeholder;
  };

  const clearFault = () => {
    ta.removeAttribute('aria-invalid');
    mirror.textContent = '';
  };
  const info = () => {
    const text = batchText();
    const size = new TextEncoder().encode(text).length;
    const note = held ? ` Too large to edit here (over ${bytes(EDIT_LIMIT)}): it is submitted as loaded; typing or pasting in the input replaces it.` : '';
    if (!text.trim()) { $('#batch-info').textContent = 'Empty.'; return; }
    let b;
    try { b = JSON.parse(text); } catch {
      $('#batch-info').textContent = `${bytes(size)}; not valid JSON yet (the engine says where when you submit).${note}`;
      return;
    }
    const n = Array.isArray(b?.trades) ? b.trades.length : 0;
    $('#batch-info').textContent = `${bytes(size)}, ${int(n)} ${n === 1 ? 'trade' : 'trades'}` +
      (b?.valuationDate ? `, valuation date ${b.valuationDate}` : '') + (b?.id ? `, id ${b.id}` : ', no id (the engine assigns one)') + `.${note}`;
  };
  const setText = (text) => {
    hold(text.length > EDIT_LIMIT ? text : '');
    ta.value = held ? '' : text;
    loaded = text;
    clearFault();
    // The verdict shown was about the input replaced.
    render(fault, html`<h2>Checks</h2><p class="muted">${CHECKS}</p>`);
    fault.classList.remove('has-fault');
    info();
    ta.scrollTop = 0;
  };
  // An example or a file that cannot be read leaves the input as it was
  // and says why: an error answer is no batch to put in the input.
  const loadExample = async () => {
    const p = $('#example').value;
    if (!p) return;
    let text;
    try {
      const resp = await fetch(p, { cache: 'no-cache' });
      if (!resp.ok) throw await errorOf(resp);
      text = await resp.text();
    } catch (err) {
      showNotice('Example not loaded', `${p}: ${err.message}`, 'The input is as it was. Try again once the engine answers.');
      return;
    }
    setText(text);
  };
  $('#load-example').addEventListener('click', loadExample);
  $('#example').addEventListener('change', () => { if (!batchText().trim() || batchText() === loaded) loadExample(); });
  $('#file').addEventListener('change', async (ev) => {
    const f = ev.target.files[0];
    if (!f) return;
    let text;
    try {
      text = await f.text();
    } catch (err) {
      showNotice('File not read', `${f.name}: ${err.message}`, 'The input is as it was. Choose the file again, or another.');
      return;
    }
    setText(text);
  });
  ta.addEventListener('input', () => {
    hold(''); // typed over: the batch is the input's now
    clearFault();
    info();
  });
  ta.addEventListener('paste', (ev) => {
    const text = ev.clipboardData?.getData('text/plain') || '';
    if (text.length > EDIT_LIMIT) { ev.preventDefault(); setText(text); }
  });
  ta.addEventListener('scroll', () => { mirror.scrollTop = ta.scrollTop; mirror.scrollLeft = ta.scrollLeft; });
  ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); $('#submit-form').requestSubmit(); }
  });

  // showNotice says why nothing was checked (no input, no engine, a
  // refusal not about the input) and what to do: the input is not at
  // fault, so it is not marked invalid.
  const showNotice = (title, message, advice = '') => {
    clearFault();
    render(fault, html`<h2 class="bad">${title}</h2><p class="msg" id="fault-message">${message}</p>${advice ? html`<p id="fault-advice">${advice}</p>` : ''}`);
    fault.classList.add('has-fault');
  };

  // showFault shows a rejection of the input with the place it names:
  // path when given (a field the status itself blames), else the path or
  // byte the message names.
  const showFault = (status, statusText, message, path = '') => {
    const text = batchText();
    const f = path ? { path } : faultOf(message);
    let where = null;
    let what = '';
    if (f.byte !== undefined) {
      // The byte is of the text sent: in the editor, each CRLF before it is one character.
      const sent = outgoing();
      let at = charOffset(sent, f.byte);
      if (sent !== text) {
        let crlf = 0;
        for (let i = 0; i < at; i++) if (sent[i] === '\r' && sent[i + 1] === '\n') crlf++;
        at -= crlf;
      }
      where = { start: at, end: Math.min(at + 1, text.length), exact: true };
      what = `byte ${f.byte}`;
    } else if (f.path) {
      where = locate(text, f.path);
      what = f.path;
    }
    let place = html``;
    if (where && held) {
      // Not in the editor: the place is named, not shown.
      const { line, col } = lineCol(text, where.start);
      place = html`<p>At <code class="path">${what}</code>, line ${line}, column ${col} of the batch as loaded${where.exact ? '' : ' (in the enclosing value: the field itself is missing)'}.</p>`;
    } else if (where) {
      const { line, col } = lineCol(text, where.start);
      place = html`<p>At <code class="path">${what}</code>, line ${line}, column ${col}${where.exact ? '' : ' (in the enclosing value: the field itself is missing)'}.
        <button type="button" id="show-fault">Show in the input</button></p>`;
      // The mirror behind the input marks the faulty text.
      mirror.innerHTML = esc(text.slice(0, where.start)) + '<mark>' + esc(text.slice(where.start, Math.max(where.end, where.start + 1))) +
        '</mark>' + esc(text.slice(Math.max(where.end, where.start + 1)));
      const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
      ta.scrollTop = Math.max(0, (line - 4) * lh);
      mirror.scrollTop = ta.scrollTop;
    } else if (f.path) {
      place = html`<p>At <code class="path">${f.path}</code> (not found in the input as typed).</p>`;
    }
    ta.setAttribute('aria-invalid', 'true');
    render(fault, html`<h2 class="bad">Rejected: ${status} ${statusText}</h2>
      <p class="msg" id="fault-message">${message}</p>${place}`);
    fault.classList.add('has-fault');
    const btn = $('#show-fault');
    if (btn) {
      btn.addEventListener('click', () => {
        ta.focus();
        ta.setSelectionRange(where.start, Math.max(where.end, where.start + 1));
      });
    }
  };

  $('#submit-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const status = $('#submit-status');
    const btn = $('#submit-batch');
    // One submission at a time: Ctrl+Enter submits the form whether or
    // not its button is disabled, and a second POST of a batch without an
    // id is a second batch, priced twice.
    if (btn.disabled) return;
    if (!batchText().trim()) {
      showNotice('Nothing to submit', 'paste a batch, upload a file or load an example first');
      return;
    }
    btn.disabled = true;
    status.textContent = 'Submitting…';
    fault.classList.remove('has-fault');
    render(fault, html`<h2>Checks</h2><p class="muted">The engine is checking the batch…</p>`);
    try {
      const resp = await call('/batches', { method: 'POST', body: outgoing(), headers: { 'Content-Type': 'application/json' } });
      if (resp.status !== 202) {
        const err = await errorOf(resp);
        status.textContent = '';
        if (INPUT_FAULTS.has(resp.status)) showFault(resp.status, resp.statusText || '', err.message, FIELD_FAULTS.get(resp.status));
        else {
          const [title, advice] = refusal(resp.status, resp.statusText || '', resp.headers.get('Retry-After'), err.message);
          showNotice(title, err.message, advice);
        }
        return;
      }
      const rc = await resp.json();
      const receipt = `Accepted: batch ${rc.batchId}${rc.existing ? ' (submitted before with the same content)' : ''}, ${count(rc.trades, 'trade')} in ${count(rc.chunks, 'chunk')}.`;
      if (!session.readable) {
        // This token may submit but not read: the batch page would only
        // say so, and the receipt would be lost with the navigation.
        status.textContent = `${receipt} This token cannot read batches: follow it with a token that has the read scope.`;
        render(fault, html`<h2>Accepted</h2><p>Batch <code class="batch-id">${rc.batchId}</code>: ${count(rc.trades, 'trade')} in ${count(rc.chunks, 'chunk')}.</p>
          <p class="note">Your token may submit but not read batches, so its page is not shown here.</p>`);
        return;
      }
      status.textContent = receipt;
      location.assign(`/ui/batches/${encodeURIComponent(rc.batchId)}${rc.existing ? '?existing=1' : ''}`);
    } catch (err) {
      status.textContent = '';
      // The browser does not say whether the request got there: the
      // engine may be down, or have taken the batch and gone before its
      // answer, and a batch without an id sent again is priced again.
      showNotice('No answer', `the engine could not be reached, or did not answer (${err.message}), so the batch's fate is not known`,
        'If the engine is down, nothing was submitted: try again once it is up. If it went away while answering, the batch may have been taken: look for it under Batches first, or give it an "id" (the same batch when sent again).');
    } finally {
      btn.disabled = false;
    }
  });
}

/** CHECKS is what the verdict's place says before a submission. */
const CHECKS = 'The engine checks the batch when you submit it: a fault is shown here with the place in the input it names.';

/** EDIT_LIMIT is the most characters the editor is given: a larger batch (some 4,000 trades) is held out of it. */
const EDIT_LIMIT = 1000000;

/** UNSENT is in ingress's 503 for a batch whose chunks it could not all send; DEADLINE_PASSED in its 503 for a batch whose own deadline ran out while it sent the batch's events. */
const UNSENT = 'not sent, recorded dead';
const DEADLINE_PASSED = "the batch's deadline passed";

/** INPUT_FAULTS are the statuses of a refusal that is the batch's fault: malformed or invalid, its id in use by other content, too large, not JSON. */
const INPUT_FAULTS = new Set([400, 409, 413, 415]);

/** FIELD_FAULTS maps a status of INPUT_FAULTS that always blames one field to its path: 409, the id in use by a batch of other content. */
const FIELD_FAULTS = new Map([[409, 'id']]);

/**
 * refusal returns the title and the advice of a notice for a refusal
 * that is not about the input (status not in INPUT_FAULTS), whose text is
 * message: the batch was not checked, and what to do instead depends on
 * why. Ingress's 503 for chunks it could not send is of a batch checked
 * and claimed: sent again, it is priced, unless the time that ran out was
 * the batch's own deadline, which a batch sent again as it is runs out of
 * the same way (as pricefn submit takes it).
 */
function refusal(status, statusText, retry, message = '') {
  const code = `${status} ${statusText}`.trim();
  const unchecked = 'The batch was not checked.';
  if (status === 503 && message.includes(DEADLINE_PASSED)) return [`Deadline passed while sending (${code})`, 'The batch was checked and accepted, but its deadline passed before it was all sent: the batch ends without what was not. Sent again as it is, it would end the same way: give it a later deadline, or split it, and submit it again.'];
  if (status === 503 && message.includes(UNSENT)) return [`Chunks not sent (${code})`, `The batch was checked and accepted, but not all its chunks were sent: the batch ends without them. Submit it again ${retryAfter(retry)} to price them.`];
  // A token refused while the page is open gets Sign in again in the
  // header (app.js), which keeps the input; without one, the sign-in
  // form comes with a reload.
  if (status === 401 && token()) return [`Token refused (${code})`, `The engine refused your token (revoked, or no longer valid): press Sign in again at the top of the page (the input is kept) and submit again. ${unchecked}`];
  if (status === 401) return [`Not signed in (${code})`, `The engine wants a token, or refused yours: sign in (reload the page for the sign-in form; keep a copy of the batch, a reload may clear the input) and submit again. ${unchecked}`];
  if (status === 403) return [`Not allowed to submit (${code})`, `Sign in with a token with the submit scope (sign out, then in with it). ${unchecked}`];
  if (status === 429) return [`Too many batches (${code})`, `${unchecked} Try again ${retryAfter(retry)}, when some of your batches have finished.`];
  if (status === 503) return [`Engine unavailable (${code})`, `${unchecked} Try again ${retryAfter(retry)}.`];
  if (status >= 500) return [`Engine error (${code})`, `${unchecked} Try again ${retryAfter(retry)}.`];
  return [`Not accepted (${code})`, unchecked];
}

/** retryAfter says when a Retry-After value (seconds, or an HTTP date) asks to try again: "in 5 s", "after 17:20:05" or "later". */
function retryAfter(v) {
  const s = (v || '').trim();
  if (/^\d+$/.test(s)) return `in ${int(Number(s))} s`;
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? `after ${new Date(t).toLocaleTimeString()}` : 'later';
}
