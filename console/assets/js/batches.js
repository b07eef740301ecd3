// The batches page: the tenant's recent batches, newest first, with their
// state and duration; read again every 2 s while one is unfinished.

import { json } from './api.js';
import { $, html, render } from './dom.js';
import { STATES, finished, int, seconds, time } from './format.js';

/** batchesPage renders the list into main. */
export async function batchesPage(main, session) {
  document.title = 'Batches · pricefn';
  render(main, html`
    <div class="title-row"><h1>Recent batches</h1><span class="grow"></span>
      <button type="button" id="refresh">Refresh</button></div>
    <p class="lead">${session.required ? "Your tenant's" : 'The'} latest batches, newest first (up to 100; finished batches are forgotten after their retention).</p>
    <div id="list" class="card"><p class="muted">Loading…</p></div>`);
  let timer = 0;
  const load = async () => {
    clearTimeout(timer);
    let list;
    try {
      list = (await json('/batches?limit=100')).body.batches || [];
    } catch (err) {
      // A refusal (4xx) stands until the user acts; an engine that does
      // not answer, or fails, is asked again, so that the list comes back
      // with it (after a restart, say).
      const again = !(err.status >= 400 && err.status < 500);
      render($('#list'), html`<p class="error-text" role="alert">${err.status === 403 ? 'This token cannot read batches (no read scope).' : err.message}${again ? '; asking again every 2 s' : ''}</p>`);
      if (again) timer = setTimeout(load, 2000);
      return;
    }
    if (!list.length) {
      render($('#list'), html`<p class="muted">No batch yet. <a href="/ui/">Submit one</a>.</p>`);
      return;
    }
    // The list is drawn again every 2 s while a batch runs: the batch
    // link that has the focus gets it back, or a keyboard user would be
    // sent to the top of the page.
    const focused = document.activeElement?.closest?.('#list tr[data-id]')?.dataset.id;
    render($('#list'), html`<div class="table-wrap"><table class="batches">
      <caption class="sr-only">Recent batches, newest first</caption>
      <thead><tr><th scope="col">batch</th><th scope="col">state</th><th scope="col" class="num">trades</th>
        <th scope="col" class="num">chunks done</th><th scope="col">submitted</th><th scope="col" class="num">duration</th></tr></thead>
      <tbody>${list.map((b) => html`<tr data-id="${b.batchId}">
        <th scope="row"><a href="/ui/batches/${encodeURIComponent(b.batchId)}">${b.batchId}</a>${b.attempt > 1 ? html` <span class="muted">attempt ${b.attempt}</span>` : ''}</th>
        <td><span class="state ${b.state}" title="${STATES[b.state] || ''}">${b.state}</span></td>
        <td class="num">${int(b.trades)}</td>
        <td class="num">${int(b.chunksDone)} / ${int(b.chunks)}</td>
        <td>${time(b.submittedAt)}</td>
        <td class="num">${seconds(b.durationSeconds)}${finished(b.state) ? '' : html` <span class="muted">so far</span>`}</td></tr>`)}</tbody>
    </table></div>`);
    if (focused !== undefined) $(`#list tr[data-id="${CSS.escape(focused)}"] a`)?.focus();
    if (list.some((b) => !finished(b.state))) timer = setTimeout(load, 2000);
  };
  $('#refresh').addEventListener('click', load);
  await load();
}
