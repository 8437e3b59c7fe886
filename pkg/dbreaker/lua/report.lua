-- report.lua: records the outcomes of admitted calls, in order, and commits
-- the transitions they cause.
--
-- KEYS[1]  state hash    <prefix>:{<name>}
-- KEYS[2]  window hash   <prefix>:{<name>}:window
-- KEYS[3]  probes zset   <prefix>:{<name>}:probes
-- KEYS[4]  log stream    <prefix>:{<name>}:log
-- ARGV[1]  events channel
-- ARGV[2]  breaker name
-- ARGV[3]  the policy, ten fields separated by '|':
--            consecutive failure threshold (0: policy off),
--            failure rate threshold (0: off),
--            slow-call rate threshold (0: off),
--            minimum calls in the window before a rate can trip,
--            window length in ms, window buckets,
--            open timeout in ms,
--            open timeout growth factor per repeated trip (1: none),
--            maximum open timeout in ms,
--            probe successes needed to close
--          (one argument, formatted once per policy by the caller: every
--          argument costs Redis time on every call)
-- ARGV[4]  1 when the policy uses the sliding window (a rate), else 0
-- ARGV[5]  text of the last failure in this batch
-- ARGV[6]  incarnation for a hash this script would have to create anew
-- ARGV[7]  n, the number of reports; then n groups of six:
--          incarnation and generation the call was admitted in, probe token
--          ('' if none), outcome (s|f|i), slow (0|1), count (calls folded
--          together)
--
-- Reply (see lib.lua), own fields: applied, stale.
-- A report counts when its incarnation and generation are the breaker's
-- (a call admitted while there was no hash, incarnation '' at generation 0,
-- counts against a hash created since, as long as it is still at generation
-- 0); otherwise, or when it is a probe whose lease has lapsed, it is stale
-- and changes nothing. A probe's report always gives its slot back. A
-- success that finds no failure to reset writes nothing.

-- Fast path: one success reported to a closed breaker without an override,
-- no failure to reset and no window (or to no hash at all): nothing to
-- change, nothing to write.
if ARGV[7] == '1' and ARGV[11] == 's' and ARGV[4] == '0' and ARGV[10] == '' then
  local hot = redis.pcall('HMGET', KEYS[1], 'state', 'gen', 'forced', 'failures', 'inc')
  if hot[1] == 'closed' and (hot[3] == false or hot[3] == '') and hot[4] == '0' and hot[2] == ARGV[9]
      and (hot[5] == ARGV[8] or ARGV[8] == '' and hot[2] == '0') and canonical(hot[2]) and incarnation(hot[5]) then
    return 'closed||' .. hot[2] .. '|0|0|0|0|0|' .. hot[5] .. '|' .. ARGV[13] .. '|0|0'
  end
  if hot[1] == false and hot[2] == false and hot[3] == false and hot[4] == false and hot[5] == false
      and ARGV[8] == '' and ARGV[9] == '0' then
    return 'closed||0|0|0|0|0|0||' .. ARGV[13] .. '|0|0'
  end
end

local L = lib()
local now_ms, fmt, load, complete, save, reply, ensure_type, context, commit, window_sum =
  L.now_ms, L.fmt, L.load, L.complete, L.save, L.reply, L.ensure_type, L.context, L.commit, L.window_sum
local ctx = context(KEYS[1], ARGV[1], ARGV[2], ARGV[6], KEYS[4])
local policy = {}
for v in string.gmatch(ARGV[3], '[^|]+') do policy[#policy + 1] = tonumber(v) end
local threshold, failure_rate, slow_rate, min_calls, window_ms, buckets = unpack(policy, 1, 6)
local open_timeout, growth, max_open_timeout, success_threshold = unpack(policy, 7, 10)
local n = tonumber(ARGV[7])
local use_window = failure_rate > 0 or slow_rate > 0
local width = math.floor(window_ms / buckets)

local s = load(KEYS[1], 7)
local now = 0
local function clock()
  if now == 0 then now = now_ms() end
  return now
end

-- changed: hot fields to write when no transition rewrote the hash; a new
-- or corrupt hash is written whole by the first report that changes it.
local changed = {}
local applied, stale = 0, 0

local function transition(to, from)
  complete(KEYS[1], s)
  s.state = to
  s.successes = 0
  if to == 'open' then
    s.trips = s.trips + 1
    local d = open_timeout
    if growth > 1 and s.trips > 1 then d = d * math.pow(growth, s.trips - 1) end
    d = math.min(d, max_open_timeout)
    s.opened_at_ms = clock()
    s.open_until_ms = now + math.floor(d)
  else
    s.failures, s.trips, s.open_until_ms = 0, 0, 0
  end
  redis.call('DEL', KEYS[2])
  commit(ctx, s, from, clock())
  changed = {}
end

local function window_add(calls, fails, slow)
  ensure_type(KEYS[2], 'hash')
  local b = fmt(math.floor(clock() / width))
  redis.call('HINCRBY', KEYS[2], b .. ':c', calls)
  if fails > 0 then redis.call('HINCRBY', KEYS[2], b .. ':f', fails) end
  if slow > 0 then redis.call('HINCRBY', KEYS[2], b .. ':s', slow) end
  redis.call('PEXPIRE', KEYS[2], width * (buckets + 1))
end

local function rate_tripped()
  local raw = redis.call('HGETALL', KEYS[2])
  local calls, fails, slow, expired = window_sum(raw, math.floor(clock() / width) - buckets + 1)
  for i = 1, #expired, 500 do
    redis.call('HDEL', KEYS[2], unpack(expired, i, math.min(i + 499, #expired)))
  end
  if calls == 0 or calls < min_calls then return false end
  return (failure_rate > 0 and fails / calls >= failure_rate) or (slow_rate > 0 and slow / calls >= slow_rate)
end

-- current: the report was admitted in the breaker's present incarnation
-- and generation.
local function current(inc, gen)
  return gen == s.gen and (inc == s.inc or inc == '' and s.gen == 0)
end

-- A probe's report gives its slot back, whatever else becomes of it; the
-- lease it held says whether it still counts.
local function release(token)
  if token == '' or redis.call('TYPE', KEYS[3]).ok ~= 'zset' then return false end
  local lease = redis.call('ZSCORE', KEYS[3], token)
  redis.call('ZREM', KEYS[3], token)
  return lease ~= false and tonumber(lease) > clock()
end

for i = 0, n - 1 do
  local base = 8 + i * 6
  local inc = ARGV[base]
  local gen = tonumber(ARGV[base + 1])
  local token = ARGV[base + 2]
  local outcome = ARGV[base + 3]
  local slow = tonumber(ARGV[base + 4])
  local count = tonumber(ARGV[base + 5])
  local leased = release(token)
  if not current(inc, gen) or s.forced == 'forced_open' or s.forced == 'disabled' then
    stale = stale + count
  elseif s.state == 'closed' then
    applied = applied + count
    if outcome ~= 'i' then
      local fails = 0
      if outcome == 'f' then
        s.failures = s.failures + count
        s.last_error = ARGV[5]
        changed.failures, changed.last_error = true, true
        fails = count
      elseif s.failures ~= 0 then
        s.failures = 0
        changed.failures = true
      end
      if use_window then window_add(count, fails, slow * count) end
      if s.forced == '' and ((threshold > 0 and s.failures >= threshold) or (use_window and rate_tripped())) then
        transition('open', 'closed')
      end
    end
  elseif s.state == 'half_open' and token ~= '' and s.forced == '' then
    if not leased then
      stale = stale + count
    else
      applied = applied + count
      if outcome == 'f' or (outcome == 's' and slow == 1 and slow_rate > 0) then
        if outcome == 'f' then s.last_error = ARGV[5] end
        transition('open', 'half_open')
      elseif outcome == 's' then
        s.successes = s.successes + 1
        changed.successes = true
        if s.successes >= success_threshold then transition('closed', 'half_open') end
      end
    end
  else
    stale = stale + count
  end
end

if s.corrupt or (s.new and next(changed) ~= nil) then
  complete(KEYS[1], s)
  save(ctx, s, clock())
elseif next(changed) ~= nil then
  local args = {'updated_at_ms', fmt(clock())}
  for f in pairs(changed) do
    table.insert(args, f)
    if f == 'last_error' then table.insert(args, s.last_error) else table.insert(args, fmt(s[f])) end
  end
  redis.call('HSET', KEYS[1], unpack(args))
end

if s.state == 'open' then clock() end -- the reply's open_until needs the time
return reply(s, now, '|' .. applied .. '|' .. stale, ctx)
