package main

import (
	"bytes"
	"errors"
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
// has arrived (batch.ResultsCheck) and writes it to file, so that by the
// time the last byte is read the check and the write are all but done.
// (Read first and then checked and written, a 100,000-trade document
// spent some 50 ms after its last byte.)
//
// With a file, only what the check still needs is held in memory (a window
// of readWindow bytes): the file holds the document. A 100,000-trade
// document (17 MB) read whole into memory fresh from the system cost
// pricefn submit more than it took to check it.
type resultsStream struct {
	// want is the batch's trade ids, in order; check the check of the
	// document read last (a retried request reads it again).
	want  batch.IDs
	check *batch.ResultsCheck
	// file, when set, is a regular file the results are written to as
	// they arrive: emptied again if they are read a second time (a
	// retried request).
	file *os.File
	// base is the offset in the document of the first byte that read
	// returned: 0 without a file.
	base int
	// progress, when set, is told every tick how many results have
	// arrived (a document streamed while its batch is priced can take
	// long).
	progress func(arrived int)
	tick     time.Duration
}

// readWindow is how much of a results document a resultsStream with a
// file holds at once, unless a document not laid out as the engine lays
// it out needs more.
const readWindow = 1 << 20

// read reads body, a results document, feeding the check and writing the
// file on the way. Without a file it returns the whole document, read into
// room bytes at first; with one, the document from rs.base on.
func (rs *resultsStream) read(body io.Reader, room int) ([]byte, error) {
	rs.check, rs.base = batch.NewResultsCheck(rs.want), 0
	if rs.file != nil {
		if err := rs.empty(); err != nil {
			return nil, localError{err}
		}
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
					rs.progress(min(int(lines.Load()), rs.want.Len()))
				case <-done:
					return
				}
			}
		})
		defer ticking.Wait()
		defer close(done)
	}
	if rs.file != nil {
		return rs.readWindows(body, &lines)
	}
	// The checker is handed the document so far, the latest only, on a
	// goroutine of its own. A prefix stays valid when buf grows: the bytes
	// it holds do not change.
	fed := make(chan []byte, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for doc := range fed {
			rs.check.Feed(doc)
		}
	})
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
			lines.Add(int64(bytes.Count(buf[len(buf)-n:], newline)))
		}
		if err != nil {
			break
		}
	}
	close(fed)
	wg.Wait()
	if err != io.EOF {
		return nil, err
	}
	return buf, nil
}

// empty empties rs.file for a read of the document, unless it is empty
// already (the first read: writeOutput's new file). A file emptied by a
// truncation is written out by ext4 when it is closed (its auto_da_alloc:
// the 17 MB of a 100,000-trade document took 0.8 ms of the close, after
// the last byte of the results), as a new file is not.
func (rs *resultsStream) empty() error {
	fi, err := rs.file.Stat()
	if err != nil {
		return err
	}
	pos, err := rs.file.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if fi.Size() == 0 && pos == 0 {
		return nil
	}
	if err := rs.file.Truncate(0); err != nil {
		return err
	}
	_, err = rs.file.Seek(0, io.SeekStart)
	return err
}

// readWindows is read with a file: each piece read is written to the file
// and fed to the check, and the bytes the check no longer needs are
// dropped when the window is full (all of them once it is left to the
// whole document's check, which reads the file).
func (rs *resultsStream) readWindows(body io.Reader, lines *atomic.Int64) ([]byte, error) {
	buf := make([]byte, 0, readWindow)
	for {
		if len(buf) == cap(buf) {
			keep := rs.check.Needed()
			if rs.check.Whole() {
				keep = rs.base + len(buf)
			}
			if drop := keep - rs.base; drop >= cap(buf)/2 {
				buf = buf[:copy(buf, buf[drop:])]
				rs.base += drop
			} else {
				buf = slices.Grow(buf, cap(buf))
			}
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			piece := buf[len(buf) : len(buf)+n]
			buf = buf[:len(buf)+n]
			if _, err := rs.file.Write(piece); err != nil {
				return nil, localError{fmt.Errorf("writing the results: %w", err)}
			}
			rs.check.FeedFrom(buf, rs.base)
			lines.Add(int64(bytes.Count(piece, newline)))
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// finish finishes the check of the document of which read returned doc:
// with the file's copy when the check needs the whole document.
func (rs *resultsStream) finish(doc []byte) (failed int, err error) {
	failed, err = rs.check.FinishFrom(doc, rs.base)
	if errors.Is(err, batch.ErrNeedWhole) {
		whole := make([]byte, rs.base+len(doc))
		if _, rerr := rs.file.ReadAt(whole, 0); rerr != nil {
			return 0, localError{fmt.Errorf("reading the results back: %w", rerr)}
		}
		return rs.check.Finish(whole)
	}
	return failed, err
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
