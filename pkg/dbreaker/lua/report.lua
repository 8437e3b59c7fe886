-- report.lua: records the outcomes of admitted calls, in order, and commits
-- the transitions they cause.
--
-- KEYS[1]  state hash    <prefix>:{<name>}
-- KEYS[2]  window hash   <prefix>:{<name>}:window
-- KEYS[3]  probes zset   <prefix>:{<name>}:probes
-- ARGV[1]  events channel
-- ARGV[2]  breaker name
-- ARGV[3]  consecutive failure threshold (0: policy off)
-- ARGV[4]  failure rate threshold (0: off)
-- ARGV[5]  slow-call rate threshold (0: off)
-- ARGV[6]  minimum calls in the window before a rate can trip
-- ARGV[7]  window length, ms
-- ARGV[8]  window buckets
-- ARGV[9]  open timeout, ms
-- ARGV[10] open timeout growth factor per repeated trip (1: none)
-- ARGV[11] maximum open timeout, ms
-- ARGV[12] probe successes needed to close
-- ARGV[13] text of the last failure in this batch
-- ARGV[14] n, the number of reports; then n groups of five:
--          generation, probe token ('' if none), outcome (s|f|i),
--          slow (0|1), count (successes folded together)
--
-- Reply: {snapshot, {applied, stale}, transitions}
-- A report whose generation differs from the breaker's, or a probe whose
-- lease has lapsed, is stale: it changes nothing.

local ctx = {state_key = KEYS[1], channel = ARGV[1], name = ARGV[2], transitions = {}}
local threshold = tonumber(ARGV[3])
local failure_rate = tonumber(ARGV[4])
local slow_rate = tonumber(ARGV[5])
local min_calls = tonumber(ARGV[6])
local window_ms = tonumber(ARGV[7])
local buckets = tonumber(ARGV[8])
local open_ms = tonumber(ARGV[9])
local growth = tonumber(ARGV[10])
local max_open_ms = tonumber(ARGV[11])
local success_threshold = tonumber(ARGV[12])
local last_error = ARGV[13]
local n = tonumber(ARGV[14])

local use_window = failure_rate > 0 or slow_rate > 0
local width = math.floor(window_ms / buckets)

local now = now_ms()
local s = load(KEYS[1])
-- pending: counters changed since the last save (a corrupt hash is rewritten
-- by the first report that reaches it).
local pending = s.corrupt
local applied, stale = 0, 0

local function open(from)
  s.state = 'open'
  s.trips = s.trips + 1
  local d = open_ms
  if growth > 1 and s.trips > 1 then d = open_ms * math.pow(growth, s.trips - 1) end
  if d > max_open_ms then d = max_open_ms end
  s.opened_at_ms = now
  s.open_until_ms = now + math.floor(d)
  s.successes = 0
  redis.call('DEL', KEYS[2], KEYS[3])
  commit(ctx, s, from, now)
end

local function close()
  s.state = 'closed'
  s.failures = 0
  s.successes = 0
  s.trips = 0
  s.open_until_ms = 0
  redis.call('DEL', KEYS[2], KEYS[3])
  commit(ctx, s, 'half_open', now)
end

local function tripped()
  if threshold > 0 and s.failures >= threshold then return true end
  if not use_window then return false end
  local calls, fails, slow = window_totals(KEYS[2], now, width, buckets)
  if calls < min_calls or calls == 0 then return false end
  if failure_rate > 0 and fails / calls >= failure_rate then return true end
  if slow_rate > 0 and slow / calls >= slow_rate then return true end
  return false
end

for i = 0, n - 1 do
  local base = 15 + i * 5
  local gen = tonumber(ARGV[base])
  local token = ARGV[base + 1]
  local outcome = ARGV[base + 2]
  local slow = tonumber(ARGV[base + 3])
  local count = tonumber(ARGV[base + 4])
  if gen ~= s.gen or s.forced == 'forced_open' or s.forced == 'disabled' then
    stale = stale + count
  elseif s.state == 'closed' then
    applied = applied + count
    if outcome ~= 'i' then
      pending = true
      local fails = 0
      if outcome == 'f' then
        s.failures = s.failures + count
        s.last_error = last_error
        fails = count
      else
        s.failures = 0
      end
      if use_window then
        window_add(KEYS[2], now, width, buckets, count, fails, slow * count)
      end
      if s.forced == '' and tripped() then open('closed'); pending = false end
    end
  elseif s.state == 'half_open' and token ~= '' and s.forced == '' then
    ensure_type(KEYS[3], 'zset')
    local lease = redis.call('ZSCORE', KEYS[3], token)
    if lease == false or tonumber(lease) <= now then
      redis.call('ZREM', KEYS[3], token)
      stale = stale + count
    else
      redis.call('ZREM', KEYS[3], token)
      applied = applied + count
      if outcome == 'f' or (outcome == 's' and slow == 1 and slow_rate > 0) then
        if outcome == 'f' then s.last_error = last_error end
        open('half_open')
        pending = false
      elseif outcome == 's' then
        s.successes = s.successes + 1
        pending = true
        if s.successes >= success_threshold then close(); pending = false end
      end
    end
  else
    stale = stale + count
  end
end

if pending then save(KEYS[1], s, now) end

return {snap(s, now), {applied, stale}, ctx.transitions}
