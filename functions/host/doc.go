// Package host serves a pricefn function over HTTP the way its Knative
// container runs it: CloudEvents in binary or structured mode on one port,
// replies written back as CloudEvents, /healthz, /readyz and /metrics on the
// same port, and a graceful shutdown that finishes in-flight requests. It
// also sends events to a sink (the broker) with a broker's retry rules.
//
// Errors become HTTP statuses in one place, Status: a CloudEvents
// *cehttp.Result keeps its code (handlers return cloudevents.NewHTTPResult(400,
// ...) for input they reject), a cancelled context is a 503, anything else
// a 500, which a broker retries.
package host
