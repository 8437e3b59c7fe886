-- acquire.lua: asks to admit k calls at once (a batch of callers that
-- arrived together) and answers each.
--
-- KEYS[1]  state hash    <prefix>:{<name>}
-- KEYS[2]  probes zset   <prefix>:{<name>}:probes
-- KEYS[3]  log stream    <prefix>:{<name>}:log
-- ARGV[1]  events channel
-- ARGV[2]  breaker name
-- ARGV[3]  half-open max probes
-- ARGV[4]  probe lease, ms
-- ARGV[5]  incarnation for a hash this script would have to create anew
-- ARGV[6..5+k]  one probe token per call (unique per call)
--
-- Reply (see lib.lua), own fields: for each call in order, allowed 0|1,
-- probe 0|1, reason: '' when allowed, else 'open' | 'forced_open' | 'probes'.
-- Closed (or forced closed, or disabled, or no hash at all): every call
-- admitted at once, nothing written. An open breaker whose open timeout has
-- passed moves to half_open here (a transition); half-open, the calls take
-- the free probe slots in order (a ZSET member each, scored with the end of
-- its lease) and the rest are refused. Leases outlive the half-open period
-- that granted them: a probe still running counts against the limit of the
-- next half-open period until it reports or its lease ends.

local k = #ARGV - 5

-- Fast path: a closed breaker without an override, read as it was written
-- (its open_until_ms is 0, as every transition to closed writes it), or no
-- hash at all.
local hot = redis.pcall('HMGET', KEYS[1], 'state', 'gen', 'forced', 'inc')
if hot[1] == 'closed' and (hot[3] == false or hot[3] == '') and canonical(hot[2]) and incarnation(hot[4]) then
  return 'closed||' .. hot[2] .. '|0|0|0|0|0|' .. hot[4] .. string.rep('|1|0|', k) .. '|0'
end
if hot[1] == false and hot[2] == false and hot[3] == false and hot[4] == false then
  return 'closed||0|0|0|0|0|0|' .. string.rep('|1|0|', k) .. '|0'
end

local L = lib()
local now_ms, fmt, load, complete, reply, ensure_type, context, commit =
  L.now_ms, L.fmt, L.load, L.complete, L.reply, L.ensure_type, L.context, L.commit
local ctx = context(KEYS[1], ARGV[1], ARGV[2], ARGV[5], KEYS[3])
local s = load(KEYS[1], 5)
if s.forced == 'forced_open' then
  return reply(s, 0, string.rep('|0|0|forced_open', k), ctx)
end
if s.forced ~= '' or s.state == 'closed' then
  return reply(s, 0, string.rep('|1|0|', k), ctx)
end

local now = now_ms()
if s.state == 'open' then
  if now < s.open_until_ms then
    return reply(s, now, string.rep('|0|0|open', k), ctx)
  end
  complete(KEYS[1], s)
  s.state = 'half_open'
  s.failures, s.successes = 0, 0
  commit(ctx, s, 'open', now)
end

-- half_open: drop ended leases, then give the free slots in order.
ensure_type(KEYS[2], 'zset')
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', fmt(now))
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[2])
local lease = tonumber(ARGV[4])
local own = {}
for i = 1, k do
  if i <= free then
    redis.call('ZADD', KEYS[2], fmt(now + lease), ARGV[5 + i])
    own[i] = '|1|1|'
  else
    own[i] = '|0|0|probes'
  end
end
if free > 0 then redis.call('PEXPIRE', KEYS[2], lease) end
return reply(s, now, table.concat(own), ctx)
