package console_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pricefn/pricefn/console"
)

// TestConsoleScenarios: a batch whose results carry scenarios (wire
// format section 1c) gets the P&L histogram with its VaR and ES lines and
// the worst scenarios. A stand-in API serves such a batch to the console,
// with risk figures computed here by section 1c's rule; TestConsoleRiskRun
// follows one the engine prices.
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

// TestConsoleRiskRun follows a risk run priced by the engine
// (examples/scenarios.json): the chunk table and the timeline give each
// chunk of trades its rows and call the scenario chunks, which price no
// rows of their own, what they are (bb-ui: they read "1–0 (0)" and
// "trades 0–-1 (0)"); the VaR, ES and worst scenarios shown are the
// results document's.
func TestConsoleRiskRun(t *testing.T) {
	gw := startEngine(t, "", 0)
	example, err := os.ReadFile("../examples/scenarios.json")
	if err != nil {
		t.Fatal(err)
	}
	var batch map[string]any
	if err := json.Unmarshal(example, &batch); err != nil {
		t.Fatal(err)
	}
	batch["id"] = "risk-run-1"
	data, _ := json.Marshal(batch)
	resp, err := http.Post(gw+"/batches", "application/json", bytes.NewReader(data))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /batches: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	resp, err = http.Get(gw + "/batches/risk-run-1/results?wait=30s")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET results: %v %v", resp.Status, err)
	}
	var doc struct {
		Scenarios []struct {
			ID  string  `json:"id"`
			PnL float64 `json:"pnl"`
		} `json:"scenarios"`
		Risk map[string]map[string]float64 `json:"risk"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || len(doc.Scenarios) == 0 {
		t.Fatalf("results: %d scenarios, %v", len(doc.Scenarios), err)
	}
	resp, err = http.Get(gw + "/batches/risk-run-1")
	if err != nil {
		t.Fatal(err)
	}
	var status struct{ Trades, Chunks, ScenarioChunks int }
	json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if status.ScenarioChunks == 0 || status.Chunks <= status.ScenarioChunks {
		t.Fatalf("status: %+v, want chunks of trades and of scenarios", status)
	}

	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(gw+"/ui/batches/risk-run-1"))
	b.wait("the results", `document.querySelectorAll('#results-table tbody tr[data-id]').length > 0 && !document.querySelector('#scenarios').hidden`)
	b.do("open the chunk table", chromedp.Click(chromedp.CSS("#chunk-details summary")))
	b.wait("the chunk table", fmt.Sprintf(`document.querySelectorAll('#chunk-table tbody tr').length === %d`, status.Chunks))
	cells := eval[[]string](b, `Array.from(document.querySelectorAll('#chunk-table tbody tr')).map(tr => tr.cells[1].textContent)`)
	next, scenarioChunks := 1, 0
	for i, c := range cells {
		if c == "scenario revaluations" {
			scenarioChunks++
			continue
		}
		var lo, hi, n int
		if _, err := fmt.Sscanf(strings.ReplaceAll(c, ",", ""), "%d–%d (%d", &lo, &hi, &n); err != nil || lo != next || hi < lo || n != hi-lo+1 {
			t.Errorf("chunk %d: trades %q, want rows from %d", i, c, next)
			continue
		}
		next = hi + 1
	}
	if next != status.Trades+1 || scenarioChunks != status.ScenarioChunks {
		t.Errorf("chunk table %q: rows to %d and %d scenario chunks, want rows to %d and %d scenario chunks", cells, next-1, scenarioChunks, status.Trades, status.ScenarioChunks)
	}
	for _, tip := range eval[[]string](b, `Array.from(document.querySelectorAll('svg.timeline g.chunk > title')).map(t => t.textContent)`) {
		if strings.Contains(tip, "(0") || strings.Contains(tip, "–-") {
			t.Errorf("timeline: %q", tip)
		}
	}
	b.shot("09-risk-run")

	// The risk figures are the engine's, as num() shows them.
	dl := eval[map[string]string](b, `Object.fromEntries(Array.from(document.querySelectorAll('#risk dl > div')).map(d => [d.querySelector('dt').textContent, d.querySelector('dd b').textContent]))`)
	for kind, byConf := range doc.Risk {
		for conf, v := range byConf {
			c, _ := strconv.ParseFloat(conf, 64)
			label := fmt.Sprintf("%s %s%%", map[string]string{"var": "VaR", "es": "ES"}[kind], strconv.FormatFloat(c*100, 'f', -1, 64))
			if !agrees(dl[label], v) {
				t.Errorf("%s shown %q, the results give %v (shown: %v)", label, dl[label], v, dl)
			}
		}
	}
	sorted := slices.Clone(doc.Scenarios)
	slices.SortStableFunc(sorted, func(a, b struct {
		ID  string  `json:"id"`
		PnL float64 `json:"pnl"`
	}) int {
		return cmpFloat(a.PnL, b.PnL)
	})
	worst := eval[[]string](b, `Array.from(document.querySelectorAll('#worst tbody th')).map(th => th.textContent)`)
	for i, id := range worst {
		if id != sorted[i].ID {
			t.Errorf("worst scenario %d: %s, want %s", i+1, id, sorted[i].ID)
		}
	}
}

// TestConsoleScenariosWithoutRisk: a batch with scenarios and no "risk"
// (the engine's results then carry no risk member) gets its histogram,
// named for what it draws (bb-console: "Histogram of 3 scenario P&Ls
// with ", the lines it has not).
func TestConsoleScenariosWithoutRisk(t *testing.T) {
	const id = "norisk-1"
	status := fmt.Sprintf(`{"batchId":%q,"state":"completed","attempt":1,"trades":1,"priced":1,"failed":0,"missing":0,"pending":0,"chunks":2,"chunksDone":2,"chunksFailed":0,"duplicates":0,`+
		`"timings":{"submittedAt":"2026-11-25T09:00:00Z","completedAt":"2026-11-25T09:00:02Z","durationSeconds":2,"pricingSeconds":1.5}}`, id)
	results := fmt.Sprintf(`{"batchId":%q,"results":[{"id":"T1","npv":10}],"scenarios":[{"id":"up","npv":11,"pnl":1,"failed":0},{"id":"down","npv":8,"pnl":-2,"failed":0},{"id":"flat","npv":10,"pnl":0,"failed":0}]}`, id)
	api := newStandIn(t, id, status, results)
	go func() {
		select {
		case api.events <- "event: end\ndata: " + strings.Join(strings.Fields(status), "") + "\n\n":
		case <-api.gone:
		}
	}()
	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	b.wait("the histogram", `document.querySelectorAll('#histogram rect.bin').length > 0 && !document.querySelector('#scenarios').hidden`)
	if s := eval[string](b, `document.querySelector('#hist-title').textContent`); s != "Histogram of 3 scenario P&Ls" {
		t.Errorf("histogram titled %q, want \"Histogram of 3 scenario P&Ls\"", s)
	}
	if n := eval[int](b, `document.querySelectorAll('#histogram .risk-line').length`); n != 0 {
		t.Errorf("%d VaR or ES lines drawn without risk figures", n)
	}
	if s := eval[string](b, `Array.from(document.querySelectorAll('#worst tbody th')).map(th => th.textContent).join(',')`); s != "down,flat,up" {
		t.Errorf("worst scenarios %q, want down,flat,up", s)
	}
}
