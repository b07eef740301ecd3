package batch

import (
	"errors"
	"fmt"
	"slices"
)

// SplitObject reads the JSON object data in one validating pass (Decode's
// checks: RFC 8259, no key given twice, nothing after the object) and
// returns the value of its member named key as the bytes of data it
// occupies (nil when there is none) and the object's other members as an
// object of their own, in order, their values copied.
//
// It is for data that embeds one large document of any kind: the few
// small members go to encoding/json, which would otherwise scan the large
// one three times over. For a chunk's batch and a chunk's results,
// SplitBatch and SplitResults read the member in the same pass.
func SplitObject(data []byte, key string) (rest, member []byte, err error) {
	rest, err = splitObject(data, key, func(s *scanner) error {
		v, err := s.value(1)
		member = v.raw
		return err
	})
	return rest, member, err
}

// SplitBatch is SplitObject for an object whose member key is a batch
// document: the member is decoded as DecodeBytes decodes a document, in the
// same pass (nil when there is none). The batch keeps parts of data. The
// byte offset of a syntax fault counts from the start of data.
func SplitBatch(data []byte, key string) (rest []byte, b *Batch, err error) {
	return splitBatch(data, key, false)
}

// SplitChunk is SplitBatch for a chunk of a batch whose ids were checked
// as a whole (ingress decodes the batch before it splits it): its ids are
// not looked at again for one given twice, which is a tenth of a chunk's
// decoding. A chunk that has one anyway, which its signature says no
// ingress made, is refused downstream: the aggregator checks each result's
// id against the batch's, in order.
func SplitChunk(data []byte, key string) (rest []byte, b *Batch, err error) {
	return splitBatch(data, key, true)
}

func splitBatch(data []byte, key string, idsChecked bool) (rest []byte, b *Batch, err error) {
	rest, err = splitObject(data, key, func(s *scanner) error {
		d := decoder{s: scanner{data: s.data, pos: s.pos, in: newInterner()}, idsChecked: idsChecked}
		nb, err := d.batch(false)
		if err != nil {
			return memberError{documentError(err)}
		}
		s.pos, b = d.s.pos, nb
		return nil
	})
	return rest, b, err
}

// SplitResults is SplitObject for an object whose member key is a run of
// results: the member (nil when there is none) is checked as ScanResults
// checks an array, in the same pass. The byte offset of a syntax fault
// counts from the start of data.
func SplitResults(data []byte, key string) (rest, member []byte, scan ResultsScan, err error) {
	rest, err = splitObject(data, key, func(s *scanner) error {
		s.ws()
		start := s.pos
		if err := s.results(&scan, &resultChecker{}); err != nil {
			return memberError{resultsError(err)}
		}
		member = s.data[start:s.pos:s.pos]
		return nil
	})
	if err != nil {
		return nil, nil, ResultsScan{}, err
	}
	return rest, member, scan, nil
}

// splitObject is SplitObject with the member's value read by read,
// positioned at it, which must consume it. An error read words itself is
// a memberError, returned as it is.
func splitObject(data []byte, key string, read func(s *scanner) error) (rest []byte, err error) {
	rest = append(make([]byte, 0, 256), '{')
	err = eachMember(data, func(k string, s *scanner) error {
		if k == key {
			return read(s)
		}
		v, err := s.value(1)
		if err != nil {
			return err
		}
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = appendString(rest, k)
		rest = append(rest, ':')
		rest = append(rest, v.raw...)
		return nil
	})
	if me, ok := err.(memberError); ok {
		return nil, me.error
	}
	if err != nil {
		return nil, splitError(err)
	}
	return append(rest, '}'), nil
}

// memberError is a fault of the member splitObject hands to its reader,
// already worded.
type memberError struct{ error }

// splitError words a fault of the document's syntax with its offset.
func splitError(err error) error {
	var se *scanError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at byte %d: %s", se.off, se.msg)
	}
	return err
}

// TradeIDs reads the trade ids of a batch document, in order, in one pass
// that checks its JSON and nothing else of its trades (a document without
// trades has none): what a client needs to match results to what it sent,
// at a fraction of Decode's cost. The ids are copies.
func TradeIDs(doc []byte) (IDs, error) { return tradeIDs(doc, true) }

// tradeIDs is TradeIDs, reading trades by their shape (layout) when
// byShape is set, else each in full (the tests' reference).
func tradeIDs(doc []byte, byShape bool) (IDs, error) {
	n := min(len(doc)/100+1, 1<<16) // about 100 bytes a trade; a document of market data grows it
	ids := IDs{text: make([]byte, 0, 8*n), ends: make([]int32, 0, n)}
	ms := members{full: !byShape}
	_, err := scanMember(doc, "trades", func(s *scanner) error {
		err := s.array(func(i int) error {
			if err := s.members(&ms, 2); err != nil {
				return fmt.Errorf("trade %d: %w", i, err)
			}
			for k := range ms.list {
				if m := &ms.list[k]; string(ms.key(m)) == "id" {
					v := ms.value(m)
					if v.kind != kindString {
						return fmt.Errorf("trade %d: id must be a string, got JSON %s", i, v.kindName())
					}
					if v.plain {
						ids.add(v.raw[1 : len(v.raw)-1])
					} else {
						ids.text = append(ids.text, unquote(v.raw)...)
						ids.end()
					}
					return nil
				}
			}
			return fmt.Errorf("trade %d: no id", i)
		})
		if err != nil {
			return fmt.Errorf("trades: %w", splitError(err))
		}
		return nil
	})
	if err != nil {
		return IDs{}, fmt.Errorf("batch: %w", splitError(err))
	}
	return ids, nil
}

// scanMember reads the JSON object doc in one validating pass
// (eachMember), handing the value of its member named key to read,
// positioned at it, and checking the others. It reports whether the
// member was there.
func scanMember(doc []byte, key string, read func(s *scanner) error) (found bool, err error) {
	err = eachMember(doc, func(k string, s *scanner) error {
		if k == key {
			found = true
			return read(s)
		}
		_, err := s.value(1)
		return err
	})
	return found, err
}

// eachMember reads the JSON object doc in one validating pass (Decode's
// checks: RFC 8259, no key given twice, nothing after the object),
// calling f with each member's key, s positioned at its value, which f
// must read.
func eachMember(doc []byte, f func(key string, s *scanner) error) error {
	if len(doc) > maxDocument {
		return fmt.Errorf("%d bytes, more than the limit of %d", len(doc), maxDocument)
	}
	s := scanner{data: doc}
	if c := s.peek(); c != '{' {
		if c == 0 {
			return errors.New("empty document")
		}
		v, err := s.value(0)
		if err != nil {
			return err
		}
		return fmt.Errorf("want a JSON object, got JSON %s", v.kindName())
	}
	var seen []string
	err := s.object(func(k []byte) error {
		if slices.Contains(seen, string(k)) {
			return &duplicateKeyError{string(k)}
		}
		seen = append(seen, string(k))
		return f(string(k), &s)
	})
	if err == nil && s.peek() != 0 {
		err = s.errorf("invalid character %s after top-level value", quoteChar(s.data[s.pos]))
	}
	return err
}
