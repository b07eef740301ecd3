package events_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/iotest"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/events"
)

// TestToEventReadsDataOnce: a binary-mode event of megabytes is read into
// one allocation of about its size (the SDK's own reading doubles a buffer
// up to twice it), byte for byte, however the body arrives; an empty body
// is no data.
func TestToEventReadsDataOnce(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte('a' + r.IntN(26))
	}
	for _, body := range [][]byte{data, data[:100], nil} {
		e := cloudevents.NewEvent()
		e.SetType("t")
		e.SetSource("/s")
		e.SetID("1")
		if body != nil {
			e.SetData("text/plain", body)
		}
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
			t.Fatal(err)
		}
		// One byte a read: the reader must not depend on large reads.
		req.Body = io.NopCloser(iotest.OneByteReader(bytes.NewReader(body)))
		got, err := events.ToEvent(context.Background(), cehttp.NewMessageFromHttpRequest(req))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Data(), body) || (body == nil) != (got.Data() == nil) {
			t.Fatalf("data of %d bytes read as %d bytes", len(body), len(got.Data()))
		}
		if c := cap(got.Data()); c > len(body)+8192 {
			t.Errorf("%d bytes of data held in %d bytes", len(body), c)
		}
	}
}

// TestReadDataLarge: a body past the pooled buffers' size is read whole,
// and a small one after it is not mixed with it.
func TestReadDataLarge(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), (17<<20)/16+3)
	got, err := events.ReadData(bytes.NewReader(big))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("%d bytes read as %d (%v)", len(big), len(got), err)
	}
	small, err := events.ReadData(bytes.NewReader([]byte("tail")))
	if err != nil || string(small) != "tail" || !bytes.Equal(got, big) {
		t.Fatalf("then %q (%v), and the large body changed: %v", small, err, !bytes.Equal(got, big))
	}
}

// owned is an events.OwnedData over b.
type owned struct {
	bytes.Reader
	b []byte
}

func (o *owned) Close() error { return nil }

func (o *owned) TakeData() []byte {
	rest := o.b[len(o.b)-o.Len():]
	o.Reset(nil)
	return rest
}

// TestReadDataTakesOwned: the bytes of an OwnedData body are the data as
// they are (no copy), through ReadData, ReadDataPooled and an event made
// by ToEvent.
func TestReadDataTakesOwned(t *testing.T) {
	data := []byte(`{"a chunk":"priced"}`)
	newOwned := func() *owned { o := &owned{b: data}; o.Reader.Reset(data); return o }
	if got, err := events.ReadData(newOwned()); err != nil || &got[0] != &data[0] || len(got) != len(data) {
		t.Errorf("ReadData: %q, %v: not the body's own bytes", got, err)
	}
	got, release, err := events.ReadDataPooled(newOwned())
	if err != nil || &got[0] != &data[0] || release != nil {
		t.Errorf("ReadDataPooled: %q, %v, release %v: not the body's own bytes", got, err, release != nil)
	}
	h := http.Header{}
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Id", "1")
	h.Set("Ce-Source", "test")
	h.Set("Ce-Type", "io.pricefn.chunk.priced")
	h.Set("Content-Type", "application/json")
	e, err := events.ToEvent(context.Background(), cehttp.NewMessage(h, newOwned()))
	if err != nil || &e.Data()[0] != &data[0] {
		t.Errorf("ToEvent: %v: the event's data is not the body's own bytes", err)
	}
}
