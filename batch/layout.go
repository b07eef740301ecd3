package batch

// layout is the shape of a flat object read in full: its keys in order,
// each with its value's kind, a plain string or a number. Documents made
// by programs repeat one shape object after object (a trade type's
// fields, a chunk's results), and an object of the shape it learned is
// read in one pass over the bytes it expects (fill): no white space
// within, each key where it was, each value of its kind. Anything else is
// not read, for the full read (members) to take it; what fill takes, the
// full read takes too, as the same members.
type layout struct {
	// seps are the bytes before each value: `{"key":` for the first,
	// `,"key":` for the others, held back to back in bytes.
	seps  [][]byte
	kinds []byte
	bytes []byte
}

// learn sets l to the shape of the object ms just read and reports true,
// when its keys are plain and its values plain strings or numbers; else
// it leaves l as it was.
func (l *layout) learn(ms *members) bool {
	if len(ms.list) == 0 {
		return false
	}
	for k := range ms.list {
		if m := &ms.list[k]; m.keyInArena || (m.kind != kindNumber && (m.kind != kindString || !m.plain)) {
			return false
		}
	}
	l.reset()
	for k := range ms.list {
		m := &ms.list[k]
		sep := byte(',')
		if k == 0 {
			sep = '{'
		}
		l.bytes = append(append(append(l.bytes, sep, '"'), ms.key(m)...), '"', ':')
		l.kinds = append(l.kinds, m.kind)
	}
	at := 0
	for k := range ms.list {
		n := len(`,"":`) + len(ms.key(&ms.list[k]))
		l.seps = append(l.seps, l.bytes[at:at+n:at+n])
		at += n
	}
	return true
}

// reset empties l: it reads nothing.
func (l *layout) reset() { l.seps, l.kinds, l.bytes = l.seps[:0], l.kinds[:0], l.bytes[:0] }

// fill reads the object at d[i:] if it has l's shape into list (emptied
// first, as flatMembers fills it) and returns it with the index just past
// the object; ok is false when it has not (or l is empty).
func (l *layout) fill(d []byte, i int, list []member) (_ []member, end int, ok bool) {
	list = list[:0]
	if len(l.seps) == 0 {
		return list, i, false
	}
	if cap(list) < len(l.seps) {
		list = make([]member, 0, len(l.seps))
	}
	list = list[:len(l.seps)]
	for k, sep := range l.seps {
		if len(d)-i < len(sep)+1 || string(d[i:i+len(sep)]) != string(sep) {
			return list[:0], i, false
		}
		// Written in place: a member made whole and then copied is
		// read back in wider loads than it was written in, which stall.
		m := &list[k]
		m.k0, m.k1, m.kind, m.keyInArena = int32(i+2), int32(i+len(sep)-2), l.kinds[k], false
		i += len(sep)
		m.v0 = int32(i)
		if m.kind == kindString {
			if d[i] != '"' {
				return list[:0], i, false
			}
			if i = plainEnd(d, i+1); i >= len(d) || d[i] != '"' {
				return list[:0], i, false
			}
			i++
			m.plain = true
		} else {
			if c := d[i]; c != '-' && !isDigit(c) {
				return list[:0], i, false
			}
			var fault string
			if i, fault = numberEnd(d, i); fault != "" {
				return list[:0], i, false
			}
			m.plain = false
		}
		m.v1 = int32(i)
	}
	if i >= len(d) || d[i] != '}' {
		return list[:0], i, false
	}
	return list, i + 1, true
}

// shapes are the layouts of the last few flat objects a members read
// (a mixed batch alternates a few trade types), each tried in turn. An
// object read once learns none: the first flat object is only counted.
// Objects that keep missing (many shapes, or none repeated) stop the
// trying for a while (a batch's varied market entries before its trades).
type shapes struct {
	list       [4]layout
	n, next    int // layouts learned; the one the next learned replaces
	flat       int // flat objects read in full
	hit, wrong int // objects read by a shape; objects no shape read
	skipped    int // objects not tried since the shapes went off
}

// shapesRest is how many objects are not tried once the shapes miss too
// often, before they are tried (and learned) again.
const shapesRest = 256

// fill reads the object at d[i:] by one of the shapes (layout.fill).
func (sh *shapes) fill(d []byte, i int, list []member) ([]member, int, bool) {
	if sh.off() {
		if sh.skipped++; sh.skipped < shapesRest {
			return list, i, false
		}
		sh.hit, sh.wrong, sh.skipped = 0, 0, 0
	}
	if sh.n == 0 {
		return list, i, false
	}
	for k := range sh.n {
		if got, end, ok := sh.list[k].fill(d, i, list); ok {
			sh.hit++
			return got, end, true
		}
	}
	sh.wrong++
	return list[:0], i, false
}

// off reports whether the shapes miss too often to be worth trying.
func (sh *shapes) off() bool { return sh.wrong >= 16 && sh.wrong > 4*sh.hit }

// learn takes the shape of the flat object ms just read in full, from the
// second such object on, in place of the oldest.
func (sh *shapes) learn(ms *members) {
	if sh.flat++; sh.flat < 2 || sh.off() {
		return
	}
	if sh.list[sh.next].learn(ms) {
		sh.next = (sh.next + 1) % len(sh.list)
		sh.n = min(sh.n+1, len(sh.list))
	}
}
