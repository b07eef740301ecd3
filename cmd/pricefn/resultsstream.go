package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pricefn/pricefn/batch"
)

// resultsStream takes a results document as it arrives: it checks what
// has arrived (batch.ResultsCheck) and writes it to file, each on a
// goroutine of its own, so that by the time the last byte is read the
// check and the write are all but done. (Read first and then checked and
// written, a 100,000-trade document spent some 50 ms after its last byte.)
type resultsStream struct {
	// want is the batch's trade ids, in order; check the check of the
	// document read last (a retried request reads it again).
	want  []string
	check *batch.ResultsCheck
	// file, when set, is a regular file the results are written to as
	// they arrive: emptied again if they are read a second time (a
	// retried request).
	file *os.File
	// progress, when set, is told every tick how many results have
	// arrived (a document streamed while its batch is priced can take
	// long).
	progress func(arrived int)
	tick     time.Duration
}

// read reads body, a results document, into room bytes at first, feeding
// the check and writing the file on the way, and returns the document.
func (rs *resultsStream) read(body io.Reader, room int) ([]byte, error) {
	rs.check = batch.NewResultsCheck(rs.want)
	if rs.file != nil {
		if err := rs.file.Truncate(0); err != nil {
			return nil, localError{err}
		}
		if _, err := rs.file.Seek(0, io.SeekStart); err != nil {
			return nil, localError{err}
		}
	}
	// The checker is handed the document so far, the latest only; the
	// writer every new piece, in order. A piece or a prefix stays valid
	// when buf grows: the bytes it holds do not change.
	fed := make(chan []byte, 1)
	pieces := make(chan []byte, 1024)
	var wg sync.WaitGroup
	wg.Go(func() {
		for doc := range fed {
			rs.check.Feed(doc)
		}
	})
	var errWrite error
	if rs.file != nil {
		wg.Go(func() {
			for p := range pieces {
				if errWrite == nil {
					_, errWrite = rs.file.Write(p)
				}
			}
		})
	}
	// Each result starts a line (batch.ResultsWriter), and a newline is
	// never inside a JSON string: the lines that have arrived count the
	// results.
	var lines atomic.Int64
	if rs.progress != nil {
		done := make(chan struct{})
		var ticking sync.WaitGroup
		ticking.Go(func() {
			t := time.NewTicker(rs.tick)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					rs.progress(min(int(lines.Load()), len(rs.want)))
				case <-done:
					return
				}
			}
		})
		defer ticking.Wait()
		defer close(done)
	}
	buf := make([]byte, 0, max(room, 4096))
	var err error
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		var n int
		n, err = body.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			buf = buf[:len(buf)+n]
			select {
			case fed <- buf:
			default: // the checker is busy: it takes the latest when done
				select {
				case <-fed:
				default:
				}
				fed <- buf
			}
			if rs.file != nil {
				pieces <- buf[len(buf)-n:]
			}
			if rs.progress != nil {
				lines.Add(int64(bytes.Count(buf[len(buf)-n:], newline)))
			}
		}
		if err != nil {
			break
		}
	}
	close(fed)
	close(pieces)
	wg.Wait()
	if err != io.EOF {
		return nil, err
	}
	if errWrite != nil {
		return nil, localError{fmt.Errorf("writing the results: %w", errWrite)}
	}
	return buf, nil
}

var newline = []byte{'\n'}

// localError is a fault of this side (a file that cannot be written), which
// asking the engine again does not mend.
type localError struct{ error }

func (e localError) Unwrap() error { return e.error }

// regular reports whether f is a regular file.
func regular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}
