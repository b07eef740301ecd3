package host

import "net/http"

// The scopes of the public API's routes.
const (
	// ScopeSubmit: submitting batches.
	ScopeSubmit = "submit"
	// ScopeRead: reading batches' status and results.
	ScopeRead = "read"
)

// Guard authenticates a function's callers (package auth implements it):
// Wrap puts an event handler behind the check of each event's signature
// (and signs its replies), Require puts a public route behind a bearer
// token with a scope. A nil Guard admits everything.
type Guard interface {
	Wrap(h Handler) Handler
	Require(scope string, next http.Handler) http.Handler
}

// Guarded returns h behind g.Wrap, or h itself when g is nil.
func Guarded(g Guard, h Handler) Handler {
	if g == nil {
		return h
	}
	return g.Wrap(h)
}

// Required returns next behind g.Require(scope), or next itself when g is
// nil.
func Required(g Guard, scope string, next http.Handler) http.Handler {
	if g == nil {
		return next
	}
	return g.Require(scope, next)
}
