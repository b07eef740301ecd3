// Package config reads what a pricefn process is told by its environment
// and command line: the Knative container contract (PORT, K_SINK,
// K_SERVICE, K_CE_OVERRIDES) and pricefn's own settings. Only package main
// and this package read environment variables; everything else receives
// plain values.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Env returns the value of an environment variable, or "". os.Getenv
// satisfies it; tests pass a map lookup.
type Env func(key string) string

// Map returns an Env that reads m.
func Map(m map[string]string) Env { return func(k string) string { return m[k] } }

// Serve is what every served piece of pricefn reads: where to listen, where
// to send the events it emits, and how to log and stop.
type Serve struct {
	// Addr is the listen address: --addr, else ":"+$PORT, else ":8080".
	Addr string
	// Sink is the URL events are sent to (the broker): --sink, else $K_SINK.
	Sink string
	// Service names this instance in events and logs: $K_SERVICE, else the
	// piece's name.
	Service string
	// Overrides are the CloudEvents extensions every emitted event carries,
	// from $K_CE_OVERRIDES ({"extensions": {"name": "value"}}).
	Overrides map[string]any
	// ShutdownTimeout bounds the wait for in-flight work on SIGTERM.
	ShutdownTimeout time.Duration
	// Log is the logging setup.
	Log Log
	Security
	// Replies says the piece emits no event of its own: it answers each
	// it receives with its reply (the pricer). It has no sink to send to:
	// no --sink, no $K_SINK read.
	Replies bool

	overrides string
	envErrs   []error // environment values Flags could not parse
}

// DefaultPort is the port a piece listens on when $PORT is not set.
const DefaultPort = "8080"

// Flags defines the common flags on fs, with defaults taken from env.
// name is the piece's name ("ingress"), the default service name.
func (s *Serve) Flags(fs *flag.FlagSet, name string, env Env) {
	port := env("PORT")
	if port == "" {
		port = DefaultPort
	}
	service := env("K_SERVICE")
	if service == "" {
		service = name
	}
	fs.StringVar(&s.Addr, "addr", ":"+port, "listen address, HOST:PORT; an empty HOST is every interface ($PORT gives :PORT)")
	if !s.Replies {
		fs.StringVar(&s.Sink, "sink", env("K_SINK"), "URL to send events to, the broker ($K_SINK)")
	}
	fs.StringVar(&s.Service, "service", service, "service name in events and logs ($K_SERVICE)")
	fs.StringVar(&s.overrides, "ce-overrides", env("K_CE_OVERRIDES"), `extensions for every emitted event, as {"extensions":{...}} ($K_CE_OVERRIDES)`)
	shutdownFlag(fs, defaults{env, &s.envErrs}, &s.ShutdownTimeout)
	s.Log.Flags(fs, env)
	s.Security.flags(fs, env)
}

// Check validates the parsed values and decodes the overrides. needSink
// says whether the piece emits events and so needs a sink.
func (s *Serve) Check(needSink bool) error {
	if err := errors.Join(s.envErrs...); err != nil {
		return err
	}
	if err := errors.Join(checkAddr("--addr", "PORT", s.Addr), checkService(s.Service), positive("shutdown-timeout", "PRICEFN_SHUTDOWN_TIMEOUT", s.ShutdownTimeout)); err != nil {
		return err
	}
	if needSink && s.Sink == "" {
		return errors.New("config: no sink: set --sink or $K_SINK to the broker's URL")
	}
	// A sink given is checked where it is optional too (the aggregator's,
	// for batch.completed): K_SINK=ftp://x started an aggregator whose
	// every announcement then failed.
	if s.Sink != "" {
		if err := checkURLOf("--sink", "K_SINK", s.Sink); err != nil {
			return err
		}
	}
	ov, err := ParseOverrides(s.overrides)
	if err != nil {
		return err
	}
	s.Overrides = ov
	return s.Log.Check()
}

// CheckURL reports whether v is an absolute http or https URL.
func CheckURL(name, v string) error { return checkURLOf(name, "", v) }

// checkURLOf is CheckURL of flag name, whose default comes from $env
// ("" for none), named as every setting's is.
func checkURLOf(name, env, v string) error {
	if env != "" {
		name = fmt.Sprintf("%s %q ($%s)", name, v, env)
	} else {
		name = fmt.Sprintf("%s %q", name, v)
	}
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("config: %s: %w", name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("config: %s: want an absolute http(s) URL", name)
	}
	return nil
}

// ParseOverrides decodes a K_CE_OVERRIDES value: {"extensions": {...}}.
// An empty value means no overrides. Each extension must be one an event
// can carry, under a name that is not pricefn's own: the sender's
// SetExtension dropped any other unsaid, on every event.
func ParseOverrides(v string) (map[string]any, error) {
	if v == "" {
		return nil, nil
	}
	var o struct {
		Extensions map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(v), &o); err != nil {
		return nil, fmt.Errorf("config: K_CE_OVERRIDES: %w", err)
	}
	for k, x := range o.Extensions {
		if err := checkOverride(k, x); err != nil {
			return nil, fmt.Errorf("config: K_CE_OVERRIDES: extension %q: %w", k, err)
		}
	}
	return o.Extensions, nil
}

// ownAttributes are the CloudEvents attributes an override may not set:
// the spec's context attributes, and the extensions pricefn sets on each
// event itself (batchid, pricefntenant, pricefnsig, traceparent).
var ownAttributes = [...]string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64",
	"batchid", "pricefntenant", "pricefnsig", "traceparent"}

// checkOverride reports whether extension k with the JSON value x can be
// set on every event: a name of lower-case letters and digits that is not
// in ownAttributes, a string, boolean or integer (CloudEvents' types).
func checkOverride(k string, x any) error {
	if k == "" || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return errors.New("attribute names are lower-case letters and digits (CloudEvents)")
	}
	if slices.Contains(ownAttributes[:], k) {
		return errors.New("pricefn sets it on each event itself")
	}
	switch x := x.(type) {
	case string, bool:
		return nil
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt32 && x <= math.MaxInt32 {
			return nil
		}
	}
	return fmt.Errorf("value %v: want a string, a boolean or an integer", x)
}

// checkAddr reports whether v, the value of flag name (with its default
// from $env, "" for none), is a listen address (HOST:PORT, HOST may be
// empty; PORT a number up to 65535 or a service name). The variable is
// named as every setting's is: "--addr" alone hid that PORT=abc set it.
func checkAddr(name, env, v string) error {
	_, port, err := net.SplitHostPort(v)
	if err == nil {
		_, err = net.LookupPort("tcp", port)
	}
	if err != nil {
		if env != "" {
			return fmt.Errorf("config: %s %q ($%s): %w", name, v, env, err)
		}
		return fmt.Errorf("config: %s %q: %w", name, v, err)
	}
	return nil
}

// checkService reports whether the service name is set: it is the source
// of the events a piece emits.
func checkService(v string) error {
	if v == "" {
		return errors.New(`config: --service "": want a name, such as pricefn-ingress`)
	}
	return nil
}

// positive reports whether v, the value of the setting --name ($env), is
// above 0. A zero there would silently mean the library's default, so it
// is refused with the negative values.
func positive[T int | int64 | time.Duration](name, env string, v T) error {
	if v > 0 {
		return nil
	}
	return fmt.Errorf("config: --%s %v ($%s): want %s", name, v, env, above0(v))
}

// nonNegative reports whether v, the value of the setting --name ($env),
// is 0 or more; zero says what 0 means.
func nonNegative[T int | int64 | time.Duration](name, env string, v T, zero string) error {
	if v >= 0 {
		return nil
	}
	return fmt.Errorf("config: --%s %v ($%s): want 0 (%s) or more", name, v, env, zero)
}

// above0 says what a positive value of v's kind looks like.
func above0[T int | int64 | time.Duration](v T) string {
	if _, ok := any(v).(time.Duration); ok {
		return "a duration above 0, such as 30s"
	}
	return "1 or more"
}

// checkPublicURL reports whether v is empty or an absolute http(s) URL.
func checkPublicURL(v string) error {
	if v == "" {
		return nil
	}
	return checkURLOf("--public-url", "PRICEFN_PUBLIC_URL", v)
}

// defaults reads flag defaults from the environment. A set variable whose
// value does not parse is not ignored: it is kept in errs, which Check
// reports, so that a typo such as PRICEFN_MAX_WAIT=30 (no unit) does not
// silently leave the default in force.
type defaults struct {
	env  Env
	errs *[]error
}

func (d defaults) duration(key string, def time.Duration) time.Duration {
	return parseEnv(d, key, def, time.ParseDuration)
}

func (d defaults) int(key string, def int) int {
	return parseEnv(d, key, def, strconv.Atoi)
}

func (d defaults) bool(key string, def bool) bool {
	return parseEnv(d, key, def, strconv.ParseBool)
}

func (d defaults) int64(key string, def int64) int64 {
	return parseEnv(d, key, def, func(v string) (int64, error) { return strconv.ParseInt(v, 10, 64) })
}

// parseEnv returns the value of key parsed by parse, or def when key is
// not set or does not parse (then noted in d.errs).
func parseEnv[T any](d defaults, key string, def T, parse func(string) (T, error)) T {
	v := d.env(key)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		*d.errs = append(*d.errs, fmt.Errorf("config: $%s %q: %w", key, v, err))
		return def
	}
	return x
}
