package monitoring_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// dashboard is what the tests read of a Grafana dashboard JSON model.
type dashboard struct {
	file       string
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Tags       []string `json:"tags"`
	Panels     []panel  `json:"panels"`
	Templating struct {
		List []struct {
			Name     string          `json:"name"`
			Type     string          `json:"type"`
			Query    json.RawMessage `json:"query"`
			AllValue string          `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Datasource *datasource `json:"datasource"`
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
	} `json:"targets"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// query is one PromQL expression of a dashboard panel.
type query struct {
	where string // "file: panel title (refId)"
	expr  string
}

// readDashboards reads every dashboard-*.json of this directory.
func readDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob("dashboard-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	var out []dashboard
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		d.file = f
		out = append(out, d)
	}
	return out
}

// queries returns every expression of every panel, in order.
func queries(ds []dashboard) []query {
	var out []query
	for _, d := range ds {
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				out = append(out, query{fmt.Sprintf("%s: %q (%s)", d.file, p.Title, tg.RefID), tg.Expr})
			}
		}
	}
	return out
}

// The dashboards' variables and what the tests put in their place, as
// Grafana would for "All" over a range of a few minutes.
var variables = strings.NewReplacer(
	"$__rate_interval", "1m",
	"$__interval", "5s",
	"$__range", "5m",
	"$namespace", ".*",
)

// knativeOnly are the series only a Knative cluster has: an expression
// that reads them may come back empty under pricefn dev (it must still
// parse). The names of Knative 1.15 (OpenCensus), and one of 1.19+
// (OpenTelemetry); the scaling dashboard's note lists the others.
var knativeOnly = []string{
	"autoscaler_desired_pods", "autoscaler_actual_pods", "autoscaler_panic_mode",
	"activator_request_concurrency", "kn_revision_pods_desired",
}

// The parts of an expression that name no metric: label matchers,
// strings, ranges, grouping clauses; and function names (an identifier
// before "(").
var (
	notMetrics = regexp.MustCompile(`\{[^}]*\}|"[^"]*"|\[[^\]]*\]|\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier = regexp.MustCompile(`\b[a-zA-Z_:][a-zA-Z0-9_:]*\b\s*\(?`)
	keywords   = []string{"or", "and", "unless", "bool", "offset"}
)

// metricNames returns the metric names expr reads.
func metricNames(expr string) []string {
	var out []string
	for _, id := range identifier.FindAllString(notMetrics.ReplaceAllString(expr, " "), -1) {
		if id = strings.TrimSpace(id); strings.HasSuffix(id, "(") || slices.Contains(keywords, id) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// isKnative reports whether expr reads Knative's series only.
func isKnative(expr string) bool {
	names := metricNames(expr)
	for _, n := range names {
		if !slices.Contains(knativeOnly, n) {
			return false
		}
	}
	return len(names) > 0
}

// TestDashboardsWellFormed checks what Grafana needs of each dashboard
// without a Prometheus: unique uids and panel ids, the datasource
// variable used by every panel and query, a layout within 24 columns,
// and expressions that name only variables the tests know.
func TestDashboardsWellFormed(t *testing.T) {
	ds := readDashboards(t)
	uids := map[string]string{}
	for _, d := range ds {
		if d.UID == "" || d.Title == "" || !slices.Contains(d.Tags, "pricefn") {
			t.Errorf("%s: uid %q, title %q, tags %v: want all three, tagged pricefn", d.file, d.UID, d.Title, d.Tags)
		}
		if prev, ok := uids[d.UID]; ok {
			t.Errorf("%s: uid %q already used by %s", d.file, d.UID, prev)
		}
		uids[d.UID] = d.file
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v.Type
			if v.Name == "datasource" && string(v.Query) != `"prometheus"` {
				t.Errorf("%s: datasource variable of %s, want prometheus", d.file, v.Query)
			}
			if v.Name == "namespace" && v.AllValue != ".*" {
				t.Errorf("%s: namespace variable's All is %q, want .* (series without a namespace label, pricefn dev's, match it)", d.file, v.AllValue)
			}
		}
		if vars["datasource"] != "datasource" || vars["namespace"] != "query" {
			t.Errorf("%s: variables %v, want datasource (a data source variable) and namespace", d.file, vars)
		}
		ids := map[int]bool{}
		for _, p := range d.Panels {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d twice", d.file, p.ID)
			}
			ids[p.ID] = true
			if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
				t.Errorf("%s: panel %q at %+v: outside the 24 columns", d.file, p.Title, p.GridPos)
			}
			if p.Type == "row" || p.Type == "text" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
				t.Errorf("%s: panel %q: datasource %+v and %d queries, want ${datasource} and at least one", d.file, p.Title, p.Datasource, len(p.Targets))
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" || tg.Expr == "" || refs[tg.RefID] {
					t.Errorf("%s: panel %q query %s: datasource %+v, expr %q: want ${datasource}, an expression and a unique refId", d.file, p.Title, tg.RefID, tg.Datasource, tg.Expr)
				}
				refs[tg.RefID] = true
				if rest := variables.Replace(tg.Expr); strings.Contains(rest, "$") {
					t.Errorf("%s: panel %q query %s: unknown variable in %s", d.file, p.Title, tg.RefID, tg.Expr)
				}
				for _, n := range metricNames(tg.Expr) {
					if !strings.HasPrefix(n, "pricefn_") && !strings.HasPrefix(n, "go_") && !strings.HasPrefix(n, "process_") && !slices.Contains(knativeOnly, n) {
						t.Errorf("%s: panel %q query %s reads %s: neither pricefn's, Go's nor a listed Knative series", d.file, p.Title, tg.RefID, n)
					}
				}
			}
		}
	}
	var names []string
	for _, q := range queries(ds) {
		if isKnative(q.expr) {
			names = append(names, metricNames(q.expr)...)
		}
	}
	sort.Strings(names)
	for _, want := range []string{"autoscaler_desired_pods", "autoscaler_actual_pods", "autoscaler_panic_mode", "activator_request_concurrency", "kn_revision_pods_desired"} {
		if _, found := slices.BinarySearch(names, want); !found {
			t.Errorf("no panel shows Knative's %s", want)
		}
	}
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`histogram_quantile(0.95, sum by (le, type) (rate(pricefn_x_bucket{namespace=~"$namespace"}[$__rate_interval])))`, []string{"pricefn_x_bucket"}},
		{`sum by (kind, reason) (rate(pricefn_a_total{code=~"4xx|5xx"}[1m])) or vector(0)`, []string{"pricefn_a_total"}},
		{`sum(rate(a[5m])) / scalar(sum without (pod) (b)) > bool 0`, []string{"a", "b"}},
		{`max by (function) (max_over_time(pricefn_requests_in_flight[1m])) and on (function) up`, []string{"pricefn_requests_in_flight", "up"}},
	} {
		if got := metricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%s) = %v, want %v", c.expr, got, c.want)
		}
	}
}

// TestDeadLettersPanel: the Dead letters panel counts dead letters, not
// the chunks a deadline ended (outcome expired), which no broker gave up
// on: a batch past its deadline showed there as dead letters.
func TestDeadLettersPanel(t *testing.T) {
	found := false
	for _, q := range queries(readDashboards(t)) {
		if !strings.Contains(q.where, `: "Dead letters" (`) {
			continue
		}
		found = true
		if strings.Contains(q.expr, "expired") {
			t.Errorf("%s: %s counts the chunks a deadline ended", q.where, q.expr)
		}
	}
	if !found {
		t.Fatal("no Dead letters panel")
	}
}
