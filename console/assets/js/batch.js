// The batch page: state, counts and timings, live progress from the
// event stream, the per-chunk timeline, totals by underlying, the results
// table and, for a batch with scenarios, the P&L distribution.

import { json } from './api.js';
import { $, html, render } from './dom.js';
import { MEASURES, STATES, UNITS, chunkRows, confidence, count, epochMs, finished, int, num, percent, seconds, time } from './format.js';
import { follow } from './sse.js';
import { histogram, timeline } from './charts.js';
import { resultsTable } from './table.js';

/** batchPage renders batch id's page into main and follows it until it ends. */
export async function batchPage(main, session, id) {
  document.title = `Batch ${id} · pricefn`;
  const enc = encodeURIComponent(id);
  const existing = new URLSearchParams(location.search).has('existing');
  render(main, html`
    <div class="title-row">
      <h1>Batch <span class="batch-id">${id}</span></h1>
      <span id="state" class="state" aria-live="polite"></span>
      <span id="live" class="live" aria-live="polite"></span>
    </div>
    ${existing ? html`<p class="notice">This batch was submitted before with the same content: it is the same batch, not priced again.</p>` : ''}
    <section aria-labelledby="progress-title" class="card">
      <h2 id="progress-title" class="sr-only">Progress</h2>
      <div class="progress-row">
        <div id="progress" class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" aria-labelledby="progress-text"><div class="fill"></div></div>
        <span id="progress-text" class="progress-text"></span>
      </div>
      <p id="progress-live" class="sr-only" aria-live="polite"></p>
      <div id="lost"></div>
      <dl id="summary" class="summary"></dl>
      <div id="failed-chunks"></div>
    </section>
    <section aria-labelledby="timeline-h" class="card">
      <h2 id="timeline-h">Chunks over time</h2>
      <p class="note">Each row is a chunk, from the batch's submission: <span class="key wait"></span> waiting for a pricer,
        <span class="key price"></span> pricing (by the pricer's clock), <span class="key record"></span> until the aggregator recorded it,
        <span class="key dead"></span> dead (dead-lettered or past the deadline), <span class="key pending"></span> no outcome yet; ×N marks a chunk delivered N times (retries; duplicates are ignored).</p>
      <div id="timeline"><p class="muted">No chunk recorded yet.</p></div>
      <details id="chunk-details"><summary>Chunk table</summary><div id="chunk-table"></div></details>
    </section>
    <section aria-labelledby="totals-h" class="card">
      <h2 id="totals-h">Totals by underlying</h2>
      <div id="totals"><p class="muted">No trade priced yet.</p></div>
    </section>
    <section aria-labelledby="scenarios-h" class="card" id="scenarios" hidden>
      <h2 id="scenarios-h">P&amp;L distribution over scenarios</h2>
      <div id="risk"></div>
      <div id="histogram"></div>
      <h3>Worst scenarios</h3>
      <div id="worst"></div>
    </section>
    <section aria-labelledby="results-title" class="card">
      <h2 id="results-title">Results</h2>
      <div id="results"><p class="muted">The results appear when the batch has finished.</p></div>
    </section>`);

  let status;
  try {
    status = (await json(`/batches/${enc}`)).body;
  } catch (err) {
    const why = err.status === 404 ? `No batch ${id} here: never submitted${session.required ? ' by your tenant' : ''}, forgotten after its retention, or lost when the engine restarted (a memory store keeps nothing).` : err.message;
    render(main, html`<h1>Batch <span class="batch-id">${id}</span></h1><p class="error-text" role="alert">${why}</p><p><a href="/ui/batches">Your recent batches</a></p>`);
    return;
  }

  const chunks = new Map();
  const announce = announcer($('#progress-live'));
  let progress = null;
  let gone = false; // the engine answered 404: it no longer knows the batch
  let stop = () => {};
  let drawQueued = false;
  let lastStatusFetch = 0;
  let statusTimer = 0; // the read of the status document put off to the end of its second
  let resultsLoaded = false;
  // clock reads the engine's time, which the batch's times are in: the
  // status document of a running batch says how long it has run
  // (durationSeconds) when read, and this page's monotonic clock counts
  // on from there. The browser's own clock may be minutes off the
  // engine's; the elapsed time and the timeline's now are the engine's.
  let clock = null;
  const setClock = (s) => {
    const ran = s?.timings?.durationSeconds, from = epochMs(s?.timings?.submittedAt);
    if (!finished(s.state) && typeof ran === 'number' && Number.isFinite(from)) clock = { engine: from + ran * 1000, at: performance.now() };
  };
  const now = () => (clock ? clock.engine + (performance.now() - clock.at) : Date.now());
  setClock(status);
  // The chunk table is drawn when opened, by this one listener: the first
  // toggle, the page's own opening of a small batch's table included,
  // leaves it to the user.
  $('#chunk-details').addEventListener('toggle', (ev) => {
    ev.currentTarget.dataset.touched = '1';
    drawChunks(chunks, status, progress, now());
  });

  const draw = () => {
    drawQueued = false;
    drawStatus(status, progress, announce, now());
    drawChunks(chunks, status, progress, now());
  };
  const queueDraw = () => {
    if (!drawQueued) { drawQueued = true; requestAnimationFrame(draw); }
  };
  // Totals and timings come from the status document: read it again at
  // most once a second while chunks arrive. A chunk that arrives within
  // the second puts the read off to its end rather than dropping it, or
  // the totals and the pricing time would stay as the first chunks of a
  // burst left them until the next chunk, the end of the batch at worst.
  const refreshStatus = async () => {
    const wait = lastStatusFetch + 1000 - Date.now();
    if (wait > 0) {
      if (!statusTimer) statusTimer = setTimeout(() => { statusTimer = 0; refreshStatus(); }, wait);
      return;
    }
    if (gone || finished(status.state)) return;
    lastStatusFetch = Date.now();
    try {
      const s = (await json(`/batches/${enc}`)).body;
      if (!finished(status.state)) { status = s; setClock(s); queueDraw(); }
    } catch (err) {
      if (err.status === 404) lost();
      /* otherwise the stream goes on */
    }
  };
  const loadResults = async () => {
    if (resultsLoaded) return;
    resultsLoaded = true;
    try {
      const r = await json(`/batches/${enc}/results`);
      if (r.status !== 200) { resultsLoaded = false; return; }
      resultsTable($('#results'), r.body, r.text, id);
      drawScenarios(r.body);
    } catch (err) {
      resultsLoaded = false;
      render($('#results'), html`<p class="error-text" role="alert">Results not available: ${err.message}</p>`);
    }
  };
  const tick = setInterval(() => {
    if (finished(status.state)) { clearInterval(tick); return; }
    queueDraw(); // the elapsed time and the chunks without an outcome go on
  }, 1000);
  // lost ends the page's following of a batch the engine answers 404 for
  // (an engine with a memory store restarted, or the batch outlived its
  // retention): its state becomes unknown, final, and the clock, the
  // stream and the status reads stop.
  const lost = () => {
    if (gone) return;
    gone = true;
    clearInterval(tick);
    clearTimeout(statusTimer);
    stop();
    // What the page shows from now on is the batch when last seen: the
    // chunk events' progress, newer than the status document read at most
    // once a second, and the pricing time of the chunks they reported.
    const last = latest(status, progress);
    const tm = status.timings || {};
    const pricing = [...chunks.values()].reduce((sum, c) => sum + (c.pricingSeconds || 0), 0);
    status = { ...last, state: 'unknown', timings: { ...tm, pricingSeconds: Math.max(tm.pricingSeconds || 0, pricing) } };
    progress = null;
    setText($('#live'), '');
    render($('#lost'), html`<p class="error-text" role="alert">Unknown: the engine no longer knows this batch (restarted, or the batch was forgotten).
      When last seen it was ${last.state}, ${int(last.chunksDone)} of ${int(last.chunks)} chunks done. Submit it again to price it.</p>`);
    render($('#results'), html`<p class="muted">No results: the batch is gone.</p>`);
    draw();
  };

  // watchLate follows a batch its deadline ended with chunks missing:
  // their outcomes may still come, counted late (and changing nothing
  // else), and the stream, which ends at the end, does not say so. The
  // status document is read again every LATE_EVERY ms, LATE_READS times,
  // for the late (and duplicate) counts of the attempt shown.
  const watchLate = () => {
    // The status names the first 100 dead chunks only: past them, any
    // may be one the deadline ended.
    const fc = status.failedChunks || [];
    if (!fc.some((f) => f.reason?.startsWith('deadline passed')) && !(status.chunksFailed > fc.length)) return;
    let reads = 0;
    const read = async () => {
      if (gone || ++reads > LATE_READS) return;
      try {
        const s = (await json(`/batches/${enc}`)).body;
        if (s.attempt !== status.attempt) return; // submitted again since: not the batch shown
        if (s.late !== status.late || s.duplicates !== status.duplicates) {
          status = { ...status, late: s.late, duplicates: s.duplicates };
          draw();
        }
      } catch (err) {
        if (err.status === 404) return; // forgotten: the page shows it as it ended
      }
      setTimeout(read, LATE_EVERY);
    };
    setTimeout(read, LATE_EVERY);
  };

  draw();
  stop = follow(`/batches/${enc}/events`, {
    idle: STREAM_IDLE,
    onEvent(e) {
      const d = JSON.parse(e.data);
      if (gone) return;
      if (e.type === 'chunk') {
        if (d.attempt !== status.attempt) { chunks.clear(); status = { ...status, attempt: d.attempt }; }
        chunks.set(d.index, d);
        progress = d.progress;
        queueDraw();
        refreshStatus();
      } else if (e.type === 'end') {
        status = d;
        progress = null;
        draw();
        loadResults();
        watchLate();
      }
    },
    onState(s, err) {
      const live = $('#live');
      if (!live) return;
      if (gone) return;
      if (s === 'open') setText(live, finished(status.state) ? '' : '● live');
      else if (s === 'reconnecting') setText(live, 'connection lost, reconnecting…');
      else if (s === 'ended') setText(live, '');
      else if (s === 'error' && err.status === 404) lost();
      else if (s === 'error') {
        // The stream is refused for good: stop the clock rather than let
        // it count beside a state the page no longer follows.
        clearInterval(tick);
        setText(live, '');
        render($('#results'), html`<p class="error-text" role="alert">Live progress unavailable: ${err.message}</p>`);
      }
    },
  });
}

/**
 * STREAM_IDLE is how long, in ms, the event stream may bring nothing before
 * it is taken for dropped and asked for again: the engine writes a
 * keepalive comment every 15 s, so three missed.
 */
const STREAM_IDLE = 45000;

/**
 * LATE_EVERY is how often, in ms, the status of a batch its deadline
 * ended is read again for its late outcomes, and LATE_READS how many
 * times: 5 minutes, as long as the broker's retries and queueing the
 * default deadline allows for (DeadlineBase).
 */
const LATE_EVERY = 10000;
const LATE_READS = 30;

/**
 * setText sets el's text only when it changes: rewriting a live region
 * with the same text may have a screen reader say it again.
 */
function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/** ANNOUNCE_EVERY is the least time between two progress announcements, in ms, but for a change of state. */
const ANNOUNCE_EVERY = 5000;

/**
 * announcer returns announce(state, text), which writes the progress text
 * into the live region el on a change of state, and otherwise at most
 * every ANNOUNCE_EVERY ms and only when the text changed.
 */
function announcer(el) {
  let state = null;
  let at = -Infinity;
  return (st, text) => {
    const now = performance.now();
    if (st === state && (now - at < ANNOUNCE_EVERY || el.textContent === text)) return;
    state = st;
    at = now;
    setText(el, text);
  };
}

/**
 * ended reports whether batch st has ended on the engine: finished, but
 * not gone unknown, whose page shows it as when last seen.
 */
function ended(st) { return finished(st.state) && st.state !== 'unknown'; }

/**
 * latest returns what is known of the batch: the status document st with
 * the chunk events' progress p over it, unless st is the newer (more
 * chunks done).
 */
function latest(st, p) {
  return p && (p.chunksDone ?? 0) >= (st.chunksDone ?? 0) ? { ...st, ...p } : st;
}

/** drawStatus shows the state, the progress and the summary, and announces the progress; now is the engine's time (epoch ms). */
function drawStatus(st, p, announce, now) {
  const c = latest(st, p);
  const stateEl = $('#state');
  if (!stateEl) return;
  if (stateEl.className !== `state ${c.state}`) stateEl.className = `state ${c.state}`;
  setText(stateEl, c.state);
  if (stateEl.title !== (STATES[c.state] || '')) stateEl.title = STATES[c.state] || '';
  const done = c.chunks ? c.chunksDone / c.chunks : finished(c.state) ? 1 : 0;
  const bar = $('#progress');
  bar.setAttribute('aria-valuenow', String(Math.round(done * 100)));
  bar.classList.toggle('dead', !!c.chunksFailed);
  $('.fill', bar).style.width = `${done * 100}%`; // CSSOM: allowed by the style-src policy, unlike a style attribute
  const lost = c.state === 'unknown';
  const progressText = `${int(c.chunksDone)} of ${int(c.chunks)} chunks (${percent(c.chunks ? c.chunksDone / c.chunks : 1)})${lost ? ' when last seen' : ''}`;
  setText($('#progress-text'), progressText);
  announce(c.state, `${lost ? 'Unknown' : 'Progress'}: ${progressText}`);
  const tm = st.timings || {};
  const running = !finished(c.state);
  const elapsed = running && tm.submittedAt ? (now - epochMs(tm.submittedAt)) / 1000 : tm.durationSeconds;
  // A batch gone has no duration: the status document's was to its read.
  const parallel = !lost && tm.durationSeconds > 0 && tm.pricingSeconds > 0 ? tm.pricingSeconds / tm.durationSeconds : 0;
  render($('#summary'), html`
    <div><dt>Trades</dt><dd><b>${int(c.trades)}</b>
      <span class="sub">${int(c.priced)} priced · <span class="${c.failed ? 'bad' : ''}">${int(c.failed)} failed</span>${c.missing ? html` · <span class="bad">${int(c.missing)} missing</span>` : ''}${c.pending ? ` · ${int(c.pending)} pending` : ''}</span></dd></div>
    <div><dt>Chunks</dt><dd><b>${int(c.chunksDone)} / ${int(c.chunks)}</b>
      <span class="sub">${c.chunksFailed ? html`<span class="bad">${int(c.chunksFailed)} dead</span>` : 'none dead'}${st.duplicates ? ` · ${int(st.duplicates)} duplicate deliveries` : ''}${st.late ? ` · ${int(st.late)} late (after the deadline: ignored)` : ''}</span></dd></div>
    <div><dt>${running ? 'Elapsed' : 'Duration'}</dt><dd>${lost ? html`<span class="sub">not known: the batch is gone</span>` : html`<b>${seconds(elapsed)}</b><span class="sub">submission to ${running ? 'now' : 'completion'} (wall time)</span>`}</dd></div>
    <div><dt>Pricing time</dt><dd><b>${seconds(tm.pricingSeconds)}</b><span class="sub">chunks' pricing added up${parallel && !running ? ` · ${parallel.toFixed(2)}× parallel` : ''}</span></dd></div>
    <div><dt>Submitted</dt><dd>${time(tm.submittedAt)}</dd></div>
    <div><dt>${running ? 'Deadline' : 'Completed'}</dt><dd>${time(running ? tm.deadline : tm.completedAt)}</dd></div>
    <div><dt>Attempt</dt><dd>${int(st.attempt)}</dd></div>`);
  const fc = st.failedChunks || [];
  // The status names the first 100 dead chunks, by index, and counts
  // them all: the list says when it is not all of them.
  const some = st.chunksFailed > fc.length ? html` <span class="sub">(the first ${int(fc.length)} of ${int(st.chunksFailed)}, by index)</span>` : '';
  render($('#failed-chunks'), fc.length ? html`<h3 class="bad">Dead chunks${some}</h3><ul class="failed-list">${fc.map((f) =>
    html`<li>chunk ${f.index} (${f.trades ? count(f.trades, 'trade') : 'scenario revaluations'}): ${f.reason}</li>`)}</ul>` : '');
  drawTotals(st.totals, c);
}

/**
 * drawChunks draws the timeline (every chunk, those without an outcome
 * too, up to now, the engine's time) and the chunk table (those with one).
 */
function drawChunks(chunks, st, p, now) {
  const list = [...chunks.values()].sort((a, b) => a.index - b.index);
  const total = Math.max(p?.chunks ?? st.chunks ?? 0, list.length);
  const submitted = epochMs(st.timings?.submittedAt) || epochMs(list[0]?.recordedAt);
  if (!total && ended(st)) render($('#timeline'), html`<p class="muted">The batch has no trades, so no chunks.</p>`);
  if (!total || !Number.isFinite(submitted)) return;
  const rows = [];
  for (let i = 0; i < total; i++) rows.push(chunks.get(i) || { index: i, state: 'waiting' });
  render($('#timeline'), timeline(rows, submitted, now));
  const details = $('#chunk-details');
  if (!details.dataset.touched) details.open = total <= 12;
  if (!details.open || !list.length) return; // the table is drawn when opened
  const rel = (t) => (t ? `+${seconds((epochMs(t) - submitted) / 1000)}` : '–');
  render($('#chunk-table'), html`<div class="table-wrap"><table class="chunks">
    <caption class="sr-only">Chunks of the batch, in index order</caption>
    <thead><tr><th scope="col" class="num">chunk</th><th scope="col">trades</th><th scope="col">outcome</th><th scope="col">pricer</th>
      <th scope="col" class="num">pricing started</th><th scope="col" class="num">pricing time</th><th scope="col" class="num">recorded</th>
      <th scope="col" class="num">deliveries</th></tr></thead>
    <tbody>${list.map((c) => html`<tr class="${c.state === 'dead' ? 'err' : ''}">
      <td class="num">${c.index}</td><td>${chunkRows(c)}</td>
      <td>${c.state === 'dead' ? html`<span class="bad">dead: ${c.reason}</span>` : c.failed ? `priced, ${int(c.failed)} ${c.failed === 1 ? 'trade' : 'trades'} failed` : 'priced'}</td>
      <td>${c.pricedBy || '–'}</td><td class="num">${rel(c.deliveredAt)}</td><td class="num">${c.state === 'dead' ? '–' : seconds(c.pricingSeconds || 0)}</td>
      <td class="num">${rel(c.recordedAt)}</td><td class="num">${int(c.deliveries)}</td></tr>`)}</tbody></table></div>`);
}

/**
 * drawTotals shows the portfolio sums, overall and by underlying, of the
 * batch c; a batch ended with none says that none will come.
 */
function drawTotals(t, c) {
  const all = t?.all || {};
  const by = t?.byUnderlying || {};
  const keys = new Set([...Object.keys(all), ...Object.values(by).flatMap((s) => Object.keys(s))]);
  const cols = MEASURES.filter((m) => keys.has(m));
  if (!cols.length) {
    if (ended(c)) render($('#totals'), html`<p class="muted">${c.trades ? 'No trade was priced: every one failed or went missing.' : 'The batch has no trades.'}</p>`);
    return;
  }
  const row = (name, s, cls) => html`<tr class="${cls}"><th scope="row">${name}</th>${cols.map((c) =>
    html`<td class="num" data-measure="${c}" data-value="${s[c] ?? ''}">${c in s ? num(s[c]) : '·'}</td>`)}</tr>`;
  render($('#totals'), html`<div class="table-wrap"><table class="totals">
    <caption class="sr-only">Sums over the priced trades</caption>
    <thead><tr><th scope="col">underlying</th>${cols.map((c) => html`<th scope="col" class="num" title="${UNITS[c]?.[1] || ''}">
      <span class="h">${c}</span><span class="unit">${UNITS[c]?.[0] || ''}</span></th>`)}</tr></thead>
    <tbody>${Object.keys(by).sort().map((u) => row(u, by[u], ''))}${row('all trades', all, 'all')}</tbody></table></div>
    <p class="note">Sums of the priced trades' figures, each in its trade's currency: a sum across currencies is indicative only. Rates trades (no underlying) count in “all trades” only.</p>`);
}

/** drawScenarios shows the P&L histogram of a results document with scenarios, and hides it otherwise. */
function drawScenarios(doc) {
  const sc = Array.isArray(doc.scenarios) ? doc.scenarios.filter((s) => typeof s.pnl === 'number') : [];
  const box = $('#scenarios');
  box.hidden = sc.length === 0;
  if (!sc.length) return;
  const risk = doc.risk || {};
  const items = [];
  for (const [conf, v] of Object.entries(risk.var || {})) items.push(html`<div><dt>VaR ${confidence(conf)}</dt><dd><b>${num(v)}</b> <span class="sub">ccy loss</span></dd></div>`);
  for (const [conf, v] of Object.entries(risk.es || {})) items.push(html`<div><dt>ES ${confidence(conf)}</dt><dd><b>${num(v)}</b> <span class="sub">ccy mean loss beyond</span></dd></div>`);
  const failed = sc.reduce((n, s) => n + (s.failed || 0), 0);
  render($('#risk'), html`<dl class="summary">
    <div><dt>Scenarios</dt><dd><b>${int(sc.length)}</b><span class="sub">equally weighted (historical simulation)</span></dd></div>
    ${items}
    ${failed ? html`<div><dt>Failed valuations</dt><dd><b class="bad">${int(failed)}</b><span class="sub">left out of the sums</span></dd></div>` : ''}</dl>`);
  render($('#histogram'), histogram(sc.map((s) => s.pnl), risk));
  const worst = [...sc].sort((a, b) => a.pnl - b.pnl).slice(0, 10);
  render($('#worst'), html`<div class="table-wrap"><table class="worst">
    <caption class="sr-only">The ten scenarios with the lowest P&amp;L</caption>
    <thead><tr><th scope="col" class="num">rank</th><th scope="col">scenario</th><th scope="col" class="num"><span class="h">P&amp;L</span><span class="unit">ccy</span></th>
      <th scope="col" class="num"><span class="h">npv</span><span class="unit">ccy</span></th><th scope="col" class="num">failed trades</th></tr></thead>
    <tbody>${worst.map((s, k) => html`<tr><td class="num">${k + 1}</td><th scope="row">${s.id}</th><td class="num ${s.pnl < 0 ? 'bad' : ''}">${num(s.pnl)}</td>
      <td class="num">${num(s.npv)}</td><td class="num">${int(s.failed || 0)}</td></tr>`)}</tbody></table></div>`);
}
