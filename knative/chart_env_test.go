package knative_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/pricefn/pricefn/config"
)

// envPiece is the configuration of the function a Service runs, with the
// flags that make it valid otherwise.
type envPiece struct {
	cfg interface {
		Flags(*flag.FlagSet, config.Env)
		Check() error
	}
	base []string
}

// envPieces returns a fresh configuration of each Service's function.
func envPieces() map[string]envPiece {
	sink := []string{"--sink", "http://127.0.0.1:9/"}
	redis := []string{"--store", "redis://127.0.0.1:6379/0"}
	return map[string]envPiece{
		"api":        {&config.API{}, append(sink, redis...)},
		"ingress":    {&config.Ingress{}, append(sink, redis...)},
		"pricer":     {&config.Pricer{}, nil},
		"aggregator": {&config.Aggregator{}, redis},
	}
}

// configReads returns the PRICEFN_* variables the Service's function reads.
func configReads(service string) []string {
	seen := map[string]bool{}
	fs := flag.NewFlagSet(service, flag.ContinueOnError)
	envPieces()[service].cfg.Flags(fs, func(k string) string {
		if strings.HasPrefix(k, "PRICEFN_") {
			seen[k] = true
		}
		return ""
	})
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// configVerdict is the function's start-up check of env[key] = value.
func configVerdict(t *testing.T, service, key, value string) error {
	t.Helper()
	p := envPieces()[service]
	fs := flag.NewFlagSet(service, flag.ContinueOnError)
	p.cfg.Flags(fs, config.Map(map[string]string{key: value}))
	if err := fs.Parse(p.base); err != nil {
		t.Fatalf("%s: %v", service, err)
	}
	return p.cfg.Check()
}

// envSchema is what values.schema.json says of services.NAME.env.
type envSchema struct {
	Definitions struct {
		Env struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"env"`
	} `json:"definitions"`
	Properties struct {
		Services struct {
			Properties map[string]struct {
				Properties struct {
					Env struct {
						PropertyNames struct {
							If   struct{ Pattern string } `json:"if"`
							Then struct{ Enum []string }  `json:"then"`
						} `json:"propertyNames"`
					} `json:"env"`
				} `json:"properties"`
			} `json:"properties"`
		} `json:"services"`
	} `json:"properties"`
}

// chartSet are the variables the chart (or Knative) sets itself: env
// may not override them.
var chartSet = []string{"K_SINK", "PRICEFN_STORE", "PRICEFN_TOKENS_FILE", "PRICEFN_EVENT_KEY_FILE",
	"PRICEFN_MAX_WAIT", "PRICEFN_METRICS_ADDR", "PRICEFN_PUBLIC_URL", "PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}

func isChartSet(k string) bool {
	for _, c := range chartSet {
		if c == k {
			return true
		}
	}
	return false
}

// TestChartEnvCoversConfig: the PRICEFN_* names each Service's env takes
// are exactly those its function reads (config/) and the chart does not
// set, and each has a rule in definitions.env (or is refused there, for
// the chart's own). A setting added to config/ without the schema, or one
// the schema keeps after config/ dropped it, fails here.
func TestChartEnvCoversConfig(t *testing.T) {
	data, err := os.ReadFile(chartDir + "/values.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s envSchema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	props := s.Definitions.Env.Properties
	for _, k := range chartSet {
		if string(props[k]) != "false" {
			t.Errorf("definitions.env.properties.%s = %s, want false (the chart sets it)", k, props[k])
		}
	}
	used := map[string]bool{}
	for service := range envPieces() {
		var want []string
		for _, k := range configReads(service) {
			if !isChartSet(k) {
				want = append(want, k)
			}
		}
		if len(want) < 3 {
			t.Fatalf("%s reads %v: the recording Env missed its settings", service, want)
		}
		pn := s.Properties.Services.Properties[service].Properties.Env.PropertyNames
		got := append([]string(nil), pn.Then.Enum...)
		sort.Strings(got)
		if pn.If.Pattern != "^PRICEFN_" || !reflect.DeepEqual(got, want) {
			t.Errorf("services.%s.env takes PRICEFN_* names %v (if %q), want those pricefn %s reads: %v", service, got, pn.If.Pattern, service, want)
		}
		for _, k := range want {
			used[k] = true
			if r := props[k]; len(r) == 0 || string(r) == "false" || string(r) == "true" {
				t.Errorf("definitions.env.properties.%s = %q: want the rule config/ checks it by", k, r)
			}
		}
	}
	for k := range props {
		if strings.HasPrefix(k, "PRICEFN_") && !used[k] && !isChartSet(k) {
			t.Errorf("definitions.env.properties.%s: no Service's function reads it", k)
		}
	}
}

// TestChartEnvChecked: a PRICEFN_* value in services.NAME.env renders
// exactly when the function would start with it. It rendered whatever it
// was (PRICEFN_WORKERS: -1, PRICEFN_CHUNK_TRADES: 0), Knative admitted it
// and the pod crash-looped on config/'s check. Every setting of every
// Service is tried with every value below, as YAML (numbers stay numbers).
// The schema refused some values config/ takes (an upper-case log level,
// -0s): those, too.
func TestChartEnvChecked(t *testing.T) {
	c := loadChart(t)
	values := []string{"-1", "0", "1", "10000000", "1.5", "'+3'", "'007'", "lots", "''",
		"0s", "-1s", "30s", "1h30m", "500ms", "1.5s", "30", "true", "json", "debug", "warn", "bogus",
		// config/ takes these, the schema refused them: zerolog reads a
		// level in any case, time.ParseDuration and strconv.Atoi a
		// negative zero as 0, and Atoi any leading zeros.
		"DEBUG", "Warn", "'-0s'", "'-0.0m'", "'-0'", "'0000000000000000000005'"}
	tried := map[string]bool{}
	for _, service := range []string{"api", "ingress", "pricer", "aggregator"} {
		for _, key := range configReads(service) {
			if isChartSet(key) || tried[key] {
				continue
			}
			tried[key] = true
			for _, v := range values {
				vals, err := chartutil.ReadValues([]byte(fmt.Sprintf("services: {%s: {env: {%s: %s}}}", service, key, v)))
				if err != nil {
					t.Fatal(err)
				}
				raw := vals.AsMap()["services"].(map[string]any)[service].(map[string]any)["env"].(map[string]any)[key]
				want := fmt.Sprint(raw)
				if f, ok := raw.(float64); ok && f == float64(int64(f)) {
					want = strconv.FormatInt(int64(f), 10)
				}
				cfgErr := configVerdict(t, service, key, want)
				if key == "PRICEFN_CHUNK_COST" {
					// Pricers of 1000 cores: the chart refuses chunks
					// longer than an attempt (TestChartChunkCost).
					vals.AsMap()["services"].(map[string]any)["pricer"] = map[string]any{
						"resources": map[string]any{"requests": map[string]any{"cpu": "1000"}}}
				}
				files, err := renderChart(c, vals.AsMap(), namespace)
				if cfgErr != nil {
					if err == nil || !strings.Contains(err.Error(), "/services/"+service+"/env/"+key) {
						t.Errorf("%s %s=%s: render %v, want values.schema.json to refuse it as pricefn %[1]s does: %v", service, key, v, err, cfgErr)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s %s=%s: pricefn %[1]s takes it, the chart refuses: %v", service, key, v, err)
					continue
				}
				svc := findAll(docs(t, files), "Service", "pricefn-"+service)
				if len(svc) != 1 {
					t.Fatalf("%d pricefn-%s", len(svc), service)
				}
				if got, ok := envOf(svc[0])[key]; !ok || got != want {
					t.Errorf("%s %s=%s: rendered %q (set %v), want %q", service, key, v, got, ok, want)
				}
			}
		}
	}
	if len(tried) < 15 {
		t.Errorf("tried %d settings: %v", len(tried), tried)
	}
}

// TestChartEnvGoMemLimit: a GOMEMLIMIT the Go runtime takes renders as
// given, in place of the chart's 90% of the memory limit; a bare off
// (false to YAML) renders as off.
func TestChartEnvGoMemLimit(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct{ value, want string }{
		{"1500MiB", "1500MiB"},
		{"'off'", "off"},
		// YAML reads a bare off as false: the schema refused it with an
		// "anyOf failed", and a false would have rendered "false", which
		// the Go runtime refuses at start.
		{"off", "off"},
		{"false", "off"},
		{"1073741824", "1073741824"},
		{"'2GiB'", "2GiB"},
	} {
		vals, err := chartutil.ReadValues([]byte("services: {pricer: {env: {GOMEMLIMIT: " + tt.value + "}}}"))
		if err != nil {
			t.Fatal(err)
		}
		files, err := renderChart(c, vals.AsMap(), namespace)
		if err != nil {
			t.Errorf("GOMEMLIMIT %s: %v", tt.value, err)
			continue
		}
		pricer := findAll(docs(t, files), "Service", "pricefn-pricer")
		if len(pricer) != 1 || envOf(pricer[0])["GOMEMLIMIT"] != tt.want {
			t.Errorf("GOMEMLIMIT %s: pricer env %v, want %q", tt.value, pricer, tt.want)
		}
	}
}

// TestChartEnvGoMemLimitStarts: a GOMEMLIMIT renders exactly when the Go
// runtime starts with it, which this test's own binary tells, run with it
// and no test. The schema took any run of digits: one past 2^63-1 bytes
// (99999999999999999999, 8388608TiB) rendered, and the runtime stopped
// every pod at start ("malformed GOMEMLIMIT").
func TestChartEnvGoMemLimitStarts(t *testing.T) {
	c := loadChart(t)
	for _, v := range []string{"'99999999999999999999'", "1e20", "9223372036854775807",
		"'9223372036854775807'", "'9223372036854775808'", "'0009223372036854775807B'", "'9223372036854775808B'",
		"'9007199254740991KiB'", "'9007199254740992KiB'", "'8796093022207MiB'", "'8796093022208MiB'",
		"'8589934591GiB'", "'8589934592GiB'", "'8388607TiB'", "'8388608TiB'",
		"1073741824", "'2GiB'", "'+2GiB'", "'-0'", "'-0MiB'", "'-1'", "'1GB'", "'2gib'", "lots", "off", "'off'", "'OFF'"} {
		vals, err := chartutil.ReadValues([]byte("services: {pricer: {env: {GOMEMLIMIT: " + v + "}}}"))
		if err != nil {
			t.Fatal(err)
		}
		raw := vals.AsMap()["services"].(map[string]any)["pricer"].(map[string]any)["env"].(map[string]any)["GOMEMLIMIT"]
		value := fmt.Sprint(raw)
		switch r := raw.(type) {
		case float64:
			value = strconv.FormatFloat(r, 'f', 0, 64)
		case bool:
			value = "off"
		}
		files, renderErr := renderChart(c, vals.AsMap(), namespace)
		if renderErr == nil {
			pricer := findAll(docs(t, files), "Service", "pricefn-pricer")
			if len(pricer) != 1 || envOf(pricer[0])["GOMEMLIMIT"] != value {
				t.Errorf("GOMEMLIMIT %s: pricer env %v, want %q", v, envOf(pricer[0]), value)
				continue
			}
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "GOMEMLIMIT="+value)
		out, runErr := cmd.CombinedOutput()
		if (renderErr == nil) != (runErr == nil) {
			t.Errorf("GOMEMLIMIT %s: render %v; the Go runtime with GOMEMLIMIT=%s: %v %.100s", v, renderErr, value, runErr, out)
		}
	}
}

// TestChartEnvDurations: a duration setting renders exactly when the
// function takes it, at the edges of time.ParseDuration: a part under a
// nanosecond is 0 (0.5ns, 0.0000000001s), which a duration above 0
// refuses, and a part past the 292 years a duration holds (2562048h) does
// not parse. The schema took both, and the pod crash-looped.
func TestChartEnvDurations(t *testing.T) {
	c := loadChart(t)
	values := []string{"0.5ns", "1.5ns", "0.5ns0.5ns", "1h0.5ns", "0.001us", "0.0001us", "0.001µs", "0.000001ms", "0.0000001ms",
		"0.000000001s", "0.0000000001s", ".5s", "0.0000000001m", "0.000000000001h", "0.0000000000001h", "0.5ms", "0.0000005ms",
		"2562047h", "2562048h", "153722867m", "153722868m", "9223372036s", "9223372037s", "9223372036854ms", "9223372036855ms",
		"99999999999999999999ns", "1h30m", "+30s", "30", "0", "-0s", "-1s", "0s", "0.0s"}
	for _, tt := range []struct{ service, key string }{
		{"aggregator", "PRICEFN_RETAIN"},      // above 0
		{"ingress", "PRICEFN_RESEND_STALLED"}, // 0 or more
	} {
		for _, v := range values {
			cfgErr := configVerdict(t, tt.service, tt.key, v)
			vals := map[string]any{"services": map[string]any{tt.service: map[string]any{"env": map[string]any{tt.key: v}}}}
			files, err := renderChart(c, vals, namespace)
			if (cfgErr == nil) != (err == nil) || (err != nil && !strings.Contains(err.Error(), "/services/"+tt.service+"/env/"+tt.key)) {
				t.Errorf("%s %s=%s: render %v; pricefn %[1]s: %v", tt.service, tt.key, v, err, cfgErr)
				continue
			}
			if err == nil {
				svc := findAll(docs(t, files), "Service", "pricefn-"+tt.service)
				if len(svc) != 1 || envOf(svc[0])[tt.key] != v {
					t.Errorf("%s %s=%s: rendered %v", tt.service, tt.key, v, svc)
				}
			}
		}
	}
}
