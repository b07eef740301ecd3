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
	buf := bufferPool.Get().(*bytes.Buffer)
	if _, err := buf.ReadFrom(r); err != nil {
		release(buf)
		return nil, err
	}
	if buf.Cap() > maxPooledBuffer {
		// Not kept for the next read: its bytes are the data, no copy.
		return buf.Bytes(), nil
	}
	defer release(buf)
	if buf.Len() == 0 {
		return nil, nil
	}
	return bytes.Clone(buf.Bytes()), nil
}

// release gives buf back to the pool when it is small enough to keep.
func release(buf *bytes.Buffer) {
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
	return binding.ToEvent(ctx, exactBody{m})
}

// exactBody is an HTTP message whose binary data is read by ReadData.
type exactBody struct{ *cehttp.Message }

func (m exactBody) ReadBinary(ctx context.Context, w binding.BinaryWriter) error {
	return m.Message.ReadBinary(ctx, exactData{w})
}

// exactData hands the SDK's event builder its data as a *bytes.Buffer,
// which it keeps as it is instead of copying it into a buffer of its own.
type exactData struct{ binding.BinaryWriter }

func (w exactData) SetData(r io.Reader) error {
	data, err := ReadData(r)
	if err != nil {
		return err
	}
	return w.BinaryWriter.SetData(bytes.NewBuffer(data))
}
