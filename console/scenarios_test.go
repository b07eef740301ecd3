package console_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pricefn/pricefn/console"
)

// TestConsoleScenarios: a batch whose results carry scenarios (wire
// format section 1c) gets the P&L histogram with its VaR and ES lines and
// the worst scenarios. The engine does not price scenarios yet, so a
// stand-in API serves such a batch to the console.
func TestConsoleScenarios(t *testing.T) {
	const n = 500
	rng := rand.New(rand.NewPCG(7, 11))
	type scenario struct {
		ID     string  `json:"id"`
		NPV    float64 `json:"npv"`
		PnL    float64 `json:"pnl"`
		Failed int     `json:"failed"`
	}
	sc := make([]scenario, n)
	for i := range sc {
		pnl := math.Round(rng.NormFloat64()*1000*100) / 100
		sc[i] = scenario{ID: fmt.Sprintf("day-%03d", i), NPV: 10000 + pnl, PnL: pnl}
	}
	sorted := slices.Clone(sc)
	slices.SortFunc(sorted, func(a, b scenario) int { return cmpFloat(a.PnL, b.PnL) })
	// Section 1c: k = ceil(N (1 - a)); VaR = -(k-th smallest), ES = -(mean of the k smallest).
	varK, esK := 5, 13 // 0.99 and 0.975 of 500
	var esSum float64
	for _, s := range sorted[:esK] {
		esSum += s.PnL
	}
	doc, _ := json.Marshal(map[string]any{
		"batchId":   "sc-1",
		"results":   []map[string]any{{"id": "T1", "npv": 10000.0}},
		"scenarios": sc,
		"risk":      map[string]any{"var": map[string]float64{"0.99": -sorted[varK-1].PnL, "0.99999": -sorted[0].PnL}, "es": map[string]float64{"0.975": -esSum / float64(esK)}},
	})
	status := `{"batchId":"sc-1","state":"completed","attempt":1,"trades":1,"priced":1,"failed":0,"missing":0,"pending":0,"chunks":1,"chunksDone":1,"chunksFailed":0,"duplicates":0,
		"timings":{"submittedAt":"2026-11-25T09:00:00Z","acceptedAt":"2026-11-25T09:00:00.001Z","completedAt":"2026-11-25T09:00:02Z","durationSeconds":2,"pricingSeconds":1.5},
		"totals":{"all":{"npv":10000}}}`
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	mux.HandleFunc("GET /batches/sc-1", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, status) })
	mux.HandleFunc("GET /batches/sc-1/results", func(w http.ResponseWriter, r *http.Request) { w.Write(doc) })
	mux.HandleFunc("GET /batches/sc-1/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "id: 1/0\nevent: chunk\ndata: {\"batchId\":\"sc-1\",\"attempt\":1,\"index\":0,\"state\":\"priced\",\"firstTrade\":0,\"trades\":1,"+
			"\"deliveredAt\":\"2026-11-25T09:00:00.5Z\",\"pricedAt\":\"2026-11-25T09:00:02Z\",\"recordedAt\":\"2026-11-25T09:00:02Z\",\"pricingSeconds\":1.5,\"pricedBy\":\"pricer-7\",\"deliveries\":2,"+
			"\"progress\":{\"state\":\"completed\",\"trades\":1,\"priced\":1,\"chunks\":1,\"chunksDone\":1}}\n\n")
		fmt.Fprintf(w, "id: 1/0\nevent: end\ndata: %s\n\n", strings.Join(strings.Fields(status), ""))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(srv.URL+"/ui/batches/sc-1"))
	b.wait("the P&L section", `!document.querySelector('#scenarios').hidden && document.querySelectorAll('#worst tbody tr').length > 0`)
	// Every scenario is in one bin.
	counts := eval[[]string](b, `Array.from(document.querySelectorAll('svg.histogram rect.bin title')).map(t => t.textContent)`)
	total := 0
	for _, c := range counts {
		k, err := strconv.Atoi(strings.ReplaceAll(strings.Fields(c)[0], ",", ""))
		if err != nil {
			t.Fatalf("bin title %q", c)
		}
		total += k
	}
	if total != n || len(counts) < 10 {
		t.Errorf("histogram: %d scenarios in %d bins, want %d", total, len(counts), n)
	}
	lines := eval[[]string](b, `Array.from(document.querySelectorAll('svg.histogram .risk-line text')).map(t => t.textContent)`)
	wantVaR, wantES := fmt.Sprintf("VaR 99%%: %s", amountText(-sorted[varK-1].PnL)), fmt.Sprintf("ES 97.5%%: %s", amountText(-esSum/float64(esK)))
	if !slices.Contains(lines, wantVaR) || !slices.Contains(lines, wantES) {
		t.Errorf("risk lines %q, want %q and %q", lines, wantVaR, wantES)
	}
	// The summary writes a confidence as the histogram does: 0.99999 was
	// "VaR 99.99900000000001%" there.
	dts := eval[[]string](b, `Array.from(document.querySelectorAll('#scenarios dt')).map(dt => dt.textContent)`)
	if !slices.Contains(dts, "VaR 99%") || !slices.Contains(dts, "VaR 99.999%") || !slices.Contains(dts, "ES 97.5%") {
		t.Errorf("risk summary %q, want VaR 99%%, VaR 99.999%% and ES 97.5%%", dts)
	}
	worst := eval[[]string](b, `Array.from(document.querySelectorAll('#worst tbody th')).map(th => th.textContent)`)
	if len(worst) != 10 {
		t.Fatalf("worst scenarios: %v", worst)
	}
	for i, id := range worst {
		if id != sorted[i].ID {
			t.Errorf("worst scenario %d: %s, want %s", i+1, id, sorted[i].ID)
		}
	}
	if s := eval[string](b, `document.querySelector('svg.timeline .retry')?.textContent || ''`); s != "×2" {
		t.Errorf("a chunk delivered twice is marked %q, want ×2", s)
	}
	b.shot("08-scenarios")
}

// amountText formats v as the console's amount() does from 100 up: grouped, 2 decimals.
func amountText(v float64) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var out []byte
	for i := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, whole[i])
	}
	sign := ""
	if v < 0 {
		sign = "-"
	}
	return sign + string(out) + "." + frac
}
