package host_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/internal/logtest"
)

func testEvent(t *testing.T) event.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetType("test.ping")
	e.SetSource("/test")
	e.SetID("1")
	if err := e.SetData(cloudevents.ApplicationJSON, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSenderRetriesWhatABrokerRetries(t *testing.T) {
	var calls atomic.Int64
	codes := []int{503, 429, 404, 202}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1) - 1
		if r.Header.Get("ce-flavour") != "x" {
			t.Errorf("override extension missing: %v", r.Header)
		}
		w.WriteHeader(codes[n])
	}))
	defer srv.Close()
	s := host.NewSender(srv.URL, host.SenderOptions{Backoff: time.Microsecond, Overrides: map[string]any{"flavour": "x"}})
	e := testEvent(t)
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("send: %v", err)
	}
	if calls.Load() != 4 {
		t.Errorf("%d attempts, want 4", calls.Load())
	}
	if _, ok := e.Extensions()["flavour"]; ok {
		t.Error("Send modified the caller's event")
	}
}

func TestSenderDoesNotRetry400(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "bad event", http.StatusBadRequest)
	}))
	defer srv.Close()
	err := host.NewSender(srv.URL, host.SenderOptions{Backoff: time.Microsecond}).Send(context.Background(), testEvent(t))
	if host.Status(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "bad event") || calls.Load() != 1 {
		t.Fatalf("err %v (status %d) after %d calls, want one 400", err, host.Status(err), calls.Load())
	}
}

func TestSenderGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	err := host.NewSender(srv.URL, host.SenderOptions{Backoff: time.Microsecond, Retries: 2}).Send(context.Background(), testEvent(t))
	if host.Status(err) != http.StatusInternalServerError {
		t.Fatalf("err %v, want the last 500", err)
	}
}

func TestEvents(t *testing.T) {
	h := host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		switch e.Type() {
		case "test.ping":
			r := e.Clone()
			r.SetType("test.pong")
			return &r, nil
		case "test.bad":
			return nil, host.Errorf(http.StatusBadRequest, "test: bad input: %w", errors.New("no"))
		case "test.boom":
			return nil, errors.New("test: boom")
		}
		return nil, nil
	})
	srv := httptest.NewServer(host.Events(h, zerolog.Nop()))
	defer srv.Close()

	send := func(typ string, structured bool) (*http.Response, string) {
		e := testEvent(t)
		e.SetType(typ)
		ctx := context.Background()
		if structured {
			ctx = binding.WithForceStructured(ctx)
		}
		req, _ := cehttp.NewHTTPRequestFromEvent(ctx, srv.URL, e)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	for _, structured := range []bool{false, true} {
		resp, _ := send("test.ping", structured)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ce-type") != "test.pong" {
			t.Errorf("reply: %d %v", resp.StatusCode, resp.Header)
		}
	}
	if resp, body := send("test.other", false); resp.StatusCode != http.StatusAccepted || body != "" {
		t.Errorf("no reply: %d %q", resp.StatusCode, body)
	}
	if resp, body := send("test.bad", false); resp.StatusCode != http.StatusBadRequest || body != `{"error":"test: bad input: no"}`+"\n" {
		t.Errorf("bad: %d %q", resp.StatusCode, body)
	}
	if resp, _ := send("test.boom", false); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("boom: %d", resp.StatusCode)
	}
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("not a CloudEvent: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// TestStructuredJSONInAnyCase: a structured event whose datacontenttype
// names JSON in another case (media types are case-insensitive) has its
// data read as JSON, byte for byte, not refused as a string the SDK
// wanted.
func TestStructuredJSONInAnyCase(t *testing.T) {
	var got []byte
	var gotType string
	h := host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		got, gotType = append([]byte(nil), e.Data()...), e.DataContentType()
		return nil, nil
	})
	srv := httptest.NewServer(host.Events(h, zerolog.Nop()))
	defer srv.Close()
	data := `{"a": [1, 2.50, "x<y"],  "datacontenttype": "Application/JSON"}`
	for _, ct := range []string{"Application/JSON", "APPLICATION/JSON; Charset=UTF-8", "application/json"} {
		got, gotType = nil, ""
		env := `{"specversion": "1.0", "id": "1", "source": "t", "type": "test.x", "datacontenttype" : ` + strconv.Quote(ct) + `, "data": ` + data + `}`
		resp, err := http.Post(srv.URL, "application/cloudevents+json", strings.NewReader(env))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || strings.TrimSpace(string(got)) != data || !strings.HasPrefix(gotType, "application/json") {
			t.Errorf("%s: %d %s; data %s, type %q", ct, resp.StatusCode, body, got, gotType)
		}
	}
}

// TestStructuredEnvelopeSpacing: space around a structured event's
// data_base64 value (valid JSON) is no fault, and a batchid that is not a
// string, or an extension that is an object or a list, is refused by name
// rather than dropped.
func TestStructuredEnvelopeSpacing(t *testing.T) {
	var got []byte
	h := host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		got = append([]byte(nil), e.Data()...)
		return nil, nil
	})
	srv := httptest.NewServer(host.Events(h, zerolog.Nop()))
	defer srv.Close()
	data := `{"trades": []}`
	b64 := base64.StdEncoding.EncodeToString([]byte(data))
	head := `{"specversion": "1.0", "id": "1", "source": "t", "type": "test.x", `
	post := func(env string) (int, string) { t.Helper(); return postEvent(t, srv.URL, structuredCE, env) }
	for _, member := range []string{`"data_base64":"` + b64 + `"`, `"data_base64": "` + b64 + `"`, `"data_base64" :` + "\n\t " + `"` + b64 + `"`} {
		got = nil
		if code, body := post(head + member + `}`); code != http.StatusAccepted || strings.TrimSpace(string(got)) != data {
			t.Errorf("%s: %d %s, data %q", member, code, body, got)
		}
	}
	if code, body := post(head + `"data_base64": null}`); code != http.StatusBadRequest || !strings.Contains(body, `\"data_base64\" must be a string, got null`) {
		t.Errorf("data_base64 null: %d %s", code, body)
	}
	for _, v := range []string{"5", "true", `{"a": 1}`} {
		if code, body := post(head + `"batchid": ` + v + `, "data": {}}`); code != http.StatusBadRequest || !strings.Contains(body, `\"batchid\" must be a string`) {
			t.Errorf("batchid %s: %d %s", v, code, body)
		}
	}
	// A time is named: the SDK said "cannot convert ... to time.Time".
	if code, body := post(head + `"time": "2020-13-01T00:00:00Z", "data": {}}`); code != http.StatusBadRequest || !strings.Contains(body, `\"time\" \"2020-13-01T00:00:00Z\" must be an RFC 3339 timestamp`) {
		t.Errorf("bad time: %d %s", code, body)
	}
	// An extension is no object or list: the SDK's refusal printed the
	// value as a Go map.
	for v, kind := range map[string]string{`{"a": 1}`: "an object", `[1]`: "a list"} {
		if code, body := post(head + `"team": ` + v + `, "data": {}}`); code != http.StatusBadRequest || !strings.Contains(body, `attribute \"team\" must be a string, a number or a boolean, got `+kind) {
			t.Errorf("extension %s: %d %s", v, code, body)
		}
	}
	// Attribute names are lower case: the SDK took "BatchId" for batchid.
	for _, k := range []string{"BatchId", "batchID", "Id"} {
		if code, body := post(head + `"` + k + `": "x", "data": {}}`); code != http.StatusBadRequest || !strings.Contains(body, `attribute \"`+k+`\": attribute names are lower-case`) {
			t.Errorf("attribute %s: %d %s", k, code, body)
		}
	}
}

// TestStructuredAttributeGivenTwice: a structured event whose envelope
// gives a member twice is refused by name, as a binary-mode header given
// twice is; the SDK took the last, so a second "data" replaced the batch
// the first carried unseen. A key repeated inside the data, or a key's
// text inside a string, is the data's own affair.
func TestStructuredAttributeGivenTwice(t *testing.T) {
	handled := 0
	var got []byte
	h := host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		handled++
		got = append([]byte(nil), e.Data()...)
		return nil, nil
	})
	srv := httptest.NewServer(host.Events(h, zerolog.Nop()))
	defer srv.Close()
	post := func(env string) (int, string) { t.Helper(); return postEvent(t, srv.URL, structuredCE, env) }
	head := `{"specversion": "1.0", "id": "1", "source": "t", "type": "test.x", "datacontenttype": "application/json", `
	data := `{"trades": [{"id": "a", "id": "b"}], "note": "\"batchid\": \"x\"", "batchid": {"data": 1}}`
	if code, body := post(head + `"batchid": "B1", "data": ` + data + `}`); code != http.StatusAccepted || strings.TrimSpace(string(got)) != data {
		t.Fatalf("each member once: %d %s, data %s", code, body, got)
	}
	for _, tc := range []struct{ name, env, key string }{
		{"data", head + `"data": ` + data + `, "data": {"trades": []}}`, "data"},
		{"batchid", head + `"batchid": "B1", "data": {}, "batchid": "B2"}`, "batchid"},
		{"escaped key", head + `"batchid": "B1", "data": {}, "\u0062atchid" : "B2"}`, "batchid"},
		{"type", head + `"data": {}, "type": "test.y"}`, "type"},
	} {
		if code, body := post(tc.env); code != http.StatusBadRequest || !strings.Contains(body, `gives \"`+tc.key+`\" more than once`) {
			t.Errorf("%s twice: %d %s", tc.name, code, body)
		}
	}
	if handled != 1 {
		t.Errorf("handled %d events, want the one with each member once", handled)
	}
}

// TestStructuredDataAndDataBase64: a structured event with both "data"
// and "data_base64" is refused: the SDK took whichever came last, so one
// batch was priced and the other dropped unseen.
func TestStructuredDataAndDataBase64(t *testing.T) {
	url, handled := countingEvents(t)
	head := `{"specversion": "1.0", "id": "1", "source": "t", "type": "test.x", "datacontenttype": "application/json", `
	b64 := `"data_base64": "` + base64.StdEncoding.EncodeToString([]byte(`{"trades": []}`)) + `"`
	for _, env := range []string{head + `"data": {"trades": [1]}, ` + b64 + `}`, head + b64 + `, "data": {"trades": [1]}}`} {
		if code, body := postEvent(t, url, structuredCE, env); code != http.StatusBadRequest || !strings.Contains(body, `gives both \"data\" and \"data_base64\"`) {
			t.Errorf("%s: %d %s", env, code, body)
		}
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("handled %d events, want none", n)
	}
}

// TestURIAttributesNamed: a source that is no URI-reference, or a
// dataschema that is no URI, is refused naming the attribute, in either
// mode; the SDK's parser said "cannot parse uri ref:" or "parse \"%zz\":
// invalid URL escape" alone.
func TestURIAttributesNamed(t *testing.T) {
	url, handled := countingEvents(t)
	post := func(header map[string]string, body string) (int, string) {
		t.Helper()
		hdr := http.Header{}
		for k, v := range header {
			hdr.Set(k, v)
		}
		return postEvent(t, url, hdr, body)
	}
	binary := func(k, v string) map[string]string {
		h := map[string]string{"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": "1", "Ce-Source": "t", "Ce-Type": "test.x"}
		h[k] = v
		return h
	}
	structured := map[string]string{"Content-Type": "application/cloudevents+json"}
	env := func(member string) string {
		return `{"specversion": "1.0", "id": "1", "type": "test.x", "data": {}, ` + member + `}`
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
		body   string
		want   string
	}{
		{"binary source", binary("Ce-Source", "%zz"), `{}`, `the CloudEvent's source (ce-source header) \"%zz\" is no URI`},
		{"binary dataschema", binary("Ce-Dataschema", "::::"), `{}`, `the CloudEvent's dataschema (ce-dataschema header) \"::::\" is no URI`},
		{"structured empty source", structured, env(`"source": ""`), `the CloudEvent's source (\"source\" attribute) must be a non-empty URI-reference`},
		{"structured source", structured, env(`"source": "%zz"`), `the CloudEvent's source (\"source\" attribute) \"%zz\" is no URI`},
	} {
		if code, body := post(tc.header, tc.body); code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want 400 and %s", tc.name, code, body, tc.want)
		}
	}
	if code, body := post(binary("Ce-Dataschema", "https://example.com/s"), `{}`); code != http.StatusAccepted || handled.Load() != 1 {
		t.Errorf("good event: %d %s, handled %d", code, body, handled.Load())
	}
}

// TestStructuredDataOfAnotherType: a structured event whose
// datacontenttype is not JSON but whose data is JSON other than a string
// is refused saying so; the SDK's refusal quoted its parser ("expected a
// string: ReadString: expects \" or n, but found {").
func TestStructuredDataOfAnotherType(t *testing.T) {
	url, _ := countingEvents(t)
	for data, kind := range map[string]string{`{"trades": []}`: "an object", `[1]`: "a list", `5`: "a number", `true`: "a boolean"} {
		env := `{"specversion": "1.0", "id": "1", "source": "t", "type": "test.x", "datacontenttype": "applicaton/json", "data": ` + data + `}`
		want := `datacontenttype \"applicaton/json\" is not JSON, so its \"data\" must be a string, got ` + kind + `: want datacontenttype application/json`
		if code, body := postEvent(t, url, structuredCE, env); code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("data %s: %d %s", data, code, body)
		}
	}
}

// TestBatchedModeRefused: a batch of CloudEvents in one request
// (application/cloudevents-batch+json) is a 415 saying to send them one by
// one; it was a 400 quoting the envelope parser ("cannot unmarshal array
// into Go value of type map[string]json.RawMessage").
func TestBatchedModeRefused(t *testing.T) {
	url, _ := countingEvents(t)
	env := `[{"specversion": "1.0", "id": "1", "source": "t", "type": "test.x", "data": {}}]`
	code, body := postEvent(t, url, http.Header{"Content-Type": {"application/cloudevents-batch+json; charset=utf-8"}}, env)
	if code != http.StatusUnsupportedMediaType || !strings.Contains(body, "batched CloudEvents (application/cloudevents-batch+json) are not taken: send each event on its own") {
		t.Errorf("%d %s", code, body)
	}
}

// TestStructuredNotAnObject: a structured body that is no JSON object is
// refused saying what it is, or where its JSON breaks; it quoted
// encoding/json ("cannot unmarshal array into Go value of type
// map[string]json.RawMessage").
func TestStructuredNotAnObject(t *testing.T) {
	url, _ := countingEvents(t)
	for body, want := range map[string]string{
		`[{"specversion": "1.0"}]`: "the structured CloudEvent is not a JSON object: got JSON array",
		`"x"`:                      "the structured CloudEvent is not a JSON object: got JSON string",
		`{"specversion": "1.0",`:   "the structured CloudEvent is not a JSON object: malformed JSON at byte 22: unexpected end of JSON input",
	} {
		if code, b := postEvent(t, url, structuredCE, body); code != http.StatusBadRequest || !strings.Contains(b, want) {
			t.Errorf("%s: %d %s, want %s", body, code, b, want)
		}
	}
}

// TestRepeatedAttributeHeader: a binary-mode event with a ce-* header
// given twice, or naming no attribute, is refused by name; the SDK took
// the first value.
func TestRepeatedAttributeHeader(t *testing.T) {
	url, handled := countingEvents(t)
	post := func(repeat string) (int, string) {
		t.Helper()
		hdr := http.Header{}
		for k, v := range map[string]string{"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": "1", "Ce-Source": "t", "Ce-Type": "test.x", "Ce-Batchid": "B1"} {
			hdr.Set(k, v)
		}
		if repeat != "" {
			hdr.Add(repeat, "B2")
		}
		return postEvent(t, url, hdr, `{}`)
	}
	if code, body := post(""); code != http.StatusAccepted || handled.Load() != 1 {
		t.Fatalf("one value each: %d %s, handled %d", code, body, handled.Load())
	}
	for _, k := range []string{"Ce-Batchid", "Ce-Id", "Ce-Type"} {
		if code, body := post(k); code != http.StatusBadRequest || !strings.Contains(body, "header "+strings.ToLower(k)+" is given 2 times") {
			t.Errorf("%s twice: %d %s", k, code, body)
		}
	}
	// An attribute name of other characters is refused by name: the SDK
	// said "bad key, CloudEvents attribute names MUST consist of ...".
	for _, k := range []string{"Ce-Bad_ext", "Ce-Team.a"} {
		if code, body := post(k); code != http.StatusBadRequest || !strings.Contains(body, "header "+strings.ToLower(k)+": CloudEvent attribute names are letters and digits") {
			t.Errorf("%s: %d %s", k, code, body)
		}
	}
	if handled.Load() != 1 {
		t.Errorf("handled %d events, want the one with single values", handled.Load())
	}
}

// TestServeFinishesInFlightRequests cancels the serving context while a
// request is in progress: readiness turns 503 and the request completes.
func TestServeFinishesInFlightRequests(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	// net/http runs the OnShutdown hooks each in a goroutine of its own:
	// the hook may run after Serve returns.
	shutdownCalled := make(chan struct{})
	reg := prometheus.NewRegistry()
	var logs logtest.Buffer
	s := host.New(host.Options{
		Name: "test", Log: zerolog.New(&logs), ShutdownTimeout: 20 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			io.WriteString(w, "done")
		}),
		Gatherer: reg, Registerer: reg, StartedAt: time.Now(),
		OnShutdown: func() { close(shutdownCalled) },
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if path == "/metrics" && !strings.Contains(string(body), `pricefn_startup_seconds{server="test"}`) {
			t.Errorf("metrics lack the startup gauge:\n%s", body)
		}
	}
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/work")
		if err != nil {
			got <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(body)
	}()
	<-entered
	cancel()
	readyz := s.Handler()
	for {
		rec := httptest.NewRecorder()
		readyz.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code == http.StatusServiceUnavailable {
			// An error answer, JSON as every other (it was text/plain).
			var e host.ErrorBody
			if rec.Header().Get("Content-Type") != "application/json" || json.Unmarshal(rec.Body.Bytes(), &e) != nil || !strings.Contains(e.Error, "draining") {
				t.Errorf("/readyz while draining: %s %q, want a JSON error saying it drains", rec.Header().Get("Content-Type"), rec.Body)
			}
			break
		}
		// Serve flips readiness right after ctx ends; wait for it on the
		// served channel rather than a timer.
		select {
		case err := <-served:
			t.Fatalf("Serve returned %v with a request in flight", err)
		default:
		}
	}
	close(release)
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request: %q", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	select {
	case <-shutdownCalled:
	case <-time.After(5 * time.Second):
		t.Error("OnShutdown not called")
	}
	// Its time in seconds, named so, as every duration the logs give
	// (zerolog's Dur wrote milliseconds with no unit: "timeout":20000).
	if !strings.Contains(logs.String(), `"timeoutSeconds":20,"message":"shutting down: finishing in-flight requests"`) {
		t.Errorf("shutdown log lacks its timeout in seconds:\n%s", logs.String())
	}
}

// TestServeOwnRoutesWrongMethod: another method than GET on /healthz,
// /readyz and /metrics is a 405 with Allow, as on every other route; it
// went to the function's handler, whose 404 said there was no such route.
func TestServeOwnRoutesWrongMethod(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := host.New(host.Options{
		Name:     "test",
		Handler:  host.NewMux(),
		Gatherer: reg, Registerer: reg,
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		var e host.ErrorBody
		derr := json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" || derr != nil || !strings.Contains(e.Error, "method not allowed") {
			t.Errorf("POST %s: %d Allow %q %q (%v), want a JSON 405 with Allow: GET, HEAD", path, resp.StatusCode, resp.Header.Get("Allow"), e.Error, derr)
		}
		if resp, err := http.Head(srv.URL + path); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: %v %v, want 200", path, resp, err)
		}
	}
}

// countingEvents serves host.Events over a handler that takes every event
// and counts them.
func countingEvents(t *testing.T) (url string, handled *atomic.Int64) {
	t.Helper()
	handled = new(atomic.Int64)
	srv := httptest.NewServer(host.Events(host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		handled.Add(1)
		return nil, nil
	}), zerolog.Nop()))
	t.Cleanup(srv.Close)
	return srv.URL, handled
}

// structuredCE is the header of a structured-mode CloudEvent.
var structuredCE = http.Header{"Content-Type": {"application/cloudevents+json"}}

// postEvent posts body to url with header, and returns the answer's
// status and body.
func postEvent(t *testing.T, url string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}
