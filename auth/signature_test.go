package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/metricstest"
)

const (
	key1 = "key-one-0123456789-0123456789-0123456789"
	key2 = "key-two-0123456789-0123456789-0123456789"
)

func sample(t *testing.T) event.Event {
	t.Helper()
	e, err := events.New(events.TypeChunkPriced, "/pricer", "b1/chunk/0/priced", "b1", map[string]int{"index": 0})
	if err != nil {
		t.Fatal(err)
	}
	e.SetExtension(events.ExtTenant, "alpha")
	return e
}

func TestSignVerify(t *testing.T) {
	ks := auth.NewKeys(key1)
	e := sample(t)
	ks.Sign(&e)
	if err := ks.Verify(&e); err != nil {
		t.Fatalf("signed event: %v", err)
	}
	// Extensions a broker adds on the way do not matter.
	dl := e.Clone()
	dl.SetExtension("knativeerrorcode", "500")
	if err := ks.Verify(&dl); err != nil {
		t.Errorf("dead letter of a signed event: %v", err)
	}
	for name, change := range map[string]func(*event.Event){
		"type":    func(e *event.Event) { e.SetType(events.TypeBatchAccepted) },
		"source":  func(e *event.Event) { e.SetSource("/evil") },
		"id":      func(e *event.Event) { e.SetID("other") },
		"batchid": func(e *event.Event) { e.SetExtension(events.ExtBatchID, "b2") },
		"tenant":  func(e *event.Event) { e.SetExtension(events.ExtTenant, "beta") },
		"data":    func(e *event.Event) { e.SetData(cloudevents.ApplicationJSON, map[string]int{"index": 1}) },
	} {
		c := e.Clone()
		change(&c)
		if err := ks.Verify(&c); !errors.Is(err, auth.ErrBadSignature) {
			t.Errorf("changed %s: %v, want ErrBadSignature", name, err)
		}
	}
	u := sample(t)
	if err := ks.Verify(&u); !errors.Is(err, auth.ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
}

// Rotation: with two keys, events signed with either verify; the first
// signs.
func TestKeyRotation(t *testing.T) {
	old, both, next := auth.NewKeys(key1), auth.NewKeys(key2, key1), auth.NewKeys(key2)
	e := sample(t)
	old.Sign(&e)
	if err := both.Verify(&e); err != nil {
		t.Errorf("old key during rotation: %v", err)
	}
	f := sample(t)
	both.Sign(&f)
	if err := next.Verify(&f); err != nil {
		t.Errorf("new key: %v", err)
	}
	if err := next.Verify(&e); err == nil {
		t.Error("the old key still verifies after rotation")
	}
}

// TestKeysReload: a process follows its event key file as it changes (a
// mounted Secret), through a rotation and a revocation. The keys were read
// once: a revoked key stayed good in every running process, and a process
// started after the rotation's second step signed with a key the running
// ones refused. A file that no longer reads keeps the keys in force.
func TestKeysReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "event-key")
	writeTokens(t, path, key1+"\n")
	var reported []error
	ks, err := auth.LoadKeys(path, time.Nanosecond, func(err error) { reported = append(reported, err) })
	if err != nil {
		t.Fatal(err)
	}
	signed := func(k *auth.Keys) event.Event {
		e := sample(t)
		k.Sign(&e)
		return e
	}
	byOld, byNew := signed(auth.NewKeys(key1)), signed(auth.NewKeys(key2))
	check := func(step string, want map[string]bool, signsWith *auth.Keys) {
		t.Helper()
		for name, e := range map[string]event.Event{"old": byOld, "new": byNew} {
			if err := ks.Verify(&e); (err == nil) != want[name] {
				t.Errorf("%s: the %s key's event: %v, want good %v", step, name, err, want[name])
			}
		}
		e := signed(ks)
		if err := signsWith.Verify(&e); err != nil {
			t.Errorf("%s: not signed with the expected key: %v", step, err)
		}
	}
	check("at start", map[string]bool{"old": true}, auth.NewKeys(key1))
	writeTokens(t, path, key1+"\n"+key2+"\n")
	check("new key added second", map[string]bool{"old": true, "new": true}, auth.NewKeys(key1))
	writeTokens(t, path, key2+"\n"+key1+"\n")
	check("new key first", map[string]bool{"old": true, "new": true}, auth.NewKeys(key2))
	writeTokens(t, path, key2+"\n")
	check("old key revoked", map[string]bool{"new": true}, auth.NewKeys(key2))
	writeTokens(t, path, "short\n")
	check("a broken file", map[string]bool{"new": true}, auth.NewKeys(key2))
	if len(reported) == 0 {
		t.Error("the broken file was not reported")
	}
	if _, err := auth.LoadKeys(filepath.Join(t.TempDir(), "none"), 0, nil); err == nil {
		t.Error("no error for a missing file")
	}
}

func TestParseKeys(t *testing.T) {
	ks, err := auth.ParseKeys([]byte("# signing key\n" + key1 + "\n\n" + key2 + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := sample(t)
	auth.NewKeys(key2).Sign(&e)
	if err := ks.Verify(&e); err != nil {
		t.Errorf("second key: %v", err)
	}
	// A '#' within a key is the key's; one after a space starts a
	// comment (it cut the key there: shorter, or refused).
	hashed := strings.Repeat("k", 20) + "#" + strings.Repeat("k", 20)
	ks, err = auth.ParseKeys([]byte(hashed + "  # the signing key\n"))
	if err != nil {
		t.Fatalf("a key with a '#': %v", err)
	}
	e = sample(t)
	auth.NewKeys(hashed).Sign(&e)
	if err := ks.Verify(&e); err != nil {
		t.Errorf("a key with a '#', signed with the whole key: %v", err)
	}
	for file, want := range map[string]string{"": "no key", "short\n": "shorter than 32", key1 + "\n" + key2 + "\n" + key1 + "x\n": "at most 2"} {
		if _, err := auth.ParseKeys([]byte(file)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", file, err, want)
		}
	}
}

// The guard refuses events that are not authentic with a 403, signs
// replies, and takes batch.submitted only signed with a key of the
// tenant's upstream systems.
func TestGuardWrap(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := auth.NewGuard(auth.NewKeys(key1), nil, zerolog.Nop(), reg)
	// Every refusal's series is there at 0 before the first refusal.
	for _, kr := range [][2]string{{"event", "unsigned"}, {"event", "bad_signature"}, {"request", "no_token"}, {"request", "bad_token"}, {"request", "two_tokens"}, {"request", "scope"}, {"request", "revoked"}} {
		if v, ok, err := metricstest.Value(reg, "pricefn_auth_rejected_total", map[string]string{"kind": kr[0], "reason": kr[1]}); !ok || v != 0 || err != nil {
			t.Errorf("pricefn_auth_rejected_total%v before any refusal: %v %v %v, want 0", kr, v, ok, err)
		}
	}
	var seen string
	h := g.Wrap(host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		seen = host.TenantOf(ctx)
		r := e.Clone()
		r.SetID("reply")
		return &r, nil
	}))
	e := sample(t)
	if _, err := h.Handle(context.Background(), e); host.Status(err) != 403 {
		t.Errorf("unsigned: %v, want 403", err)
	}
	if v, _, _ := metricstest.Value(reg, "pricefn_auth_rejected_total", map[string]string{"kind": "event", "reason": "unsigned"}); v != 1 {
		t.Errorf("unsigned events counted %v, want 1", v)
	}
	auth.NewKeys(key1).Sign(&e)
	reply, err := h.Handle(context.Background(), e)
	if err != nil || seen != "alpha" {
		t.Fatalf("signed: %v, tenant %q", err, seen)
	}
	if err := auth.NewKeys(key1).Verify(reply); err != nil {
		t.Errorf("reply not signed: %v", err)
	}
	sub, _ := events.New(events.TypeBatchSubmitted, "/upstream", "s1", "", map[string]int{})
	sub.SetExtension(events.ExtTenant, "alpha")
	auth.NewKeys(key1).Sign(&sub)
	if _, err := h.Handle(context.Background(), sub); host.Status(err) != 403 {
		t.Errorf("batch.submitted signed with the pipeline's key: %v, want 403 (upstream systems have keys of their own)", err)
	}
}

// A batch.submitted from an upstream system is taken when signed with a
// key (a token with the sign scope) issued to that system for the tenant
// the event names, and refused for any other tenant.
func TestGuardUpstreamSubmission(t *testing.T) {
	path := t.TempDir() + "/tokens"
	writeTokens(t, path, "upstream-key-0123456789 alpha sign\nbeta-0123456789abcdef beta\n")
	tokens, err := auth.LoadTokens(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := auth.NewGuard(auth.NewKeys(key1), tokens, zerolog.Nop(), nil)
	h := g.Wrap(host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) { return nil, nil }))
	sub, _ := events.New(events.TypeBatchSubmitted, "/upstream", "s1", "", map[string]int{})
	sub.SetExtension(events.ExtTenant, "alpha")
	auth.SignWith("upstream-key-0123456789", &sub)
	if _, err := h.Handle(context.Background(), sub); err != nil {
		t.Errorf("upstream system's submission: %v", err)
	}
	other := sub.Clone()
	other.SetExtension(events.ExtTenant, "beta")
	auth.SignWith("upstream-key-0123456789", &other)
	if _, err := h.Handle(context.Background(), other); host.Status(err) != 403 {
		t.Errorf("alpha's upstream key for beta's batch: %v, want 403", err)
	}
}

// TestGuardSubmissionWithoutSigningKeys: with no key of sign scope to
// check a batch.submitted against (no tokens file, or none of the
// tenant's), an unsigned one is refused as unsigned and a signed one
// saying why it cannot match. Both were "event signature does not
// match", which sent an operator looking for a fault in the signature.
func TestGuardSubmissionWithoutSigningKeys(t *testing.T) {
	path := t.TempDir() + "/tokens"
	writeTokens(t, path, "beta-0123456789abcdef beta\n")
	tokens, err := auth.LoadTokens(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		tokens *auth.Tokens
		want   string
	}{
		{"no tokens file", nil, "there is no tokens file (--tokens-file), so no key of sign scope to check it with"},
		{"no sign token", tokens, `auth: event signature does not match`},
	} {
		h := auth.NewGuard(auth.NewKeys(key1), c.tokens, zerolog.Nop(), nil).Wrap(host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) { return nil, nil }))
		sub, _ := events.New(events.TypeBatchSubmitted, "/upstream", "s1", "", map[string]int{})
		sub.SetExtension(events.ExtTenant, "beta")
		if _, err := h.Handle(context.Background(), sub); host.Status(err) != 403 || !errors.Is(err, auth.ErrUnsigned) {
			t.Errorf("%s, unsigned: %v, want a 403 saying it is not signed", c.name, err)
		}
		auth.SignWith("upstream-key-0123456789", &sub)
		if _, err := h.Handle(context.Background(), sub); host.Status(err) != 403 || !errors.Is(err, auth.ErrBadSignature) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s, signed: %v, want a 403 saying %q", c.name, err, c.want)
		}
	}
}

// TestGuardSignatureTellsNoTenantApart: an event signed with a wrong key is
// refused in the same words whatever tenant it names, one with a key of
// sign scope, one without, one that does not exist: "tenant "beta" has no
// token of sign scope" told anyone who could send an event which tenants
// exist and which of them take signed events.
func TestGuardSignatureTellsNoTenantApart(t *testing.T) {
	path := t.TempDir() + "/tokens"
	writeTokens(t, path, "upstream-key-0123456789 alpha sign\nbeta-0123456789abcdef beta\n")
	tokens, err := auth.LoadTokens(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := auth.NewGuard(auth.NewKeys(key1), tokens, zerolog.Nop(), nil).Wrap(host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) { return nil, nil }))
	var first string
	for _, tenant := range []string{"alpha", "beta", "gamma"} {
		sub, _ := events.New(events.TypeBatchSubmitted, "/upstream", "s1", "", map[string]int{})
		sub.SetExtension(events.ExtTenant, tenant)
		auth.SignWith("a-guess-0123456789abcdef", &sub)
		_, err := h.Handle(context.Background(), sub)
		if host.Status(err) != 403 || !errors.Is(err, auth.ErrBadSignature) {
			t.Fatalf("%s: %v, want a 403 for a bad signature", tenant, err)
		}
		if first == "" {
			first = err.Error()
		} else if err.Error() != first {
			t.Errorf("%s: %q, want the words of alpha's, %q", tenant, err.Error(), first)
		}
	}
}
