package batch

import (
	"bufio"
	"errors"
	"io"
	"sync"
)

// AppendResults appends rs to b as elements of a results array: each
// result on a line of its own, separated by commas, as Results.MarshalJSON
// writes them. A chunk's results encoded once this way can be written into
// any number of documents without decoding them again.
func AppendResults(b []byte, rs []TradeResult) ([]byte, error) {
	for i := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		var err error
		if b, err = rs[i].appendJSON(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ResultsWriter streams a results document, byte for byte what
// Results.MarshalJSON writes, from pieces: results, or runs of results
// encoded by AppendResults. Call Close to end the document.
type ResultsWriter struct {
	w     *bufio.Writer
	any   bool // a result is written
	buf   []byte
	err   error
	ended bool
	// tail is written after the results array (SetScenarios).
	tail []byte
}

// writerPool recycles the 64 KB buffers of ResultsWriters: a server
// streams a results document per request.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// NewResultsWriter starts the results document of batch id on w. Its
// buffer comes from a pool and goes back when Close returns.
func NewResultsWriter(w io.Writer, id string) *ResultsWriter {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	rw := &ResultsWriter{w: bw}
	rw.buf = appendResultsHead(rw.buf[:0], id)
	_, rw.err = rw.w.Write(rw.buf)
	return rw
}

// errWriterClosed is the error of a write after Close.
var errWriterClosed = errors.New("batch: results writer closed")

// Write writes results.
func (rw *ResultsWriter) Write(rs ...TradeResult) error {
	if rw.ended && rw.err == nil {
		return errWriterClosed
	}
	if rw.err != nil || len(rs) == 0 {
		return rw.err
	}
	rw.buf, rw.err = AppendResults(rw.buf[:0], rs)
	if rw.err == nil {
		rw.err = rw.WriteEncoded(rw.buf)
	}
	return rw.err
}

// WriteEncoded writes a run of results that AppendResults encoded; an
// empty run writes nothing.
func (rw *ResultsWriter) WriteEncoded(run []byte) error {
	if rw.ended && rw.err == nil {
		return errWriterClosed
	}
	if rw.err != nil || len(run) == 0 {
		return rw.err
	}
	if rw.any {
		rw.err = rw.w.WriteByte(',')
	}
	rw.any = true
	if rw.err == nil {
		_, rw.err = rw.w.Write(run)
	}
	return rw.err
}

// Flush writes what the writer holds to the underlying writer, so that a
// document written over time (a stream) reaches its reader a run at a
// time.
func (rw *ResultsWriter) Flush() error {
	if rw.ended && rw.err == nil {
		return errWriterClosed
	}
	if rw.err == nil {
		rw.err = rw.w.Flush()
	}
	return rw.err
}

// Abort gives the writer's buffer back without ending the document: what
// was written is left unterminated, so that a reader cannot take a part
// of the results for all of them. Close after Abort writes nothing.
func (rw *ResultsWriter) Abort() {
	if rw.ended {
		return
	}
	rw.ended = true
	if rw.err == nil {
		rw.err = errWriterClosed
	}
	rw.w.Reset(nil)
	writerPool.Put(rw.w)
	rw.w = nil
}

// Close ends the document (and a final newline) and flushes it.
func (rw *ResultsWriter) Close() error {
	if rw.ended {
		return rw.err
	}
	rw.ended = true
	if rw.err == nil {
		_, rw.err = rw.w.WriteString("\n]")
	}
	if rw.err == nil {
		_, rw.err = rw.w.Write(rw.tail)
	}
	if rw.err == nil {
		_, rw.err = rw.w.WriteString("}\n")
	}
	if rw.err == nil {
		rw.err = rw.w.Flush()
	}
	rw.w.Reset(nil)
	writerPool.Put(rw.w)
	rw.w = nil
	return rw.err
}
