package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
)

// Guard authenticates a function's callers: events by their signature
// (Wrap), public requests by their bearer token (Require). A Guard without
// Keys takes unsigned events and one without Tokens takes every request as
// the default tenant's: pricefn dev on a laptop, which says so at startup.
type Guard struct {
	// Keys sign and verify the pipeline's events; nil checks none.
	Keys *Keys
	// Tokens authenticate the public API, and hold the keys of upstream
	// systems that send batch.submitted through the broker; nil admits
	// every request.
	Tokens *Tokens
	// Log receives one line per refusal, marked security=true.
	Log zerolog.Logger
	// RecheckEvery is how often the token of a request still running (a
	// results stream, an event stream, a long poll) is looked up again:
	// one removed from the tokens file, or that lost the route's scope,
	// ends the request (ErrTokenRevoked). 0 means a second.
	RecheckEvery time.Duration

	rejected *prometheus.CounterVec
}

var _ host.Guard = (*Guard)(nil)

// NewGuard returns a guard whose refusals are counted in
// pricefn_auth_rejected_total{kind,reason} on reg (nil registers none).
func NewGuard(keys *Keys, tokens *Tokens, log zerolog.Logger, reg prometheus.Registerer) *Guard {
	g := &Guard{Keys: keys, Tokens: tokens, Log: log, rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pricefn_auth_rejected_total",
		Help: "Requests and events refused as unauthenticated or unauthorised, by kind (event, request) and reason.",
	}, []string{"kind", "reason"})}
	if reg != nil {
		reg.MustRegister(g.rejected)
	}
	// Every series exists from the start at 0, so that a rate over them
	// is 0, not empty, before the first refusal.
	for _, kr := range rejections {
		g.rejected.WithLabelValues(kr[0], kr[1])
	}
	return g
}

// rejections are the kinds and reasons of pricefn_auth_rejected_total.
var rejections = [...][2]string{
	{"event", "unsigned"}, {"event", "bad_signature"},
	{"request", "no_token"}, {"request", "bad_token"}, {"request", "two_tokens"}, {"request", "scope"}, {"request", "revoked"},
}

// ErrTokenRevoked is the cause of a request's context ended because its
// token was removed from the tokens file, or lost the route's scope or its
// tenant, while the request ran: a 401, which a handler that has written
// nothing yet answers.
var ErrTokenRevoked = host.Errorf(http.StatusUnauthorized, "auth: the request's token was revoked")

func (g *Guard) reject(kind, reason string) {
	if g.rejected != nil {
		g.rejected.WithLabelValues(kind, reason).Inc()
	}
}

// Wrap returns h behind the guard: an event without a valid signature is
// refused with a 403, which a broker does not retry, before h sees it, and
// h's reply is signed. A batch.submitted must be signed with a key issued
// to an upstream system of the tenant it names (a token with ScopeSign);
// every other event with the pipeline's Keys. The tenant of a valid event
// is put in the context (host.TenantOf), as events.Tenant gives it.
func (g *Guard) Wrap(h host.Handler) host.Handler {
	if g == nil || g.Keys == nil {
		return host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
			return h.Handle(host.WithTenant(ctx, events.Tenant(e)), e)
		})
	}
	return host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		if err := g.verify(&e); err != nil {
			reason := "bad_signature"
			if errors.Is(err, ErrUnsigned) {
				reason = "unsigned"
			}
			g.reject("event", reason)
			g.Log.Warn().Bool("security", true).Str("reason", reason).Str("type", e.Type()).Str("source", e.Source()).
				Str("id", e.ID()).Str(events.ExtBatchID, events.BatchID(e)).Msg("event refused: not authentic")
			return nil, host.Errorf(http.StatusForbidden, "auth: %s %s refused: %w", e.Type(), e.ID(), err)
		}
		reply, err := h.Handle(host.WithTenant(ctx, events.Tenant(e)), e)
		if reply != nil {
			g.Keys.Sign(reply)
		}
		return reply, err
	})
}

func (g *Guard) verify(e *event.Event) error {
	if e.Type() != events.TypeBatchSubmitted {
		return g.Keys.Verify(e)
	}
	tenant := events.Tenant(*e)
	var keys [][]byte
	if g.Tokens != nil {
		keys = g.Tokens.SigningKeys(tenant)
	}
	err := VerifyWith(keys, e)
	if g.Tokens == nil && errors.Is(err, ErrBadSignature) {
		// Signed, with no tokens file to check it against: "does not
		// match" sent whoever signed it looking for a fault in the
		// signature. A tenant without a key of sign scope is not said so:
		// whoever can send an event would learn which tenants exist and
		// which take signed events; its signature does not match, as one
		// made with another key.
		return fmt.Errorf("%w: there is no tokens file (--tokens-file), so no key of sign scope to check it with", ErrBadSignature)
	}
	return err
}

// Require returns next behind a bearer token with scope: 401 (with
// WWW-Authenticate: Bearer) without a valid token, 403 for a token without
// the scope. The token's tenant is put in the request's context.
func (g *Guard) Require(scope string, next http.Handler) http.Handler {
	if g == nil || g.Tokens == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Values("Authorization")) > 1 {
			// Which one is the credential? This guard took the first, a
			// proxy in front may check the last: a request of two is
			// refused, as an event attribute given twice is (RFC 6750
			// section 3.1: invalid_request, 400).
			g.reject("request", "two_tokens")
			g.Log.Warn().Bool("security", true).Str("path", r.URL.Path).Str("remote", r.RemoteAddr).Msg("request refused: the Authorization header given twice")
			w.Header().Set("WWW-Authenticate", `Bearer realm="pricefn", error="invalid_request"`)
			host.WriteError(w, host.Errorf(http.StatusBadRequest, "auth: the Authorization header is given twice: send one token"))
			return
		}
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok || token == "" {
			g.reject("request", "no_token")
			w.Header().Set("WWW-Authenticate", `Bearer realm="pricefn"`)
			host.WriteError(w, host.Errorf(http.StatusUnauthorized, "auth: a bearer token is required (Authorization: Bearer TOKEN)"))
			return
		}
		id, found := g.Tokens.Lookup(strings.TrimSpace(token))
		if !found {
			g.reject("request", "bad_token")
			g.Log.Warn().Bool("security", true).Str("path", r.URL.Path).Str("remote", r.RemoteAddr).Msg("request refused: unknown token")
			w.Header().Set("WWW-Authenticate", `Bearer realm="pricefn", error="invalid_token"`)
			host.WriteError(w, host.Errorf(http.StatusUnauthorized, "auth: the token is not valid"))
			return
		}
		if !id.Has(scope) {
			g.reject("request", "scope")
			w.Header().Set("WWW-Authenticate", `Bearer realm="pricefn", error="insufficient_scope", scope="`+scope+`"`)
			host.WriteError(w, host.Errorf(http.StatusForbidden, "auth: the token of tenant %s lacks the %s scope", id.Tenant, scope))
			return
		}
		ctx, cancel := context.WithCancelCause(host.WithTenant(r.Context(), id.Tenant))
		defer g.whileValid(ctx, cancel, token, scope, id.Tenant, r.URL.Path)()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// whileValid looks token up again every RecheckEvery while ctx runs, and
// ends ctx (ErrTokenRevoked) once it no longer gives tenant the scope: a
// stream opened with a token kept flowing after the token was removed.
// The returned func ends ctx and the checks.
func (g *Guard) whileValid(ctx context.Context, cancel context.CancelCauseFunc, token, scope, tenant, path string) (stop func()) {
	every := cmp.Or(g.RecheckEvery, time.Second)
	var timer atomic.Pointer[time.Timer]
	var check func()
	check = func() {
		if ctx.Err() != nil {
			return
		}
		if id, ok := g.Tokens.Lookup(strings.TrimSpace(token)); !ok || !id.Has(scope) || id.Tenant != tenant {
			g.reject("request", "revoked")
			g.Log.Warn().Bool("security", true).Str("path", path).Str("tenant", tenant).Msg("request ended: its token was revoked while it ran")
			cancel(ErrTokenRevoked)
			return
		}
		timer.Store(time.AfterFunc(every, check))
	}
	timer.Store(time.AfterFunc(every, check))
	return func() {
		cancel(nil)
		timer.Load().Stop()
	}
}

// bearer returns the token of an Authorization header of the Bearer
// scheme, whose name is case-insensitive (RFC 9110 section 11.1: "bearer"
// and "BEARER" are Bearer).
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return token, true
}
