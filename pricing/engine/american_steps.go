package engine

// americanFactor holds one Crank-Nicolson step (I - dt/2 L) v' = (I + dt/2 L) w
// factorised twice, so that consecutive steps can alternate direction and
// each step's back-substitution runs in the same sweep as the next step's
// elimination: one pass over the grid per time step instead of three. Here
// w are the values after the previous step, floored at the exercise value,
// and the right-hand side is folded into the elimination rows.
//
// LU form, eliminated upwards, substituted downwards:
//
//	y_i = p_i w_{i-1} + d_i w_i + s_i w_{i+1} + c_i y_{i-1}   (luEl)
//	v_i = y_i + e_i v_{i+1}                                   (luSub)
//
// UL form, eliminated downwards, substituted upwards:
//
//	z_i = p_i w_{i-1} + d_i w_i + s_i w_{i+1} + c_i z_{i+1}   (ulEl)
//	v_i = z_i + e_i v_{i-1}                                   (ulSub)
//
// Both recurrences are latency bound, so the passes take two nodes at a
// time with the products of consecutive coefficients (ee, cc), which halves
// the length of the dependency chains.
type americanFactor struct {
	luSub, ulSub []americanSub
	luEl, ulEl   []americanElim
}

// americanSub is one substitution coefficient e_i and its product ee with
// the coefficient of the node the substitution comes from.
type americanSub struct{ e, ee float64 }

// americanElim is one elimination row and the product cc of its recurrence
// coefficient with that of the row it recurs on.
type americanElim struct{ p, d, s, c, cc float64 }

// factorize fills f for a step of dt years with operator (lo, di, up).
func (f *americanFactor) factorize(lo, di, up []float64, dt float64) {
	n := len(di)
	h := 0.5 * dt
	e := 0.0 // LU super-diagonal of the previous row
	for i := 0; i < n; i++ {
		a, c := -h*lo[i], -h*up[i] // lo[0] = up[n-1] = 0
		inv := 1 / (1 - h*di[i] - a*e)
		e = c * inv
		f.luSub[i].e = -e
		f.luEl[i] = americanElim{p: h * lo[i] * inv, d: (1 + h*di[i]) * inv, s: h * up[i] * inv, c: -a * inv}
	}
	e = 0 // UL sub-diagonal of the next row
	for i := n - 1; i >= 0; i-- {
		a, c := -h*lo[i], -h*up[i]
		inv := 1 / (1 - h*di[i] - c*e)
		e = a * inv
		f.ulSub[i].e = -e
		f.ulEl[i] = americanElim{p: h * lo[i] * inv, d: (1 + h*di[i]) * inv, s: h * up[i] * inv, c: -c * inv}
	}
	for i := 0; i < n; i++ {
		if i+1 < n {
			f.luSub[i].ee = f.luSub[i].e * f.luSub[i+1].e
			f.ulEl[i].cc = f.ulEl[i].c * f.ulEl[i+1].c
		}
		if i > 0 {
			f.ulSub[i].ee = f.ulSub[i].e * f.ulSub[i-1].e
			f.luEl[i].cc = f.luEl[i].c * f.luEl[i-1].c
		}
	}
}

// americanElimUp eliminates the first (LU) step from the values v into buf.
func americanElimUp(buf, v []float64, el []americanElim) {
	n := len(v)
	buf, el = buf[:n], el[:n]
	y := el[0].d*v[0] + el[0].s*v[1]
	buf[0] = y
	for i := 1; i < n-1; i++ {
		e := &el[i]
		y = e.p*v[i-1] + e.d*v[i] + e.s*v[i+1] + e.c*y
		buf[i] = y
	}
	e := &el[n-1]
	buf[n-1] = e.p*v[n-2] + e.d*v[n-1] + e.c*y
}

// americanPassDown completes an LU step: it substitutes buf from the top
// node down, floors the result at g into v and, unless el is nil,
// eliminates the next (UL) step from v into buf in the same sweep.
func americanPassDown(buf, v, g []float64, sub []americanSub, el []americanElim) {
	n := len(buf)
	v, g, sub = v[:n], g[:n], sub[:n]
	if el == nil {
		raw := 0.0 // unfloored solution at the node above
		for i := n - 1; i >= 0; i-- {
			raw = buf[i] + sub[i].e*raw
			v[i] = americanFloor(raw, g[i])
		}
		return
	}
	el = el[:n]
	// State at node i: r = raw_{i+1}, wa = w_{i+1}, wb = w_{i+2}, z = z_{i+2}.
	r := buf[n-1]
	wb := americanFloor(r, g[n-1])
	v[n-1] = wb
	r = buf[n-2] + sub[n-2].e*r
	wa := americanFloor(r, g[n-2])
	v[n-2] = wa
	z := el[n-1].p*wa + el[n-1].d*wb
	buf[n-1] = z
	i := n - 3
	for ; i >= 1; i -= 2 {
		bi, bm := buf[i], buf[i-1]
		si, sm := &sub[i], &sub[i-1]
		ri := bi + si.e*r
		r = bm + sm.e*bi + sm.ee*r
		wi := americanFloor(ri, g[i])
		wm := americanFloor(r, g[i-1])
		v[i], v[i-1] = wi, wm
		e1, e0 := &el[i+1], &el[i]
		r1 := e1.p*wi + e1.d*wa + e1.s*wb
		buf[i+1] = r1 + e1.c*z
		z = e0.p*wm + e0.d*wi + e0.s*wa + e0.c*r1 + e0.cc*z
		buf[i] = z
		wb, wa = wi, wm
	}
	if i == 0 {
		r = buf[0] + sub[0].e*r
		w0 := americanFloor(r, g[0])
		v[0] = w0
		e1 := &el[1]
		z = e1.p*w0 + e1.d*wa + e1.s*wb + e1.c*z
		buf[1] = z
		wb, wa = wa, w0
	}
	buf[0] = el[0].d*wa + el[0].s*wb + el[0].c*z
}

// americanPassUp completes a UL step: it substitutes buf from the bottom
// node up, floors the result at g into v and, unless el is nil, eliminates
// the next (LU) step from v into buf in the same sweep.
func americanPassUp(buf, v, g []float64, sub []americanSub, el []americanElim) {
	n := len(buf)
	v, g, sub = v[:n], g[:n], sub[:n]
	if el == nil {
		raw := 0.0 // unfloored solution at the node below
		for i := 0; i < n; i++ {
			raw = buf[i] + sub[i].e*raw
			v[i] = americanFloor(raw, g[i])
		}
		return
	}
	el = el[:n]
	// State at node i: r = raw_{i-1}, wa = w_{i-1}, wb = w_{i-2}, y = y_{i-2}.
	r := buf[0]
	wb := americanFloor(r, g[0])
	v[0] = wb
	r = buf[1] + sub[1].e*r
	wa := americanFloor(r, g[1])
	v[1] = wa
	y := el[0].d*wb + el[0].s*wa
	buf[0] = y
	i := 2
	for ; i < n-1; i += 2 {
		bi, bp := buf[i], buf[i+1]
		si, sp := &sub[i], &sub[i+1]
		ri := bi + si.e*r
		r = bp + sp.e*bi + sp.ee*r
		wi := americanFloor(ri, g[i])
		wp := americanFloor(r, g[i+1])
		v[i], v[i+1] = wi, wp
		e1, e0 := &el[i-1], &el[i]
		r1 := e1.p*wb + e1.d*wa + e1.s*wi
		buf[i-1] = r1 + e1.c*y
		y = e0.p*wa + e0.d*wi + e0.s*wp + e0.c*r1 + e0.cc*y
		buf[i] = y
		wb, wa = wi, wp
	}
	if i == n-1 {
		r = buf[i] + sub[i].e*r
		wi := americanFloor(r, g[i])
		v[i] = wi
		e1 := &el[i-1]
		y = e1.p*wb + e1.d*wa + e1.s*wi + e1.c*y
		buf[i-1] = y
		wb, wa = wa, wi
	}
	buf[n-1] = el[n-1].p*wb + el[n-1].d*wa + el[n-1].c*y
}

// americanFloor returns max(v, g) for finite v and g, as one compare.
func americanFloor(v, g float64) float64 {
	if v < g {
		return g
	}
	return v
}
