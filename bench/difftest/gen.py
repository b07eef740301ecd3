#!/usr/bin/env python3
"""Generates batches for the differential test of two pricefn binaries.

usage: gen.py OUTDIR N SEED SEEDDIR REPO

Writes OUTDIR/NNNNN-<what>.json: the valid seeds (SEEDDIR/*.json, pricefn
gen of every type; the reference batches of REPO/batch/testdata and
/work/shared/reference when present; the fuzz corpora of REPO) unchanged,
big batches (SEEDDIR/big-*.json) with a quantity in every form on half
their trades, then mutations of small copies of the seeds aimed at the batch
decoder, up to N files in all. The JSON is written by hand
(objects as lists of pairs) so that keys can repeat, be escaped, and
whitespace can vary: the decoder's offsets and the header's reading of
shared fields (id, type, underlying, curve, quantity) are what is tested.
"""
import glob
import json
import os
import random
import sys



class Raw:
    """JSON text written as is."""

    def __init__(self, text):
        self.text = text if isinstance(text, bytes) else text.encode()


def pairs(o):
    """Converts json.loads output with object_pairs_hook=list into lists of pairs."""
    return o


def load(text):
    return json.loads(text, object_pairs_hook=lambda kv: Obj(kv))


class Obj(list):
    """A JSON object as a list of [key, value] pairs (keys may repeat)."""

    def __init__(self, kv=()):
        super().__init__([[k, v] for k, v in kv])

    def get(self, k, default=None):
        for kk, v in self:
            if kk == k:
                return v
        return default

    def keys(self):
        return [k for k, _ in self]

    def set(self, k, v):
        for p in self:
            if p[0] == k:
                p[1] = v
                return
        self.append([k, v])

    def remove(self, k):
        self[:] = [p for p in self if p[0] != k]


def enc_str(s):
    if isinstance(s, Raw):
        return s.text
    return json.dumps(s, ensure_ascii=False).encode("utf-8", "surrogatepass")


class Writer:
    def __init__(self, rng):
        self.rng = rng
        self.style = rng.choice(["compact", "compact", "spaces", "pretty", "weird"])

    def ws(self):
        if self.style == "compact":
            return b""
        if self.style == "spaces":
            return b" "
        if self.style == "pretty":
            return b"\n  "
        return self.rng.choice([b"", b" ", b"\t", b"\r\n", b"  \n "])

    def dump(self, v):
        if isinstance(v, Raw):
            return v.text
        if isinstance(v, Obj):
            parts = []
            for k, x in v:
                kt = k.text if isinstance(k, Raw) else enc_str(k)
                parts.append(self.ws() + kt + self.ws() + b":" + self.ws() + self.dump(x))
            return b"{" + b",".join(parts) + self.ws() + b"}"
        if isinstance(v, list):
            return b"[" + b",".join(self.ws() + self.dump(x) for x in v) + self.ws() + b"]"
        if isinstance(v, str):
            return enc_str(v)
        if v is True:
            return b"true"
        if v is False:
            return b"false"
        if v is None:
            return b"null"
        if isinstance(v, float):
            return repr(v).encode()
        return str(v).encode()


NUMS = ["1e308", "1e309", "-1e309", "1e-320", "0", "-0", "-0.0", "0.0", "1E2", "1e+2", "1e-2",
        "0.1e-5", "1" * 400, "-" + "9" * 30, "-5", "-1", "2", "2.50", "1e15", "1e16", "1e17",
        "123456789012345678901234567890", "0.000000000000000000000000001", "-1e-400", "5e-324",
        "1.7976931348623157e308", "4.9e-324", "100", "3.0000000000000004", "1E400", "1.5", "-2.5"]
BADNUMS = ["01", "1.", ".5", "+1", "1e", "--1", "0x10", "NaN", "Infinity", "-Infinity", "1e+", "- 1"]
STRS = ["", " ", "x" * 300, "NaN", "Infinity", "-0", "1e3", "2", "\u0000", "a\"b", "\\", "é",
        "\U0001F600", "call", "put", "ACME", "USD", "european", "T1", "null"]
RAWSTRS = [r'"\u0000"', r'"\ud800"', r'"\udc00x"', r'"\ud83d\ude00"', '"\xff\xfe"', '"a\x01b"',
           r'"\u0041CME"', r'"AC\u004dE"', r'"\/"', r'"\""', r'"caf\u00e9"', '"\xc3\xa9"', '"\xed\xa0\x80"',
           r'"\uD800\uDC00"', r'"\x"', r'"\u12"', '"unterminated']
SHARED = ["id", "type", "underlying", "curve", "forecastCurve", "quantity"]


def rand_value(rng, kind=None):
    kind = kind or rng.choice(["str", "num", "obj", "arr", "bool", "null", "rawstr", "badnum"])
    if kind == "str":
        return rng.choice(STRS)
    if kind == "num":
        return Raw(rng.choice(NUMS))
    if kind == "badnum":
        return Raw(rng.choice(BADNUMS))
    if kind == "obj":
        return rng.choice([Obj(), Obj([["a", 1]]), Obj([["rate", 0.05]])])
    if kind == "arr":
        return rng.choice([[], [1], ["ACME"], [None]])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "rawstr":
        return Raw(rng.choice(RAWSTRS).encode("latin-1"))
    return None


def escaped_key(k):
    """A key spelled with a JSON escape, equal to k once decoded."""
    i = len(k) // 2
    return Raw('"' + k[:i] + "\\u%04x" % ord(k[i]) + k[i + 1:] + '"')


def mutate_trade(rng, t, batch, names):
    """Mutates trade t (an Obj) in place, or returns a replacement."""
    if not isinstance(t, Obj):
        return t
    keys = t.keys()
    op = rng.randrange(24)
    if op in (1, 2, 3, 14, 21, 22) and rng.random() < 0.75:
        # Duplicate keys and trades that are not objects fail the whole
        # batch with one message: the trade's own paths are worth more.
        op = rng.choice([0, 5, 6, 7, 8, 10, 10, 12, 13, 15, 16, 17, 18, 19, 20])
    k = rng.choice(keys) if keys else "id"
    if rng.random() < 0.5 and rng.random() < 0.6:
        # Favour the shared fields the header reads.
        k = rng.choice([x for x in SHARED if x in keys] or keys or ["id"])
    if op == 0:
        t.remove(k)
    elif op == 1:  # duplicate, same value
        t.append([k, t.get(k)])
    elif op == 2:  # duplicate, another value
        t.append([k, rand_value(rng)])
    elif op == 3:  # duplicate first, another value
        t.insert(0, [k, rand_value(rng)])
    elif op == 4:
        rng.shuffle(t)
    elif op == 5:
        t.set(k, None)
    elif op == 6:
        t.set(k, rand_value(rng))
    elif op == 7:
        t.set(k, rand_value(rng, "num"))
    elif op == 8:
        t.set(k, rand_value(rng, "rawstr"))
    elif op == 9:
        t.append([rng.choice(["foo", "Quantity", "quantity ", "underlyings", "notes"]), rand_value(rng)])
    elif op == 10:  # quantity in all its forms
        q = rng.choice([Raw(x) for x in NUMS] + [Raw(x) for x in BADNUMS] + [None, "2", True, [], Obj(), Raw(r'"\u0032"')])
        if rng.random() < 0.3:
            t.insert(0, ["quantity", q])
        elif rng.random() < 0.3:
            t.insert(len(t) // 2, ["quantity", q])
        else:
            t.set("quantity", q)
        if rng.random() < 0.2:
            t.append(["quantity", Raw(rng.choice(NUMS))])
    elif op == 11:  # id forms
        t.set("id", rng.choice(["", "x" * 255, "x" * 256, "x" * 257, "é" * 128, "é" * 129, Raw(r'"\u0000"'),
                                Raw('"T\\u0031"'), 1, None, [], "T1", Raw('"' + "\\u0078" * 257 + '"'),
                                Raw('"' + "\\u0078" * 256 + '"')]))
    elif op == 12:  # escaped key of a shared field
        kk = rng.choice([x for x in SHARED if x in keys] or ["quantity"])
        for p in t:
            if p[0] == kk:
                p[0] = escaped_key(kk)
                break
    elif op == 13:  # another underlying
        und = names["und"]
        t.set("underlying", rng.choice(und + ["NOPE", "", None, 3, ["ACME"], Raw(r'"\u0041CME"')]))
    elif op == 14:  # underlying twice, different names
        und = names["und"] or ["ACME"]
        t.append(["underlying", rng.choice(und + ["NOPE"])])
        if rng.random() < 0.5:
            t.insert(0, ["underlying", rng.choice(und + ["NOPE", 5, None])])
    elif op == 15:  # curve names
        cur = names["cur"]
        kk = rng.choice(["curve", "forecastCurve"])
        t.set(kk, rng.choice(cur + ["NOPE", "", None, 1.5, Obj(), Raw(r'"U\u0053D"')]))
    elif op == 16:  # another type
        t.set("type", rng.choice(["european", "american", "barrier", "asian", "fra", "swap", "bond",
                                  "swaption", "capfloor", "European", "", None, 1, Raw(r'"\u0065uropean"'), "x" * 300]))
    elif op == 17:  # underlying on a rates trade, curve on an option
        t.append([rng.choice(["underlying", "curve", "forecastCurve"]), rng.choice(names["und"] + names["cur"] + ["NOPE"])])
    elif op == 18:  # numbers of the terms
        nk = [kk for kk, v in t if isinstance(v, (int, float)) or (isinstance(v, Raw) and v.text[:1] in b"-0123456789")]
        if nk:
            t.set(rng.choice(nk), Raw(rng.choice(NUMS + BADNUMS + ['"1"', "true", "{}", "[]"])))
    elif op == 19:  # strings of the terms
        sk = [kk for kk, v in t if isinstance(v, str)]
        if sk:
            t.set(rng.choice(sk), rng.choice(STRS + [Raw(x.encode("latin-1")) for x in RAWSTRS] + [1, None, True]))
    elif op == 20:  # a model / price on options
        t.set(rng.choice(["model", "price"]), rng.choice(["heston", "black", "HESTON", 1, None, Raw("0.5"), Raw("1e309"), "1"]))
    elif op == 21:
        return rng.choice([Raw("1"), Raw('"x"'), Raw("[]"), Raw("null"), Raw("true"), Raw("{}"), [t], Raw("-0")])
    elif op == 22:  # raw invalid utf-8 in a key
        t.append([Raw(b'"\xff"'), 1])
    else:  # remove several
        for kk in rng.sample(keys, min(len(keys), rng.randrange(1, 4))):
            t.remove(kk)
    return t


def mutate_batch(rng, b, names):
    trades = b.get("trades")
    op = rng.randrange(100)
    if isinstance(trades, list) and trades and op < 70:
        n = 1 if rng.random() < 0.7 else rng.randrange(1, 4)
        for _ in range(n):
            i = rng.randrange(len(trades))
            trades[i] = mutate_trade(rng, trades[i], b, names)
        return b
    if op < 74 and isinstance(trades, list) and trades:  # duplicate ids
        t = trades[rng.randrange(len(trades))]
        if isinstance(t, Obj):
            c = Obj([list(p) for p in t])
            if rng.random() < 0.3:
                c.set("id", Raw('"' + "".join("\\u%04x" % ord(ch) for ch in str(t.get("id", ""))) + '"'))
            trades.insert(rng.randrange(len(trades) + 1), c)
        return b
    if op < 78:
        if b.keys():
            b.remove(rng.choice(b.keys()))
    elif op < 82:
        k = rng.choice(["id", "valuationDate", "measures", "market", "trades"])
        b.set(k, rand_value(rng))
    elif op < 85:
        b.set("measures", rng.choice([[], ["npv"], ["npv", "npv"], ["NPV"], ["npv", 1], ["impliedVol", "fairRate", "pv01"],
                                      ["npv", "delta", "gamma", "vega", "theta", "rho", "annuity", "cleanPrice", "dirtyPrice",
                                       "accrued", "yield", "duration", "convexity", "npvStdErr"], None, "npv"]))
    elif op < 88:  # market names
        m = b.get("market")
        if isinstance(m, Obj):
            sec = m.get(rng.choice(["curves", "underlyings"]))
            if isinstance(sec, Obj) and len(sec):
                p = rng.choice(sec)
                r = rng.randrange(4)
                if r == 0:
                    sec.remove(p[0])
                elif r == 1:
                    p[1] = rand_value(rng)
                elif r == 2:
                    sec.append([p[0], p[1]])
                else:
                    p[0] = escaped_key(p[0]) if isinstance(p[0], str) and p[0] else p[0]
    elif op < 90:
        b.set("id", rng.choice(["", "x" * 300, 1, None, Raw(r'"\u0000"'), "b 1", "b/1", "../x", "é"]))
    elif op < 93:
        b.append([rng.choice(["id", "trades", "valuationDate", "extra"]), rand_value(rng)])
    elif op < 96:
        rng.shuffle(b)
    else:
        b.set("valuationDate", rng.choice(["2026-02-30", "2026-11-25T00:00:00Z", "", "1900-01-01", "9999-12-31", 20261125]))
    return b


def names_of(b):
    m = b.get("market") if isinstance(b, Obj) else None
    und, cur = [], []
    if isinstance(m, Obj):
        u = m.get("underlyings")
        c = m.get("curves")
        if isinstance(u, Obj):
            und = [k for k in u.keys() if isinstance(k, str)]
        if isinstance(c, Obj):
            cur = [k for k in c.keys() if isinstance(k, str)]
    return {"und": und, "cur": cur}


def text_mutation(rng, data):
    op = rng.randrange(6)
    if op == 0:  # truncation at any position
        return data[:rng.randrange(len(data))]
    if op == 1:  # truncation just after a structural byte
        idx = [i for i, c in enumerate(data) if c in b'{}[],:"']
        i = rng.choice(idx) if idx else 0
        return data[:i + rng.choice([0, 1])]
    if op == 2:
        return data + rng.choice([b"x", b"}", b"]", b" {}", b"\x00", b"\n\n", b" null", b",", b"\xff"])
    if op == 3:  # a byte replaced
        i = rng.randrange(len(data))
        return data[:i] + bytes([rng.choice(b'{}[],:"\\0a-e. \x00\xff')]) + data[i + 1:]
    if op == 4:  # a byte removed
        i = rng.randrange(len(data))
        return data[:i] + data[i + 1:]
    return b"\xef\xbb\xbf" + data  # BOM


def small(b, rng, keep):
    """b with at most keep trades (a copy)."""
    c = clone(b)
    t = c.get("trades")
    if isinstance(t, list) and len(t) > keep:
        start = rng.randrange(len(t) - keep + 1)
        c.set("trades", t[start:start + keep])
    return c


def to_py(o):
    if isinstance(o, Obj):
        return {"__pairs__": [[k, to_py(v)] for k, v in o]}
    if isinstance(o, list):
        return [to_py(x) for x in o]
    return o


def from_py(o):
    if isinstance(o, dict) and "__pairs__" in o:
        return Obj([[k, from_py(v)] for k, v in o["__pairs__"]])
    if isinstance(o, list):
        return [from_py(x) for x in o]
    return o


def clone(b):
    return from_py(json.loads(json.dumps(to_py(b))))


def main():
    out, n, seed, seeddir, repo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    k = 0

    def emit(what, data):
        nonlocal k
        with open(os.path.join(out, "%05d-%s.json" % (k, what)), "wb") as f:
            f.write(data)
        k += 1

    seeds = []  # (name, bytes)
    for f in sorted(glob.glob(os.path.join(seeddir, "gen-*.json"))):
        seeds.append((os.path.basename(f)[:-5], open(f, "rb").read()))
    for d in ["/work/shared/reference", os.path.join(repo, "batch/testdata/reference"),
              os.path.join(repo, "batch/testdata/hard")]:
        for f in sorted(glob.glob(os.path.join(d, "*.batch.json"))):
            seeds.append((os.path.basename(d) + "-" + os.path.basename(f)[:-11], open(f, "rb").read()))
    for f in sorted(glob.glob(os.path.join(repo, "*/testdata/fuzz/*/*")) + glob.glob(os.path.join(repo, "*/*/testdata/fuzz/*/*"))):
        # go test fuzz v1 files: one []byte("...") or string("...") line.
        for line in open(f, encoding="utf-8", errors="replace").read().splitlines()[1:]:
            if line.startswith(("[]byte(", "string(")):
                lit = line[line.index("(") + 1:-1]
                try:
                    emit("fuzz", eval(lit.replace('"', 'b"', 1) if not lit.startswith("b") else lit))
                except Exception:
                    pass
    # Trade ids the results writer escapes and the aggregator's scan of
    # results reads back (not plain), beside plain ones, in one batch.
    ids = [r'a\"b', r'\\', r'\u0000x', r'\u00e9', "éa", r'\ud83d\ude00', r'\/', r'T\u0031', "<>&", r'\u2028',
           "\u2028a", "x" * 256, r'\u0079' * 256, r'\t', r'\u007f']
    for name, data in seeds:
        if name == "gen-european":
            b = load(data)
            t0 = b.get("trades")[0]
            trades = []
            for j, id in enumerate(ids):
                c = clone(t0)
                c.set("id", Raw('"%s"' % id))
                if j % 3 == 1:
                    c.set("strike", -1)  # an error naming it
                trades.append(c)
            b.set("trades", trades)
            b.set("id", "hand-ids")
            emit("seed-hand-ids", Writer(random.Random(0)).dump(b))
    # The valid seeds unchanged (the slow Monte Carlo references only once).
    parsed = []
    for name, data in seeds:
        emit("seed-" + name, data)
        b = load(data)
        parsed.append((name, b))
    # Big batches (over the decoder's 1 MiB parallel threshold in ingress's
    # plan), a quantity in every form on many trades, whitespace varied.
    qs = NUMS + ['"2"', "null", "true", "[]", "{}", r'"\u0032"']
    for f in sorted(glob.glob(os.path.join(seeddir, "big-*.json"))):
        lines = open(f, "rb").read().split(b"\n")
        for variant in range(3):
            r = random.Random(variant)
            out_lines = []
            for j, line in enumerate(lines):
                if j > 0 and line.startswith(b'{"id":') and r.random() < 0.5:
                    q = r.choice(qs[:len(NUMS)] if variant == 0 else qs).encode()
                    ws = r.choice([b"", b" ", b"\t", b"\n "]) if variant == 2 else b""
                    if r.random() < 0.5:
                        line = b'{' + ws + b'"quantity":' + ws + q + b',' + line[1:]
                    else:
                        cut = line.rindex(b"}")
                        line = line[:cut] + b',' + ws + b'"quantity"' + ws + b':' + q + ws + line[cut:]
                out_lines.append(line)
            data = b"\n".join(out_lines)
            data = data.replace(b'"id":"big', b'"id":"big%d' % variant, 1)
            emit("big-%s-%d" % (os.path.basename(f)[4:-5], variant), data)
    # Mutations of small copies.
    bases = [(name, small(b, random.Random(i), 3)) for i, (name, b) in enumerate(parsed)]
    while k < n:
        name, base = rng.choice(bases)
        b = clone(base)
        # A batch id of its own (or none: the engine's), so that the
        # pipeline pass does not see a resubmission of another's.
        if rng.random() < 0.85:
            b.set("id", "m%05d" % k)
        else:
            b.remove("id")
        names = names_of(b)
        for _ in range(1 if rng.random() < 0.5 else rng.randrange(2, 5)):
            b = mutate_batch(rng, b, names)
        w = Writer(rng)
        data = w.dump(b)
        if rng.random() < 0.12:
            data = text_mutation(rng, data)
        emit("mut-" + name, data)


if __name__ == "__main__":
    main()
