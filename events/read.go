package events

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// ReadData reads r to its end into a slice of its size. An event
// body is megabytes (a chunk's batch or results): read by io.ReadAll or a
// growing bytes.Buffer it costs about twice its size in allocations, each
// of them cleared, and a copy per doubling. ReadData reads into a buffer
// kept from earlier reads (bodies up to maxPooledBuffer) and copies what it
// read out once (a body past maxPooledBuffer is returned in the buffer it
// grew in). Nothing is sized from what the sender declares.
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
	buf := bufferPool.Get().(*bytes.Buffer)
	if _, err := buf.ReadFrom(r); err != nil {
		putBuffer(buf)
		return nil, nil, err
	}
	if buf.Cap() > maxPooledBuffer {
		// Not kept for the next read: its bytes are the data.
		return buf.Bytes(), nil, nil
	}
	return buf.Bytes(), func() { putBuffer(buf) }, nil
}

// putBuffer gives buf back to the pool when it is small enough to keep.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		buf.Reset()
		bufferPool.Put(buf)
	}
}

// maxPooledBuffer bounds the buffers ReadData keeps for the next read: a
// chunk's events fit, a whole large batch's body is not kept.
const maxPooledBuffer = 16 << 20

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ToEvent is binding.ToEvent with the data of a binary-mode HTTP message
// read by ReadData.
func ToEvent(ctx context.Context, m *cehttp.Message) (*event.Event, error) {
	return binding.ToEvent(ctx, exactBody{Message: m})
}

// ToEventPooled is ToEvent with the data read by ReadDataPooled: the
// event's data is valid until release is called (never nil). Nothing may
// keep the event's data past that.
func ToEventPooled(ctx context.Context, m *cehttp.Message) (e *event.Event, release func(), err error) {
	release = func() {}
	e, err = binding.ToEvent(ctx, exactBody{Message: m, release: &release})
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
	release *func()
}

func (m exactBody) ReadBinary(ctx context.Context, w binding.BinaryWriter) error {
	return m.Message.ReadBinary(ctx, exactData{w, m.release})
}

// exactData hands the SDK's event builder its data as a *bytes.Buffer,
// which it keeps as it is instead of copying it into a buffer of its own.
type exactData struct {
	binding.BinaryWriter
	release *func()
}

func (w exactData) SetData(r io.Reader) error {
	if w.release == nil {
		data, err := ReadData(r)
		if err != nil {
			return err
		}
		return w.BinaryWriter.SetData(bytes.NewBuffer(data))
	}
	data, release, err := ReadDataPooled(r)
	if err != nil {
		return err
	}
	if release != nil {
		*w.release = release
	}
	return w.BinaryWriter.SetData(bytes.NewBuffer(data))
}
