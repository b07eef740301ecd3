package config_test

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/config"
)

// piece is the configuration of one pricefn command.
type piece interface {
	Flags(*flag.FlagSet, config.Env)
	Check() error
}

// pieces returns a fresh configuration of each command, with the flags
// that make it valid otherwise.
func pieces() map[string]struct {
	cfg  piece
	base []string
} {
	redis := []string{"--store", "redis://127.0.0.1:6379/0"}
	return map[string]struct {
		cfg  piece
		base []string
	}{
		"ingress":    {&config.Ingress{}, append([]string{"--sink", "http://127.0.0.1:9/"}, redis...)},
		"pricer":     {&config.Pricer{}, nil},
		"aggregator": {&config.Aggregator{}, redis},
		"dev":        {&config.Dev{}, nil},
		"api":        {&config.API{}, append([]string{"--sink", "http://127.0.0.1:9/"}, redis...)},
	}
}

// check parses args (after the piece's base flags) with env and returns
// Check's error.
func check(t *testing.T, name string, env map[string]string, args []string) error {
	t.Helper()
	p := pieces()[name]
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	p.cfg.Flags(fs, config.Map(env))
	if err := fs.Parse(append(append([]string{}, p.base...), args...)); err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return p.cfg.Check()
}

// TestOutOfRangeStopsStartup: a count or duration out of range is an
// error naming the flag and its variable, whether it came from the
// environment or the command line.
func TestOutOfRangeStopsStartup(t *testing.T) {
	for _, c := range []struct {
		piece string
		env   map[string]string
		args  []string
		want  string
	}{
		{"pricer", map[string]string{"PRICEFN_WORKERS": "-3"}, nil, "config: --workers -3 ($PRICEFN_WORKERS): want 0 (one per core) or more"},
		{"dev", map[string]string{"PRICEFN_WORKERS": "-3"}, nil, "--workers -3 ($PRICEFN_WORKERS)"},
		{"ingress", map[string]string{"PRICEFN_CHUNK_TRADES": "0"}, nil, "config: --chunk-trades 0 ($PRICEFN_CHUNK_TRADES): want 1 or more"},
		{"ingress", nil, []string{"--max-batch-bytes", "-1"}, "config: --max-batch-bytes -1 ($PRICEFN_MAX_BATCH_BYTES): want 1 or more"},
		{"dev", nil, []string{"--max-batch-bytes", "0"}, "--max-batch-bytes 0"},
		{"ingress", nil, []string{"--send-limit", "0"}, "config: --send-limit 0 ($PRICEFN_SEND_LIMIT): want 1 or more"},
		{"ingress", nil, []string{"--chunk-cost", "-1s"}, "config: --chunk-cost -1s ($PRICEFN_CHUNK_COST): want a duration above 0, such as 30s"},
		{"ingress", map[string]string{"PRICEFN_BATCH_TIMEOUT": "-5m"}, nil, "config: --batch-timeout -5m0s ($PRICEFN_BATCH_TIMEOUT): want 0 (sized from the batch's estimated pricing time) or 1s to 24h0m0s, as a batch's own deadline"},
		{"dev", nil, []string{"--batch-timeout", "48h"}, "config: --batch-timeout 48h0m0s ($PRICEFN_BATCH_TIMEOUT): want 0 (sized from the batch's estimated pricing time) or 1s to 24h0m0s"},
		{"ingress", map[string]string{"PRICEFN_BATCH_TIMEOUT": "500ms"}, nil, "config: --batch-timeout 500ms ($PRICEFN_BATCH_TIMEOUT): want 0"},
		{"aggregator", nil, []string{"--max-wait", "-1s"}, "config: --max-wait -1s ($PRICEFN_MAX_WAIT)"},
		{"aggregator", map[string]string{"PRICEFN_UNKNOWN_GRACE": "0s"}, nil, "config: --unknown-grace 0s ($PRICEFN_UNKNOWN_GRACE)"},
		{"aggregator", map[string]string{"PRICEFN_RETAIN": "-1h"}, nil, "config: --retain -1h0m0s ($PRICEFN_RETAIN)"},
		{"dev", nil, []string{"--max-age", "0s"}, "config: --max-age 0s ($PRICEFN_MAX_AGE)"},
		{"pricer", map[string]string{"PRICEFN_SHUTDOWN_TIMEOUT": "-1s"}, nil, "config: --shutdown-timeout -1s ($PRICEFN_SHUTDOWN_TIMEOUT)"},
		{"dev", nil, []string{"--shutdown-timeout", "0s"}, "config: --shutdown-timeout 0s ($PRICEFN_SHUTDOWN_TIMEOUT)"},
		{"pricer", map[string]string{"PORT": "99999"}, nil, `config: --addr ":99999" ($PORT)`},
		{"dev", map[string]string{"PORT": "abc"}, nil, `config: --addr ":abc" ($PORT)`},
		{"api", map[string]string{"PRICEFN_METRICS_ADDR": "nope"}, nil, `config: --metrics-addr "nope" ($PRICEFN_METRICS_ADDR)`},
		{"ingress", map[string]string{"K_SINK": "nope"}, []string{"--sink", ""}, `config: no sink`},
		{"aggregator", nil, []string{"--sink", "ftp://x"}, `config: --sink "ftp://x" ($K_SINK): want an absolute http(s) URL`},
		{"dev", map[string]string{"PRICEFN_PUBLIC_URL": "nope"}, nil, `config: --public-url "nope" ($PRICEFN_PUBLIC_URL): want an absolute http(s) URL`},
		{"dev", map[string]string{"PRICEFN_STORE": "nope"}, nil, `config: --store "nope" ($PRICEFN_STORE): want memory or redis://HOST:PORT/DB`},
		{"dev", nil, []string{"--internal-addr", "127.0.0.1:70000"}, `config: --internal-addr "127.0.0.1:70000"`},
		{"dev", nil, []string{"--internal-addr", ":9091"}, `config: --internal-addr ":9091": its event receivers take unsigned events`},
		{"dev", nil, []string{"--internal-addr", "0.0.0.0:9091"}, `config: --internal-addr "0.0.0.0:9091"`},
		{"dev", nil, []string{"--internal-addr", "192.0.2.7:9091"}, `config: --internal-addr "192.0.2.7:9091"`},
		{"aggregator", nil, []string{"--service", ""}, `config: --service ""`},
	} {
		err := check(t, c.piece, c.env, c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s env %v args %v: err %v, want one containing %q", c.piece, c.env, c.args, err, c.want)
		}
	}
}

// TestInRangeAccepted: the boundaries that mean something are taken.
func TestInRangeAccepted(t *testing.T) {
	for _, c := range []struct {
		piece string
		args  []string
	}{
		{"pricer", []string{"--workers", "0"}},
		{"dev", []string{"--workers", "1", "--batch-timeout", "0s", "--chunk-trades", "1", "--send-limit", "1", "--max-batch-bytes", "1"}},
		{"ingress", []string{"--batch-timeout", "0s", "--chunk-cost", "1ns"}},
		{"ingress", []string{"--batch-timeout", "1s"}},
		{"dev", []string{"--batch-timeout", "24h"}},
		{"aggregator", []string{"--max-wait", "1ms", "--unknown-grace", "1ms", "--retain", "1s", "--max-age", "1s"}},
		{"pricer", []string{"--addr", ":0", "--shutdown-timeout", "1ms"}},
		{"pricer", []string{"--addr", "127.0.0.1:65535"}},
		{"dev", []string{"--internal-addr", "[::1]:9091"}},
		{"dev", []string{"--internal-addr", "localhost:9091"}},
		{"dev", []string{"--internal-addr", "127.0.0.2:9091"}},
		{"dev", []string{"--internal-addr", ":9091", "--event-key-file", "/run/secrets/event-key"}},
	} {
		if err := check(t, c.piece, nil, c.args); err != nil {
			t.Errorf("%s %v: %v", c.piece, c.args, err)
		}
	}
}

// zeroMeans lists the numeric settings where 0 is a documented choice;
// everywhere else 0 would silently mean a default and is refused.
var zeroMeans = map[string]bool{"workers": true, "chunks-at-once": true, "batch-timeout": true, "tenant-max-batches": true, "tenant-max-trades": true, "max-bootstrap-instruments": true, "memory-limit-mib": true, "resend-stalled": true}

// TestEveryNumericSettingIsRangeChecked walks every numeric flag of every
// piece: -1 is refused, and 0 unless it means something, each with an
// error naming the flag. A setting added without a range check fails here.
func TestEveryNumericSettingIsRangeChecked(t *testing.T) {
	for name := range pieces() {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		pieces()[name].cfg.Flags(fs, config.Map(nil))
		var seen int
		fs.VisitAll(func(f *flag.Flag) {
			var bad []string
			switch f.Value.(flag.Getter).Get().(type) {
			case int, int64:
				bad = []string{"-1", "0"}
			case time.Duration:
				bad = []string{"-1s", "0s"}
			default:
				return
			}
			seen++
			if zeroMeans[f.Name] {
				bad = bad[:1]
				if err := check(t, name, nil, []string{"--" + f.Name, "0"}); err != nil {
					t.Errorf("%s --%s 0: %v", name, f.Name, err)
				}
			}
			for _, v := range bad {
				err := check(t, name, nil, []string{"--" + f.Name, v})
				if err == nil || !strings.Contains(err.Error(), "--"+f.Name+" ") {
					t.Errorf("%s --%s %s: err %v, want one naming --%s", name, f.Name, v, err, f.Name)
				}
			}
		})
		if seen == 0 {
			t.Errorf("%s: no numeric settings found", name)
		}
	}
}

// TestUsageShowsEachDefaultOnce: -h prints each default once, not
// "(default from $PORT) (default ":8080")".
func TestUsageShowsEachDefaultOnce(t *testing.T) {
	env := config.Map(map[string]string{"PORT": "9000", "K_SINK": "http://b/", "K_SERVICE": "svc"})
	for name, p := range pieces() {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		p.cfg.Flags(fs, env)
		var out strings.Builder
		fs.SetOutput(&out)
		fs.PrintDefaults()
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("%s: %q", name, strings.TrimSpace(line))
			}
		}
		if !strings.Contains(out.String(), `(default ":9000")`) {
			t.Errorf("%s: the default address from $PORT is not shown:\n%s", name, out.String())
		}
	}
}

// TestStorePasswordNotShown: a Redis URL's password ($PRICEFN_STORE, from
// a Secret) is in neither -h's defaults, which a mistyped flag prints to
// the pod's log, nor the refusal of a URL of another scheme; the store
// still gets the URL as given.
func TestStorePasswordNotShown(t *testing.T) {
	const secret = "s3cret-pass"
	env := config.Map(map[string]string{"PRICEFN_STORE": "redis://app:" + secret + "@redis:6379/0"})
	for name, p := range pieces() {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		p.cfg.Flags(fs, env)
		var out strings.Builder
		fs.SetOutput(&out)
		fs.PrintDefaults()
		if strings.Contains(out.String(), secret) {
			t.Errorf("%s -h shows the store's password:\n%s", name, out.String())
		}
		if name == "pricer" {
			continue // no store
		}
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "redis://app:xxxxx@redis:6379/0") {
			t.Errorf("%s -h: the store's default is not shown, its password replaced:\n%s", name, out.String())
		}
		if got := fs.Lookup("store").Value.(flag.Getter).Get(); got != "redis://app:"+secret+"@redis:6379/0" {
			t.Errorf("%s: --store %v, want the URL as given", name, got)
		}
	}
	for _, u := range []string{"REDIS://:" + secret + "@redis:6379/0", "redis+sentinel://app:" + secret + "@redis/0", "Redis://:" + secret + "%zz@redis/0"} {
		err := check(t, "dev", nil, []string{"--store", u})
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "--store") {
			t.Errorf("--store %s: %v, want a refusal naming --store without the password", u, err)
		}
	}
}
