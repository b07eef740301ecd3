package launch_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/functions/ingress"
)

// TestDevBootstrapsACurveOncePerBatch: a batch of 250 FRAs on a
// bootstrapped curve, three chunks of the engine's 100 trades, has the
// curve bootstrapped once, by ingress as it checks the batch, its chunks
// taking it as built (pricefn_pricer_curve_builds_total, _reuses_total:
// the engine's ingress and pricer share their curves, the batch's
// whitespace apart); each chunk bootstrapped it again.
func TestDevBootstrapsACurveOncePerBatch(t *testing.T) {
	gw := startEngine(t)
	quotes := make([]string, 30)
	for i := range quotes {
		quotes[i] = fmt.Sprintf(`{"type": "swap", "tenor": "%dY", "rate": %g}`, i+1, 0.03+0.0002*float64(i))
	}
	trades := make([]string, 250)
	for i := range trades {
		trades[i] = fmt.Sprintf(`{"id": "F%d", "type": "fra", "curve": "B", "notional": %d, "rate": 0.03, "start": "2028-05-25", "end": "2028-11-25", "position": "long"}`, i, 1000+i)
	}
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"B": {"bootstrap": [` + strings.Join(quotes, ", ") +
		`]}}}, "trades": [` + strings.Join(trades, ", ") + `]}`
	resp, err := http.Post(gw.URL+"/batches", "application/json", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var rc ingress.Receipt
	json.NewDecoder(resp.Body).Decode(&rc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || rc.Chunks != 3 {
		t.Fatalf("submit: %d %+v, want 202 and 3 chunks", resp.StatusCode, rc)
	}
	if code, body := getBody(t, gw.URL+rc.ResultsURL+"?wait=1m"); code != http.StatusOK || strings.Count(body, `"npv":`) != 250 {
		t.Fatalf("results: %d %.300s", code, body)
	}
	_, body := getBody(t, gw.URL+"/metrics")
	for _, want := range []string{"pricefn_pricer_curve_builds_total 1", "pricefn_pricer_curve_reuses_total 3"} {
		if !strings.Contains(body, "\n"+want+"\n") {
			name, _, _ := strings.Cut(want, " ")
			i := strings.Index(body, "\n"+name+" ")
			t.Errorf("/metrics: want %q, got %.60q", want, body[max(i, 0):])
		}
	}
}
