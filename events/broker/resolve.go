package broker

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// target is where a delivery goes: the addresses of one destination, the
// replicas of a Knative Service, which the broker uses in turn as a
// Kubernetes Service spreads requests over pods.
type target struct {
	urls []string
	// next counts the first attempts made to the Service, shared by every
	// target that refers to it: round robin across Triggers.
	next *atomic.Uint64
	// turns bounds the deliveries in progress to the Service, shared by
	// every target that refers to it; nil when unbounded.
	turns *turns
}

// pick returns the index in t.urls for an attempt. A retry (prev >= 0, the
// address that failed) goes to the next address, so a dead replica is
// skipped; a first attempt takes the Service's next address in turn.
func (t *target) pick(prev int) int {
	n := len(t.urls)
	switch {
	case n == 1:
		return 0
	case prev >= 0:
		return (prev + 1) % n
	default:
		return int((t.next.Add(1) - 1) % uint64(n))
	}
}

// resolveRoutes resolves every Trigger's subscriber and dead-letter sink.
func resolveRoutes(man *Manifest, subscribers map[string]string, concurrency map[string]int) ([]*route, error) {
	var routes []*route
	var errs []error
	missing := map[string]bool{}
	counters := map[string]*atomic.Uint64{} // per Service (or absolute URI)
	bounds := map[string]*turns{}           // per Service
	resolveInto := func(dst **target, d Destination, trigger, what string) {
		urls, err := resolve(d, subscribers)
		var ue *UnresolvedError
		switch {
		case errors.As(err, &ue):
			for _, s := range ue.Services {
				missing[s] = true
			}
			return
		case err != nil:
			errs = append(errs, fmt.Errorf("broker: trigger %q: %s: %w", trigger, what, err))
			return
		}
		key := d.URI
		if d.Ref != nil {
			key = "service/" + d.Ref.Name
		}
		if counters[key] == nil {
			counters[key] = new(atomic.Uint64)
		}
		*dst = &target{urls: urls, next: counters[key]}
		if d.Ref != nil && concurrency[d.Ref.Name] > 0 {
			if bounds[key] == nil {
				bounds[key] = &turns{service: d.Ref.Name, max: concurrency[d.Ref.Name]}
			}
			(*dst).turns = bounds[key]
		}
	}
	for _, t := range man.Triggers {
		d := man.DeliveryOf(t)
		p, err := d.policy()
		if err != nil { // LoadManifest checked it
			errs = append(errs, fmt.Errorf("broker: trigger %q: delivery: %w", t.Name, err))
			continue
		}
		r := &route{trigger: t, policy: p}
		resolveInto(&r.subscriber, t.Subscriber, t.Name, "subscriber")
		if d != nil && d.DeadLetterSink != nil {
			resolveInto(&r.deadLetter, *d.DeadLetterSink, t.Name, "deadLetterSink")
		}
		routes = append(routes, r)
	}
	if len(missing) > 0 {
		errs = append(errs, &UnresolvedError{Services: slices.Sorted(maps.Keys(missing))})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return routes, nil
}

// UnresolvedError reports the Knative Services that Triggers refer to and
// that have no URL in Config.Subscribers. It matches ErrUnresolved.
type UnresolvedError struct {
	// Services holds the Service names, sorted.
	Services []string
}

// Error lists the Services.
func (e *UnresolvedError) Error() string {
	q := make([]string, len(e.Services))
	for i, s := range e.Services {
		q[i] = strconv.Quote(s)
	}
	return fmt.Sprintf("broker: no URL for Service %s, which Triggers refer to", strings.Join(q, ", "))
}

// Is makes errors.Is(err, ErrUnresolved) true.
func (e *UnresolvedError) Is(target error) bool { return target == ErrUnresolved }

// resolve returns the URLs of d: for a ref, one per address listed for the
// Service in subscribers (comma-separated base URLs), each with d.URI's
// path appended; without a ref, d.URI when it is absolute.
func resolve(d Destination, subscribers map[string]string) ([]string, error) {
	rel, err := url.Parse(d.URI)
	if err != nil {
		return nil, fmt.Errorf("%w: uri %q: %w", ErrUnresolved, d.URI, err)
	}
	if d.Ref == nil {
		if !rel.IsAbs() || rel.Host == "" {
			return nil, fmt.Errorf("%w: uri %q is not an absolute URL and there is no ref", ErrUnresolved, d.URI)
		}
		return []string{rel.String()}, nil
	}
	if d.Ref.Kind != "Service" {
		return nil, fmt.Errorf("%w: ref %s %q: only Knative Services are supported", ErrUnresolved, d.Ref.Kind, d.Ref.Name)
	}
	list, ok := subscribers[d.Ref.Name]
	if !ok {
		return nil, &UnresolvedError{Services: []string{d.Ref.Name}}
	}
	if d.URI != "" && (rel.IsAbs() || rel.Host != "") {
		return nil, fmt.Errorf("%w: uri %q must be relative when a ref is given", ErrUnresolved, d.URI)
	}
	var urls []string
	for _, base := range strings.Split(list, ",") {
		base = strings.TrimSpace(base)
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: Service %q: address %q (of %q) is not an absolute http(s) URL", ErrUnresolved, d.Ref.Name, base, list)
		}
		if rel.Path != "" {
			u = u.JoinPath(rel.Path)
		}
		if rel.RawQuery != "" {
			u.RawQuery = rel.RawQuery
		}
		urls = append(urls, u.String())
	}
	return urls, nil
}
