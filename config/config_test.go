package config_test

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/config"
)

func TestServeFromKnativeEnv(t *testing.T) {
	env := config.Map(map[string]string{
		"PORT":           "9090",
		"K_SINK":         "http://broker.example/ns/pricefn",
		"K_SERVICE":      "pricefn-ingress",
		"K_CE_OVERRIDES": `{"extensions":{"team":"rates"}}`,
		"PRICEFN_STORE":  "redis://redis.pricefn:6379/0",
	})
	var c config.Ingress
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.Flags(fs, env)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9090" || c.Sink != "http://broker.example/ns/pricefn" || c.Service != "pricefn-ingress" ||
		c.Overrides["team"] != "rates" || c.ChunkCost != time.Second || c.SendLimit != 16 || c.Store.URL != "redis://redis.pricefn:6379/0" {
		t.Errorf("config %+v", c)
	}
}

func TestFlagsWinOverEnv(t *testing.T) {
	var c config.Pricer
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.Flags(fs, config.Map(map[string]string{"PORT": "9090", "PRICEFN_WORKERS": "3"}))
	if err := fs.Parse([]string{"--addr", "127.0.0.1:7000", "--workers", "5"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || c.Workers != 5 || c.Service != "pricer" {
		t.Errorf("config %+v", c)
	}
}

func TestDefaults(t *testing.T) {
	var c config.Aggregator
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.Flags(fs, config.Map(nil))
	if err := fs.Parse([]string{"--store", "redis://127.0.0.1:6379/0"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.MaxWait != 5*time.Minute || c.ShutdownTimeout != 30*time.Second || c.TenantMaxRetained != 100_000 {
		t.Errorf("config %+v", c)
	}
}

// The bound on a tenant's retained batches reaches ingress, whose claims
// apply it, as well as the aggregator: from the environment, or the flag.
func TestTenantMaxRetained(t *testing.T) {
	env := config.Map(map[string]string{"K_SINK": "http://b", "PRICEFN_TENANT_MAX_RETAINED": "500"})
	for _, c := range []struct {
		args []string
		want int
	}{
		{nil, 500},
		{[]string{"--tenant-max-retained", "20"}, 20},
	} {
		var in config.Ingress
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		in.Flags(fs, env)
		if err := fs.Parse(append([]string{"--store", "redis://127.0.0.1:6379/0"}, c.args...)); err != nil {
			t.Fatal(err)
		}
		if err := in.Check(); err != nil {
			t.Fatal(err)
		}
		if in.TenantMaxRetained != c.want {
			t.Errorf("%v: TenantMaxRetained %d, want %d", c.args, in.TenantMaxRetained, c.want)
		}
	}
}

// TestIngressStoreRetention: ingress takes the store's --retain and
// --max-age as the aggregator does. It had neither: its claims set a new
// batch's expiry in Redis by the defaults, whatever the aggregator's.
func TestIngressStoreRetention(t *testing.T) {
	env := config.Map(map[string]string{"K_SINK": "http://b", "PRICEFN_RETAIN": "10m"})
	var in config.Ingress
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	in.Flags(fs, env)
	if err := fs.Parse([]string{"--store", "redis://127.0.0.1:6379/0", "--max-age", "2h"}); err != nil {
		t.Fatal(err)
	}
	if err := in.Check(); err != nil {
		t.Fatal(err)
	}
	if in.Store.Retain != 10*time.Minute || in.Store.MaxAge != 2*time.Hour {
		t.Errorf("ingress's store keeps finished batches %v and unfinished ones %v, want 10m and 2h", in.Store.Retain, in.Store.MaxAge)
	}
}

func TestCheckErrors(t *testing.T) {
	cases := map[string]map[string]string{
		"no sink":         {},
		"relative sink":   {"K_SINK": "/broker"},
		"bad overrides":   {"K_SINK": "http://b", "K_CE_OVERRIDES": `{"extensions":`},
		"bad log format":  {"K_SINK": "http://b", "PRICEFN_LOG_FORMAT": "xml"},
		"bad listen addr": {"K_SINK": "http://b", "PORT": "x:y:z"},
	}
	for name, env := range cases {
		var c config.Ingress
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		c.Flags(fs, config.Map(env))
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Check(); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
			t.Errorf("%s: err %v, want a config error", name, err)
		}
	}
}

func TestLoggerJSONWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	log := config.Log{Format: "auto", Level: "info"}.Logger(&buf)
	log.Info().Str("batchid", "b1").Int("chunk", 3).Msg("hello")
	log.Debug().Msg("hidden")
	if s := buf.String(); !strings.HasPrefix(s, `{"level":"info","batchid":"b1","chunk":3,`) || strings.Contains(s, "hidden") {
		t.Errorf("log %q", s)
	}
}

// TestLoggerConsoleNotATerminal: --log-format console into a file or a
// pipe is plain text, without the colours' escape sequences; a bad
// --log-level is an error that says what is wanted.
func TestLoggerConsoleNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	log := config.Log{Format: "console", Level: "info"}.Logger(&buf)
	log.Warn().Str("batchid", "b1").Msg("hello")
	if s := buf.String(); strings.Contains(s, "\x1b[") || !strings.Contains(s, "WRN hello batchid=b1") {
		t.Errorf("log %q", s)
	}
	err := (&config.Log{Format: "json", Level: "bogus"}).Check()
	if err == nil || !strings.Contains(err.Error(), "want debug, info, warn or error") || strings.Contains(err.Error(), "defaulting") {
		t.Errorf("--log-level bogus: %v", err)
	}
}

// TestBadEnvValuesAreErrors: a set variable that does not parse is an
// error, not a silent default.
func TestBadEnvValuesAreErrors(t *testing.T) {
	for key, v := range map[string]string{
		"PRICEFN_MAX_WAIT":            "30",
		"PRICEFN_UNKNOWN_GRACE":       "soon",
		"PRICEFN_CHUNK_TRADES":        "10k",
		"PRICEFN_MAX_BATCH_BYTES":     "32MB",
		"PRICEFN_SHUTDOWN_TIMEOUT":    "x",
		"PRICEFN_WORKERS":             "all",
		"PRICEFN_CHUNKS_AT_ONCE":      "two",
		"PRICEFN_LOG_LEVEL":           "loud",
		"PRICEFN_LOG_FORMAT":          "xml",
		"PRICEFN_TENANT_MAX_RETAINED": "lots",
	} {
		env := config.Map(map[string]string{key: v, "K_SINK": "http://b"})
		for name, c := range map[string]interface {
			Flags(*flag.FlagSet, config.Env)
			Check() error
		}{"ingress": &config.Ingress{}, "pricer": &config.Pricer{}, "aggregator": &config.Aggregator{}, "dev": &config.Dev{}} {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			c.Flags(fs, env)
			if fs.Lookup(flagOf[key]) == nil {
				continue // not a setting of this piece
			}
			if err := fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			if err := c.Check(); err == nil || !strings.Contains(err.Error(), "$"+key) {
				t.Errorf("%s with %s=%q: err %v, want one naming $%s", name, key, v, err, key)
			}
		}
	}
}

var flagOf = map[string]string{
	"PRICEFN_MAX_WAIT":            "max-wait",
	"PRICEFN_UNKNOWN_GRACE":       "unknown-grace",
	"PRICEFN_CHUNK_TRADES":        "chunk-trades",
	"PRICEFN_MAX_BATCH_BYTES":     "max-batch-bytes",
	"PRICEFN_SHUTDOWN_TIMEOUT":    "shutdown-timeout",
	"PRICEFN_WORKERS":             "workers",
	"PRICEFN_CHUNKS_AT_ONCE":      "chunks-at-once",
	"PRICEFN_LOG_LEVEL":           "log-level",
	"PRICEFN_LOG_FORMAT":          "log-format",
	"PRICEFN_TENANT_MAX_RETAINED": "tenant-max-retained",
}

func TestDevCheck(t *testing.T) {
	for name, args := range map[string][]string{
		"bad addr":       {"--addr", "nope"},
		"bad public url": {"--public-url", "/relative"},
		"bad log level":  {"--log-level", "loud"},
	} {
		var c config.Dev
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		c.Flags(fs, config.Map(nil))
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := c.Check(); err == nil || !strings.HasPrefix(err.Error(), "config: ") {
			t.Errorf("%s: err %v, want a config error", name, err)
		}
	}
	var c config.Dev
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.Flags(fs, config.Map(map[string]string{"PORT": "9000"}))
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(); err != nil || c.Addr != ":9000" || c.UnknownGrace != 5*time.Second || c.MaxAge != 24*time.Hour || c.MaxBatchBytes != 256<<20 || c.MemoryLimitMiB != 768 {
		t.Errorf("defaults: %v %+v", err, c)
	}
}

// The standalone functions must share their state: memory is refused
// there, with a message that says what to use; pricefn dev takes it.
func TestStoreChoice(t *testing.T) {
	for _, c := range []struct {
		cfg interface {
			Flags(*flag.FlagSet, config.Env)
			Check() error
		}
		args []string
		want string
	}{
		{&config.Ingress{}, []string{"--sink", "http://b"}, "--store memory keeps batch state in this process only"},
		{&config.Aggregator{}, nil, "use --store redis://HOST:PORT/DB"},
		{&config.Aggregator{}, []string{"--store", "postgres://x"}, `--store "postgres://x" ($PRICEFN_STORE): want memory or redis://`},
		{&config.Dev{}, []string{"--store", "mysql://x"}, "want memory or redis://"},
		{&config.Dev{}, nil, ""},
		{&config.Dev{}, []string{"--store", "redis://127.0.0.1:1/0"}, ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		c.cfg.Flags(fs, config.Map(nil))
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		err := c.cfg.Check()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%T %v: %v, want %q", c.cfg, c.args, err, c.want)
		}
	}
}

// TestPricerReadsNoTokensFile: the pricer serves events alone: it offers
// no --tokens-file, reads no $PRICEFN_TOKENS_FILE, and says it has no API;
// its -h offered a tokens file that "leaves the API open", which it never
// read.
func TestPricerReadsNoTokensFile(t *testing.T) {
	var c config.Pricer
	fs := flag.NewFlagSet("pricer", flag.ContinueOnError)
	read := map[string]bool{}
	c.Flags(fs, func(k string) string { read[k] = true; return "" })
	if fs.Lookup("tokens-file") != nil || read["PRICEFN_TOKENS_FILE"] || !c.NoAPI {
		t.Errorf("pricer: --tokens-file %v, reads $PRICEFN_TOKENS_FILE %v, NoAPI %v; want no flag, no read, no API",
			fs.Lookup("tokens-file") != nil, read["PRICEFN_TOKENS_FILE"], c.NoAPI)
	}
	if fs.Lookup("event-key-file") == nil {
		t.Error("pricer: no --event-key-file: its events are signed and checked")
	}
	// Nor a sink: it replies (its -h offered a --sink, $K_SINK, it never
	// sent to).
	if fs.Lookup("sink") != nil || read["K_SINK"] {
		t.Errorf("pricer: --sink %v, reads $K_SINK %v; want neither: it replies", fs.Lookup("sink") != nil, read["K_SINK"])
	}
	var in config.Ingress
	fs = flag.NewFlagSet("ingress", flag.ContinueOnError)
	in.Flags(fs, config.Map(nil))
	if fs.Lookup("tokens-file") == nil || in.NoAPI {
		t.Error("ingress: no --tokens-file")
	}
}

// TestOverridesChecked: an extension of K_CE_OVERRIDES that no event can
// carry, or one pricefn sets on each event itself, stops the start naming
// it; the sender's SetExtension dropped the first kind unsaid on every
// event, and the second replaced the batch's own batchid or traceparent.
func TestOverridesChecked(t *testing.T) {
	for v, want := range map[string]string{
		`{"extensions":{"Bad_Key":"x"}}`:        `extension "Bad_Key": attribute names are lower-case letters and digits`,
		`{"extensions":{"team-a":"x"}}`:         `extension "team-a": attribute names are lower-case letters and digits`,
		`{"extensions":{"":"x"}}`:               `extension "": attribute names are lower-case letters and digits`,
		`{"extensions":{"batchid":"b1"}}`:       `extension "batchid": pricefn sets it on each event itself`,
		`{"extensions":{"traceparent":"00-x"}}`: `extension "traceparent": pricefn sets it on each event itself`,
		`{"extensions":{"source":"me"}}`:        `extension "source": pricefn sets it on each event itself`,
		`{"extensions":{"team":{"a":1}}}`:       `extension "team": value map[a:1]: want a string, a boolean or an integer`,
		`{"extensions":{"team":1.5}}`:           `extension "team": value 1.5: want a string, a boolean or an integer`,
		`{"extensions":{"team":null}}`:          `extension "team": value <nil>: want a string, a boolean or an integer`,
	} {
		if _, err := config.ParseOverrides(v); err == nil || !strings.Contains(err.Error(), "config: K_CE_OVERRIDES: "+want) {
			t.Errorf("%s: error %v, want %q", v, err, want)
		}
	}
	ov, err := config.ParseOverrides(`{"extensions":{"team":"rates","tier":2,"beta":true}}`)
	if err != nil || len(ov) != 3 || ov["team"] != "rates" || ov["tier"] != 2.0 || ov["beta"] != true {
		t.Errorf("good overrides: %v, %v", ov, err)
	}
}

// TestMaxBootstrapInstruments: ingress's bound of a batch's bootstrap
// instruments is batch.DefaultMaxBootstrapInstruments unless the
// environment or the flag says, 0 for no bound.
func TestMaxBootstrapInstruments(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want int
	}{
		{nil, nil, batch.DefaultMaxBootstrapInstruments},
		{map[string]string{"PRICEFN_MAX_BOOTSTRAP_INSTRUMENTS": "500"}, nil, 500},
		{map[string]string{"PRICEFN_MAX_BOOTSTRAP_INSTRUMENTS": "500"}, []string{"--max-bootstrap-instruments", "0"}, 0},
	} {
		var in config.Ingress
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		in.Flags(fs, config.Map(c.env))
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if in.MaxBootstrapInstruments != c.want {
			t.Errorf("env %v, args %v: %d, want %d", c.env, c.args, in.MaxBootstrapInstruments, c.want)
		}
	}
}
