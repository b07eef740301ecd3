package config

import (
	"flag"
	"time"
)

// Ingress is the configuration of the ingress function.
type Ingress struct {
	Serve
	// PublicURL is the base URL of the results API in status URLs; empty
	// gives relative ones. $PRICEFN_PUBLIC_URL.
	PublicURL string
	// ChunkCost is the estimated pricing time of one chunk on one core.
	ChunkCost time.Duration
	// ChunkTrades caps the trades of one chunk.
	ChunkTrades int
	// SendLimit is how many chunks are sent to the broker at once.
	SendLimit int
}

// Flags defines the ingress flags on fs, with defaults from env.
func (c *Ingress) Flags(fs *flag.FlagSet, env Env) {
	c.Serve.Flags(fs, "ingress", env)
	c.publicURL(fs, env, &c.PublicURL)
	fs.DurationVar(&c.ChunkCost, "chunk-cost", durationEnv(env, "PRICEFN_CHUNK_COST", time.Second), "estimated pricing time of one chunk on one core ($PRICEFN_CHUNK_COST)")
	fs.IntVar(&c.ChunkTrades, "chunk-trades", intEnv(env, "PRICEFN_CHUNK_TRADES", 10_000), "most trades in one chunk ($PRICEFN_CHUNK_TRADES)")
	fs.IntVar(&c.SendLimit, "send-limit", intEnv(env, "PRICEFN_SEND_LIMIT", 16), "chunks sent to the broker at once ($PRICEFN_SEND_LIMIT)")
}

// Pricer is the configuration of the pricer function.
type Pricer struct {
	Serve
	// Workers is how many trades are priced at once; 0 means every core.
	Workers int
}

// Flags defines the pricer flags on fs, with defaults from env.
func (c *Pricer) Flags(fs *flag.FlagSet, env Env) {
	c.Serve.Flags(fs, "pricer", env)
	fs.IntVar(&c.Workers, "workers", intEnv(env, "PRICEFN_WORKERS", 0), "trades priced at once, 0 for one per core ($PRICEFN_WORKERS)")
}

// Aggregator is the configuration of the aggregator function.
type Aggregator struct {
	Serve
	// PublicURL is the base URL of the results API in batch.completed.
	PublicURL string
	// MaxWait caps ?wait on the results API.
	MaxWait time.Duration
	// Retain is how long a finished batch is kept; 0 keeps every batch.
	Retain time.Duration
}

// Flags defines the aggregator flags on fs, with defaults from env.
func (c *Aggregator) Flags(fs *flag.FlagSet, env Env) {
	c.Serve.Flags(fs, "aggregator", env)
	c.publicURL(fs, env, &c.PublicURL)
	fs.DurationVar(&c.MaxWait, "max-wait", durationEnv(env, "PRICEFN_MAX_WAIT", 5*time.Minute), "longest ?wait the results API holds a request ($PRICEFN_MAX_WAIT)")
	retainFlag(fs, env, &c.Retain)
}

func retainFlag(fs *flag.FlagSet, env Env, p *time.Duration) {
	fs.DurationVar(p, "retain", durationEnv(env, "PRICEFN_RETAIN", time.Hour), "how long the in-memory store keeps a finished batch, 0 for ever ($PRICEFN_RETAIN)")
}

func (s *Serve) publicURL(fs *flag.FlagSet, env Env, p *string) {
	fs.StringVar(p, "public-url", env("PRICEFN_PUBLIC_URL"), "base URL of the results API in status links, e.g. https://pricefn.example.com ($PRICEFN_PUBLIC_URL)")
}

// Dev is the configuration of "pricefn dev": the whole engine in one
// process.
type Dev struct {
	// Addr is the gateway's address.
	Addr string
	// Internal is the loopback address of the broker and the functions'
	// event endpoints.
	Internal        string
	PublicURL       string
	ChunkCost       time.Duration
	ChunkTrades     int
	SendLimit       int
	Workers         int
	MaxWait         time.Duration
	Retain          time.Duration
	ShutdownTimeout time.Duration
	Log             Log
}

// Flags defines the dev flags on fs, with defaults from env.
func (c *Dev) Flags(fs *flag.FlagSet, env Env) {
	port := env("PORT")
	if port == "" {
		port = DefaultPort
	}
	fs.StringVar(&c.Addr, "addr", ":"+port, "gateway address (default from $PORT)")
	fs.StringVar(&c.Internal, "internal-addr", "127.0.0.1:0", "loopback address of the broker and the functions' event endpoints")
	fs.StringVar(&c.PublicURL, "public-url", env("PRICEFN_PUBLIC_URL"), "base URL of the results API in status links ($PRICEFN_PUBLIC_URL)")
	fs.DurationVar(&c.ChunkCost, "chunk-cost", durationEnv(env, "PRICEFN_CHUNK_COST", time.Second), "estimated pricing time of one chunk on one core ($PRICEFN_CHUNK_COST)")
	fs.IntVar(&c.ChunkTrades, "chunk-trades", intEnv(env, "PRICEFN_CHUNK_TRADES", 10_000), "most trades in one chunk ($PRICEFN_CHUNK_TRADES)")
	fs.IntVar(&c.SendLimit, "send-limit", intEnv(env, "PRICEFN_SEND_LIMIT", 16), "chunks sent to the broker at once ($PRICEFN_SEND_LIMIT)")
	fs.IntVar(&c.Workers, "workers", intEnv(env, "PRICEFN_WORKERS", 0), "trades priced at once per chunk, 0 for one per core ($PRICEFN_WORKERS)")
	fs.DurationVar(&c.MaxWait, "max-wait", durationEnv(env, "PRICEFN_MAX_WAIT", 5*time.Minute), "longest ?wait the results API holds a request ($PRICEFN_MAX_WAIT)")
	retainFlag(fs, env, &c.Retain)
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", durationEnv(env, "PRICEFN_SHUTDOWN_TIMEOUT", 30*time.Second), "how long SIGTERM waits for in-flight work ($PRICEFN_SHUTDOWN_TIMEOUT)")
	c.Log.Flags(fs, env)
}
