package batch

import (
	"errors"
	"fmt"
)

// SplitObject reads the JSON object data in one validating pass (Decode's
// checks: RFC 8259, no key given twice, nothing after the object) and
// returns the value of its member named key as the bytes of data it
// occupies (nil when there is none) and the object's other members as an
// object of their own, in order, their values copied.
//
// It is how an event's data that embeds one large document (a chunk's
// batch, a chunk's results) is decoded: the large member by its own
// decoder (DecodeBytes, ScanResults), the few small ones by encoding/json,
// which would otherwise scan the large one three times over.
func SplitObject(data []byte, key string) (rest, member []byte, err error) {
	if len(data) > maxDocument {
		return nil, nil, fmt.Errorf("%d bytes, more than the limit of %d", len(data), maxDocument)
	}
	s := scanner{data: data}
	if c := s.peek(); c != '{' {
		if c == 0 {
			return nil, nil, errors.New("empty document")
		}
		v, err := s.value(0)
		if err != nil {
			return nil, nil, splitError(err)
		}
		return nil, nil, fmt.Errorf("want a JSON object, got JSON %s", v.kindName())
	}
	var ms members
	if err := s.members(&ms, 1); err != nil {
		return nil, nil, splitError(err)
	}
	if s.peek() != 0 {
		return nil, nil, splitError(s.errorf("invalid character %s after top-level value", quoteChar(s.data[s.pos])))
	}
	size := 2
	for i := range ms.list {
		m := &ms.list[i]
		if string(ms.key(m)) == key {
			member = data[m.v0:m.v1]
			continue
		}
		size += int(m.k1-m.k0) + int(m.v1-m.v0) + 4
	}
	rest = make([]byte, 0, size)
	rest = append(rest, '{')
	for i := range ms.list {
		m := &ms.list[i]
		k := ms.key(m)
		if string(k) == key {
			continue
		}
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = appendString(rest, string(k))
		rest = append(rest, ':')
		rest = append(rest, data[m.v0:m.v1]...)
	}
	return append(rest, '}'), member, nil
}

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
// at a fraction of Decode's cost.
func TradeIDs(doc []byte) ([]string, error) {
	_, trades, err := SplitObject(doc, "trades")
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	if trades == nil {
		return nil, nil // Decode's to refuse
	}
	s := scanner{data: trades}
	var ids []string
	var ms members
	err = s.array(func(i int) error {
		if err := s.members(&ms, 2); err != nil {
			return fmt.Errorf("trade %d: %w", i, err)
		}
		for k := range ms.list {
			if m := &ms.list[k]; string(ms.key(m)) == "id" {
				v := ms.value(m)
				if v.kind != kindString {
					return fmt.Errorf("trade %d: id must be a string, got JSON %s", i, v.kindName())
				}
				ids = append(ids, v.text())
				return nil
			}
		}
		return fmt.Errorf("trade %d: no id", i)
	})
	if err != nil {
		return nil, fmt.Errorf("batch: trades: %w", splitError(err))
	}
	return ids, nil
}
