package batch_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/pricing"
)

// expected is a reference file: QuantLib 1.29 values and the tolerance per measure.
type expected struct {
	Tolerances map[string]tolerance `json:"tolerances"`
	Results    []batch.TradeResult  `json:"results"`
}

// tolerance passes |ours-ref| <= Abs or <= Rel*|ref|; for Monte Carlo,
// |ours-ref| <= StdErr*sqrt(ourSE^2+refSE^2) and ourSE <= 2*refSE.
type tolerance struct {
	Abs    *float64 `json:"abs"`
	Rel    *float64 `json:"rel"`
	StdErr *float64 `json:"stderr"`
}

// TestReference prices every QuantLib 1.29 reference batch and compares
// every measure with the reference's tolerance (an expected error entry
// wants the trade to fail): testdata/reference holds the shared reference
// cases, testdata/hard the harder ones of
// testdata/hard/gen.py (short and long expiries, extreme vols, negative
// rates, odd curves and schedules).
func TestReference(t *testing.T) {
	for _, f := range referenceBatches(t) {
		dir, family := filepath.Split(f)
		family = family[:len(family)-len(".batch.json")]
		t.Run(filepath.Base(dir)+"/"+family, func(t *testing.T) {
			t.Parallel()
			got := priceFile(t, f)
			want := readExpected(t, filepath.Join(dir, family+".expected.json"))
			checkReference(t, got, want)
		})
	}
}

// referenceBatches lists the reference batches: the shared ones of
// testdata/reference and the hard ones of testdata/hard.
func referenceBatches(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"testdata/reference", "testdata/hard"} {
		fs, err := filepath.Glob(filepath.Join(dir, "*.batch.json"))
		if err != nil || len(fs) == 0 {
			t.Fatalf("no reference batches in %s: %v", dir, err)
		}
		files = append(files, fs...)
	}
	return files
}

func priceFile(t *testing.T, path string) []batch.TradeResult {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b, err := batch.Decode(fh)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	rs, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatalf("price %s: %v", path, err)
	}
	return rs.Results
}

func readExpected(t *testing.T, path string) expected {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return e
}

func checkReference(t *testing.T, got []batch.TradeResult, want expected) {
	t.Helper()
	if len(got) != len(want.Results) {
		t.Fatalf("got %d results, want %d", len(got), len(want.Results))
	}
	// worst is, per measure, the largest difference as a share of its
	// tolerance, for the log.
	worst := map[pricing.Measure]float64{}
	defer func() {
		for m, r := range worst {
			t.Logf("%s: worst difference %.3g of the tolerance", m, r)
		}
	}()
	for i, w := range want.Results {
		g := got[i]
		if g.ID != w.ID {
			t.Fatalf("result %d: id %q, want %q", i, g.ID, w.ID)
		}
		if w.Error != "" {
			// The reference has no value for it: the trade must fail.
			if g.Error == "" {
				t.Errorf("%s: priced, want an error like %q", g.ID, w.Error)
			}
			continue
		}
		if g.Error != "" {
			t.Errorf("%s: error %q", g.ID, g.Error)
			continue
		}
		for _, m := range pricing.AllMeasures() {
			if m == pricing.NPVStdErr {
				continue
			}
			ref, ok := w.Value(m)
			if !ok {
				continue
			}
			ours, ok := g.Value(m)
			if !ok {
				t.Errorf("%s: %s missing", g.ID, m)
				continue
			}
			tol, ok := want.Tolerances[m.String()]
			if !ok {
				t.Fatalf("no tolerance for %s", m)
			}
			diff := math.Abs(ours - ref)
			switch {
			case tol.StdErr != nil:
				se, _ := g.Value(pricing.NPVStdErr)
				refSE, _ := w.Value(pricing.NPVStdErr)
				if bound := *tol.StdErr * math.Hypot(se, refSE); diff > bound {
					t.Errorf("%s: %s = %.10g, QuantLib %.10g: diff %.3g > %.3g (%g standard errors)", g.ID, m, ours, ref, diff, bound, *tol.StdErr)
				}
				if se > 2*refSE {
					t.Errorf("%s: npvStdErr %.3g > twice QuantLib's %.3g", g.ID, se, refSE)
				}
			default:
				allowed := 0.0
				if tol.Abs != nil {
					allowed = *tol.Abs
				}
				if tol.Rel != nil {
					allowed = max(allowed, *tol.Rel*math.Abs(ref))
				}
				if r := diff / allowed; r > worst[m] {
					worst[m] = r
				}
				pass := (tol.Abs != nil && diff <= *tol.Abs) || (tol.Rel != nil && diff <= *tol.Rel*math.Abs(ref))
				if !pass {
					t.Errorf("%s: %s = %.12g, QuantLib %.12g: diff %.3g outside abs %v rel %v", g.ID, m, ours, ref, diff, deref(tol.Abs), deref(tol.Rel))
				}
			}
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return "-"
	}
	return *p
}
