package auth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events"
)

// The CloudEvents extensions of an authentic event.
const (
	// ExtSignature holds "v1=" and the base64 (URL alphabet, unpadded)
	// HMAC-SHA256 of the event's canonical form.
	ExtSignature = "pricefnsig"
)

// Errors of Verify, for the receiver to log and count; every one is a
// 403 that a broker does not retry.
var (
	ErrUnsigned     = errors.New("auth: event is not signed")
	ErrBadSignature = errors.New("auth: event signature does not match")
)

// MinKeyLen is the shortest event key accepted.
const MinKeyLen = 32

// Keys are the event keys: the first signs, every one verifies, so that a
// key can be rotated by adding the new one second, then first, then
// removing the old one (each step once every process has read the last).
// Keys of a file (LoadKeys) follow it as it changes. Its methods are safe
// for concurrent use.
type Keys struct {
	file *watched // nil: keys that do not change
	keys [][]byte // under file.mu
}

// ParseKeys reads an event-keys file: one key a line (at least MinKeyLen
// characters), the signing key first, blank lines and "#" comments
// ignored (uncomment).
func ParseKeys(data []byte) (*Keys, error) {
	var ks Keys
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(uncomment(sc.Text()))
		if line == "" {
			continue
		}
		if len(line) < MinKeyLen {
			return nil, fmt.Errorf("auth: event key file line %d: key shorter than %d characters", n, MinKeyLen)
		}
		ks.keys = append(ks.keys, []byte(line))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auth: event key file: %w", err)
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("auth: the event key file holds no key")
	}
	if len(ks.keys) > 2 {
		return nil, fmt.Errorf("auth: the event key file holds %d keys: at most 2 (the signing key, and the one being rotated)", len(ks.keys))
	}
	return &ks, nil
}

// LoadKeys reads the event-keys file at path. The file is read again, when
// its modification time or size changed, at most every interval (0 means
// a second): a key rotated or revoked in a mounted Secret is in force in
// every running process within it. A file that no longer parses keeps the
// keys in force and is reported to onError (nil ignores it).
func LoadKeys(path string, interval time.Duration, onError func(error)) (*Keys, error) {
	ks := &Keys{file: newWatched(path, "event key file", interval, onError)}
	if err := ks.file.load(time.Now(), true, ks.parse); err != nil {
		return nil, err
	}
	return ks, nil
}

// parse takes the keys of an event-keys file's bytes. ks.file.mu is held,
// or ks is new.
func (ks *Keys) parse(data []byte) error {
	read, err := ParseKeys(data)
	if err != nil {
		return err
	}
	ks.keys = read.keys
	return nil
}

// current returns the keys in force, reading the file again when due.
func (ks *Keys) current() [][]byte {
	if ks.file == nil {
		return ks.keys
	}
	ks.file.lock(ks.parse)
	defer ks.file.mu.Unlock()
	return ks.keys
}

// NewKeys returns keys for tests and tools; the first signs.
func NewKeys(keys ...string) *Keys {
	ks := &Keys{}
	for _, k := range keys {
		ks.keys = append(ks.keys, []byte(k))
	}
	return ks
}

// canonical is what the signature covers: the attributes that matter and
// the SHA-256 of the data. Extensions a broker adds on the way (the
// knativeerror* of a dead letter, its TTL) are outside it.
func canonical(e *event.Event) []byte {
	ext := func(k string) string {
		v, _ := e.Extensions()[k].(string)
		return v
	}
	sum := sha256.Sum256(e.Data())
	var b bytes.Buffer
	for _, s := range []string{"v1", e.SpecVersion(), e.Type(), e.Source(), e.ID(), e.Subject(), e.DataContentType(),
		ext(events.ExtBatchID), ext(events.ExtTenant), hex.EncodeToString(sum[:])} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func mac(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// Sign sets e's signature with the first key.
func (ks *Keys) Sign(e *event.Event) {
	signWith(ks.current()[0], e)
}

// SignWith signs e with key: what an upstream system does with the key
// (a token with ScopeSign) issued to it.
func SignWith(key string, e *event.Event) { signWith([]byte(key), e) }

func signWith(key []byte, e *event.Event) {
	e.SetExtension(ExtSignature, "v1="+base64.RawURLEncoding.EncodeToString(mac(key, canonical(e))))
}

// Verify checks e's signature against every key.
func (ks *Keys) Verify(e *event.Event) error { return verify(ks.current(), e) }

// VerifyWith checks e's signature against keys.
func VerifyWith(keys [][]byte, e *event.Event) error { return verify(keys, e) }

func verify(keys [][]byte, e *event.Event) error {
	v, _ := e.Extensions()[ExtSignature].(string)
	if v == "" {
		return ErrUnsigned
	}
	sig, ok := strings.CutPrefix(v, "v1=")
	if !ok {
		return fmt.Errorf("%w: unknown signature version", ErrBadSignature)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: not base64", ErrBadSignature)
	}
	msg := canonical(e)
	match := 0
	for _, k := range keys {
		match |= boolInt(hmac.Equal(got, mac(k, msg)))
	}
	if match == 0 {
		return ErrBadSignature
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
