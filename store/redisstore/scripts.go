package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts that make each Store method one atomic step. A batch's
// keys share the hash tag {tenant/id}; the deadline index is one sorted set
// for all batches, so the scripts run on a single Redis (or one shard with
// every key), not across a cluster.
//
// The meta hash holds: digest, attempt, trades, chunks, offsets (JSON),
// submittedAt, deadline (Unix ms, 0 for none), resultsUrl, traceparent,
// acceptedAt, sentAt (once set), sendingAt (Unix ms, once set), done (chunks with an outcome), dead,
// firstAt and lastAt (the earliest and the latest arrivedAt of an outcome,
// Unix ns in 20 digits), scenario and scenarioDone (the scenario chunks,
// and those with an outcome), priced, failed and missing (trades of the
// outcomes), pricing (the pricing times added up, ns), sums (a JSON
// object of the exact sums of the chunks folded in: tallyLua), listed
// (the chunks the batch listed as pending: tallyLua), folded (the
// entries of the pending list folded in: foldScript), skipped (those of
// them another attempt or claim listed), totals (the same, of the outcomes a put of
// an earlier release recorded), firstDead (the first dead chunks,
// "index:trades" by index, at most store.MaxFirstDead), outcomes (the
// outcomes in the tally), tallied (those in the tally of the release
// before the pending list, which kept their sums in totals: the two
// fewer than done where a replica of a release before either recorded
// some),
// duplicates, late, announced (0/1: the claim to announce the end held, or
// the announcement made), announceBy (Unix ms: when a held claim lapses;
// absent once made), announcedAt (once made), ordered (1: the claim was
// this release's, which keeps the arrivals list).
// An attempt's chunks hash maps a chunk index to its state letter (p
// priced, d dead, x ended by the deadline) and its JSON; its deliv hash
// counts deliveries per chunk, its results hash holds the results bytes and
// its ids hash the trade ids of each chunk, its arrivals list the index of
// each chunk with an outcome, in the order recorded (Store.Arrivals). The
// batch's pending list
// holds "attempt:index:submittedAt" of the priced chunks whose sums are
// not in its sums yet (tallyLua).

// finishLua is shared: when the batch has just finished, drop it from the
// deadline index and keep its keys for retain ms. It expects m (HMGET of
// chunks) and sets nothing else.
//
// align gives the attempt's keys the meta hash's expiry while the batch is
// unfinished: the chunks, deliv and results hashes come into being with
// the first outcome, after the claim set the meta's MaxAge, and keys left
// without one would outlive the meta (its MaxAge, or an eviction) and be
// taken for the chunks of the next batch claimed under the id. PTTL then
// PEXPIRE in one script sets the meta's deadline, or a ms or so after it
// where Redis reads the clock at each call of a script (7.0 does), never
// before it: a live meta is never left without its chunks, and a claim in
// the gap drops the keys anyway (claimScript).
const finishLua = `
local function finish(retain)
  redis.call('ZREM', KEYS[4], ARGV[7])
  redis.call('ZREM', KEYS[7], ARGV[7])
  redis.call('HDEL', KEYS[8], ARGV[7])
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], retain) end
  redis.call('PEXPIRE', KEYS[5], retain)
  redis.call('PEXPIRE', KEYS[6], retain)
  redis.call('PEXPIRE', KEYS[9], retain)
  redis.call('PEXPIRE', KEYS[10], retain)
end
local function align()
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    for _, i in ipairs({2, 3, 5, 6, 9, 10}) do redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
-- keepsArrivals reports whether the attempt's arrivals list holds every
-- outcome recorded so far, to go on with the next: its batch claimed by
-- this release (ordered), no outcome of it recorded by the release
-- before. Otherwise the list goes, never to be read (Store.Arrivals reads
-- the Summary then): kept, it took the meta's life at each outcome
-- (align), and the release before, which ends the batch's other keys,
-- left it up to MaxAge past them.
local function keepsArrivals()
  local f = redis.call('HMGET', KEYS[1], 'ordered', 'done')
  if f[1] == '1' and redis.call('LLEN', KEYS[10]) == tonumber(f[2]) then return true end
  redis.call('DEL', KEYS[10])
  return false
end
local function claim(res)
  local f = redis.call('HMGET', KEYS[1], 'done', 'chunks', 'announced', 'announceBy')
  local now = tonumber(ARGV[9])
  local free = f[3] ~= '1' or (f[4] and f[4] ~= '' and now > tonumber(f[4]))
  if tonumber(f[1]) >= tonumber(f[2]) and free then
    local by = now + tonumber(ARGV[10])
    redis.call('HSET', KEYS[1], 'announced', '1', 'announceBy', by)
    -- The ended batch stays in the deadline index, due when the claim
    -- lapses, until the announcement is made (announcedScript): the sweep
    -- finds it there should its holder die first. (A released claim put
    -- it there due at once: releaseScript.)
    redis.call('ZADD', KEYS[4], by, ARGV[7])
    return res .. ':announce:' .. by
  end
  return res
end
`

// tallyLua keeps the batch's tally (store.Tally) in its meta hash as
// outcomes are recorded, for a status read that does not read every
// chunk. It expects the batch's keys (see below).
//
// The sums are exact, as store.Totals: a JSON object whose keys are the
// JSON array [underlying, measure] and whose values are the sum's
// partials (fsum's, round-tripping, comma-separated), or "" for a sum
// beyond float64's range. A put does not add a chunk's sums to them: it
// appends the chunk's index to the pending list, and a read adds the
// pending chunks' sums (Store.Tally) and folds them in (foldScript).
// Added here, decoding and encoding the batch's sums for each outcome
// took 20 ms of Redis, whose every client waits meanwhile, for sums of
// 200 underlyings by 8 measures (0.2 ms before the tally).
const tallyLua = `
-- offsetOf is the offset at the end of a chunk's entry in the ids hash,
-- nil for none (a claim of an earlier release wrote none).
local function offsetOf(v)
  if not v then return nil end
  return tonumber(string.match(string.sub(v, -24), '"offset":(%d+)}$'))
end
-- tradesOf counts the trades of chunk idx, from its offset and the next
-- chunk's (the batch's trades after the last), not from its trade ids,
-- decoded (a claim of an earlier release wrote no offsets with them).
local function tradesOf(idx)
  local v = redis.call('HGET', KEYS[6], idx)
  if not v then return 0 end
  local lo = offsetOf(v)
  if lo then
    local f = redis.call('HMGET', KEYS[1], 'chunks', 'trades')
    if tonumber(idx) + 1 >= tonumber(f[1]) then return tonumber(f[2]) - lo end
    local hi = offsetOf(redis.call('HGET', KEYS[6], tonumber(idx) + 1))
    if hi then return hi - lo end
  end
  local ids = cjson.decode(v).ids
  if type(ids) ~= 'table' then return 0 end
  return #ids
end
-- holdsNone reports whether chunk idx holds no trades (a scenario
-- chunk) from the length of its entry in the ids hash where that is
-- longer than an entry of no ids can be: a priced chunk's trade ids,
-- read and decoded for each outcome, took 2.3 ms of Redis, whose every
-- client waits meanwhile, for a chunk of 10,000 (0.035 ms before the
-- tally).
local function holdsNone(idx)
  if redis.call('HSTRLEN', KEYS[6], idx) > 64 then return false end
  return tradesOf(idx) == 0
end
local function keepAt(field, v, later)
  if v == '' then return end
  local cur = redis.call('HGET', KEYS[1], field)
  if not cur or (later and v > cur) or (not later and v < cur) then redis.call('HSET', KEYS[1], field, v) end
end
-- addDead adds dead chunks (a list of {index, trades}, by index) to the
-- first MaxFirstDead named.
local function addDead(dead, most)
  local cur = redis.call('HGET', KEYS[1], 'firstDead')
  local all = {}
  if cur and cur ~= '' then
    for i, n in string.gmatch(cur, '(%d+):(%d+)') do all[#all + 1] = {tonumber(i), tonumber(n)} end
  end
  for _, d in ipairs(dead) do all[#all + 1] = d end
  table.sort(all, function(a, b) return a[1] < b[1] end)
  local out = {}
  for i = 1, math.min(#all, most) do out[i] = all[i][1] .. ':' .. all[i][2] end
  redis.call('HSET', KEYS[1], 'firstDead', table.concat(out, ','))
end
-- tally adds the outcome of chunk idx, dead or priced, arrived at at
-- (lastAt's form), to the tally; priced, failed, pricing and sums (1 for
-- a chunk with sums, to fold in later) are a priced chunk's.
local function tally(idx, dead, at, priced, failed, pricing, sums, most)
  local n = 0
  if dead then n = tradesOf(idx) end
  -- Not tallied, which a replica of the release before the pending list
  -- reads as every outcome's sums in totals (a rolling upgrade): one
  -- short of done, it adds the batch up from its chunks.
  redis.call('HINCRBY', KEYS[1], 'outcomes', 1)
  if (dead and n == 0) or (not dead and holdsNone(idx)) then redis.call('HINCRBY', KEYS[1], 'scenarioDone', 1) end
  keepAt('firstAt', at, false)
  keepAt('lastAt', at, true)
  if dead then
    redis.call('HINCRBY', KEYS[1], 'missing', n)
    addDead({{tonumber(idx), n}}, most)
    return
  end
  redis.call('HINCRBY', KEYS[1], 'priced', priced)
  redis.call('HINCRBY', KEYS[1], 'failed', failed)
  redis.call('HINCRBY', KEYS[1], 'pricing', pricing)
  -- The chunk's attempt (ARGV[2], attemptCheckLua's) and its claim's
  -- submittedAt, which each claim sets afresh, go with it: a claim of an
  -- earlier release, which knows no pending list, leaves the attempt it
  -- replaced listed, and the chunks of an earlier batch under the id
  -- where the list outlived its meta, at the same attempt.
  -- Counted in listed: the list may go before the meta hash, its chunks
  -- not yet folded in (a replica of such a release kept the keys it
  -- knows for retain at the batch's end, the list for the unfinished
  -- batch's life; or Redis evicted the list alone), and a read that
  -- finds fewer listed adds the batch up from its chunks.
  if sums == '1' then
    local at = redis.call('HGET', KEYS[1], 'submittedAt') or ''
    redis.call('RPUSH', KEYS[9], ARGV[2] .. ':' .. idx .. ':' .. at)
    redis.call('HINCRBY', KEYS[1], 'listed', 1)
  end
end
`

// claimScript: KEYS meta, deadlines, the tenant's open batches (sorted by
// claim time) and their trades, its recent batches (sorted by claim time,
// the newest ARGV[15] kept), every batch it holds (sorted by claim time);
// ARGV digest, trades, offsets, submittedAt, deadline ms, resultsUrl,
// maxAge ms, member, chunks, key prefix, retain ms, max open batches, max
// trades in flight (0: no bound), now ms, the recent batches kept,
// traceparent, the most batches the tenant holds (store.Options.MaxRetained),
// the start of every batch's keys (batchKey), the most held batches one
// claim looks at to forget (forgetScan), the scenario chunks (those of no
// trades), then the trades of each chunk.
// Returns {outcome, attempt}: new, exists, conflict, or {limit, what,
// count}.
var claimScript = redis.NewScript(`
local m = redis.call('HMGET', KEYS[1], 'digest', 'attempt', 'chunks', 'done', 'dead', 'announcedAt', 'announced', 'announceBy')
local attempt = 1
if m[1] then
  if m[1] ~= ARGV[1] then return {'conflict', tonumber(m[2])} end
  local chunks, done, dead = tonumber(m[3]), tonumber(m[4]), tonumber(m[5])
  if done < chunks or dead == 0 then return {'exists', tonumber(m[2])} end
  -- Its end not announced yet (not claimed, or its claim held): the
  -- announcement is made from this record. (Announced with neither time
  -- is a record of a release before the claims' lease: made.)
  if not m[6] and (m[7] ~= '1' or m[8]) then return {'announcing', tonumber(m[2])} end
  attempt = tonumber(m[2]) + 1
end
local now = tonumber(ARGV[14])
-- An unfinished batch is kept maxAge past its deadline (past its claim,
-- without one): a safety net behind the deadline, which ends it.
local life = tonumber(ARGV[7])
if tonumber(ARGV[5]) > now then life = life + tonumber(ARGV[5]) - now end
-- The tenant's batches in flight, less those forgotten: of those claimed
-- more than maxAge ago, each whose meta is gone (its life is its own
-- deadline's, not this batch's).
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[7]))) do
  if redis.call('EXISTS', ARGV[18] .. old .. '}:meta') == 0 then
    redis.call('ZREM', KEYS[3], old)
    redis.call('HDEL', KEYS[4], old)
  end
end
local maxOpen, maxTrades = tonumber(ARGV[12]), tonumber(ARGV[13])
if maxOpen > 0 and redis.call('ZCARD', KEYS[3]) + 1 > maxOpen then
  return {'limit', 'open', redis.call('ZCARD', KEYS[3])}
end
if maxTrades > 0 then
  local n = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[4])) do n = n + tonumber(v) end
  if n + tonumber(ARGV[2]) > maxTrades then return {'limit', 'trades', n} end
end
-- The attempt replaced goes, and so do any keys under the new attempt's
-- number: they can only be an earlier incarnation's of the id (its meta
-- expired after MaxAge, or was evicted, before its attempt keys), whose
-- chunks would count as the new batch's and whose results be served.
local function drop(a)
  local p = ARGV[10] .. ':a' .. a
  redis.call('DEL', p .. ':chunks', p .. ':results', p .. ':ids', p .. ':deliv', p .. ':arrivals')
end
-- So does any pending list (tallyLua): an earlier incarnation's, or the
-- replaced attempt's.
redis.call('DEL', ARGV[10] .. ':pending')
if m[1] then
  redis.call('DEL', KEYS[1])
  drop(m[2])
end
drop(attempt)
redis.call('HSET', KEYS[1], 'digest', ARGV[1], 'attempt', attempt, 'trades', ARGV[2], 'offsets', ARGV[3],
  'submittedAt', ARGV[4], 'deadline', ARGV[5], 'resultsUrl', ARGV[6], 'chunks', ARGV[9], 'done', 0, 'dead', 0,
  'duplicates', 0, 'late', 0, 'announced', 0, 'acceptedAt', '', 'traceparent', ARGV[16], 'scenario', ARGV[20], 'ordered', 1)
if tonumber(ARGV[9]) == 0 then
  -- Announced at its batch.accepted, or by the sweep once its deadline
  -- has passed without one (expireScript): kept retain past its deadline
  -- for the sweep, and retain past its batch.accepted (acceptScript).
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[11]) + math.max(tonumber(ARGV[5]) - now, 0))
  if ARGV[5] ~= '0' then
    redis.call('ZADD', KEYS[2], ARGV[5], ARGV[8])
  else
    redis.call('ZREM', KEYS[2], ARGV[8])
  end
else
  redis.call('PEXPIRE', KEYS[1], life)
  -- An earlier incarnation's entry may still be in the index (its meta
  -- expired): a batch without a deadline must not inherit it.
  if ARGV[5] ~= '0' then
    redis.call('ZADD', KEYS[2], ARGV[5], ARGV[8])
  else
    redis.call('ZREM', KEYS[2], ARGV[8])
  end
  redis.call('ZADD', KEYS[3], now, ARGV[8])
  redis.call('HSET', KEYS[4], ARGV[8], ARGV[2])
end
redis.call('ZADD', KEYS[5], now, ARGV[8])
redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(tonumber(ARGV[15]) + 1))
-- Every batch the tenant holds, by claim time: each lives at most its
-- life and retain after it finished, and so does the set. Past
-- ARGV[17] of them, the tenant's oldest finished batches whose end is
-- announced are forgotten, every key and index entry of theirs, as their
-- expiry would have forgotten them: one tenant's stream of small batches
-- cannot fill the Redis every tenant shares for retain. Unfinished
-- batches, and ended ones whose end is still to be announced (the
-- announcement is made from their record), stay; so does the tenant's
-- bound passed while they fill it. Entries of batches expired since go
-- from the set. At most ARGV[19] entries are looked at, so that a claim
-- stays short behind many unfinished batches.
redis.call('ZADD', KEYS[6], now, ARGV[8])
if redis.call('PTTL', KEYS[6]) < life + tonumber(ARGV[11]) then
  redis.call('PEXPIRE', KEYS[6], life + tonumber(ARGV[11]))
end
local over = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[17])
if over > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[6], 0, over + tonumber(ARGV[19]) - 1)) do
    if over <= 0 then break end
    if old ~= ARGV[8] then
      local p = ARGV[18] .. old .. '}'
      local f = redis.call('HMGET', p .. ':meta', 'attempt', 'chunks', 'done', 'announcedAt', 'announced', 'announceBy')
      if not f[1] then
        redis.call('ZREM', KEYS[6], old)
        over = over - 1
      elseif tonumber(f[3]) >= tonumber(f[2]) and (f[4] or (f[5] == '1' and not f[6])) then
        -- Its keys are the meta and its attempt's: a claim of a new
        -- attempt deleted those of the one it replaced.
        local a = p .. ':a' .. f[1]
        redis.call('DEL', p .. ':meta', p .. ':pending', a .. ':chunks', a .. ':results', a .. ':ids', a .. ':deliv', a .. ':arrivals')
        redis.call('ZREM', KEYS[6], old)
        redis.call('ZREM', KEYS[5], old)
        redis.call('ZREM', KEYS[3], old)
        redis.call('HDEL', KEYS[4], old)
        redis.call('ZREM', KEYS[2], old)
        redis.call('PUBLISH', 'pricefn:changed', old)
        over = over - 1
      end
    end
  end
end
-- The trades of each chunk (field, value pairs from ARGV[21]), with the
-- claim: written apart, an ingress stopped between the two (or a claim
-- whose reply timed out) left a batch whose outcomes could never be
-- recorded.
if #ARGV >= 21 then
  local ids = ARGV[10] .. ':a' .. attempt .. ':ids'
  for i = 21, #ARGV, 2 do redis.call('HSET', ids, ARGV[i], ARGV[i + 1]) end
  redis.call('PEXPIRE', ids, life)
end
redis.call('PUBLISH', 'pricefn:changed', ARGV[8])
return {'new', attempt}
`)

// repairTradesScript records an attempt's trade ids (KEYS[2], field and
// value pairs from ARGV[4]) if the batch (KEYS[1]) is still at that
// digest (ARGV[1]) and attempt (ARGV[2]) and has none: those of a claim
// whose trades were never written. ARGV[3] is their lifetime (ms).
var repairTradesScript = redis.NewScript(`
local m = redis.call('HMGET', KEYS[1], 'digest', 'attempt')
if m[1] ~= ARGV[1] or tonumber(m[2]) ~= tonumber(ARGV[2]) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`)

// attemptCheckLua checks the meta hash against ARGV[1] (digest, ” for any)
// and ARGV[2] (attempt) and returns an error outcome, or nil.
const attemptCheckLua = `
local m = redis.call('HMGET', KEYS[1], 'digest', 'attempt', 'chunks')
if not m[1] then return 'notfound' end
if ARGV[1] ~= '' and m[1] ~= ARGV[1] then return 'conflict' end
local a, want = tonumber(m[2]), tonumber(ARGV[2])
if want < a then return 'stale' end
if want > a then return 'notfound' end
`

// The scripts below take KEYS meta, chunks, results, deadlines, deliv, ids,
// the tenant's open batches and their trades, the pending list, the
// arrivals list, and ARGV digest, attempt,
// then their own, with ARGV[7] the member name ("tenant/id"), ARGV[8]
// the retain ms, ARGV[9] now (Unix ms) and ARGV[10] the announcement
// claim's lease (ms).

// acceptScript: ARGV[3] acceptedAt.
var acceptScript = redis.NewScript(finishLua + attemptCheckLua + `
local res = 'ok'
if redis.call('HGET', KEYS[1], 'acceptedAt') ~= '' then
  res = 'duplicate'
else
  redis.call('HSET', KEYS[1], 'acceptedAt', ARGV[3])
  -- A batch of no chunks ends here: kept retain from now, as a finished
  -- batch is (its claim kept it retain past its deadline).
  if redis.call('HGET', KEYS[1], 'chunks') == '0' then redis.call('PEXPIRE', KEYS[1], ARGV[8]) end
  redis.call('PUBLISH', 'pricefn:changed', ARGV[7])
end
return claim(res)
`)

// putScript: ARGV[3] index, ARGV[4] the chunk (state letter and JSON),
// ARGV[5] its results (” for none), ARGV[6] its arrivedAt (lastAt's
// form, ” for none); ARGV[11] on, a priced chunk's trades priced, priced
// to an error, its pricing time (ns) and whether it has sums (1 or ”:
// tallyLua), and store.MaxFirstDead.
var putScript = redis.NewScript(finishLua + tallyLua + attemptCheckLua + `
local idx = tonumber(ARGV[3])
if idx < 0 or idx >= tonumber(m[3]) then return 'badchunk' end
local res = 'ok'
local cur = redis.call('HGET', KEYS[2], ARGV[3])
if cur then
  redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
  if string.sub(cur, 1, 1) == 'x' then
    redis.call('HINCRBY', KEYS[1], 'late', 1)
    res = 'late'
  else
    redis.call('HINCRBY', KEYS[1], 'duplicates', 1)
    res = 'duplicate'
  end
else
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
  redis.call('HSET', KEYS[5], ARGV[3], 1)
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], ARGV[5]) end
  local dead = string.sub(ARGV[4], 1, 1) == 'd'
  if dead then redis.call('HINCRBY', KEYS[1], 'dead', 1) end
  tally(ARGV[3], dead, ARGV[6], ARGV[11], ARGV[12], ARGV[13], ARGV[14], tonumber(ARGV[15]))
  if keepsArrivals() then redis.call('RPUSH', KEYS[10], ARGV[3]) end
  if redis.call('HINCRBY', KEYS[1], 'done', 1) == tonumber(m[3]) then finish(ARGV[8]) else align() end
end
redis.call('PUBLISH', 'pricefn:changed', ARGV[7])
return claim(res)
`)

// expireScript: ARGV[3] now (Unix ms), ARGV[4] the reason (a JSON string),
// ARGV[5] arrivedAt (RFC 3339), ARGV[6] the same in lastAt's form,
// ARGV[11] store.MaxFirstDead.
var expireScript = redis.NewScript(finishLua + tallyLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[4], ARGV[7])
  return 'notfound'
end
` + attemptCheckLua + `
local f = redis.call('HMGET', KEYS[1], 'done', 'chunks', 'deadline', 'acceptedAt')
local done, chunks, deadline = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
if done >= chunks then
  -- Ended: the sweep came for a released or lapsed announcement claim. A
  -- batch of no chunks is first claimed at its batch.accepted, and here
  -- only once its deadline has passed without one (lost: the aggregators
  -- down past the broker's retries), or its end would never be announced.
  if chunks == 0 and (not f[4] or f[4] == '') and (deadline == 0 or tonumber(ARGV[3]) <= deadline) then return 'ok' end
  return claim('ok')
end
if deadline == 0 or tonumber(ARGV[3]) <= deadline then return 'ok' end
local n, missing, scenarioDone, most = 0, 0, 0, tonumber(ARGV[11])
local dead = {}
-- The chunks ended here join the arrivals list by index, a page of them
-- a command.
local arrived, keep = {}, keepsArrivals()
local function arrive()
  if keep and #arrived > 0 then redis.call('RPUSH', KEYS[10], unpack(arrived)) end
  arrived = {}
end
-- The chunks' trades from the offsets, read once: from each one's trade
-- ids (tradesOf), decoded here, 1,000,000 of them blocked Redis for 0.3 s.
local o = redis.call('HMGET', KEYS[1], 'offsets', 'trades')
local offsets, trades = cjson.decode(o[1]), tonumber(o[2])
for i = 0, chunks - 1 do
  if redis.call('HEXISTS', KEYS[2], i) == 0 then
    redis.call('HSET', KEYS[2], i, 'x{"index":' .. i .. ',"state":2,"reason":' .. ARGV[4] .. ',"arrivedAt":"' .. ARGV[5] .. '"}')
    n = n + 1
    local t = (offsets[i + 2] or trades) - offsets[i + 1]
    missing = missing + t
    if t == 0 then scenarioDone = scenarioDone + 1 end
    if #dead < most then dead[#dead + 1] = {i, t} end
    arrived[#arrived + 1] = i
    if #arrived >= 1000 then arrive() end
  end
end
arrive()
redis.call('HSET', KEYS[1], 'done', chunks)
redis.call('HINCRBY', KEYS[1], 'dead', n)
if n > 0 then
  redis.call('HINCRBY', KEYS[1], 'outcomes', n)
  redis.call('HINCRBY', KEYS[1], 'missing', missing)
  redis.call('HINCRBY', KEYS[1], 'scenarioDone', scenarioDone)
  keepAt('firstAt', ARGV[6], false)
  keepAt('lastAt', ARGV[6], true)
  addDead(dead, most)
end
finish(ARGV[8])
redis.call('PUBLISH', 'pricefn:changed', ARGV[7])
return claim('ok')
`)

// foldScript folds the sums of the first ARGV[5] chunks of the pending
// list (KEYS[2]), ARGV[7] of them another attempt's or claim's, into the
// sums of the meta hash (KEYS[1]): ARGV[4]
// replaces them if the batch is still at digest ARGV[1], attempt ARGV[2]
// and submittedAt ARGV[6], and its folded (the chunks folded in so far)
// is still ARGV[3], as the read that added them up found it. A fold that
// lost a race to another read's does nothing: the next read folds again.
// (Its sums are not the totals, which a put of an earlier release adds to
// itself.) The submittedAt tells the batch from the next claimed under
// its id once its keys expired, at the same digest and attempt 1 and
// with nothing folded yet: the fold would save the old batch's sums as
// the new one's, and trim the new one's pending chunks.
var foldScript = redis.NewScript(`
local m = redis.call('HMGET', KEYS[1], 'digest', 'attempt', 'folded', 'submittedAt')
if m[1] ~= ARGV[1] or m[2] ~= ARGV[2] or (m[3] or '0') ~= ARGV[3] or (m[4] or '') ~= ARGV[6] then return 0 end
redis.call('HSET', KEYS[1], 'sums', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'folded', tonumber(ARGV[5]))
if tonumber(ARGV[7]) > 0 then redis.call('HINCRBY', KEYS[1], 'skipped', tonumber(ARGV[7])) end
redis.call('LTRIM', KEYS[2], tonumber(ARGV[5]), -1)
return 1
`)

// sentScript: ARGV[3] sentAt (RFC 3339); the first time stays.
var sentScript = redis.NewScript(attemptCheckLua + `
if redis.call('HGET', KEYS[1], 'sentAt') then return 'ok' end
redis.call('HSET', KEYS[1], 'sentAt', ARGV[3])
return 'ok'
`)

// sendingScript: ARGV[3] sendingAt (Unix ms); the latest stays.
var sendingScript = redis.NewScript(attemptCheckLua + `
if tonumber(ARGV[3]) > tonumber(redis.call('HGET', KEYS[1], 'sendingAt') or '0') then
  redis.call('HSET', KEYS[1], 'sendingAt', ARGV[3])
end
return 'ok'
`)

// releaseScript gives back the announcement claim ARGV[3] (its announceBy)
// unless the claim is another's or the announcement made. An ended batch goes
// back into the deadline index, due at once, so that the sweep claims it
// (expireScript) where no redelivery comes: the announcement of a batch
// ended by its deadline, or by ingress's record of chunks it could not
// send, has no delivery to retry it.
var releaseScript = redis.NewScript(attemptCheckLua + `
-- Made, or a lapsed holder's release (ARGV[3] its claim's announceBy) of a
-- claim granted again since: kept.
if redis.call('HGET', KEYS[1], 'announcedAt') then return 'ok' end
if redis.call('HGET', KEYS[1], 'announceBy') ~= ARGV[3] then return 'ok' end
redis.call('HSET', KEYS[1], 'announced', '0')
redis.call('HDEL', KEYS[1], 'announceBy')
local f = redis.call('HMGET', KEYS[1], 'done', 'chunks')
if tonumber(f[1]) >= tonumber(f[2]) then redis.call('ZADD', KEYS[4], 0, ARGV[7]) end
return 'ok'
`)

// announcedScript records the announcement made, ARGV[3] announcedAt (RFC
// 3339): the claim is kept for good, and the ended batch leaves the
// deadline index (claim put it there).
var announcedScript = redis.NewScript(attemptCheckLua + `
redis.call('HSET', KEYS[1], 'announced', '1', 'announcedAt', ARGV[3])
redis.call('HDEL', KEYS[1], 'announceBy')
local f = redis.call('HMGET', KEYS[1], 'done', 'chunks')
if tonumber(f[1]) >= tonumber(f[2]) then redis.call('ZREM', KEYS[4], ARGV[7]) end
return 'ok'
`)

// overdueScript: KEYS the deadline index; ARGV now (Unix ms, exclusive),
// limit, the meta key's prefix and suffix around a member, the most
// orphans removed in one call.
// Returns the members of up to limit live batches past their deadline,
// earliest first. An entry whose meta is gone (expired after MaxAge, or
// evicted) is an orphan: nothing else removes it (the aggregator's sweep
// finds no summary and moves on), and orphans at the head of the index
// would fill every answer, so no batch would ever be ended. They are
// removed here, in the same step as the check, so that a claim of the id
// in between cannot lose its fresh entry. The bound on orphans keeps one
// call short on a Redis holding many of them; the next call goes on.
// The meta keys are derived from the members, not passed as KEYS: the
// index is one key for all batches, on a single Redis (see above).
var overdueScript = redis.NewScript(`
local limit, most = tonumber(ARGV[2]), tonumber(ARGV[5])
local out, orphans = {}, 0
while #out < limit and orphans < most do
  -- The live entries found so far stay ahead of the rest: skip them.
  local page = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', #out, limit - #out)
  if #page == 0 then break end
  for _, m in ipairs(page) do
    if redis.call('EXISTS', ARGV[3] .. m .. ARGV[4]) == 1 then
      out[#out + 1] = m
    else
      redis.call('ZREM', KEYS[1], m)
      orphans = orphans + 1
      if orphans >= most then break end
    end
  end
end
return out
`)

// arrivalsScript reads a page of an attempt's outcomes in the order
// recorded (Store.Arrivals): KEYS meta, chunks, deliv, ids, arrivals; ARGV
// attempt, the page's first position in the arrivals list, its length,
// and the claim's submittedAt the pages before it were read with (”
// for the first). Returns {'ok', submittedAt, then each chunk's entry,
// deliveries, first trade and end}, or {what}: notfound, stale,
// replaced (claimed again since the pages before, at the same attempt),
// unordered (the list does not hold every outcome: the batch claimed by
// a release before it, or outcomes recorded by one, or the list evicted).
var arrivalsScript = redis.NewScript(tallyLua + `
local m = redis.call('HMGET', KEYS[1], 'attempt', 'done', 'chunks', 'trades', 'ordered', 'submittedAt')
if not m[1] then return {'notfound'} end
local a, want = tonumber(m[1]), tonumber(ARGV[1])
if want < a then return {'stale'} end
if want > a then return {'notfound'} end
if ARGV[4] ~= '' and ARGV[4] ~= m[6] then return {'replaced'} end
if m[5] ~= '1' or redis.call('LLEN', KEYS[5]) ~= tonumber(m[2]) then return {'unordered'} end
local out = {'ok', m[6]}
local from, n, chunks, trades = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(m[3]), tonumber(m[4])
if n <= 0 then return out end
local page = redis.call('LRANGE', KEYS[5], from, from + n - 1)
-- Each chunk's trades, from the batch's offsets or from the ends of its
-- entry of trade ids and the next chunk's, whichever is shorter to read
-- (HSTRLEN reads none): read whole, the entries of chunks of 10,000
-- trades took 35 ms of Redis for 40 outcomes, the offsets of a batch of
-- 500,000 chunks 3 MB for one.
local viaIds = 0
for _, i in ipairs(page) do
  viaIds = viaIds + redis.call('HSTRLEN', KEYS[4], i)
  if tonumber(i) + 1 < chunks then viaIds = viaIds + redis.call('HSTRLEN', KEYS[4], tonumber(i) + 1) end
end
local offsets
if redis.call('HSTRLEN', KEYS[1], 'offsets') < viaIds then offsets = cjson.decode(redis.call('HGET', KEYS[1], 'offsets')) end
for _, i in ipairs(page) do
  local lo, hi
  if offsets then
    lo, hi = offsets[tonumber(i) + 1], offsets[tonumber(i) + 2] or trades
  else
    lo, hi = offsetOf(redis.call('HGET', KEYS[4], i)), trades
    if tonumber(i) + 1 < chunks then hi = offsetOf(redis.call('HGET', KEYS[4], tonumber(i) + 1)) end
  end
  if not lo or not hi then return {'unordered'} end
  out[#out + 1] = redis.call('HGET', KEYS[2], i) or ''
  out[#out + 1] = redis.call('HGET', KEYS[3], i) or ''
  out[#out + 1] = lo
  out[#out + 1] = hi
end
return out
`)
