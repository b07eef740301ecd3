package instrument

import (
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing/dates"
)

// TestAsianMinPaths: an arithmetic Asian's paths are at least MinPaths; a
// geometric one, priced in closed form, takes any (it was refused too).
func TestAsianMinPaths(t *testing.T) {
	fix := []dates.Date{ratesAsOf + 30, ratesAsOf + 60, ratesAsOf + 90}
	for _, c := range []struct {
		avg   Averaging
		paths int
		ok    bool
	}{
		{Geometric, 500, true}, {Arithmetic, 500, false}, {Arithmetic, MinPaths, true}, {Arithmetic, 0, true}, {Geometric, -1, false},
	} {
		a := Asian{Option: Option{Underlying: "X", Right: Call, Strike: 100, Expiry: ratesAsOf + 90}, Averaging: c.avg, Fixings: fix, Paths: c.paths}
		if err := a.Validate(ratesAsOf); (err == nil) != c.ok {
			t.Errorf("%v Asian, %d paths: %v, want ok %v", c.avg, c.paths, err, c.ok)
		}
	}
}

// TestAsianPathsBoundsMessage: paths out of range name the bounds of the
// trade's averaging; an arithmetic Asian's -1 was told "between 1 and
// 10000000", and 1 then refused as fewer than MinPaths.
func TestAsianPathsBoundsMessage(t *testing.T) {
	fix := []dates.Date{ratesAsOf + 30, ratesAsOf + 60, ratesAsOf + 90}
	for _, c := range []struct {
		avg   Averaging
		paths int
		want  string
	}{
		{Arithmetic, -1, "paths must be between 1000 and 10000000, or 0 for the engine's default, got -1"},
		{Arithmetic, MaxPaths + 1, "paths must be between 1000 and 10000000, or 0 for the engine's default, got 10000001"},
		{Geometric, -1, "paths must be between 1 and 10000000, or 0 for the engine's default, got -1"},
	} {
		a := Asian{Option: Option{Underlying: "X", Right: Call, Strike: 100, Expiry: ratesAsOf + 90}, Averaging: c.avg, Fixings: fix, Paths: c.paths}
		if err := a.Validate(ratesAsOf); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v Asian, %d paths: %v, want %q", c.avg, c.paths, err, c.want)
		}
	}
}
