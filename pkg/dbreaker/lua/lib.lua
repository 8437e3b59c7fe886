-- lib.lua: helpers shared by every breaker script. The Go wrapper prepends
-- this file to each script body, so each script stays one atomic unit.
--
-- State hash fields (all integers are decimal strings, times are Redis TIME
-- in milliseconds):
--   state          closed | open | half_open
--   gen            generation, +1 at every transition
--   failures       consecutive failures while closed
--   successes      successful probes in this half-open period
--   trips          trips since the breaker was last closed
--   opened_at_ms   when it last opened
--   open_until_ms  when a probe may be tried
--   forced         '' | forced_open | forced_closed | disabled
--   last_error     text of the last failure (truncated by the caller)
--   updated_at_ms  last write
--
-- Snapshot reply (an array): state, gen, failures, successes, trips,
-- opened_at_ms, open_until_ms, forced, last_error, updated_at_ms, now_ms,
-- corrupt (0|1).
-- Transition reply (an array): from, to, gen, open_until_ms.

local MAX_INT = 9007199254740991

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function fmt(n)
  return string.format('%d', n)
end

-- A non-negative integer field; false (missing) reads as 0, anything else
-- that is not such an integer reads as nil (corrupt).
local function int_field(v)
  if v == false or v == nil then return 0 end
  local n = tonumber(v)
  if n == nil or n ~= n or n < 0 or n > MAX_INT or n ~= math.floor(n) then return nil end
  return n
end

local FIELDS = {'state', 'gen', 'failures', 'successes', 'trips', 'opened_at_ms',
  'open_until_ms', 'forced', 'last_error', 'updated_at_ms'}
local INT_FIELDS = {'gen', 'failures', 'successes', 'trips', 'opened_at_ms',
  'open_until_ms', 'updated_at_ms'}
local STATES = {closed = true, open = true, half_open = true}
local FORCED = {[''] = true, forced_open = true, forced_closed = true, disabled = true}

local function fresh(gen)
  return {state = 'closed', gen = gen, failures = 0, successes = 0, trips = 0,
    opened_at_ms = 0, open_until_ms = 0, forced = '', last_error = '',
    updated_at_ms = 0, corrupt = false, wrongtype = false}
end

-- Reads the state hash. Whatever is unreadable (wrong key type, missing or
-- garbage fields) yields a closed state flagged corrupt, keeping the
-- generation when it is readable; the next save rewrites every field.
local function load(key)
  local raw = redis.pcall('HMGET', key, unpack(FIELDS))
  if type(raw) == 'table' and raw.err then
    local s = fresh(0)
    s.corrupt = true
    s.wrongtype = true
    return s
  end
  local empty = true
  for i = 1, #FIELDS do
    if raw[i] ~= false then empty = false end
  end
  if empty then
    local s = fresh(0)
    if redis.call('EXISTS', key) == 1 then s.corrupt = true end
    return s
  end
  local s = fresh(0)
  local ok = true
  for i = 1, #FIELDS do
    s[FIELDS[i]] = raw[i]
  end
  for _, f in ipairs(INT_FIELDS) do
    local n = int_field(s[f])
    if n == nil then ok = false; n = 0 end
    s[f] = n
  end
  if s.forced == false then s.forced = '' end
  if s.last_error == false then s.last_error = '' end
  if raw[1] == false or raw[2] == false or not STATES[s.state] or not FORCED[s.forced] then
    ok = false
  end
  if s.state == 'open' and s.open_until_ms == 0 then ok = false end
  if not ok then
    local gen = int_field(raw[2]) or 0
    s = fresh(gen)
    s.corrupt = true
  end
  return s
end

local function save(key, s, now)
  s.updated_at_ms = now
  if s.wrongtype then
    redis.call('DEL', key)
    s.wrongtype = false
  end
  redis.call('HSET', key,
    'state', s.state, 'gen', fmt(s.gen), 'failures', fmt(s.failures),
    'successes', fmt(s.successes), 'trips', fmt(s.trips),
    'opened_at_ms', fmt(s.opened_at_ms), 'open_until_ms', fmt(s.open_until_ms),
    'forced', s.forced, 'last_error', s.last_error, 'updated_at_ms', fmt(now))
  s.corrupt = false
end

local function effective(s)
  if s.forced ~= '' then return s.forced end
  return s.state
end

local function snap(s, now)
  local corrupt = 0
  if s.corrupt then corrupt = 1 end
  return {s.state, s.gen, s.failures, s.successes, s.trips, s.opened_at_ms,
    s.open_until_ms, s.forced, s.last_error, s.updated_at_ms, now, corrupt}
end

-- Deletes a key of the wrong type so it can be written again.
local function ensure_type(key, want)
  local t = redis.call('TYPE', key).ok
  if t ~= 'none' and t ~= want then redis.call('DEL', key) end
end

-- Commits a transition: bumps the generation, saves, publishes the event and
-- records it in the reply list.
local function commit(ctx, s, from, now)
  s.gen = s.gen + 1
  save(ctx.state_key, s, now)
  local to = effective(s)
  redis.call('PUBLISH', ctx.channel, cjson.encode({breaker = ctx.name, from = from,
    to = to, gen = s.gen, open_until_ms = s.open_until_ms}))
  table.insert(ctx.transitions, {from, to, s.gen, s.open_until_ms})
end

-- Sliding window: one hash field per bucket and counter ("<bucket>:c" calls,
-- ":f" failures, ":s" slow), bucket = floor(now / width).
-- Sums the buckets of a window hash's HGETALL reply that are not older than
-- bucket `oldest`; returns calls, failures, slow and the fields to expire.
local function window_sum(raw, oldest)
  local calls, fails, slow, expired = 0, 0, 0, {}
  for i = 1, #raw, 2 do
    local b, kind = string.match(raw[i], '^(%d+):([cfs])$')
    local n = int_field(raw[i + 1])
    if b == nil or n == nil or tonumber(b) < oldest then
      table.insert(expired, raw[i])
    elseif kind == 'c' then calls = calls + n
    elseif kind == 'f' then fails = fails + n
    else slow = slow + n end
  end
  return calls, fails, slow, expired
end

-- Window totals for the current bucket and the buckets-1 before it; drops
-- older buckets (and a window key of the wrong type).
local function window_totals(key, now, width, buckets)
  local raw = redis.pcall('HGETALL', key)
  if type(raw) == 'table' and raw.err then
    redis.call('DEL', key)
    return 0, 0, 0
  end
  local calls, fails, slow, expired = window_sum(raw, math.floor(now / width) - buckets + 1)
  for i = 1, #expired, 500 do
    redis.call('HDEL', key, unpack(expired, i, math.min(i + 499, #expired)))
  end
  return calls, fails, slow
end

local function window_add(key, now, width, buckets, calls, fails, slow)
  ensure_type(key, 'hash')
  local b = fmt(math.floor(now / width))
  redis.call('HINCRBY', key, b .. ':c', calls)
  if fails > 0 then redis.call('HINCRBY', key, b .. ':f', fails) end
  if slow > 0 then redis.call('HINCRBY', key, b .. ':s', slow) end
  redis.call('PEXPIRE', key, width * (buckets + 1))
end

-- Drops probe leases that have ended; returns how many are still held.
local function live_probes(key, now)
  ensure_type(key, 'zset')
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now))
  return redis.call('ZCARD', key)
end
