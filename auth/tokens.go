// Package auth authenticates pricefn's callers: clients of the public API
// by bearer tokens, each issued to a tenant with scopes (Tokens), and the
// pipeline's events by an HMAC signature over the attributes that matter
// (Keys), so that a forged or altered event changes nothing.
package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pricefn/pricefn/functions/host"
)

// The scopes a token may carry.
const (
	// ScopeSubmit allows submitting batches (and /valQuery).
	ScopeSubmit = host.ScopeSubmit
	// ScopeRead allows reading batches' status and results.
	ScopeRead = host.ScopeRead
	// ScopeSign makes the token an upstream system's key for signing the
	// batch.submitted events it sends through the broker for its tenant.
	ScopeSign = "sign"
)

// MinTokenLen is the shortest token a tokens file may hold.
const MinTokenLen = 16

// validTenant is what a tenant may look like, at most maxTenantLen bytes
// (checked apart: a bounded repeat would compile to a copy of the class
// per byte).
var validTenant = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// maxTenantLen is the longest tenant.
const maxTenantLen = 63

// Identity is who a token speaks for.
type Identity struct {
	Tenant string
	Scopes []string
}

// Has reports whether the identity has scope.
func (id Identity) Has(scope string) bool {
	for _, s := range id.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// entry is one token: its SHA-256, so that every comparison is between
// equal lengths, and its identity.
type entry struct {
	sum   [sha256.Size]byte
	token []byte // kept for the signing keys of ScopeSign
	id    Identity
}

// ParseError reports a line of a tokens file that is not TOKEN TENANT
// [SCOPES]; the token itself is never echoed.
type ParseError struct {
	Line int
	Why  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("auth: tokens file line %d: %s", e.Line, e.Why)
}

// ParseTokens reads a tokens file: one "TOKEN TENANT [SCOPES]" a line,
// SCOPES a comma- or space-separated list of submit, read and sign (none
// means submit and read), blank lines and "#" comments ignored (uncomment).
// Tokens are
// at least MinTokenLen characters and unique; tenants are lower-case
// letters, digits, '-' and '_'.
func ParseTokens(data []byte) ([]Identity, error) {
	es, err := parseEntries(data)
	out := make([]Identity, len(es))
	for i := range es {
		out[i] = es[i].id
	}
	return out, err
}

func parseEntries(data []byte) ([]entry, error) {
	var out []entry
	seen := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := uncomment(sc.Text())
		f := strings.Fields(strings.ReplaceAll(line, ",", " "))
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			return nil, &ParseError{n, "want TOKEN TENANT [SCOPES]"}
		}
		if len(f[0]) < MinTokenLen {
			return nil, &ParseError{n, fmt.Sprintf("token shorter than %d characters", MinTokenLen)}
		}
		if len(f[1]) > maxTenantLen || !validTenant.MatchString(f[1]) {
			return nil, &ParseError{n, fmt.Sprintf("tenant %q: want lower-case letters, digits, '-' or '_'", trunc(f[1]))}
		}
		e := entry{sum: sha256.Sum256([]byte(f[0])), token: []byte(f[0]), id: Identity{Tenant: f[1]}}
		if first, dup := seen[e.sum]; dup {
			return nil, &ParseError{n, fmt.Sprintf("token repeated from line %d", first)}
		}
		seen[e.sum] = n
		for _, s := range f[2:] {
			switch s {
			case ScopeSubmit, ScopeRead, ScopeSign:
				e.id.Scopes = append(e.id.Scopes, s)
			default:
				return nil, &ParseError{n, fmt.Sprintf("scope %q: want submit, read or sign", trunc(s))}
			}
		}
		if len(e.id.Scopes) == 0 {
			e.id.Scopes = []string{ScopeSubmit, ScopeRead}
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auth: tokens file: %w", err)
	}
	return out, nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Tokens is the set of tokens of a tokens file, read again when the file
// changes (as a mounted Kubernetes Secret does). Its methods are safe for
// concurrent use.
type Tokens struct {
	file    *watched
	entries []entry // under file.mu
}

// ErrNoTokens reports a tokens file with no token: an API that nobody can
// use is a mistake, not a configuration.
var ErrNoTokens = errors.New("auth: the tokens file holds no token")

// LoadTokens reads the tokens file at path. The file is read again, when
// its modification time or size changed, at most every interval (0 means
// a second); a file that no longer parses keeps the tokens in force and
// is reported to onError (nil ignores it).
func LoadTokens(path string, interval time.Duration, onError func(error)) (*Tokens, error) {
	t := &Tokens{file: newWatched(path, "tokens file", interval, onError)}
	if err := t.file.load(time.Now(), true, t.parse); err != nil {
		return nil, err
	}
	return t, nil
}

// parse takes the tokens of a tokens file's bytes. t.file.mu is held, or t
// is new.
func (t *Tokens) parse(data []byte) error {
	es, err := parseEntries(data)
	if err == nil && len(es) == 0 {
		err = ErrNoTokens
	}
	if err != nil {
		return err
	}
	t.entries = es
	return nil
}

// current returns the entries in force, reading the file again when due.
func (t *Tokens) current() []entry {
	t.file.lock(t.parse)
	defer t.file.mu.Unlock()
	return t.entries
}

// Lookup returns the identity of token. Every token is compared, in
// constant time, whatever matches.
func (t *Tokens) Lookup(token string) (Identity, bool) {
	sum := sha256.Sum256([]byte(token))
	var found Identity
	ok := 0
	for _, e := range t.current() {
		if subtle.ConstantTimeCompare(sum[:], e.sum[:]) == 1 {
			found, ok = e.id, 1
		}
	}
	return found, ok == 1
}

// SigningKeys returns the keys of tenant's upstream systems (tokens with
// ScopeSign).
func (t *Tokens) SigningKeys(tenant string) [][]byte {
	var out [][]byte
	for _, e := range t.current() {
		if e.id.Tenant == tenant && e.id.Has(ScopeSign) {
			out = append(out, e.token)
		}
	}
	return out
}

// uncomment returns line without its comment: from a '#' that starts the
// line or follows a space or a tab, as a shell reads one. A '#' within a
// token or key is part of it: cut there, a key of 40 characters with a '#'
// at the 20th was refused as "shorter than 32 characters", and one with
// it further on was silently shortened to another key.
func uncomment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}
