package broker

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// resolveRoutes resolves every Trigger's subscriber and dead-letter sink.
func resolveRoutes(man *Manifest, subscribers map[string]string) ([]*route, error) {
	var routes []*route
	var errs []error
	missing := map[string]bool{}
	resolveInto := func(dst *string, d Destination, trigger, what string) {
		u, err := resolve(d, subscribers)
		var ue *UnresolvedError
		switch {
		case errors.As(err, &ue):
			for _, s := range ue.Services {
				missing[s] = true
			}
		case err != nil:
			errs = append(errs, fmt.Errorf("broker: trigger %q: %s: %w", trigger, what, err))
		}
		*dst = u
	}
	for _, t := range man.Triggers {
		d := t.Delivery
		if d == nil {
			d = man.Delivery
		}
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

// resolve returns the URL of d: its ref's URL from subscribers with d.URI's
// path appended, or d.URI when absolute and d has no ref.
func resolve(d Destination, subscribers map[string]string) (string, error) {
	rel, err := url.Parse(d.URI)
	if err != nil {
		return "", fmt.Errorf("%w: uri %q: %w", ErrUnresolved, d.URI, err)
	}
	if d.Ref == nil {
		if !rel.IsAbs() || rel.Host == "" {
			return "", fmt.Errorf("%w: uri %q is not an absolute URL and there is no ref", ErrUnresolved, d.URI)
		}
		return rel.String(), nil
	}
	if d.Ref.Kind != "Service" {
		return "", fmt.Errorf("%w: ref %s %q: only Knative Services are supported", ErrUnresolved, d.Ref.Kind, d.Ref.Name)
	}
	base, ok := subscribers[d.Ref.Name]
	if !ok {
		return "", &UnresolvedError{Services: []string{d.Ref.Name}}
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: Service %q: URL %q is not an absolute http(s) URL", ErrUnresolved, d.Ref.Name, base)
	}
	if d.URI == "" {
		return u.String(), nil
	}
	if rel.IsAbs() || rel.Host != "" {
		return "", fmt.Errorf("%w: uri %q must be relative when a ref is given", ErrUnresolved, d.URI)
	}
	if rel.Path != "" {
		u = u.JoinPath(rel.Path)
	}
	if rel.RawQuery != "" {
		u.RawQuery = rel.RawQuery
	}
	return u.String(), nil
}
