// SVG charts drawn by hand: the per-chunk timeline and the P&L histogram.

import { esc, raw } from './dom.js';
import { amount, chunkRows, confidence, count, epochMs, int, seconds } from './format.js';

/** ticks returns about n round values spanning [lo, hi]. */
export function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const raw0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw0) || raw0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const ms = epochMs;

/**
 * timeline draws one row per chunk over time since submission: waiting
 * (submission to pricing start), pricing (by the pricer's clock),
 * recording (pricing end to the aggregator's record), a dead chunk's
 * span, and the deliveries past the first. chunks is sorted by index;
 * submitted and now are epoch milliseconds.
 */
export function timeline(chunks, submitted, now) {
  // chunks may hold {index, state: 'waiting'} for a chunk without an outcome yet: its bar runs to now.
  const W = 1000, left = 84, right = 56, top = 6;
  const n = chunks.length;
  const rowH = n <= 24 ? 18 : Math.max(2, Math.min(18, 432 / n));
  const H = top + n * rowH + 30;
  let end = submitted;
  for (const c of chunks) end = Math.max(end, ms(c.recordedAt) || 0, ms(c.pricedAt) || 0);
  if (now && chunks.some((c) => c.state === 'waiting')) end = Math.max(end, now);
  if (end <= submitted) end = submitted + 1;
  const span = end - submitted;
  const x = (t) => left + ((t - submitted) / span) * (W - left - right);
  const bar = rowH >= 8 ? rowH - 6 : Math.max(1, rowH - 1);
  const labelEvery = rowH >= 12 ? 1 : Math.ceil(14 / rowH);
  const parts = [];
  chunks.forEach((c, row) => {
    const y = top + row * rowH + (rowH - bar) / 2;
    const started = ms(c.deliveredAt), finished = ms(c.pricedAt), arrived = ms(c.recordedAt);
    const waited = started - submitted;
    if (c.state === 'waiting') {
      parts.push(`<g class="chunk waiting"><title>chunk ${c.index}: no outcome yet, ${esc(seconds((end - submitted) / 1000))} since submission</title>` +
        (row % labelEvery === 0 ? `<text class="label" x="${left - 8}" y="${y + bar / 2}" dy="0.35em" text-anchor="end">chunk ${c.index}</text>` : '') +
        `<rect class="pending" x="${x(submitted)}" y="${y}" width="${Math.max(0, x(end) - x(submitted))}" height="${bar}"/></g>`);
      return;
    }
    const tip = [`chunk ${c.index}: ${c.trades ? 'trades ' : ''}${chunkRows(c)}`,
      c.state === 'dead' ? `dead: ${c.reason}` : `priced by ${c.pricedBy || 'a pricer'} in ${seconds(c.pricingSeconds)}`,
      Number.isFinite(waited) ? `waited ${seconds(waited / 1000)} from submission` : '',
      `recorded ${seconds((arrived - submitted) / 1000)} after submission`,
      c.failed ? `${count(c.failed, 'trade')} failed` : '',
      c.deliveries > 1 ? `${c.deliveries} deliveries (${c.deliveries - 1} duplicate)` : ''].filter(Boolean).join('; ');
    let g = `<g class="chunk ${c.state}${c.failed ? ' some-failed' : ''}"><title>${esc(tip)}</title>`;
    if (row % labelEvery === 0) g += `<text class="label" x="${left - 8}" y="${y + bar / 2}" dy="0.35em" text-anchor="end">chunk ${c.index}</text>`;
    if (c.state === 'dead') {
      g += `<rect class="dead" x="${x(submitted)}" y="${y}" width="${Math.max(1.5, x(arrived) - x(submitted))}" height="${bar}"/>`;
    } else {
      if (Number.isFinite(started)) g += `<rect class="wait" x="${x(submitted)}" y="${y}" width="${Math.max(0, x(started) - x(submitted))}" height="${bar}"/>`;
      if (Number.isFinite(finished) && Number.isFinite(arrived)) {
        g += `<rect class="record" x="${x(finished)}" y="${y + bar / 2 - 1}" width="${Math.max(0, x(arrived) - x(finished))}" height="2"/>`;
      }
      if (Number.isFinite(started) && Number.isFinite(finished)) {
        g += `<rect class="price" x="${x(started)}" y="${y}" width="${Math.max(1.5, x(finished) - x(started))}" height="${bar}"/>`;
      }
    }
    if (Number.isFinite(arrived)) g += `<rect class="mark" x="${x(arrived) - 1}" y="${y}" width="2" height="${bar}"/>`;
    if (c.deliveries > 1 && rowH >= 10) g += `<text class="retry" x="${x(arrived) + 4}" y="${y + bar / 2}" dy="0.35em">×${c.deliveries}</text>`;
    parts.push(g + '</g>');
  });
  const axisY = top + n * rowH + 4;
  let axis = `<line class="axis" x1="${left}" x2="${W - right}" y1="${axisY}" y2="${axisY}"/>`;
  for (const t of ticks(0, span / 1000, 6)) {
    const tx = x(submitted + t * 1000);
    axis += `<line class="tick" x1="${tx}" x2="${tx}" y1="${top}" y2="${axisY + 4}"/>` +
      `<text class="tick-label" x="${tx}" y="${axisY + 18}" text-anchor="middle">+${esc(seconds(t))}</text>`;
  }
  return raw(`<svg class="timeline" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="timeline-title">` +
    `<title id="timeline-title">Timeline of ${n} chunks from submission: waiting, pricing and recording; the chunk table below lists the same</title>` +
    axis + parts.join('') + '</svg>');
}

/**
 * histogram draws the distribution of the scenario P&Ls with a dashed
 * line at each VaR and a dotted one at each ES (both reported as losses:
 * the line stands at -VaR on the P&L axis).
 */
export function histogram(pnls, risk) {
  const W = 1000, H = 300, left = 64, right = 24, top = 34, bottom = 44;
  const lines = [];
  for (const [conf, v] of Object.entries(risk?.var || {})) lines.push({ kind: 'var', conf, at: -v, label: `VaR ${confidence(conf)}` });
  for (const [conf, v] of Object.entries(risk?.es || {})) lines.push({ kind: 'es', conf, at: -v, label: `ES ${confidence(conf)}` });
  let lo = Math.min(...pnls, ...lines.map((l) => l.at));
  let hi = Math.max(...pnls, ...lines.map((l) => l.at));
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  const bins = Math.max(10, Math.min(60, Math.ceil(Math.sqrt(pnls.length))));
  const width = (hi - lo) / bins;
  const counts = new Array(bins).fill(0);
  for (const p of pnls) counts[Math.min(bins - 1, Math.floor((p - lo) / width))]++;
  const maxCount = Math.max(1, ...counts);
  const x = (v) => left + ((v - lo) / (hi - lo)) * (W - left - right);
  const y = (c) => H - bottom - (c / maxCount) * (H - top - bottom);
  let s = `<svg class="histogram" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="hist-title">` +
    `<title id="hist-title">Histogram of ${pnls.length} scenario P&amp;Ls${lines.length ? ` with ${lines.map((l) => esc(l.label)).join(', ')}` : ''}</title>`;
  counts.forEach((c, k) => {
    const a = lo + k * width;
    const cls = a + width / 2 < 0 ? 'loss' : 'gain';
    s += `<rect class="bin ${cls}" x="${x(a) + 0.5}" y="${y(c)}" width="${Math.max(0.5, x(a + width) - x(a) - 1)}" height="${H - bottom - y(c)}">` +
      `<title>${esc(`${int(c)} scenarios with P&L from ${amount(a)} to ${amount(a + width)}`)}</title></rect>`;
  });
  const axisY = H - bottom;
  s += `<line class="axis" x1="${left}" x2="${W - right}" y1="${axisY}" y2="${axisY}"/>`;
  for (const t of ticks(lo, hi, 7)) {
    s += `<line class="tick" x1="${x(t)}" x2="${x(t)}" y1="${axisY}" y2="${axisY + 5}"/>` +
      `<text class="tick-label" x="${x(t)}" y="${axisY + 18}" text-anchor="middle">${esc(amount(t))}</text>`;
  }
  s += `<text class="axis-title" x="${(left + W - right) / 2}" y="${H - 6}" text-anchor="middle">scenario P&amp;L (ccy; losses left of 0)</text>`;
  for (const t of ticks(0, maxCount, 4)) {
    if (t !== Math.round(t)) continue;
    s += `<text class="tick-label" x="${left - 8}" y="${y(t)}" dy="0.35em" text-anchor="end">${int(t)}</text>`;
  }
  s += `<text class="axis-title" x="${left - 8}" y="${top - 18}" text-anchor="end">scenarios</text>`;
  lines.sort((a, b) => a.at - b.at).forEach((l, k) => {
    const lx = x(l.at);
    s += `<g class="risk-line ${l.kind}"><line x1="${lx}" x2="${lx}" y1="${top - 4}" y2="${axisY}"/>` +
      `<text x="${lx + 4}" y="${top + 10 + (k % 3) * 14}">${esc(l.label)}: ${esc(amount(-l.at))}</text></g>`;
  });
  return raw(s + '</svg>');
}

