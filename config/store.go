package config

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// StoreMemory is the --store value of the in-memory store.
const StoreMemory = "memory"

// Store is where batch state lives: "memory" (one process: pricefn dev)
// or a Redis URL shared by every ingress and aggregator replica.
type Store struct {
	// URL is "memory" or redis://[user:password@]HOST:PORT/DB.
	URL string
	// TenantMaxRetained bounds the batches, finished ones included, one
	// tenant holds in a Redis store (store.Options.MaxRetained).
	TenantMaxRetained int
	// Retain is how long a finished batch is kept, MaxAge an unfinished
	// one. Every function that opens the store has them: ingress's claim
	// sets a new batch's expiry, the aggregator's outcomes a finished one's.
	Retain, MaxAge time.Duration
}

func (c *Store) flags(fs *flag.FlagSet, d defaults) {
	def := d.env("PRICEFN_STORE")
	if def == "" {
		def = StoreMemory
	}
	c.URL = def
	fs.Var(storeFlag{&c.URL}, "store", "batch state: memory (one process only) or a Redis `URL`, redis://HOST:PORT/DB, shared by ingress and every aggregator replica ($PRICEFN_STORE)")
	fs.DurationVar(&c.Retain, "retain", d.duration("PRICEFN_RETAIN", time.Hour), "how long the store keeps a finished batch ($PRICEFN_RETAIN)")
	fs.DurationVar(&c.MaxAge, "max-age", d.duration("PRICEFN_MAX_AGE", 24*time.Hour), "how long the store keeps a batch that never finishes, past its deadline ($PRICEFN_MAX_AGE)")
	fs.IntVar(&c.TenantMaxRetained, "tenant-max-retained", d.int("PRICEFN_TENANT_MAX_RETAINED", 100_000),
		"most batches, finished ones included, one tenant keeps in a Redis store; past it a claim forgets the tenant's oldest finished ones ($PRICEFN_TENANT_MAX_RETAINED)")
}

// storeFlag is the value of --store: the URL as given, shown (as -h's
// default) with its password replaced. $PRICEFN_STORE comes from a
// Secret, and the usage goes to a pod's log at any mistyped flag.
type storeFlag struct{ url *string }

func (f storeFlag) String() string {
	if f.url == nil {
		return ""
	}
	return shownURL(*f.url)
}

func (f storeFlag) Set(v string) error { *f.url = v; return nil }

func (f storeFlag) Get() any { return *f.url }

// shownURL is u as messages show it: with its password, when it has one,
// replaced (url.URL.Redacted); a URL that does not parse is not shown at
// all, since where its password starts cannot be told.
func shownURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(a URL that does not parse, not shown: it may hold a password)"
	}
	// Redacted writes the scheme in lower case: the scheme as written,
	// which may be the fault ("REDIS://").
	return u[:len(p.Scheme)] + p.Redacted()[len(p.Scheme):]
}

// Memory reports whether the store is the in-memory one.
func (c *Store) Memory() bool { return c.URL == StoreMemory }

// check validates the URL and the bound; shared says the function runs as
// its own process, so that its state must be shared through Redis.
func (c *Store) check(fn string, shared bool) error {
	return errors.Join(c.checkURL(fn, shared), positive("tenant-max-retained", "PRICEFN_TENANT_MAX_RETAINED", c.TenantMaxRetained),
		positive("retain", "PRICEFN_RETAIN", c.Retain), positive("max-age", "PRICEFN_MAX_AGE", c.MaxAge))
}

func (c *Store) checkURL(fn string, shared bool) error {
	switch {
	case c.Memory() && shared:
		return fmt.Errorf("config: pricefn %s: --store memory keeps batch state in this process only, where ingress and the aggregator cannot share it: use --store redis://HOST:PORT/DB (or pricefn dev, which runs both in one process)", fn)
	case c.Memory(), strings.HasPrefix(c.URL, "redis://"), strings.HasPrefix(c.URL, "rediss://"):
		return nil
	}
	return fmt.Errorf("config: --store %q ($PRICEFN_STORE): want memory or redis://HOST:PORT/DB", shownURL(c.URL))
}
