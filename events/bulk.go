package events

import (
	"encoding/json"
	"fmt"

	"github.com/pricefn/pricefn/batch"
)

// The data of chunk.requested and chunk.priced is a few small fields and
// one large member: the chunk's batch, the chunk's results, megabytes.
// encoding/json would scan that member three times to decode it (the
// Decoder's read, the value's scan, the member's own decoder) and twice
// to encode it (the member's encoder, then Marshal's check of its
// output). So New and Decode treat these types as bulk data: the small
// fields go through encoding/json on their own, and the large member is
// spliced in as bytes on the way out and read on the way in by its own
// decoder in the pass that splits the data (batch.SplitBatch,
// batch.SplitResults). Plain encoding/json still reads and writes the same
// documents.

// bulkData is event data New encodes itself.
type bulkData interface {
	appendData(dst []byte) ([]byte, error)
}

// bulkDecoder is event data Decode decodes itself.
type bulkDecoder interface {
	decodeData(data []byte) error
}

// appendBulk appends head, encoded by encoding/json, with the member
// named key added at its end by appendMember (when it is not nil).
func appendBulk(dst []byte, head any, key string, appendMember func([]byte) ([]byte, error)) ([]byte, error) {
	if appendMember == nil {
		h, err := marshalObject(head)
		return append(dst, h...), err
	}
	prefix, err := bulkPrefix(head, key)
	if err != nil {
		return nil, err
	}
	if dst, err = appendMember(append(dst, prefix...)); err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// bulkPrefix returns head encoded by encoding/json, but for its closing
// brace, followed by the key of a member to be added at its end: what
// comes before the bulk member.
func bulkPrefix(head any, key string) ([]byte, error) {
	h, err := marshalObject(head)
	if err != nil {
		return nil, err
	}
	h = h[:len(h)-1]
	if len(h) > 1 {
		h = append(h, ',')
	}
	h = append(h, '"')
	h = append(h, key...)
	return append(h, '"', ':'), nil
}

// marshalObject is json.Marshal of head, which must encode as an object.
func marshalObject(head any) ([]byte, error) {
	h, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	if len(h) < 2 || h[len(h)-1] != '}' {
		return nil, fmt.Errorf("events: %T does not encode as a JSON object", head)
	}
	return h, nil
}

// decodeHead decodes rest, data's members but the bulk one
// (batch.SplitBatch, batch.SplitResults), strictly into head.
func decodeHead(rest []byte, err error, head any) error {
	if err != nil {
		return err
	}
	return decodeStrict(rest, head)
}

func (c ChunkRequested) appendData(dst []byte) ([]byte, error) {
	b := c.Batch
	c.Batch = batch.Batch{}
	if b.Trades == nil && b.ValuationDate == "" {
		return appendBulk(dst, c, "batch", nil)
	}
	return appendBulk(dst, c, "batch", func(dst []byte) ([]byte, error) {
		return b.AppendJSON(dst)
	})
}

// decodeData decodes a chunk.requested's data, its batch in the same
// pass (batch.SplitChunk: the ids were checked by ingress, as a batch);
// the batch keeps parts of data, which an event's data never changes.
func (c *ChunkRequested) decodeData(data []byte) error {
	rest, b, err := batch.SplitChunk(data, "batch")
	if err := decodeHead(rest, err, c); err != nil {
		return err
	}
	if b != nil {
		c.Batch = *b
	}
	return nil
}

func (c ChunkPriced) appendData(dst []byte) ([]byte, error) {
	rs, room := c.Results, c.room
	c.Results = nil
	if rs == nil {
		return appendBulk(dst, c, "results", nil)
	}
	if dst == nil && room != nil && !room.used && len(room.buf) == resultsHeadRoom+len(rs) && &room.buf[resultsHeadRoom] == &rs[0] {
		// The results as SetResults encoded them, after room for what
		// comes before them: the data is made around them, not copied.
		prefix, err := bulkPrefix(c, "results")
		if err != nil {
			return nil, err
		}
		if start := resultsHeadRoom - len(prefix); start >= 0 {
			room.used = true
			copy(room.buf[start:], prefix)
			return append(room.buf[start:], '}'), nil
		}
	}
	if dst == nil {
		dst = make([]byte, 0, len(rs)+512+64*len(c.Totals))
	}
	return appendBulk(dst, c, "results", func(dst []byte) ([]byte, error) {
		return append(dst, rs...), nil
	})
}

// decodeData decodes a chunk.priced's data; Results is a part of data,
// checked as batch.ScanResults checks it in the same pass (ScanResults
// returns that check).
func (c *ChunkPriced) decodeData(data []byte) error {
	rest, member, scan, err := batch.SplitResults(data, "results")
	if err := decodeHead(rest, err, c); err != nil {
		return err
	}
	if member != nil {
		c.Results, c.scan, c.scanned = member, scan, member
	}
	return nil
}
