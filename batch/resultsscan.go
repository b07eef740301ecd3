package batch

import (
	"errors"
	"fmt"

	"github.com/pricefn/pricefn/pricing"
)

// ResultsScan is what ScanResults reads of a run of encoded results.
type ResultsScan struct {
	// IDs are the results' trade ids, in order, their bytes back to
	// back (a copy): no string and no pointer an id.
	IDs IDs
	// Failed counts the results with an error.
	Failed int
	// Run is the results laid out as AppendResults writes them (each on a
	// line of its own, comma separated, no brackets), ready for
	// ResultsWriter.WriteEncoded: byte for byte what AppendResults wrote
	// for results that went through any JSON re-formatting between
	// elements. It shares data's bytes when data is laid out as
	// AppendResultsArray writes it.
	Run []byte
}

// ScanResults checks a chunk's encoded results, a JSON array of result
// objects as AppendResultsArray writes it, without decoding them: one pass
// that validates the JSON, reads each result's id and whether it has an
// error, and rebuilds the run. It is the aggregator's check of a chunk
// (ids and count against the batch's record) at a fraction of a full
// decode (BenchmarkScanResults). A result that is not an object, has no
// string id, gives a key twice, a key no result has or a value of the
// wrong kind (a measure not a number, an empty error) is an error naming
// its index: what is stored is what a client's strict decoder reads.
func ScanResults(data []byte) (ResultsScan, error) {
	return scanResults(data, &resultChecker{})
}

// resultsTooLarge is the error for a results document of size bytes, over
// maxDocument.
func resultsTooLarge(size int) error {
	return fmt.Errorf("batch: results: %d bytes, more than the limit of %d", size, maxDocument)
}

// scanResults is ScanResults with the checker rc.
func scanResults(data []byte, rc *resultChecker) (ResultsScan, error) {
	var out ResultsScan
	if len(data) > maxDocument {
		return out, resultsTooLarge(len(data))
	}
	s := scanner{data: data}
	if c := s.peek(); c != '[' {
		if c == 0 {
			return out, errors.New("batch: results: empty")
		}
		return out, fmt.Errorf("batch: results: want a JSON array, got %q", data[s.pos])
	}
	err := s.results(&out, rc)
	if err == nil && s.peek() != 0 {
		err = errors.New("unexpected data after the results")
	}
	if err != nil {
		return ResultsScan{}, resultsError(err)
	}
	return out, nil
}

// resultsError words a fault of a results array.
func resultsError(err error) error {
	var se *scanError
	if errors.As(err, &se) {
		return fmt.Errorf("batch: results: malformed JSON at byte %d: %s", se.off, se.msg)
	}
	return fmt.Errorf("batch: results: %w", err)
}

// results reads the results array at s.pos into out with rc
// (ScanResults).
func (s *scanner) results(out *ResultsScan, rc *resultChecker) error {
	if c := s.peek(); c != '[' {
		v, err := s.value(1)
		if err != nil {
			return err
		}
		return fmt.Errorf("want a JSON array, got JSON %s", v.kindName())
	}
	data := s.data
	// The results as AppendResultsArray lays them out are their own run,
	// data[first:end]: it is taken as it is, not copied, until (unless) an
	// element sits elsewhere (the array was re-formatted), from which on
	// the run is rebuilt.
	first := s.pos + 1
	end, canonical := first, true
	// About 150 bytes a result (a European's with its greeks is 180)
	// and 8 bytes an id: room for the ids at once rather than by
	// doubling.
	n := min((len(data)-s.pos)/150+1, 1<<20)
	out.IDs = IDs{text: make([]byte, 0, 8*n), ends: make([]int32, 0, n)}
	err := s.array(func(i int) error {
		s.ws()
		start := s.pos
		id, err := rc.result(s, i)
		if err != nil {
			return err
		}
		if id.plain {
			out.IDs.add(id.raw[1 : len(id.raw)-1])
		} else {
			out.IDs.text = append(out.IDs.text, unquote(id.raw)...)
			out.IDs.end()
		}
		if canonical {
			sep := "\n"
			if i > 0 {
				sep = ",\n"
			}
			if start == end+len(sep) && string(data[end:start]) == sep {
				end = s.pos
				return nil
			}
			canonical = false
			out.Run = append(make([]byte, 0, len(data)), data[first:end]...)
		}
		if i > 0 {
			out.Run = append(out.Run, ',')
		}
		out.Run = append(out.Run, '\n')
		out.Run = append(out.Run, data[start:s.pos]...)
		return nil
	})
	if err == nil && canonical {
		out.Run = data[first:end:end]
	}
	out.Failed = rc.failed
	return err
}

// resultChecker checks results one at a time (ScanResults' checks) and
// counts those with an error.
type resultChecker struct {
	ms     members
	failed int
	// The measures' keys of the result before, by position: results of a
	// chunk name the same measures in the same order, and a key found
	// there is not looked for among every measure's name.
	known [16]struct {
		key  string
		kind byte
	}
	// shape is the last result read in full that had an id first and
	// numbers after it: the next is most likely the same (layout), and
	// its checks are then the shape's. None is learned when ms.full.
	shape layout
}

// result checks result i at s.pos, moves past it and returns its id (a
// string value).
func (rc *resultChecker) result(s *scanner, i int) (value, error) {
	// A result of the shape learned checks as it did: its id, first.
	if list, end, ok := rc.shape.fill(s.data, skipWS(s.data, s.pos), rc.ms.list); ok {
		rc.ms.reset(s)
		rc.ms.list, s.pos = list, end
		return value{kind: kindString, plain: true, raw: s.data[list[0].v0:list[0].v1]}, nil
	}
	if s.peek() != '{' {
		v, err := s.value(0)
		if err != nil {
			return value{}, err
		}
		return value{}, fmt.Errorf("result %d: must be an object, got JSON %s", i, v.kindName())
	}
	ms, known := &rc.ms, &rc.known
	if err := s.members(ms, 1); err != nil {
		return value{}, fmt.Errorf("result %d: %w", i, err)
	}
	var id value
	hasID := false
	for k := range ms.list {
		m := &ms.list[k]
		switch string(ms.key(m)) {
		case "id":
			v := ms.value(m)
			if v.kind != kindString {
				return value{}, fmt.Errorf("result %d: id must be a string, got JSON %s", i, v.kindName())
			}
			id, hasID = v, true
		case "error":
			if v := ms.value(m); v.kind != kindString || len(v.raw) == 2 {
				return value{}, fmt.Errorf("result %d: error must be a non-empty string, got JSON %s", i, v.kindName())
			}
			rc.failed++
		default:
			var kind byte
			if k < len(known) && known[k].key == string(ms.key(m)) {
				kind = known[k].kind
			} else {
				var ok bool
				if kind, ok = resultKind(ms.key(m)); !ok {
					return value{}, fmt.Errorf("result %d: unknown key %q", i, ms.key(m))
				}
				if k < len(known) {
					known[k].key, known[k].kind = string(ms.key(m)), kind
				}
			}
			if m.kind != kind {
				return value{}, fmt.Errorf("result %d: %s must be a JSON %s, got JSON %s", i, ms.key(m), value{kind: kind}.kindName(), ms.value(m).kindName())
			}
		}
	}
	if !hasID {
		return value{}, fmt.Errorf("result %d: no id", i)
	}
	rc.learnShape(ms)
	return id, nil
}

// learnShape takes the result ms, just checked in full, as the shape of
// the next when it is an id and measures: its checks are then those of
// the shape (an error's value, a non-empty string, is not). Another
// result leaves the shape as it was.
func (rc *resultChecker) learnShape(ms *members) {
	if ms.full || len(ms.list) == 0 || string(ms.key(&ms.list[0])) != "id" {
		return
	}
	for k := range ms.list {
		if m := &ms.list[k]; (k == 0) != (m.kind == kindString) {
			return
		}
	}
	rc.shape.learn(ms)
}

// ScanResultsDocument is ScanResults on the results of a results
// document (Results.MarshalJSON, ResultsWriter), in the same one pass
// over the document.
func ScanResultsDocument(doc []byte) (ResultsScan, error) {
	var out ResultsScan
	found, err := scanMember(doc, "results", func(s *scanner) error { return s.results(&out, &resultChecker{}) })
	switch {
	case err != nil:
		return ResultsScan{}, fmt.Errorf("batch: results document: %w", splitError(err))
	case !found:
		return ResultsScan{}, errors.New(`batch: results document: no "results"`)
	}
	return out, nil
}

// resultKind returns the JSON kind of the value of key in a result
// besides id and error: a number for a measure, an array for cashflows
// and scenarioNpv; false for a key no result has.
func resultKind(key []byte) (byte, bool) {
	if string(key) == "scenarioNpv" || string(key) == pricing.Cashflows.String() {
		return kindArray, true
	}
	for m := pricing.Measure(0); m.Valid(); m++ {
		if m.String() == string(key) {
			return kindNumber, true
		}
	}
	return 0, false
}

// AppendResultsArray appends rs to b as a JSON array, each result on a
// line of its own: what a pricer puts in its chunk.priced event, and what
// ScanResults reads.
func AppendResultsArray(b []byte, rs []TradeResult) ([]byte, error) {
	b = append(b, '[')
	b, err := AppendResults(b, rs)
	if err != nil {
		return nil, err
	}
	return append(b, "\n]"...), nil
}
