// Package broker is a local, single-process stand-in for a Knative
// multi-tenant broker with exact-match Triggers (filter.attributes).
//
// The routing is not written in Go: New reads the Broker and its Triggers
// from Knative YAML, by default the project's own manifests (package
// knative). Events come in over HTTP (Broker.ServeHTTP, binary or structured
// CloudEvents) or from Go (Broker.Send); each Trigger that matches an event
// gets its own delivery, with the Trigger's retries, backoff, timeout and
// dead-letter sink. A subscriber's reply goes back into the broker and is
// matched against every Trigger.
//
// The broker keeps at most Config.QueueSize deliveries in memory and runs
// at most Config.Workers at once; when the queue is full the ingress answers
// 429, which a sender retries. One batch (the batchid extension) may hold at
// most Config.BatchQuota of the queue: beyond it the batch gets 429 and backs
// off while other batches still get in, so a big batch flows as the queue
// drains instead of starving small ones. A Service may have several
// addresses (replicas), used in turn; a retry goes to the next one. Like
// Knative, it delivers at least once and does not keep order. It stores
// nothing: events queued when the process stops are lost.
package broker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/knative"
)

// Defaults for the zero fields of Config.
const (
	DefaultName          = "pricefn"
	DefaultQueueSize     = 1024
	DefaultWorkers       = 32
	DefaultMaxEventBytes = 32 << 20
	// DefaultTimeout bounds a delivery attempt whose Trigger sets no
	// timeout: Knative Serving's default request timeout.
	DefaultTimeout = 5 * time.Minute
)

// TTLExtension is Knative's hop counter: an event entering the broker starts
// with 255 hops (or the value of this extension, when it carries one), each
// reply has one hop less than the event it answers, and a reply with none
// left is dropped, which ends a reply loop. The broker strips the
// extension from events it delivers.
const TTLExtension = "knativebrokerttl"

const defaultTTL = 255

// Errors of the broker.
var (
	// ErrQueueFull reports that the queue has no room for the event's
	// deliveries; the ingress answers 429.
	ErrQueueFull = errors.New("broker: queue full")
	// ErrBatchFull reports that the event's batch already holds its share
	// of the queue (Config.BatchQuota); the ingress answers 429.
	ErrBatchFull = errors.New("broker: batch holds its share of the queue")
	// ErrClosed reports that the broker is shutting down or shut down; the
	// ingress answers 503.
	ErrClosed = errors.New("broker: shut down")
	// ErrUnresolved reports a Trigger destination New cannot turn into a URL.
	ErrUnresolved = errors.New("broker: unresolved destination")
)

// Config configures a Broker. The zero value is a valid configuration for
// the project's own manifests except for Subscribers, which must name a URL
// for every Service the Triggers refer to.
type Config struct {
	// Name is the Broker whose Triggers apply (spec.broker); "" means
	// DefaultName.
	Name string
	// Manifests holds the Knative YAML (*.yaml, *.yml at its root); nil
	// means the embedded project manifests, knative.Manifests(). Use
	// os.DirFS for a directory.
	Manifests fs.FS
	// Subscribers maps the name of a Knative Service that a Trigger refers to
	// (subscriber or deadLetterSink ref) to its base URL, e.g.
	// "pricefn-pricer": "http://127.0.0.1:8081", or to the base URLs of its
	// replicas separated by commas ("http://127.0.0.1:8082,http://127.0.0.1:9082";
	// a comma inside a URL must be escaped as %2C). The replicas take the
	// Service's first attempts in turn and a retry goes to the replica after
	// the one that failed, as a Kubernetes Service spreads requests over
	// pods. A Destination's relative uri is appended to each base URL's path
	// ("/dead-letter" gives http://127.0.0.1:8082/dead-letter); an absolute
	// uri without a ref is used as is. New fails on a Service missing here.
	Subscribers map[string]string
	// QueueSize bounds the deliveries held in memory (one per matching
	// Trigger of each accepted event, from acceptance to the end of its last
	// retry); 0 means DefaultQueueSize.
	QueueSize int
	// BatchQuota bounds the deliveries that the events of one batch (same
	// batchid extension) hold at once: beyond it the batch's events get 429
	// (the sender backs off) while other batches still get in. A batch
	// holding none may always bring one event in, and replies count toward
	// it but are never refused for it. 0 means half of QueueSize (at least
	// 1); a negative value, or QueueSize or more, means no quota. Events
	// without a batchid have none.
	BatchQuota int
	// Workers bounds the HTTP deliveries in progress; 0 means
	// DefaultWorkers.
	Workers int
	// Concurrency bounds the deliveries in progress to a Service, by
	// name, as its containerConcurrency times its replicas would on
	// Knative: a delivery beyond it waits its turn in the broker (the
	// tenants taking turns, each tenant's first come first served, a
	// batch's chunks in their order in the batch), holding no worker and
	// with no attempt timeout running. Absent or 0 means no bound.
	Concurrency map[string]int
	// MaxEventBytes bounds the size of an incoming event and of a reply;
	// 0 means DefaultMaxEventBytes.
	MaxEventBytes int64
	// Timeout bounds a delivery attempt when the Trigger's delivery sets no
	// timeout; 0 means DefaultTimeout.
	Timeout time.Duration
	// Client sends the deliveries; nil means a client whose Transport keeps
	// Workers idle connections per host.
	Client *http.Client
	// Logger receives the broker's logs; every line about an event carries
	// its batchid, type and id. The zero Logger discards.
	Logger zerolog.Logger
	// Registerer receives the broker's metrics (pricefn_broker_*, with a
	// broker label); nil registers nothing.
	Registerer prometheus.Registerer
	// Sleep waits d before a retry or returns ctx's error when ctx ends
	// first; nil means a timer. Tests replace it to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Broker routes CloudEvents to the subscribers of its Triggers. It is an
// http.Handler (the ingress); New starts its workers and Shutdown or Close
// stops them.
type Broker struct {
	routes   []*route
	log      zerolog.Logger
	met      *metrics
	client   *http.Client
	sleep    func(context.Context, time.Duration) error
	maxBytes int64
	timeout  time.Duration

	// queue holds the deliveries waiting for a worker. Its capacity is the
	// queue size, and every delivery in it holds one of the slots counted
	// by pending, so a send to it never blocks.
	queue chan *job
	// ctx ends when the broker stops: it cancels attempts and backoffs.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts the workers, the goroutines waiting to retry and the
	// enqueues in progress.
	wg sync.WaitGroup

	mu            sync.Mutex
	capacity      int
	quota         int            // slots one batch may hold; math.MaxInt: no quota
	held          map[string]int // slots held per batchid (absent: none)
	pending       int            // slots held: queued, waiting to retry or in delivery
	draining      bool           // Shutdown called: refuse new events, accept replies
	stopped       bool           // workers stopped: refuse everything
	drained       chan struct{}
	drainedClosed bool // drained is closed

	stopOnce sync.Once
}

// route is a Trigger resolved to URLs.
type route struct {
	trigger    Trigger
	subscriber *target
	deadLetter *target // nil when none
	policy     policy
}

var _ http.Handler = (*Broker)(nil)

// New loads the Triggers of cfg.Name from cfg.Manifests, resolves their
// destinations with cfg.Subscribers and starts the workers. When a
// destination cannot be resolved the error matches ErrUnresolved; Services
// missing from cfg.Subscribers are all listed in one *UnresolvedError.
func New(cfg Config) (*Broker, error) {
	name := cmp.Or(cfg.Name, DefaultName)
	fsys := cfg.Manifests
	if fsys == nil {
		fsys = knative.Manifests()
	}
	man, err := LoadManifest(fsys, name)
	if err != nil {
		return nil, err
	}
	routes, err := resolveRoutes(man, cfg.Subscribers, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	met, err := newMetrics(cfg.Registerer, name, routes)
	if err != nil {
		return nil, err
	}
	workers := positive(cfg.Workers, DefaultWorkers)
	capacity := positive(cfg.QueueSize, DefaultQueueSize)
	b := &Broker{
		routes:   routes,
		log:      cfg.Logger.With().Str("broker", name).Logger(),
		met:      met,
		client:   cfg.Client,
		sleep:    cfg.Sleep,
		maxBytes: cfg.MaxEventBytes,
		timeout:  cfg.Timeout,
		queue:    make(chan *job, capacity),
		capacity: capacity,
		quota:    batchQuota(cfg.BatchQuota, capacity),
		held:     make(map[string]int),
		drained:  make(chan struct{}),
	}
	if b.client == nil {
		b.client = newHTTPClient(workers)
	}
	if b.sleep == nil {
		b.sleep = sleep
	}
	if b.timeout <= 0 {
		b.timeout = DefaultTimeout
	}
	if b.maxBytes <= 0 {
		b.maxBytes = DefaultMaxEventBytes
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	for range workers {
		b.wg.Add(1)
		go b.work()
	}
	for _, r := range routes {
		var dls []string
		if r.deadLetter != nil {
			dls = r.deadLetter.urls
		}
		b.log.Debug().Str("trigger", r.trigger.Name).Any("filter", r.trigger.Filter).
			Strs("subscriber", r.subscriber.urls).Strs("deadLetterSink", dls).
			Int("attempts", r.policy.attempts).Msg("trigger loaded")
	}
	return b, nil
}

// Shutdown stops taking new events (the ingress answers 503, the health
// check 503) and waits until every accepted delivery has finished, its
// replies' deliveries included, or ctx ends. Then it stops the workers,
// cancelling what is left, which is dropped (waiting stopGrace at most
// for the cancelled attempts to return). It returns ctx's error when
// deliveries were left. Calling it again waits for the first call.
func (b *Broker) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.draining = true
	b.closeDrainedLocked()
	b.mu.Unlock()

	var err error
	select {
	case <-b.drained:
	case <-ctx.Done():
		b.mu.Lock()
		left := b.pending
		b.mu.Unlock()
		err = fmt.Errorf("broker: shutdown: %d deliveries unfinished: %w", left, ctx.Err())
	}
	// Past ctx, the attempts are cancelled and waited for stopGrace at
	// most: an in-process subscriber inside a long computation that does
	// not heed cancellation (a trade being priced) held the shutdown, and
	// the process, until it finished.
	stopped := make(chan struct{})
	go func() { b.stop(); close(stopped) }()
	if ctx.Err() == nil {
		<-stopped
		return err
	}
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-stopped:
	case <-t.C:
	}
	return err
}

// stopGrace is how long Shutdown, past its context, waits for the
// attempts it cancelled to return.
const stopGrace = time.Second

// Close stops the broker at once: attempts in progress are cancelled and
// queued deliveries dropped. It is Shutdown with an expired context, and
// always returns nil.
func (b *Broker) Close() error {
	b.mu.Lock()
	b.draining = true
	b.mu.Unlock()
	b.stop()
	return nil
}

// stop stops the workers and drops the deliveries left.
func (b *Broker) stop() {
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		b.cancel()
		b.wg.Wait()
		for _, r := range b.routes {
			if t := r.subscriber.turns; t != nil {
				for _, j := range t.drain() {
					b.drop(j, "broker shut down")
				}
			}
		}
		for {
			select {
			case j := <-b.queue:
				b.drop(j, "broker shut down")
			default:
				b.log.Info().Msg("broker stopped")
				return
			}
		}
	})
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newHTTPClient returns a client that keeps a connection per worker and
// subscriber alive, rather than the few idle connections per host of the
// default Transport, which under load leave sockets in TIME_WAIT.
func newHTTPClient(workers int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = workers
	t.MaxIdleConns = max(100, 4*workers)
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}

// batchQuota is Config.BatchQuota's value for a queue of capacity slots;
// math.MaxInt when there is none.
func batchQuota(q, capacity int) int {
	switch {
	case q == 0:
		return max(1, capacity/2)
	case q < 0 || q >= capacity:
		return math.MaxInt
	default:
		return q
	}
}

func positive(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
