package aggregator

import (
	"errors"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/functions/host"
)

// Routes returns the aggregator's HTTP routes, the ones its Knative service
// serves:
//
//	POST /                        batch.accepted and chunk.priced CloudEvents (the trigger's subscriber)
//	POST /dead-letter             events the broker gave up on (the dead-letter sink)
//	GET  /batches/{id}            status (Status)
//	GET  /batches/{id}/results    results in input order (wire format section 2)
//
// Both GETs take ?wait=DURATION (Go syntax, capped at MaxWait): the request
// is held until the batch is finished or the wait ends. Results of a batch
// not finished when the answer is due are a 202 with its status instead;
// an unknown batch is a 404, at once without ?wait and after at most
// UnknownGrace with it (the batch.accepted of a batch just submitted may
// still be on its way).
func (f *Function) Routes(log zerolog.Logger) http.Handler {
	mux := host.NewMux()
	mux.Handle("POST /{$}", host.Events(f, log))
	mux.Handle("POST /dead-letter", host.Events(host.HandlerFunc(f.HandleDeadLetter), log))
	mux.Handle("GET /batches/", f.Query())
	return mux
}

// Query returns the handler of the two GET routes of the results API, for
// a gateway to mount at "GET /batches/".
func (f *Function) Query() http.Handler {
	mux := host.NewMux()
	mux.HandleFunc("GET /batches/{id}", func(w http.ResponseWriter, r *http.Request) { f.serveQuery(w, r, false) })
	mux.HandleFunc("GET /batches/{id}/results", func(w http.ResponseWriter, r *http.Request) { f.serveQuery(w, r, true) })
	return mux
}

func (f *Function) serveQuery(w http.ResponseWriter, r *http.Request, results bool) {
	id := r.PathValue("id")
	wait, err := f.parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		host.WriteError(w, err)
		return
	}
	rec, err := f.waitFinished(r, id, wait)
	switch {
	case errors.Is(err, ErrNotFound):
		host.WriteError(w, host.Errorf(http.StatusNotFound, "aggregator: batch %q not found", id))
		return
	case err != nil:
		host.WriteError(w, err)
		return
	}
	st := StatusOf(rec, f.opt.Now())
	if !results {
		host.WriteJSON(w, http.StatusOK, st)
		return
	}
	if !Finished(st.State) {
		w.Header().Set("Retry-After", "1")
		host.WriteJSON(w, http.StatusAccepted, st)
		return
	}
	data, err := batch.Results{BatchID: id, Results: ResultsOf(rec)}.MarshalJSON()
	if err != nil {
		host.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(data, '\n'))
}

// parseWait reads ?wait: empty is no wait; a bad duration is a 400; a
// longer wait than MaxWait is cut to it.
func (f *Function) parseWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, host.Errorf(http.StatusBadRequest, "aggregator: wait %q: want a Go duration such as 30s", v)
	}
	return min(d, f.opt.MaxWait), nil
}

// waitFinished returns batch id once it is finished, or when the wait
// ends, the request ends or the server drains. A batch it does not know
// is waited for UnknownGrace at most: ingress accepts a batch a moment
// before its batch.accepted reaches the aggregator, but an id that has not
// appeared by then is not going to.
func (f *Function) waitFinished(r *http.Request, id string, wait time.Duration) (*Record, error) {
	ctx := r.Context()
	var deadline, grace <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
		if f.opt.UnknownGrace < wait {
			g := time.NewTimer(f.opt.UnknownGrace)
			defer g.Stop()
			grace = g.C
		}
	}
	for {
		changed, stop, err := f.opt.Store.Watch(ctx, id)
		if err != nil {
			return nil, err
		}
		rec, err := f.opt.Store.Get(ctx, id)
		if (err == nil && rec.Done()) || (err != nil && !errors.Is(err, ErrNotFound)) || wait == 0 {
			stop()
			return rec, err
		}
		known := err == nil
		select {
		case <-changed:
			stop()
			continue
		case <-grace:
			stop()
			if known { // the batch exists: wait on for it to finish
				grace = nil
				continue
			}
		case <-deadline:
			stop()
		case <-ctx.Done():
			stop()
		case <-f.drain:
			stop()
		}
		return f.opt.Store.Get(ctx, id)
	}
}
