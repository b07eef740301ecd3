package ingress

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
)

// digestingBody is a request's body that hashes what is read of it: the
// batch's digest (events.Digest) is taken while the batch arrives, when
// the server mostly waits for the network, rather than after, beside the
// batch's check, on a core the check could use.
type digestingBody struct {
	io.ReadCloser
	h hash.Hash
	n int
}

// newDigestingBody puts a digestingBody in place of r's body.
func newDigestingBody(r *http.Request) *digestingBody {
	d := &digestingBody{ReadCloser: r.Body, h: sha256.New()}
	r.Body = d
	return d
}

func (d *digestingBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	d.h.Write(p[:n])
	d.n += n
	return n, err
}

// digest returns events.Digest of the body when all of it was read and
// was the size bytes of the data; "" otherwise (nil included), for the
// digest to be taken from the data.
func (d *digestingBody) digest(size int) string {
	if d == nil || d.n != size {
		return ""
	}
	return "sha256:" + hex.EncodeToString(d.h.Sum(nil))
}
