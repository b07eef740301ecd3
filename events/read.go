package events

import (
	"bytes"
	"context"
	"io"
	"math/bits"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/internal/kept"
)

// ReadData reads r to its end into a slice of its size. An event
// body is megabytes (a chunk's batch or results): read by io.ReadAll or a
// growing bytes.Buffer it costs about twice its size in allocations, each
// of them cleared, and a copy per doubling. ReadData reads into a buffer
// kept from earlier reads (bodies up to maxPooledBuffer) and copies what it
// read out once (a body past maxPooledBuffer is returned in the buffer it
// grew in; an OwnedData body's bytes are taken as they are). Nothing is
// sized from what the sender declares.
func ReadData(r io.Reader) ([]byte, error) {
	data, release, err := ReadDataPooled(r)
	if err != nil || release == nil {
		return data, err
	}
	defer release()
	if len(data) == 0 {
		return nil, nil
	}
	return bytes.Clone(data), nil
}

// ReadDataPooled is ReadData without the copy: data is the bytes of a
// buffer kept from earlier reads, valid until release is called (when it
// is not nil: a body past maxPooledBuffer is its own buffer, not kept).
// It is for a body read and done with within one request (an event a
// function handles and answers): nothing may keep data, or any part of
// it, past release.
func ReadDataPooled(r io.Reader) (data []byte, release func(), err error) {
	return readPooled(r, 0, 0)
}

// ReadDataDeclared is ReadDataPooled for a body whose sender declares its
// size (an HTTP request's Content-Length; 0 for none), not trusted: a kept
// buffer of at least that size is read into when there is one, rather
// than one that then grows (doubling, each doubling new memory); nothing
// is allocated for a declared size alone.
func ReadDataDeclared(r io.Reader, declared int64) (data []byte, release func(), err error) {
	return readPooled(r, 0, declared)
}

// OwnedData is a body whose reader may keep its bytes: a response made in
// this process (host.InProcess), or an event's data sent to a receiver in
// this process (OwnedBody), which nothing changes after. ReadData and
// ReadDataPooled take them (TakeData: the bytes not read yet) rather than
// copy them; Len is how many bytes are left.
type OwnedData interface {
	io.Reader
	TakeData() []byte
	Len() int
}

// Snug reports whether data's array has little room to spare past it (an
// eighth of its length at most): bytes a receiver in this process may keep
// as they are (a reply's data, host.InProcess), where a roomier array is
// copied, lest what a store keeps of it keep the whole array. A producer
// that sizes its buffer by an estimate aims under this.
func Snug(data []byte) bool { return cap(data)-len(data) <= len(data)/8 }

// OwnedBody returns a request or response body of data that a reader in
// this process may keep rather than copy (OwnedData): for bytes that
// nothing changes after, such as an event's data. (net/http's client does
// not know it for a buffer: a request over a network keeps the body it
// has, and marks its data with WithOwnedData instead.)
func OwnedBody(data []byte) io.ReadCloser { return &ownedBody{data: data} }

// LimitBody returns body limited to limit bytes (http.MaxBytesReader),
// or body itself when it is OwnedData of at most limit bytes: bytes of
// this process, whose length is known, taken as they are.
func LimitBody(w http.ResponseWriter, body io.ReadCloser, limit int64) io.ReadCloser {
	if o, ok := body.(OwnedData); ok && int64(o.Len()) <= limit {
		return body
	}
	return http.MaxBytesReader(w, body, limit)
}

// WithOwnedData returns ctx marking data, a request's whole body, as bytes
// that nothing changes after (an event's data): a transport that serves
// the request in this process (host.InProcess) hands them to the handler
// as an OwnedBody, which it keeps rather than copy. Over a network it
// changes nothing.
func WithOwnedData(ctx context.Context, data []byte) context.Context {
	return context.WithValue(ctx, ownedDataKey{}, data)
}

// OwnedDataOf returns the bytes WithOwnedData marked in ctx.
func OwnedDataOf(ctx context.Context) ([]byte, bool) {
	data, ok := ctx.Value(ownedDataKey{}).([]byte)
	return data, ok
}

type ownedDataKey struct{}

type ownedBody struct {
	data []byte
	off  int
}

func (b *ownedBody) Read(p []byte) (int, error) {
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += n
	return n, nil
}

func (b *ownedBody) Close() error { return nil }

func (b *ownedBody) Len() int { return len(b.data) - b.off }

// TakeData returns the bytes not read yet and leaves the body at its end.
func (b *ownedBody) TakeData() []byte {
	rest := b.data[b.off:]
	b.off = len(b.data)
	return rest
}

// readPooled is ReadDataPooled with room for size bytes made first (a
// size the reader's sender is trusted to tell: one in this process), or a
// kept buffer of the declared size chosen (ReadDataDeclared).
func readPooled(r io.Reader, size int, declared int64) (data []byte, release func(), err error) {
	if o, ok := r.(OwnedData); ok {
		return o.TakeData(), nil, nil
	}
	var buf *bytes.Buffer
	switch {
	case size > 0:
		buf = buffers.get(size+bytes.MinRead, true) // ReadFrom wants MinRead free at the end
	case declared > 0 && declared < maxPooledBuffer:
		buf = buffers.get(int(declared)+bytes.MinRead, false)
	default:
		buf = buffers.get(0, false)
	}
	if _, err := buf.ReadFrom(r); err != nil {
		buffers.put(buf)
		return nil, nil, err
	}
	if buf.Cap() > maxPooledBuffer {
		// Not kept for the next read: its bytes are the data.
		return buf.Bytes(), nil, nil
	}
	return buf.Bytes(), func() { buffers.put(buf) }, nil
}

// maxPooledBuffer bounds the buffers ReadData keeps for the next read: a
// chunk's events fit, and a batch of up to 32 MiB (ingress's default
// limit), read again and again by a busy ingress.
const maxPooledBuffer = 32 << 20

// buffers are the buffers kept for the next reads: at most keptBytes of
// them, each dropped after keptFor unused (kept.List: a sync.Pool would
// lose them at every garbage collection, which a process reading megabytes
// of events runs every few requests: each read would then grow a new
// buffer, every doubling cleared and faulted in).
var buffers = bufferList{kept.List[*bytes.Buffer]{Max: keptBytes, Keep: keptFor, Size: (*bytes.Buffer).Cap}}

const (
	keptBytes = 64 << 20
	keptFor   = 10 * time.Second
)

// bufferList is the list of buffers to reuse.
type bufferList struct {
	list kept.List[*bytes.Buffer]
}

// get returns the smallest kept buffer with room for size bytes, or when
// none has it: if alloc, a new one with room for size rounded up to a
// power of two, so that it serves the next bodies of about that size too
// (a chunk's events are of two sizes, its trades and its results); else
// the largest kept (it grows the least), or a new empty one. A small
// body never takes the buffer a large one grew.
func (l *bufferList) get(size int, alloc bool) *bytes.Buffer {
	if b, ok := l.list.Take(size, !alloc); ok {
		return b
	}
	if size == 0 {
		return new(bytes.Buffer)
	}
	room := size
	if size <= maxPooledBuffer {
		room = min(1<<bits.Len(uint(size-1)), maxPooledBuffer)
	}
	return bytes.NewBuffer(make([]byte, 0, room))
}

// put keeps buf for a next read, emptied, when it and the list are
// within their bounds.
func (l *bufferList) put(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBuffer {
		return
	}
	buf.Reset()
	l.list.Put(buf)
}

// ToEvent is binding.ToEvent with the data of a binary-mode HTTP message
// read by ReadData.
func ToEvent(ctx context.Context, m *cehttp.Message) (*event.Event, error) {
	return binding.ToEvent(ctx, exactBody{Message: m})
}

// ToEventPooled is ToEvent with the data read by ReadDataPooled: the
// event's data is valid until release is called (never nil). Nothing may
// keep the event's data past that. size, when above 0, is the data's size
// as its sender declares it, trusted (a sender in this process): room is
// made for it at once; else declared, when above 0, is the size another
// sender declares, which chooses among the kept buffers
// (ReadDataDeclared).
func ToEventPooled(ctx context.Context, m *cehttp.Message, size int, declared int64) (e *event.Event, release func(), err error) {
	release = func() {}
	e, err = binding.ToEvent(ctx, exactBody{Message: m, release: &release, size: size, declared: declared})
	if err != nil {
		release()
		return nil, func() {}, err
	}
	return e, release, nil
}

// exactBody is an HTTP message whose binary data is read by ReadData, or
// by ReadDataPooled when release is set (which it then sets).
type exactBody struct {
	*cehttp.Message
	release  *func()
	size     int
	declared int64
}

func (m exactBody) ReadBinary(ctx context.Context, w binding.BinaryWriter) error {
	return m.Message.ReadBinary(ctx, exactData{w, m.release, m.size, m.declared})
}

// exactData hands the SDK's event builder its data as a *bytes.Buffer,
// which it keeps as it is instead of copying it into a buffer of its own.
type exactData struct {
	binding.BinaryWriter
	release  *func()
	size     int
	declared int64
}

func (w exactData) SetData(r io.Reader) error {
	if w.release == nil {
		data, err := ReadData(r)
		if err != nil {
			return err
		}
		return w.BinaryWriter.SetData(bytes.NewBuffer(data))
	}
	data, release, err := readPooled(r, w.size, w.declared)
	if err != nil {
		return err
	}
	if release != nil {
		*w.release = release
	}
	return w.BinaryWriter.SetData(bytes.NewBuffer(data))
}
