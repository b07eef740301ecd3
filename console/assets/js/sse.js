// A server-sent events reader on fetch(), so that it can send the
// Authorization header (EventSource cannot), with EventSource's
// reconnection: after a dropped connection it waits the server's retry
// delay and asks again with Last-Event-ID, so the server sends only what
// this reader has not seen. A connection silent for longer than the
// server's keepalive comments allow is taken for dropped too: one whose
// other end went away without a word (a laptop asleep, a proxy's idle
// timeout) would otherwise be read for ever.

import { call, errorOf } from './api.js';

/**
 * follow reads the event stream at path until an event of type endType
 * arrives, stop() is called, or the server refuses it (4xx). handlers:
 * onEvent({type, data, id}), onState(state, detail) with state 'open',
 * 'reconnecting', 'ended' or 'error'. A connection that brings nothing
 * for idle ms (0: no bound) is dropped and made again. It returns stop().
 */
export function follow(path, { endType = 'end', idle = 0, onEvent, onState = () => {} }) {
  const ctl = new AbortController();
  let lastId = '';
  let retry = 2000;
  let ended = false;

  function dispatch(ev) {
    if (ev.id !== null) lastId = ev.id;
    if (!ev.data.length) return;
    const e = { type: ev.event || 'message', data: ev.data.join('\n'), id: lastId };
    if (e.type === endType) ended = true;
    onEvent(e);
  }

  async function readOnce() {
    // This connection's own signal: stop() ends it, and so does silence.
    const conn = new AbortController();
    const end = () => conn.abort();
    ctl.signal.addEventListener('abort', end);
    let timer = 0;
    const awake = () => {
      clearTimeout(timer);
      if (idle > 0) timer = setTimeout(end, idle);
    };
    try {
      awake();
      await readConnection(conn.signal, awake);
    } finally {
      clearTimeout(timer);
      ctl.signal.removeEventListener('abort', end);
    }
  }

  async function readConnection(signal, awake) {
    const headers = { Accept: 'text/event-stream' };
    if (lastId) headers['Last-Event-ID'] = lastId;
    const resp = await call(path, { headers, signal });
    if (!resp.ok) {
      const err = await errorOf(resp);
      if (resp.status >= 400 && resp.status < 500) err.final = true;
      throw err;
    }
    onState('open');
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let ev = { event: '', data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      awake();
      buf += value;
      let m;
      while ((m = /\r\n|\r|\n/.exec(buf)) !== null) {
        // A lone \r at the end may be the first half of \r\n: wait.
        if (m[0] === '\r' && m.index === buf.length - 1) break;
        const line = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        if (line === '') {
          dispatch(ev);
          ev = { event: '', data: [], id: null };
          if (ended) { ctl.abort(); return; }
          continue;
        }
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        let val = i < 0 ? '' : line.slice(i + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'event') ev.event = val;
        else if (field === 'data') ev.data.push(val);
        else if (field === 'id' && !val.includes('\0')) ev.id = val;
        else if (field === 'retry' && /^\d+$/.test(val)) retry = Number(val);
      }
    }
  }

  (async () => {
    while (!ctl.signal.aborted) {
      try {
        await readOnce();
      } catch (err) {
        if (ctl.signal.aborted) break;
        if (err.final) { onState('error', err); return; }
      }
      if (ended || ctl.signal.aborted) break;
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, retry));
    }
    if (ended) onState('ended');
  })();
  return () => ctl.abort();
}
