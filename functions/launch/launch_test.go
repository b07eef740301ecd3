package launch_test

import (
	"math"
	"testing"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/launch"
	"github.com/pricefn/pricefn/store"
)

// TestMemStoreBytes: an in-memory store keeps a third of the heap's soft
// limit (dev's default 768 MiB: 256 MiB, a 1M-trade batch's results), so
// that a full store does not hold the heap at its limit.
func TestMemStoreBytes(t *testing.T) {
	for _, c := range []struct{ limit, want int64 }{
		{768 << 20, 256 << 20},
		{math.MaxInt64, store.DefaultMaxBytes},
		{0, store.DefaultMaxBytes},
		{30 << 20, 16 << 20},
	} {
		if got := launch.MemStoreBytes(c.limit); got != c.want {
			t.Errorf("MemStoreBytes(%d) = %d, want %d", c.limit, got, c.want)
		}
	}
}

// TestIngressOptionsBoundBootstrap: --max-bootstrap-instruments reaches
// ingress, 0 (no bound) included.
func TestIngressOptionsBoundBootstrap(t *testing.T) {
	for _, n := range []int{500, 0} {
		opt := launch.IngressOptions(config.Ingress{Split: config.Split{MaxBootstrapInstruments: n}}, zerolog.Nop(), nil, nil, nil)
		if opt.MaxBootstrapInstruments != n {
			t.Errorf("--max-bootstrap-instruments %d: ingress bounds %d", n, opt.MaxBootstrapInstruments)
		}
	}
}
