package redisstore

import (
	"errors"
	neturl "net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// The client's defaults, where go-redis's own (3 s to read or write a
// reply, 5 s to dial, 3 retries with backoff) had a status read wait
// 5-20 s for its 503 when Redis hangs (stopped, or partitioned away:
// no reset, no answer). With these a hung Redis is reported in about
// 2 s, while the largest legitimate reply, a 100,000-trade chunk's
// results (megabytes), is read from a local or same-zone Redis in
// milliseconds. A URL's query overrides each (read_timeout=5s ...).
const (
	// DefaultDialTimeout bounds making a connection.
	DefaultDialTimeout = time.Second
	// DefaultReadTimeout bounds the wait for one reply, from when it is
	// awaited to its last byte: it must cover the longest script Redis
	// runs ahead of it.
	DefaultReadTimeout = time.Second
	// DefaultWriteTimeout bounds the writing of one command.
	DefaultWriteTimeout = time.Second
	// DefaultMaxRetries is how many times a command whose connection
	// failed is retried (on a fresh one): once, so that a connection
	// Redis closed while idle costs no error, but a hung Redis costs no
	// more than two read timeouts.
	DefaultMaxRetries = 1
)

// applyDefaults sets o's time limits that url's query leaves unset to this
// package's defaults, and lets a call's context deadline bound it (go-redis
// ignores it unless ContextTimeoutEnabled).
func applyDefaults(o *redis.Options, url string) error {
	u, err := neturl.Parse(url)
	if err != nil {
		// ParseURL took it; this is not reached. Its error quotes the URL.
		return errors.New("the store URL does not parse (not shown: it may hold a password)")
	}
	q := u.Query()
	// An empty value (read_timeout=) is unset: go-redis reads it as 0,
	// its own default, not ours.
	set := func(key string, apply func()) {
		if q.Get(key) == "" {
			apply()
		}
	}
	set("dial_timeout", func() { o.DialTimeout = DefaultDialTimeout })
	set("read_timeout", func() { o.ReadTimeout = DefaultReadTimeout })
	set("write_timeout", func() { o.WriteTimeout = DefaultWriteTimeout })
	set("max_retries", func() { o.MaxRetries = DefaultMaxRetries })
	o.ContextTimeoutEnabled = true
	return nil
}
