package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pricefn/pricefn/batch"
)

// Split is how ingress splits batches into chunks and sends them.
type Split struct {
	// ChunkCost is the estimated pricing time of one chunk on one core.
	ChunkCost time.Duration
	// ChunkTrades caps the trades of one chunk.
	ChunkTrades int
	// SendLimit is how many chunks are sent to the broker at once.
	SendLimit int
	// MaxBatchBytes bounds the body of a submitted batch; 0 means the
	// function's default (host.DefaultMaxBodyBytes).
	MaxBatchBytes int64
	// BatchTimeout is how long a batch may take before it ends partial; 0
	// sizes it from the batch's cost estimate.
	BatchTimeout time.Duration
	// TenantMaxBatches and TenantMaxTrades bound what one tenant has in
	// flight: unfinished batches, and their trades (0: no bound).
	TenantMaxBatches int
	TenantMaxTrades  int
	// MaxBootstrapInstruments bounds the instruments of the bootstrapped
	// curves one batch's trades use, in all, which ingress builds to
	// check and plan it (ingress.Options.MaxBootstrapInstruments; 0: no
	// bound).
	MaxBootstrapInstruments int
	// ResendStalled is how long a batch sent in full may go without a
	// chunk outcome before a resubmission sends its chunks with no outcome
	// again (ingress.Options.StallAfter); 0 never. For a broker that keeps
	// its queue in memory ("pricefn dev", "pricefn broker").
	ResendStalled time.Duration
}

// The default bound of a batch's body. Ingress and api, on Knative, take
// 32 MiB: their pods' memory is sized for it (charts/pricefn). "pricefn
// dev" takes a batch of a million trades (about 115 MB as "pricefn gen"
// writes Europeans), which it prices within its memory limit.
const (
	DefaultMaxBatchBytes    = 32 << 20
	DefaultDevMaxBatchBytes = 256 << 20
)

// DevResendStalled is "pricefn dev"'s --resend-stalled: its broker keeps
// the chunks in memory, lost if it restarts while a Redis store keeps the
// batch. Longer than the broker's retries of a pricer that is down (63.5 s).
const DevResendStalled = 2 * time.Minute

func (c *Split) flags(fs *flag.FlagSet, d defaults, maxBatchBytes int64, resendStalled time.Duration) {
	fs.DurationVar(&c.ChunkCost, "chunk-cost", d.duration("PRICEFN_CHUNK_COST", time.Second), "estimated pricing time of one chunk on one core ($PRICEFN_CHUNK_COST)")
	fs.IntVar(&c.ChunkTrades, "chunk-trades", d.int("PRICEFN_CHUNK_TRADES", 10_000), "most trades in one chunk ($PRICEFN_CHUNK_TRADES)")
	fs.IntVar(&c.SendLimit, "send-limit", d.int("PRICEFN_SEND_LIMIT", 16), "chunks sent to the broker at once ($PRICEFN_SEND_LIMIT)")
	fs.Int64Var(&c.MaxBatchBytes, "max-batch-bytes", d.int64("PRICEFN_MAX_BATCH_BYTES", maxBatchBytes), "largest batch body accepted, in bytes; a larger one is a 413 ($PRICEFN_MAX_BATCH_BYTES)")
	fs.DurationVar(&c.BatchTimeout, "batch-timeout", d.duration("PRICEFN_BATCH_TIMEOUT", 0), "how long a batch may take before it ends partial, unless it sets its own \"deadline\": 1s to 24h, as a batch's own; 0 allows 5m plus twice its estimated pricing time, at most 24h ($PRICEFN_BATCH_TIMEOUT)")
	fs.IntVar(&c.TenantMaxBatches, "tenant-max-batches", d.int("PRICEFN_TENANT_MAX_BATCHES", 1000), "most unfinished batches one tenant may have; more is a 429, 0 no bound ($PRICEFN_TENANT_MAX_BATCHES)")
	fs.IntVar(&c.TenantMaxTrades, "tenant-max-trades", d.int("PRICEFN_TENANT_MAX_TRADES", 10_000_000), "most trades one tenant may have in flight; more is a 429, 0 no bound ($PRICEFN_TENANT_MAX_TRADES)")
	fs.IntVar(&c.MaxBootstrapInstruments, "max-bootstrap-instruments", d.int("PRICEFN_MAX_BOOTSTRAP_INSTRUMENTS", batch.DefaultMaxBootstrapInstruments), "most bootstrap instruments the curves of one batch's trades may list in all, which ingress builds in the submitting request; more is a 413, 0 no bound ($PRICEFN_MAX_BOOTSTRAP_INSTRUMENTS)")
	fs.DurationVar(&c.ResendStalled, "resend-stalled", d.duration("PRICEFN_RESEND_STALLED", resendStalled), "a batch sent in full with no chunk outcome for this long has its chunks with no outcome sent again when it is submitted again, for a broker that keeps its queue in memory and may have lost them; 0 never, right for a broker that keeps its queue ($PRICEFN_RESEND_STALLED)")
}

// check reports the settings out of range, naming each.
func (c *Split) check() error {
	return errors.Join(
		positive("chunk-cost", "PRICEFN_CHUNK_COST", c.ChunkCost),
		positive("chunk-trades", "PRICEFN_CHUNK_TRADES", c.ChunkTrades),
		positive("send-limit", "PRICEFN_SEND_LIMIT", c.SendLimit),
		positive("max-batch-bytes", "PRICEFN_MAX_BATCH_BYTES", c.MaxBatchBytes),
		checkBatchTimeout(c.BatchTimeout),
		nonNegative("tenant-max-batches", "PRICEFN_TENANT_MAX_BATCHES", c.TenantMaxBatches, "no bound"),
		nonNegative("tenant-max-trades", "PRICEFN_TENANT_MAX_TRADES", c.TenantMaxTrades, "no bound"),
		nonNegative("max-bootstrap-instruments", "PRICEFN_MAX_BOOTSTRAP_INSTRUMENTS", c.MaxBootstrapInstruments, "no bound"),
		nonNegative("resend-stalled", "PRICEFN_RESEND_STALLED", c.ResendStalled, "never"),
	)
}

// checkBatchTimeout reports whether v, the value of --batch-timeout, is 0
// (the deadline sized from the batch's estimated pricing time) or within
// the bounds of a batch's own deadline: a shorter one would not be kept
// (the deadlines are swept once a second), and a longer one would give
// every batch without a deadline of its own more than a batch may ask for
// itself, or than the default ever gives.
func checkBatchTimeout(v time.Duration) error {
	if v == 0 || (v >= batch.MinDeadline && v <= batch.MaxDeadline) {
		return nil
	}
	return fmt.Errorf("config: --batch-timeout %v ($PRICEFN_BATCH_TIMEOUT): want 0 (sized from the batch's estimated pricing time) or %v to %v, as a batch's own deadline", v, batch.MinDeadline, batch.MaxDeadline)
}

// Results is how the aggregator keeps batches and serves their results.
type Results struct {
	// MaxWait caps ?wait on the results API.
	MaxWait time.Duration
	// UnknownGrace is how long ?wait waits for a batch not known yet
	// before answering 404.
	UnknownGrace time.Duration
}

func (c *Results) flags(fs *flag.FlagSet, d defaults) {
	fs.DurationVar(&c.MaxWait, "max-wait", d.duration("PRICEFN_MAX_WAIT", 5*time.Minute), "longest ?wait the results API holds a request ($PRICEFN_MAX_WAIT)")
	fs.DurationVar(&c.UnknownGrace, "unknown-grace", d.duration("PRICEFN_UNKNOWN_GRACE", 5*time.Second), "how long ?wait waits for a batch not known yet before a 404 ($PRICEFN_UNKNOWN_GRACE)")
}

// check reports the settings out of range, naming each.
func (c *Results) check() error {
	return errors.Join(
		positive("max-wait", "PRICEFN_MAX_WAIT", c.MaxWait),
		positive("unknown-grace", "PRICEFN_UNKNOWN_GRACE", c.UnknownGrace),
	)
}

// Ingress is the configuration of the ingress function.
type Ingress struct {
	Serve
	// PublicURL is the base URL of the results API in status URLs; empty
	// gives relative ones. $PRICEFN_PUBLIC_URL.
	PublicURL string
	Split
	Store
}

// Flags defines the ingress flags on fs, with defaults from env.
func (c *Ingress) Flags(fs *flag.FlagSet, env Env) {
	c.Serve.Flags(fs, "ingress", env)
	publicURLFlag(fs, env, &c.PublicURL)
	c.Split.flags(fs, defaults{env, &c.envErrs}, DefaultMaxBatchBytes, 0)
	c.Store.flags(fs, defaults{env, &c.envErrs})
}

// Check validates the parsed values: ingress needs a sink and a store
// shared with the aggregator.
func (c *Ingress) Check() error {
	return errors.Join(c.Serve.Check(true), checkPublicURL(c.PublicURL), c.Split.check(), c.Store.check("ingress", true))
}

// Pricer is the configuration of the pricer function.
type Pricer struct {
	Serve
	// Workers is how many trades are priced at once; 0 means every core.
	Workers int
}

// Flags defines the pricer flags on fs, with defaults from env.
func (c *Pricer) Flags(fs *flag.FlagSet, env Env) {
	c.NoAPI = true   // events alone: no tokens to read
	c.Replies = true // its events are replies: no sink
	c.Serve.Flags(fs, "pricer", env)
	workersFlag(fs, defaults{env, &c.envErrs}, &c.Workers)
}

// Check validates the parsed values: the pricer replies and has no sink.
func (c *Pricer) Check() error { return errors.Join(c.Serve.Check(false), checkWorkers(c.Workers)) }

// Aggregator is the configuration of the aggregator function.
type Aggregator struct {
	Serve
	// PublicURL is the base URL of the results API in batch.completed.
	PublicURL string
	Results
	Store
}

// Flags defines the aggregator flags on fs, with defaults from env.
func (c *Aggregator) Flags(fs *flag.FlagSet, env Env) {
	c.Serve.Flags(fs, "aggregator", env)
	publicURLFlag(fs, env, &c.PublicURL)
	c.Results.flags(fs, defaults{env, &c.envErrs})
	c.Store.flags(fs, defaults{env, &c.envErrs})
}

// Check validates the parsed values. Without a sink the aggregator
// announces nothing, which is allowed; its store must be shared with
// ingress.
func (c *Aggregator) Check() error {
	return errors.Join(c.Serve.Check(false), checkPublicURL(c.PublicURL), c.Results.check(), c.Store.check("aggregator", true))
}

// Dev is the configuration of "pricefn dev": the whole engine in one
// process.
type Dev struct {
	// Addr is the gateway's address.
	Addr string
	// Internal is the loopback address of the broker and the functions'
	// event endpoints.
	Internal string
	// InternalHTTP delivers the events between the broker and the
	// functions over HTTP on Internal, as separate processes would; false
	// delivers them in process, through the same handlers.
	InternalHTTP bool
	PublicURL    string
	Split
	Results
	Store
	// Workers is how many trades the pricer prices at once.
	Workers int
	// ChunksAtOnce is how many chunks the broker delivers to the pricer
	// at once; 0 means no limit.
	ChunksAtOnce    int
	ShutdownTimeout time.Duration
	Log             Log
	Security
	// MemoryLimitMiB is the Go heap's soft limit (runtime/debug's
	// SetMemoryLimit), 0 none; a GOMEMLIMIT in the environment wins.
	MemoryLimitMiB int64

	envErrs []error
}

// DefaultMemoryLimitMiB is the default soft limit of "pricefn dev"'s
// heap: a million-trade batch runs in it (bench/README.md).
const DefaultMemoryLimitMiB = 768

// Flags defines the dev flags on fs, with defaults from env.
func (c *Dev) Flags(fs *flag.FlagSet, env Env) {
	d := defaults{env, &c.envErrs}
	port := env("PORT")
	if port == "" {
		port = DefaultPort
	}
	fs.StringVar(&c.Addr, "addr", ":"+port, "gateway address, HOST:PORT; an empty HOST is every interface ($PORT gives :PORT)")
	fs.StringVar(&c.Internal, "internal-addr", "127.0.0.1:0", "address of the broker and the functions' event endpoints, HOST:PORT: a loopback one, since they take unsigned events from whoever reaches them; any with --event-key-file (signed events)")
	fs.BoolVar(&c.InternalHTTP, "internal-http", d.bool("PRICEFN_INTERNAL_HTTP", false), "deliver the events between the broker and the functions over HTTP on --internal-addr, as separate processes would; by default they go in process, through the same handlers, with no connection ($PRICEFN_INTERNAL_HTTP)")
	publicURLFlag(fs, env, &c.PublicURL)
	c.Split.flags(fs, d, DefaultDevMaxBatchBytes, DevResendStalled)
	workersFlag(fs, d, &c.Workers)
	chunksAtOnceFlag(fs, d, &c.ChunksAtOnce)
	c.Results.flags(fs, d)
	c.Store.flags(fs, defaults{env, &c.envErrs})
	shutdownFlag(fs, d, &c.ShutdownTimeout)
	c.Log.Flags(fs, env)
	c.Security.flags(fs, env)
	fs.Int64Var(&c.MemoryLimitMiB, "memory-limit-mib", d.int64("PRICEFN_MEMORY_LIMIT_MIB", DefaultMemoryLimitMiB), "soft limit of the heap in MiB: the garbage collector works harder near it, so that a large batch stays within it; 0 none, and $GOMEMLIMIT, when set, wins ($PRICEFN_MEMORY_LIMIT_MIB)")
}

// Check validates the parsed values.
func (c *Dev) Check() error {
	if err := errors.Join(c.envErrs...); err != nil {
		return err
	}
	return errors.Join(checkAddr("--addr", "PORT", c.Addr), checkInternal(c.Internal, c.EventKeyFile), checkPublicURL(c.PublicURL), c.Log.Check(), c.Store.check("dev", false),
		c.Split.check(), c.Results.check(), checkWorkers(c.Workers), checkChunksAtOnce(c.ChunksAtOnce), positive("shutdown-timeout", "PRICEFN_SHUTDOWN_TIMEOUT", c.ShutdownTimeout),
		nonNegative("memory-limit-mib", "PRICEFN_MEMORY_LIMIT_MIB", c.MemoryLimitMiB, "no limit"))
}

// checkInternal checks dev's internal address: a loopback one, unless the
// events are signed (eventKeyFile). Its routes take the pipeline's events
// (a chunk's results, a dead letter that fails a chunk) and, unsigned,
// take them from whoever reaches them: ":9091", written as --addr is,
// listened on every interface, and anyone on the network could fail or
// rewrite any tenant's batch, tokens or not.
func checkInternal(v, eventKeyFile string) error {
	if err := checkAddr("--internal-addr", "", v); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(v)
	ip := net.ParseIP(host)
	if eventKeyFile != "" || strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("config: --internal-addr %q: its event receivers take unsigned events from whoever reaches them: "+
		"keep it on loopback (127.0.0.1:PORT), or sign the events (--event-key-file, $PRICEFN_EVENT_KEY_FILE)", v)
}

func publicURLFlag(fs *flag.FlagSet, env Env, p *string) {
	fs.StringVar(p, "public-url", env("PRICEFN_PUBLIC_URL"), "base URL of the results API in status links, e.g. https://pricefn.example.com ($PRICEFN_PUBLIC_URL)")
}

func workersFlag(fs *flag.FlagSet, d defaults, p *int) {
	fs.IntVar(p, "workers", d.int("PRICEFN_WORKERS", 0), "trades priced at once per chunk, 0 for one per core ($PRICEFN_WORKERS)")
}

// checkWorkers reports a negative --workers.
func checkWorkers(n int) error {
	return nonNegative("workers", "PRICEFN_WORKERS", n, "one per core")
}

// DefaultChunksAtOnce is how many chunks "pricefn dev"'s broker delivers
// to its pricer at once by default, as the pricer Service's
// containerConcurrency bounds one pod on Knative (knative/services.yaml):
// each chunk uses every core already, and more at once only share them,
// each slower, past the Trigger's timeout when many are in (a congestion
// the retries then feed).
const DefaultChunksAtOnce = 2

func chunksAtOnceFlag(fs *flag.FlagSet, d defaults, p *int) {
	fs.IntVar(p, "chunks-at-once", d.int("PRICEFN_CHUNKS_AT_ONCE", DefaultChunksAtOnce), "chunks the broker delivers to the pricer at once, each priced on every core; the others wait their turn in the broker, their attempt timeout not running; 0 for no limit ($PRICEFN_CHUNKS_AT_ONCE)")
}

// checkChunksAtOnce reports a negative --chunks-at-once.
func checkChunksAtOnce(n int) error {
	return nonNegative("chunks-at-once", "PRICEFN_CHUNKS_AT_ONCE", n, "no limit")
}

func shutdownFlag(fs *flag.FlagSet, d defaults, p *time.Duration) {
	fs.DurationVar(p, "shutdown-timeout", d.duration("PRICEFN_SHUTDOWN_TIMEOUT", 30*time.Second), "how long SIGTERM waits for in-flight work ($PRICEFN_SHUTDOWN_TIMEOUT)")
}

// API is the configuration of "pricefn api": the public routes (submit,
// status, results) as a Service of their own, on the shared store, with
// the metrics on a separate address that the public gateway does not
// route to.
type API struct {
	Serve
	PublicURL string
	Split
	Results
	Store
	// MetricsAddr serves /metrics, apart from the public routes; the
	// default, :9464, avoids the ports the Knative queue-proxy holds (9090,
	// 9091) in every pod.
	MetricsAddr string
}

// Flags defines the api flags on fs, with defaults from env.
func (c *API) Flags(fs *flag.FlagSet, env Env) {
	c.Serve.Flags(fs, "api", env)
	d := defaults{env, &c.envErrs}
	publicURLFlag(fs, env, &c.PublicURL)
	c.Split.flags(fs, d, DefaultMaxBatchBytes, 0)
	c.Results.flags(fs, d)
	c.Store.flags(fs, defaults{env, &c.envErrs})
	def := env("PRICEFN_METRICS_ADDR")
	if def == "" {
		def = ":9464"
	}
	fs.StringVar(&c.MetricsAddr, "metrics-addr", def, "address of /metrics, apart from the public routes ($PRICEFN_METRICS_ADDR)")
}

// Check validates the parsed values: the API emits events (a sink) and
// shares its store with the aggregator.
func (c *API) Check() error {
	return errors.Join(c.Serve.Check(true), checkPublicURL(c.PublicURL), c.Split.check(), c.Results.check(),
		c.Store.check("api", true), checkAddr("--metrics-addr", "PRICEFN_METRICS_ADDR", c.MetricsAddr))
}
