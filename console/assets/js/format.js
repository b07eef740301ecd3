// Numbers, durations and times as the console shows them, with units.

/** MEASURES lists the result measures in the order results list them. */
export const MEASURES = ['npv', 'npvStdErr', 'delta', 'gamma', 'vega', 'theta', 'rho', 'fairRate', 'pv01',
  'cleanPrice', 'dirtyPrice', 'accrued', 'yield', 'duration', 'convexity', 'impliedVol', 'annuity'];

/** UNITS gives each measure's unit: [short, explanation]. */
export const UNITS = {
  npv: ['ccy', 'present value, in the currency of the trade, for its quantity'],
  npvStdErr: ['ccy', 'Monte Carlo standard error of npv'],
  delta: ['ccy / 1 spot', 'npv change per 1 unit of the underlying spot (of the forward rate for a swaption)'],
  gamma: ['ccy / spot²', 'delta change per 1 unit of spot'],
  vega: ['ccy / 1.00 vol', 'npv change per 1.00 (100 points) of volatility'],
  theta: ['ccy / year', 'npv change per year of time passing'],
  rho: ['ccy / 1.00 rate', 'npv change per 1.00 (100%) of the risk-free rate'],
  fairRate: ['rate', 'decimal: 0.05 is 5%'],
  pv01: ['ccy / bp', 'npv change when every zero rate rises by 1 basis point'],
  cleanPrice: ['per 100', 'per 100 of face value'],
  dirtyPrice: ['per 100', 'per 100 of face value'],
  accrued: ['per 100', 'per 100 of face value'],
  yield: ['rate', 'decimal: 0.05 is 5%'],
  duration: ['years', 'modified duration'],
  convexity: ['years²', 'convexity at the yield'],
  impliedVol: ['vol', 'Black volatility, decimal: 0.20 is 20%'],
  annuity: ['ccy / 1.00 rate', 'fixed-leg accruals times discount factors, times notional'],
};

/**
 * num formats a result value as the results table shows it: 6 decimals,
 * or 6 significant digits below 0.01, never grouped, so that the text is
 * the number pricefn price gives rounded to the digits shown.
 */
export function num(v) {
  if (typeof v !== 'number') return '';
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && Math.abs(v) < 0.01) return v.toPrecision(6);
  return v.toFixed(6);
}

const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const sig = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 6 });

/**
 * amount formats a chart label for reading: grouped, 2 decimals from 100
 * up, 6 significant digits below. Tables use num, as the results table does.
 */
export function amount(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 100 ? grouping.format(v) : sig.format(v);
}

const ints = new Intl.NumberFormat('en-US');

/** int formats a count: 12,345. */
export function int(n) { return typeof n === 'number' ? ints.format(n) : '–'; }

/** count formats a count of a noun: "1 chunk", "12,345 trades". */
export function count(n, noun) { return `${int(n)} ${n === 1 ? noun : `${noun}s`}`; }

/**
 * seconds formats a duration given in seconds: 412 ms, 12.3 s, 2 min 03 s.
 * The unit is chosen after rounding, so that 119.6 s is "2 min 00 s", not
 * "1 min 60 s", and 0.9996 s "1.00 s", not "1000 ms".
 */
export function seconds(s) {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '–';
  const a = Math.abs(s);
  if (s === 0) return '0 ms';
  if (a < 0.01) return `${(s * 1000).toFixed(2)} ms`;
  if (Math.round(a * 1000) < 1000) return `${(s * 1000).toFixed(0)} ms`;
  if (Math.round(a * 100) < 1000) return `${s.toFixed(2)} s`;
  if (Math.round(a * 10) < 600) return `${s.toFixed(1)} s`;
  const whole = Math.round(a);
  return `${s < 0 ? '-' : ''}${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/**
 * epochMs reads an RFC 3339 time as epoch milliseconds, keeping the
 * fraction below the millisecond that Date.parse drops (the engine's
 * times are to the nanosecond, and a small batch's chunks are microseconds apart).
 */
export function epochMs(iso) {
  if (!iso) return NaN;
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return Date.parse(iso);
  return Date.parse(m[1] + m[3]) + (m[2] ? Number(`0${m[2]}`) * 1000 : 0);
}

/** time formats an RFC 3339 time in UTC, to the millisecond: 2026-11-25 09:00:01.234 UTC. */
export function time(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/** bytes formats a size: 1.3 kB, 4.2 MB. */
export function bytes(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** percent formats a fraction: 0.5 is 50%. */
export function percent(f) {
  if (typeof f !== 'number' || !Number.isFinite(f)) return '–';
  return `${(f * 100).toFixed(f === 1 || f === 0 ? 0 : 1)}%`;
}

/**
 * confidence writes a risk confidence key ("0.99999", as the batch wrote
 * it) as a percentage ("99.999%"), without the float noise of x * 100.
 */
export function confidence(conf) {
  const v = Number(conf) * 100;
  return `${Number.isFinite(v) ? +v.toFixed(4) : conf}%`;
}

/**
 * chunkRows says which trades a chunk prices, as the results table numbers
 * its rows (from 1): "1–731 (731 trades)", "3,809 (1 trade)". A chunk of
 * a risk run's scenario revaluations has no trade range of its own (its
 * event reports 0 trades): "scenario revaluations".
 */
export function chunkRows(c) {
  if (!c.trades) return 'scenario revaluations';
  if (c.trades === 1) return `${int(c.firstTrade + 1)} (1 trade)`;
  return `${int(c.firstTrade + 1)}–${int(c.firstTrade + c.trades)} (${int(c.trades)} trades)`;
}

/** STATES describe the batch states (wire format section 5). */
export const STATES = {
  pending: 'accepted, no chunk priced yet',
  running: 'chunks are being priced',
  completed: 'every chunk priced',
  partial: 'finished with some chunks missing',
  failed: 'every chunk missing',
  unknown: 'the engine no longer knows this batch (restarted, or the batch was forgotten)',
};

/**
 * finished reports whether a batch state is final; the console's own
 * state unknown (the engine answers 404 for a batch the page followed)
 * is final too.
 */
export function finished(state) { return state !== 'pending' && state !== 'running'; }
