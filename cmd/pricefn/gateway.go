package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// urlFlagHelp is the help of the --url flags' path: the one rule of
// gatewayURL and resolve that every command talking to an engine follows.
const urlFlagHelp = "; a path is a prefix (a gateway behind one): http://host/pricefn sends to http://host/pricefn/batches, and the engine's root-relative status URLs (/batches/ID) are taken under it too, its full URLs as they are"

// gatewayURL reads --url: an http(s) URL, or HOST:PORT, taken as
// http://HOST:PORT; an empty HOST is localhost. A path is kept, without
// its trailing slash: the prefix resolve puts before the engine's paths.
func gatewayURL(v string) (string, error) {
	s := v
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
	case u.Scheme != "http" && u.Scheme != "https":
		err = fmt.Errorf("scheme %q: want http or https", u.Scheme)
	case u.Host == "":
		err = errors.New("no host")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		// Not put on the engine's paths: they were dropped, silently.
		err = errors.New("a query or fragment, which the engine's paths would not carry")
	case strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/batches"):
		// Its commands add /batches themselves: this posted to .../batches/batches.
		err = errors.New("a path ending in /batches, which the commands add themselves")
	}
	if err != nil {
		return "", usagef("--url %q: %v: want a URL such as http://localhost:8080 (or localhost:8080, or https://host/prefix)", v, err)
	}
	if u.Hostname() == "" { // ":8080"
		u.Host = "localhost" + u.Host
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), nil
}

// resolve returns ref, a path of the engine's API or a URL the engine
// sent (a receipt's status URL), against base, a URL gatewayURL returned:
// a root-relative ref (/batches/ID) goes under base's path, the prefix of
// a gateway that serves the engine below it; a full URL is used as it is.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("--url %q: %w", base, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("status URL %q: %w", ref, err)
	}
	if r.Scheme == "" && r.Host == "" && strings.HasPrefix(r.Path, "/") {
		if r, err = url.Parse(strings.TrimRight(b.EscapedPath(), "/") + ref); err != nil {
			return "", fmt.Errorf("status URL %q: %w", ref, err)
		}
	}
	return b.ResolveReference(r).String(), nil
}

// shown is URL u as the CLI prints it: its password, when it has one,
// replaced (url.URL.Redacted), as stderr goes to terminals and CI logs.
func shown(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return printable(u)
	}
	return printable(p.Redacted())
}
