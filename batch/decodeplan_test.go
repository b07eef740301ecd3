package batch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// planDocs returns every reference batch and a mixed one (heston and
// quoted Europeans among them), by name.
func planDocs(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/reference/*.batch.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("reference batches: %v (%d)", err, len(files))
	}
	mixed, err := mixedBatch(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{"mixed": mixed}
	for _, f := range files {
		if docs[f], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	return docs
}

// TestDecodePlanCostsAsDecode: a batch read to be planned costs every
// trade as a full read does, so its chunks are the same, and it names the
// same trades; every reference batch and a mixed one, heston and quoted
// Europeans among them.
func TestDecodePlanCostsAsDecode(t *testing.T) {
	docs := planDocs(t)
	planned := 0
	for name, doc := range docs {
		full, err := batch.DecodeBytes(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan, err := batch.DecodePlan(doc)
		if err != nil {
			t.Fatalf("%s: plan: %v", name, err)
		}
		fj, err := batch.Compile(full)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pj, err := batch.Compile(plan)
		if err != nil {
			t.Fatalf("%s: plan: %v", name, err)
		}
		want, err := fj.Price(context.Background(), batch.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		failing := 0
		for i := range full.Trades {
			if plan.Trades[i].ID != full.Trades[i].ID || string(plan.Trades[i].Raw) != string(full.Trades[i].Raw) {
				t.Errorf("%s: trade %d is %s planned, %s decoded", name, i, plan.Trades[i].ID, full.Trades[i].ID)
			}
			if want[i].Error != "" {
				failing++ // a fault of its terms, which planning does not read
				continue
			}
			if got, want := pj.Cost(i), fj.Cost(i); got != want {
				t.Errorf("%s: trade %s costs %g planned, %g decoded", name, full.Trades[i].ID, got, want)
			}
		}
		opt := batch.ChunkOptions{TargetCost: 2000}
		if got, want := batch.PlanChunks(plan, pj, opt), batch.PlanChunks(full, fj, opt); failing == 0 && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: chunks %v planned, %v decoded", name, got, want)
		}
		// A planned job prices no trade whose terms it did not read: each
		// fails, saying why; the others price as decoded.
		rs, err := pj.Price(context.Background(), batch.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, r := range rs {
			switch {
			case strings.Contains(r.Error, "decoded to plan its chunks"):
				planned++
			case !reflect.DeepEqual(r, want[i]):
				t.Errorf("%s: trade %s priced %+v planned, %+v decoded", name, r.ID, r, want[i])
			}
		}
	}
	if planned < 100 {
		t.Errorf("%d trades planned without their terms, want the Europeans, barriers and FRAs of the reference", planned)
	}
}

// TestDecodePlanRejectsAsDecode: what fails a batch fails it read to be
// planned, with the same message; what fails one trade (its terms) passes
// both, and fails that trade when priced.
func TestDecodePlanRejectsAsDecode(t *testing.T) {
	market := `"market": {"curves": {"USD": {"rate": 0.05}, "EUR": {"rate": 0.03}}, "underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}}}`
	doc := func(trades ...string) string {
		return `{"valuationDate": "2026-11-25", ` + market + `, "trades": [` + strings.Join(trades, ",") + `]}`
	}
	good := `{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}`
	for _, c := range []struct {
		name, doc  string
		batchFault bool
	}{
		{"unknown underlying", doc(`{"id": "T1", "type": "european", "underlying": "XYZ", "strike": "x"}`), true},
		{"unknown curve", doc(`{"id": "F1", "type": "fra", "curve": "GBP", "rate": "x"}`), true},
		{"duplicate ids", doc(good, good), true},
		{"id a number", doc(`{"id": 7, "type": "barrier"}`), true},
		{"malformed in terms", doc(`{"id": "T1", "type": "european", "underlying": "ACME", "strike": 01}`), true},
		{"duplicate key in terms", doc(`{"id": "T1", "type": "european", "underlying": "ACME", "strike": 1, "strike": 2}`), true},
		{"strike a string", doc(`{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": "100", "expiry": "2027-11-25"}`), false},
		{"unknown term", doc(`{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "strik": 1}`), false},
		{"bad model", doc(`{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "model": "sabr"}`), false},
		{"quote a string", doc(`{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "price": "3"}`), false},
		{"fra without rate", doc(`{"id": "F1", "type": "fra", "curve": "EUR", "notional": 1e6, "start": "2027-05-25", "end": "2027-11-25"}`), false},
	} {
		_, errFull := batch.DecodeBytes([]byte(c.doc))
		pb, errPlan := batch.DecodePlan([]byte(c.doc))
		if c.batchFault {
			if errFull == nil || errPlan == nil || errFull.Error() != errPlan.Error() {
				// Some faults are the compiler's: compare there.
				if errPlan == nil {
					_, errPlan = batch.Compile(pb)
				}
				if errFull == nil {
					fb, _ := batch.DecodeBytes([]byte(c.doc))
					_, errFull = batch.Compile(fb)
				}
			}
			if errFull == nil || errPlan == nil || errFull.Error() != errPlan.Error() {
				t.Errorf("%s: planned %v, decoded %v: want the same batch error", c.name, errPlan, errFull)
			}
			continue
		}
		if errFull != nil || errPlan != nil {
			t.Errorf("%s: planned %v, decoded %v: want both read (a fault of the trade)", c.name, errPlan, errFull)
			continue
		}
		if _, err := batch.Compile(pb); err != nil {
			t.Errorf("%s: planned batch not compiled: %v", c.name, err)
		}
		res, err := price(c.doc)
		if err != nil || len(res.Results) != 1 || res.Results[0].Error == "" {
			t.Errorf("%s: priced %+v (%v), want the trade failed", c.name, res, err)
		}
	}
}

// TestCompilePlanAsCompileWith: a job that only plans (CompilePlan, whose
// trades keep their costs alone) fails a batch as CompileWith does, with
// the same message, and otherwise costs every trade and plans every chunk
// as CompileWith's job does; pricing it panics.
func TestCompilePlanAsCompileWith(t *testing.T) {
	docs := planDocs(t)
	for _, kind := range batch.SampleTypes {
		for _, scen := range []int{0, 3} {
			doc, err := batch.Sample(batch.SampleSpec{Type: kind, N: 700, Seed: 3, Scenarios: scen})
			if err != nil {
				t.Fatal(err)
			}
			docs[fmt.Sprintf("%s/%d scenarios", kind, scen)] = doc
		}
	}
	// Batch-level faults, each as CompileWith reports it, and a trade that
	// fails to compile.
	market := `"market": {"curves": {"USD": {"rate": 0.05}}, "underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}, "BAD": {"spot": -5, "vol": 0.25, "curve": "USD"}}}`
	good := `{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}`
	for name, doc := range map[string]string{
		"bad date":                    `{"valuationDate": "2026-13-25", ` + market + `, "trades": [` + good + `]}`,
		"unknown measure":             `{"valuationDate": "2026-11-25", "measures": ["npv", "vanna"], ` + market + `, "trades": [` + good + `]}`,
		"unknown underlying":          `{"valuationDate": "2026-11-25", ` + market + `, "trades": [` + strings.Replace(good, "ACME", "INITECH", 1) + `]}`,
		"unknown curve":               `{"valuationDate": "2026-11-25", ` + market + `, "trades": [{"id": "F1", "type": "fra", "curve": "EUR", "notional": 1000000, "start": "2027-01-25", "end": "2027-04-25", "fixedRate": 0.03}]}`,
		"a trade on a bad underlying": `{"valuationDate": "2026-11-25", ` + market + `, "trades": [` + good + `, ` + strings.NewReplacer("ACME", "BAD", "T1", "T2").Replace(good) + `]}`,
	} {
		docs[name] = []byte(doc)
	}
	opts := []batch.ChunkOptions{{}, {TargetCost: 2000}, {MaxTrades: 7}}
	refused, failed := 0, 0
	for name, doc := range docs {
		b, err := batch.DecodePlan(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e := batch.Engines{MaxBootstrapInstruments: batch.DefaultMaxBootstrapInstruments}
		want, werr := batch.CompileWith(b, e)
		got, gerr := batch.CompilePlan(b, e)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("%s: CompilePlan: %v, CompileWith: %v", name, gerr, werr)
		}
		if werr != nil {
			refused++
			continue
		}
		if got.Len() != want.Len() {
			t.Fatalf("%s: %d trades planned, %d compiled", name, got.Len(), want.Len())
		}
		for i := range want.Len() {
			if got.Cost(i) != want.Cost(i) {
				t.Fatalf("%s: trade %d costs %g planned, %g compiled", name, i, got.Cost(i), want.Cost(i))
			}
			if name == "a trade on a bad underlying" && got.Cost(i) == 50 {
				failed++ // the cost of a trade that fails
			}
		}
		if got.TotalCost() != want.TotalCost() || got.ChunkCost(0, got.Len()) != want.ChunkCost(0, want.Len()) {
			t.Errorf("%s: total cost %g planned, %g compiled", name, got.TotalCost(), want.TotalCost())
		}
		for _, opt := range opts {
			if p, w := batch.PlanChunks(b, got, opt), batch.PlanChunks(b, want, opt); !reflect.DeepEqual(p, w) {
				t.Errorf("%s: chunks %v planned, %v compiled", name, p, w)
			}
			if p, w := batch.Plan(b, got, opt), batch.Plan(b, want, opt); !reflect.DeepEqual(p, w) {
				t.Errorf("%s: offsets %v planned, %v compiled", name, p, w)
			}
		}
	}
	if refused != 4 || failed != 1 {
		t.Errorf("%d batches refused, want 4; %d trades failed, want 1", refused, failed)
	}
	b, err := batch.DecodePlan(docs["mixed"])
	if err != nil {
		t.Fatal(err)
	}
	j, err := batch.CompilePlan(b, batch.Engines{})
	if err != nil {
		t.Fatal(err)
	}
	for name, price := range map[string]func(){
		"Price": func() { _, _ = j.Price(context.Background(), batch.Options{}) },
		"PriceBlocks": func() {
			_ = j.PriceBlocks(context.Background(), batch.Options{}, nil, func(*batch.PricedBlock) error { return nil })
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: a job of CompilePlan priced its trades", name)
				}
			}()
			price()
		}()
	}
}
