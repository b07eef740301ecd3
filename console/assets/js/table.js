// The results table: every trade in input order, sortable by any column,
// errors highlighted and filterable, downloadable as JSON and CSV.

import { $, $$, download, esc, html, raw, render } from './dom.js';
import { MEASURES, UNITS, int, num } from './format.js';

/** PAGE is how many rows a page shows once a table has more than PAGE_FROM. */
const PAGE = 10000;
const PAGE_FROM = 20000;

const SKIP = new Set(['id', 'error', 'cashflows', 'scenarioNpv']);

/** columnsOf returns the measures present in results, in MEASURES order then others. */
export function columnsOf(results) {
  const seen = new Set();
  for (const r of results) {
    for (const [k, v] of Object.entries(r)) if (!SKIP.has(k) && typeof v === 'number') seen.add(k);
  }
  const cols = MEASURES.filter((m) => seen.has(m));
  for (const k of seen) if (!cols.includes(k)) cols.push(k);
  return cols;
}

/**
 * csvOf writes results as CSV: id, each measure (full precision), cash flow
 * count, error. A text cell (id, error) starting with = + - @, a tab or a
 * carriage return gets a ' in front, so that a spreadsheet does not read it
 * as a formula (OWASP's CSV injection rule); numbers are written as they are.
 */
export function csvOf(results) {
  const cols = columnsOf(results);
  const flows = results.some((r) => Array.isArray(r.cashflows));
  const q = (v) => {
    const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = ['id', ...cols, ...(flows ? ['cashflows'] : []), 'error'];
  const lines = [head.join(',')];
  for (const r of results) {
    const row = [q(String(r.id ?? '')), ...cols.map((c) => (typeof r[c] === 'number' ? String(r[c]) : ''))];
    if (flows) row.push(Array.isArray(r.cashflows) ? String(r.cashflows.length) : '');
    row.push(q(r.error || ''));
    lines.push(row.join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * resultsTable renders the results document doc (parsed) into el; text is
 * the document as the engine served it, for the JSON download.
 */
export function resultsTable(el, doc, text, batchId) {
  const results = doc.results || [];
  const cols = columnsOf(results);
  const flows = results.some((r) => Array.isArray(r.cashflows));
  const errors = results.filter((r) => r.error).length;
  const state = { key: '#', dir: 1, filter: 'all', query: '', page: 0 };
  const rows = results.map((r, i) => ({ i, r }));
  const file = batchId.replace(/[^A-Za-z0-9._-]/g, '_');

  render(el, html`
    <div class="table-tools">
      <fieldset class="seg">
        <legend class="sr-only">Show</legend>
        <input type="radio" name="show" id="show-all" value="all" checked><label for="show-all">All <span class="count">${int(results.length)}</span></label>
        <input type="radio" name="show" id="show-ok" value="ok"><label for="show-ok">Priced <span class="count">${int(results.length - errors)}</span></label>
        <input type="radio" name="show" id="show-err" value="err"><label for="show-err" class="${errors ? 'has-errors' : ''}">Errors <span class="count">${int(errors)}</span></label>
      </fieldset>
      <label class="search"><span class="sr-only">Filter by trade id or error text</span>
        <input type="search" id="results-filter" placeholder="Filter: trade id or error"></label>
      <span class="grow"></span>
      <button type="button" id="dl-json">Download JSON</button>
      <button type="button" id="dl-csv">Download CSV</button>
    </div>
    <p id="results-shown" class="note" role="status"></p>
    <div class="table-wrap${results.length > 40 ? ' tall' : ''}" tabindex="0" role="region" aria-labelledby="results-title">
      <table class="results" id="results-table">
        <caption class="sr-only">Results of batch ${batchId}: one row per trade; column headers sort</caption>
        <thead><tr>
          ${header('#', '#', '', 'input order')}
          ${header('id', 'trade id', '')}
          ${cols.map((c) => header(c, c, UNITS[c]?.[0] || '', UNITS[c]?.[1] || ''))}
          ${flows ? header('cashflows', 'cash flows', 'count') : ''}
          ${errors ? header('error', 'error', '') : ''}
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <div class="pager" id="pager"></div>`);

  const tbody = $('tbody', el);
  const value = (r, key) => {
    if (key === 'cashflows') return Array.isArray(r.cashflows) ? r.cashflows.length : undefined;
    return r[key];
  };
  const compare = (a, b) => {
    if (state.key === '#') return (a.i - b.i) * state.dir;
    if (state.key === 'id' || state.key === 'error') {
      const x = a.r[state.key] || '', y = b.r[state.key] || '';
      if (!x !== !y) return x ? -1 : 1; // blanks last
      return x.localeCompare(y, 'en', { numeric: true }) * state.dir || a.i - b.i;
    }
    const x = value(a.r, state.key), y = value(b.r, state.key);
    const xm = typeof x !== 'number', ym = typeof y !== 'number';
    if (xm || ym) return xm === ym ? a.i - b.i : xm ? 1 : -1; // missing values last, either way
    return (x - y) * state.dir || a.i - b.i;
  };
  const draw = () => {
    const q = state.query.toLowerCase();
    let shown = rows.filter(({ r }) => (state.filter === 'all' || (state.filter === 'err') === !!r.error) &&
      (!q || String(r.id).toLowerCase().includes(q) || (r.error || '').toLowerCase().includes(q)));
    shown.sort(compare);
    const total = shown.length;
    const pages = total > PAGE_FROM ? Math.ceil(total / PAGE) : 1;
    state.page = Math.min(state.page, pages - 1);
    if (pages > 1) shown = shown.slice(state.page * PAGE, (state.page + 1) * PAGE);
    const span = cols.length + (flows ? 1 : 0);
    const out = [];
    for (const { i, r } of shown) {
      let tr = `<tr data-id="${esc(r.id)}"${r.error ? ' class="err"' : ''}><td class="num idx">${i + 1}</td><th scope="row" class="id">${esc(r.id)}</th>`;
      if (r.error) {
        tr += `<td class="error" colspan="${span + 1}">${esc(r.error)}</td>`;
      } else {
        for (const c of cols) {
          const v = r[c];
          tr += typeof v === 'number' ? `<td class="num" data-measure="${esc(c)}" data-value="${v}">${num(v)}</td>` : '<td class="none" aria-label="not reported">·</td>';
        }
        if (flows) tr += `<td class="num">${Array.isArray(r.cashflows) ? r.cashflows.length : ''}</td>`;
        if (errors) tr += '<td></td>';
      }
      out.push(tr + '</tr>');
    }
    tbody.innerHTML = out.join('') || `<tr><td colspan="${span + 3}" class="muted">${results.length ? 'No trade matches.' : 'The batch has no trades.'}</td></tr>`;
    $('#results-shown').textContent = total === results.length
      ? `${int(total)} ${total === 1 ? 'trade' : 'trades'}${errors ? `, ${int(errors)} with an error (highlighted)` : ''}.`
      : `${int(total)} of ${int(results.length)} trades shown.`;
    for (const th of $$('thead th', el)) {
      th.setAttribute('aria-sort', th.dataset.key === state.key ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
    }
    const pager = $('#pager');
    if (pages > 1) {
      render(pager, html`<button type="button" data-page="-1" ${state.page === 0 ? raw('disabled') : ''}>Previous</button>
        <span>Rows ${int(state.page * PAGE + 1)}–${int(Math.min(total, (state.page + 1) * PAGE))} of ${int(total)}</span>
        <button type="button" data-page="1" ${state.page === pages - 1 ? raw('disabled') : ''}>Next</button>`);
    } else {
      pager.textContent = '';
    }
  };

  $('thead', el).addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-key]');
    if (!b) return;
    state.dir = state.key === b.dataset.key ? -state.dir : 1;
    state.key = b.dataset.key;
    draw();
  });
  $('.seg', el).addEventListener('change', (ev) => { state.filter = ev.target.value; state.page = 0; draw(); });
  $('#results-filter').addEventListener('input', (ev) => { state.query = ev.target.value; state.page = 0; draw(); });
  $('#pager').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-page]');
    if (!b) return;
    state.page += Number(b.dataset.page);
    draw();
    // draw replaced the buttons: the focus stays on the one pressed, or
    // goes to the other once that end is reached, not to the page's body.
    const same = $(`#pager button[data-page="${b.dataset.page}"]`);
    (same && !same.disabled ? same : $('#pager button:not([disabled])'))?.focus();
  });
  $('#dl-json').addEventListener('click', () => download(`${file}-results.json`, text, 'application/json'));
  $('#dl-csv').addEventListener('click', () => download(`${file}-results.csv`, csvOf(results), 'text/csv'));
  draw();
}

function header(key, label, unit, explain = '') {
  return html`<th scope="col" data-key="${key}" class="${key === 'id' || key === 'error' ? '' : 'num'}">
    <button type="button" data-key="${key}" title="${explain ? `${label}: ${explain}. ` : ''}Sort by ${label}">
      <span class="h">${label}</span>${unit ? html`<span class="unit">${unit}</span>` : ''}<span class="arrow" aria-hidden="true"></span></button></th>`;
}
