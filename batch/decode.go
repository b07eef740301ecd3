package batch

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/pricefn/pricefn/pricing"
)

// Decode reads one batch document strictly: unknown fields are errors, and
// so are a key given twice in any object and anything after the document.
// It checks the batch's shape (ids present and unique, trade types named)
// and decodes every trade of a known type into its type's terms in the
// same pass (a trade whose own fields are bad fails alone, at Compile);
// Compile checks the rest.
//
// A reader that tells its size (a regular *os.File, a bytes.Reader) is
// read into one buffer of that size; any other grows one as it reads.
func Decode(r io.Reader) (*Batch, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("batch: reading the document: %w", err)
	}
	return DecodeBytes(data)
}

// readAll is io.ReadAll into a buffer of the reader's size where it tells
// it: a 100 MB document then costs 100 MB, not the 200 MB or more of
// doubling.
func readAll(r io.Reader) ([]byte, error) {
	size := -1
	switch v := r.(type) {
	case interface{ Len() int }:
		size = v.Len()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			size = int(fi.Size())
		}
	}
	if size < 0 || size > maxDocument {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, size+1) // +1: EOF is seen without growing
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // the file grew: let append size it
		}
	}
}

// DecodeBytes is Decode for a document in memory. The batch keeps parts
// of data (each trade's and each market entry's JSON): data must not be
// modified while the batch is in use.
func DecodeBytes(data []byte) (*Batch, error) { return decodeDocument(data, false) }

// DecodePlan is DecodeBytes for a batch that is to be split into chunks,
// not priced: it makes every check that rejects a batch (the document, the
// fields every trade shares, its references, its ids), but of a trade
// whose type is costed by a few of its fields (a European by its model
// and quote, a barrier, an FRA) it reads only those. A fault in the rest
// fails the trade where it is priced, as a fault of a trade's terms
// always does. Compile makes of such a batch a Job that plans chunks
// (Cost, PlanChunks) and prices no trade.
func DecodePlan(data []byte) (*Batch, error) { return decodeDocument(data, true) }

func decodeDocument(data []byte, plan bool) (*Batch, error) {
	if len(data) > maxDocument {
		return nil, batchErr("", "the document is %d bytes, more than the limit of %d", len(data), maxDocument)
	}
	d := decoder{s: scanner{data: data, in: newInterner()}, plan: plan}
	b, err := d.batch(true)
	if err != nil {
		return nil, documentError(err)
	}
	return b, nil
}

// UnmarshalJSON decodes a batch embedded in another document (a chunk
// event's data) as strictly as Decode does: unknown fields and a bad shape
// are errors.
func (b *Batch) UnmarshalJSON(data []byte) error {
	nb, err := DecodeBytes(bytes.Clone(data))
	if err != nil {
		return err
	}
	*b = *nb
	return nil
}

// UnmarshalJSON reads one trade alone: it keeps a copy of its JSON, reads
// the fields every trade shares and decodes the terms of a known type.
func (t *Trade) UnmarshalJSON(b []byte) error {
	d := decoder{s: scanner{data: bytes.Clone(b)}}
	start := d.s.peek()
	if start != '{' {
		v, err := d.s.value(0)
		if err != nil {
			return documentError(err)
		}
		return &Error{Field: "trade", Reason: "must be an object, got JSON " + v.kindName()}
	}
	pos := d.s.pos
	if err := d.s.members(&d.ms, 1); err != nil {
		return documentError(d.fieldError("trade", err))
	}
	nt := Trade{Raw: d.s.data[pos:d.s.pos]}
	if err := d.trade(&nt, &d.ms, -1, pos); err != nil {
		return err
	}
	if d.s.peek() != 0 {
		return &Error{Reason: "unexpected data after the trade"}
	}
	*t = nt
	return nil
}

// maxDocument bounds a document's bytes: the decoder keeps offsets into
// it in 32 bits.
const maxDocument = math.MaxInt32

// decoder is the state of one Decode.
type decoder struct {
	s  scanner
	ms members // the members of the trade being read
	// plan skips the terms of the trades whose type costs them from a
	// few of their fields (DecodePlan).
	plan bool
	// idsChecked skips the check for ids given twice: the trades are a
	// chunk of a batch whose ids were checked as a whole (SplitChunk).
	idsChecked bool
	// lastType and lastEntry cache the registry's look-up of the type
	// the previous trade had.
	lastType  string
	lastEntry tradeType
	// wires holds the trades' wire forms, a block at a time.
	wires slabs
	// stream, when set, takes the trades as they are read, a block at a
	// time (StreamPriceTo): given the batch's members read before them
	// and a full array of trades, it returns the empty array the next
	// ones are read into, and nil the first. The batch keeps none of
	// them.
	stream func(b *Batch, trades []Trade) ([]Trade, error)
}

// documentError words a fault of the document for the client.
func documentError(err error) error {
	if _, ok := err.(*Error); ok {
		return err // worded already, a fault of the document within it too
	}
	var se *scanError
	if errors.As(err, &se) {
		if se.valid != "" {
			return &Error{Reason: se.valid, Err: err}
		}
		if se.eof {
			return &Error{Reason: "malformed JSON: unexpected end of document", Err: err}
		}
		return &Error{Reason: fmt.Sprintf("malformed JSON at byte %d: %s", se.off, se.msg), Err: err}
	}
	return err
}

// fieldError returns err, met reading the value at path, as a batch
// *Error on the field it names.
func (d *decoder) fieldError(path string, err error) error {
	var te *typeError
	var de *duplicateKeyError
	var be *Error
	var se *scanError
	var ne *nestedError
	switch {
	case errors.As(err, &se) && se.valid != "":
		// Valid JSON but no batch (a key given twice, nesting too deep)
		// within the value: named on its path, not as malformed JSON.
		return &Error{Field: path, Reason: se.valid, Err: err}
	case errors.As(err, &se), errors.As(err, &be):
		return err
	case errors.As(err, &ne):
		return d.fieldError(joinPath(path, ne.field), ne.err)
	case errors.As(err, &te):
		return &Error{Field: joinPath(path, te.field), Reason: "must be " + te.want + ", got JSON " + te.got, Err: err}
	case errors.As(err, &de):
		return &Error{Field: path, Reason: de.Error(), Err: err}
	}
	return &Error{Field: path, Reason: err.Error(), Err: err}
}

func joinPath(path, field string) string {
	switch {
	case path == "":
		return field
	case field == "":
		return path
	}
	return path + "." + field
}

// utf16or32 reports whether doc starts as a JSON text encoded in UTF-16
// or UTF-32 does (what Windows PowerShell's > writes): a byte order mark
// FF FE or FE FF, or a zero byte among the first two, which in UTF-8 JSON
// can be neither white space nor the start of a value.
func utf16or32(doc []byte) bool {
	if len(doc) < 2 {
		return false
	}
	return doc[0] == 0xff && doc[1] == 0xfe || doc[0] == 0xfe && doc[1] == 0xff || doc[0] == 0 || doc[1] == 0
}

// topFields are the keys of a batch document, in the order of the bits
// that mark them read.
var topFields = [...]string{"id", "valuationDate", "measures", "deadline", "market", "trades", "scenarios", "risk", "scenarioDetail"}

// batch reads the batch document at the scanner's position; whole says
// it is the whole of the data, nothing after it.
func (d *decoder) batch(whole bool) (*Batch, error) {
	s := &d.s
	if bytes.HasPrefix(s.data[s.pos:], []byte("\xef\xbb\xbf")) {
		return nil, &Error{Field: "(document)", Reason: "starts with a UTF-8 byte order mark, which JSON text must not (RFC 8259): save it without one"}
	}
	if utf16or32(s.data[s.pos:]) {
		return nil, &Error{Field: "(document)", Reason: "is UTF-16 or UTF-32 text, where JSON text must be UTF-8 (RFC 8259): save it as UTF-8"}
	}
	switch s.peek() {
	case 0:
		return nil, &Error{Reason: "empty document, want a batch JSON object", Err: io.EOF}
	case '{':
	default:
		v, err := s.value(0)
		if err != nil {
			return nil, err
		}
		return nil, &Error{Field: "(document)", Reason: "must be an object, got JSON " + v.kindName()}
	}
	b := &Batch{}
	var read uint
	err := s.object(func(key []byte) error {
		if d.stream != nil && read&(1<<5) != 0 {
			return errNotStreamed // the trades were priced without it
		}
		k := -1
		for i, f := range topFields {
			if string(key) == f {
				k = i
			}
		}
		if k < 0 {
			return &Error{Reason: fmt.Sprintf("unknown field %q", pricing.Shown(string(key)))}
		}
		if read&(1<<k) != 0 {
			return &Error{Reason: fmt.Sprintf("duplicate key %q", pricing.Shown(string(key)))}
		}
		read |= 1 << k
		switch k {
		case 4:
			return d.market(&b.Market)
		case 5:
			return d.trades(b)
		}
		// The scenarios, risk and scenarioDetail are read whole here and
		// walked object by object (decodeField), which names the path of
		// a key given twice.
		s.lax = k >= 6
		v, err := s.value(0)
		s.lax = false
		if err != nil {
			return d.fieldError(topFields[k], err)
		}
		switch k {
		case 0:
			err = v.str("id", &b.ID)
		case 1:
			err = v.str("valuationDate", &b.ValuationDate)
		case 2:
			err = v.strs("measures", &b.Measures)
		case 3:
			err = v.str("deadline", &b.Deadline)
		default: // scenarios, risk, scenarioDetail (scenario.go)
			err = b.Scenarios.decodeField(topFields[k], v.raw)
		}
		if err != nil {
			return d.fieldError("", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if whole && s.peek() != 0 {
		return nil, batchErr("", "unexpected data after the batch document")
	}
	if b.ValuationDate == "" {
		return nil, batchErr("valuationDate", "is required (YYYY-MM-DD)")
	}
	if b.ID != "" {
		if err := CheckBatchID(b.ID); err != nil {
			return nil, err
		}
	}
	if b.Deadline != "" {
		if _, err := ParseDeadline(b.Deadline); err != nil {
			return nil, err
		}
	}
	if b.Trades == nil {
		return nil, batchErr("trades", "is required (a list of trades)")
	}
	return b, nil
}

// market reads the market section, keeping each curve's and underlying's
// JSON for the chunks that carry them (Batch.ChunkJSON).
func (d *decoder) market(m *MarketData) error {
	s := &d.s
	if ok, err := d.objectOrNull("market"); !ok {
		return err
	}
	var curves, unds bool
	return s.object(func(key []byte) error {
		switch string(key) {
		case "curves":
			if curves {
				return &Error{Field: "market", Reason: `duplicate key "curves"`}
			}
			curves = true
			return marketSection(d, "market.curves", &m.Curves, &m.rawCurves)
		case "underlyings":
			if unds {
				return &Error{Field: "market", Reason: `duplicate key "underlyings"`}
			}
			unds = true
			return marketSection(d, "market.underlyings", &m.Underlyings, &m.rawUnderlyings)
		}
		return &Error{Field: "market", Reason: fmt.Sprintf("unknown field %q", pricing.Shown(string(key)))}
	})
}

// marketSection reads one named section of the market (curves or
// underlyings) into dst, keeping each entry's JSON in raw.
func marketSection[T any, PT interface {
	*T
	fieldSetter
}](d *decoder, path string, dst *map[string]T, raw *map[string][]byte) error {
	return d.named(path, func(name string, v value) error {
		if *dst == nil {
			*dst, *raw = map[string]T{}, map[string][]byte{}
		}
		var e T
		if err := d.entry(path+"."+pricing.Shown(name), v, PT(&e)); err != nil {
			return err
		}
		(*dst)[name], (*raw)[name] = e, v.raw
		return nil
	}, func(name string) bool { _, dup := (*dst)[name]; return dup })
}

// objectOrNull reports whether an object comes next, to be read; null is
// read (and not an object), and any other value is an error naming path.
func (d *decoder) objectOrNull(path string) (bool, error) {
	s := &d.s
	switch s.peek() {
	case '{':
		return true, nil
	case 'n':
		_, err := s.value(0)
		return false, err
	}
	v, err := s.value(0)
	if err != nil {
		return false, err
	}
	return false, &Error{Field: path, Reason: "must be an object, got JSON " + v.kindName()}
}

// named reads an object of named entries at path (null is none), calling
// f with each; seen reports a name read before.
func (d *decoder) named(path string, f func(name string, v value) error, seen func(string) bool) error {
	s := &d.s
	if ok, err := d.objectOrNull(path); !ok {
		return err
	}
	return s.object(func(key []byte) error {
		name := string(key)
		if seen(name) {
			return &Error{Field: path, Reason: fmt.Sprintf("duplicate key %q", pricing.Shown(name))}
		}
		if s.peek() == '{' {
			// An entry: its own duplicate keys are named on its path.
			start := s.pos
			if err := s.members(&d.ms, 1); err != nil {
				return d.fieldError(path+"."+pricing.Shown(name), err)
			}
			return f(name, value{kind: kindObject, raw: s.data[start:s.pos]})
		}
		v, err := s.value(0)
		if err != nil {
			return d.fieldError(path+"."+name, err)
		}
		return f(name, v)
	})
}

// entry reads one market entry, the object v at path, into w.
func (d *decoder) entry(path string, v value, w fieldSetter) error {
	if err := v.decodeObject(w); err != nil {
		return d.fieldError(path, err)
	}
	return nil
}

// trades reads the trades list, each trade in one pass.
func (d *decoder) trades(b *Batch) error {
	s := &d.s
	switch s.peek() {
	case 'n':
		_, err := s.value(0)
		b.Trades = nil
		return err
	case '[':
	default:
		v, err := s.value(0)
		if err != nil {
			return err
		}
		return &Error{Field: "trades", Reason: "must be a list, got JSON " + v.kindName()}
	}
	// The trades from a seam on read on another core (decodeparallel.go),
	// taken when this read meets the seam at a trade's start.
	second := d.readSecondHalf()
	if second != nil {
		defer second.abandon() // it reads the data, whose owner may reuse it after
	}
	var trades []Trade
	if d.stream != nil {
		var err error
		if trades, err = d.stream(b, nil); err != nil {
			return err
		}
	} else {
		// About 100 bytes a trade: one allocation for most batches (the
		// second half's trades are copied in when taken).
		trades = newTrades(min((len(s.data)-s.pos)/100+1, 1<<20))
	}
	array := trades
	err := s.array(func(i int) error {
		if i >= MaxTrades {
			return batchErr("trades", "has more than the limit of %d trades", MaxTrades)
		}
		c := s.peek()
		if second != nil && s.pos >= second.seam {
			if rest, ok := second.take(s.pos, len(trades)); ok {
				trades = append(trades, rest...)
				second.release()
				s.pos = second.end // the list's closing bracket
				return nil
			}
			second.stop.Store(true) // the deferred abandon waits for it
			second = nil
		}
		t, err := d.tradeAt(c, i)
		if err != nil {
			return err
		}
		trades = append(trades, t)
		if d.stream != nil && len(trades) == cap(trades) {
			trades, err = d.stream(b, trades)
		}
		return err
	})
	if d.stream != nil {
		if err == nil && len(trades) > 0 {
			_, err = d.stream(b, trades)
		}
		b.Trades = trades[:0]
		return err
	}
	b.Trades = trades
	if sameArray(trades, array) {
		b.array = array
	}
	if err != nil || d.idsChecked {
		return err
	}
	return uniqueIDs(trades)
}

// tradeAt reads trade i at s.pos, whose first byte is c.
func (d *decoder) tradeAt(c byte, i int) (Trade, error) {
	s := &d.s
	if c != '{' {
		v, err := s.value(0)
		switch {
		case err != nil:
			return Trade{}, err
		case v.kind == kindNull:
			return Trade{}, batchErr(tradeField(i), "must be an object")
		}
		return Trade{}, &Error{Field: tradeField(i), Reason: "must be an object, got JSON " + v.kindName()}
	}
	start := s.pos
	if err := s.members(&d.ms, 1); err != nil {
		return Trade{}, d.fieldError(tradeField(i), err)
	}
	t := Trade{Raw: s.data[start:s.pos:s.pos]}
	err := d.trade(&t, &d.ms, i, start)
	return t, err
}

// uniqueIDs returns the error of the first trade, in document order, whose
// id an earlier trade has. It sets the ids' hashes apart, a fraction of the
// time and memory of a map of 100,000 ids, and looks closer (with the map)
// only when two meet in the set with equal tags.
func uniqueIDs(trades []Trade) error { return uniqueIDsSeeded(trades, maphash.MakeSeed()) }

// uniqueIDsSeeded is uniqueIDs with the ids hashed under seed.
func uniqueIDsSeeded(trades []Trade, seed maphash.Seed) error {
	// An open-addressing set of the ids' hashes, at most half full. A slot
	// holds the high 32 bits of a hash (its tag), the low bits choose the
	// slot: 4 bytes a slot, not 8, half the fresh memory. Two ids whose
	// tags are equal meet in a probe once in some 2^32 comparisons, and
	// then the map tells whether they are the same.
	size := 16
	for size < 2*len(trades) {
		size *= 2
	}
	set := makeFaulted[uint32](size)
	mask := uint64(size - 1)
	for i := range trades {
		h := maphash.String(seed, trades[i].ID)
		tag := uint32(h>>32) | 1 // 0 marks an empty slot
		for k := h & mask; ; k = (k + 1) & mask {
			if set[k] == 0 {
				set[k] = tag
				break
			}
			if set[k] == tag {
				return firstDuplicateID(trades)
			}
		}
	}
	return nil
}

// firstDuplicateID is uniqueIDs by a map, for the batch that may have a
// duplicate.
func firstDuplicateID(trades []Trade) error {
	seen := make(map[string]int, len(trades))
	for i := range trades {
		if j, dup := seen[trades[i].ID]; dup {
			return batchErr(fmt.Sprintf("trades[%d].id", i), "duplicate trade id %q (also trades[%d])", trades[i].ID, j)
		}
		seen[trades[i].ID] = i
	}
	return nil
}

// tradeField is the path of trade i, "trades[i]", for messages (made
// only when one is written); i < 0 is a trade alone, "trade".
func tradeField(i int) string {
	if i < 0 {
		return "trade"
	}
	return "trades[" + strconv.Itoa(i) + "]"
}

// MaxTradeID bounds a trade id's length in bytes: an id comes back in its
// result, its errors and every store's records of the batch.
const MaxTradeID = 256

// trade reads the members ms of trade i (tradeField), whose Raw starts at
// start in the document: the fields every trade shares, which must be
// right for the batch to be read, then the terms of its type, whose
// faults fail the trade alone.
func (d *decoder) trade(t *Trade, ms *members, i, start int) error {
	var h tradeHeader
	var id string     // "" when absent or null
	var shared uint64 // the members of the fields every type knows (common)
	// badRef is the first market name (underlying, curve, forecastCurve)
	// that is not a string: it names nothing, so it fails its trade alone,
	// as a missing one does, not the batch.
	var badRef *typeError
	for k := range ms.list {
		m := &ms.list[k]
		var err error
		switch string(ms.key(m)) {
		case "id":
			shared |= 1 << k
			switch v := ms.value(m); v.kind {
			case kindString:
				if v.plain {
					id = d.s.in.text(v.raw[1 : len(v.raw)-1]) // unique: not worth sharing
				} else if id, err = unquoteID(v.raw); err != nil {
					return batchErr(tradeField(i)+".id", "%s", err)
				}
			case kindNull:
				id = ""
			default:
				err = &typeError{"id", "a string", v.kindName()}
			}
		case "type":
			shared |= 1 << k
			// A type that is not a string fails its trade alone, as an
			// unknown one does: the trade names no market data then.
			if v := ms.value(m); v.kind != kindString && v.kind != kindNull {
				t.terms = fmt.Errorf("type must be a string, got JSON %s", v.kindName())
			} else {
				_ = v.str("type", &h.Type)
			}
		case "underlying":
			badRef = firstBadRef(badRef, ms.value(m).str("underlying", &h.Underlying))
		case "curve":
			badRef = firstBadRef(badRef, ms.value(m).str("curve", &h.Curve))
		case "forecastCurve":
			badRef = firstBadRef(badRef, ms.value(m).str("forecastCurve", &h.ForecastCurve))
		case "quantity":
			shared |= 1 << k
			h.Quantity = quantityOf(ms.value(m), int(m.v0)-start)
		}
		if err != nil {
			return d.fieldError(tradeField(i), err)
		}
	}
	if id == "" {
		return batchErr(tradeField(i)+".id", "is required (a non-empty string)")
	}
	if len(id) > MaxTradeID {
		return batchErr(tradeField(i)+".id", "is %d bytes, more than the %d a trade id may have", len(id), MaxTradeID)
	}
	t.ID, t.Type, t.quantity = id, h.Type, h.Quantity
	// A trade of an unknown type, or none, names nothing: it fails alone
	// (Compile).
	if h.Type == "" {
		if t.terms == nil {
			t.terms = errors.New("type is required")
		}
		return nil
	}
	tt := d.lastEntry
	if h.Type != d.lastType || tt == nil {
		var ok bool
		if tt, ok = tradeTypes[h.Type]; !ok {
			return nil
		}
		d.lastType, d.lastEntry = h.Type, tt
	}
	for _, r := range tt.refs() {
		if badRef != nil && badRef.field == r.field {
			// Of a field the type does not have, the type's decoding
			// says so (an unknown field).
			t.terms = badRef
			return nil
		}
	}
	for _, r := range tt.refs() {
		name, _ := h.ref(r.field)
		switch {
		case name == "":
		case r.kind == underlyingRef:
			t.Underlying = name
		default:
			t.Curves = append(t.Curves, name)
		}
	}
	if d.plan {
		if p, ok := tt.plan(ms); ok {
			t.terms = p
			return nil
		}
	}
	if w, err := tt.decode(ms, shared, &d.wires); err != nil {
		t.terms = err
	} else {
		t.terms = w
	}
	return nil
}

// firstBadRef returns bad, or else err's type error: the first market
// name of a trade that is not a string.
func firstBadRef(bad *typeError, err error) *typeError {
	if bad != nil || err == nil {
		return bad
	}
	return err.(*typeError) // value.str's only error
}

// quantityOf reads a trade's quantity, v at off in the trade's Raw: a
// value that is not a number does not fail the batch, only that trade
// (Compile).
func quantityOf(v value, off int) quantityField {
	switch v.kind {
	case kindNull:
		return quantityField{}
	case kindNumber:
		return quantityField{set: true, off: uint32(off)}
	}
	return quantityField{set: true, kind: v.kind}
}

// unquoteID returns the id of a checked JSON string literal that is not
// plain. Bytes that are not UTF-8, and escapes of lone surrogates, are
// refused: read as U+FFFD, as encoding/json reads them, two different ids
// became one (a duplicate), and an id came back in its result as another
// string than the client sent.
func unquoteID(lit []byte) (string, error) {
	if !utf8.Valid(lit) {
		return "", errors.New("is not valid UTF-8")
	}
	// The escapes in order, \\ one of them: a high surrogate must be
	// followed by a low one, and a low one must follow a high one.
	high := false
	for i := 1; i < len(lit)-1; i++ {
		if lit[i] != '\\' {
			if high {
				return "", errLoneSurrogate
			}
			continue
		}
		i++
		if lit[i] != 'u' {
			if high {
				return "", errLoneSurrogate
			}
			continue
		}
		v, _ := strconv.ParseUint(string(lit[i+1:i+5]), 16, 16) // checked hex
		i += 4
		switch {
		case v >= 0xd800 && v < 0xdc00:
			if high {
				return "", errLoneSurrogate
			}
			high = true
		case v >= 0xdc00 && v < 0xe000:
			if !high {
				return "", errLoneSurrogate
			}
			high = false
		case high:
			return "", errLoneSurrogate
		}
	}
	if high {
		return "", errLoneSurrogate
	}
	return unquote(lit), nil
}

// errLoneSurrogate is unquoteID's error for an escaped surrogate outside a
// pair.
var errLoneSurrogate = errors.New("escapes a lone surrogate (\\ud800 to \\udfff outside a pair)")
