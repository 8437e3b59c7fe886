-- acquire.lua: asks to admit one call.
--
-- KEYS[1]  state hash    <prefix>:{<name>}
-- KEYS[2]  probes zset   <prefix>:{<name>}:probes
-- ARGV[1]  events channel
-- ARGV[2]  breaker name
-- ARGV[3]  probe token (unique per call)
-- ARGV[4]  half-open max probes
-- ARGV[5]  probe lease, ms
--
-- Reply: {view, {allowed 0|1, probe 0|1, reason}, transitions}
--   reason: '' when allowed, else 'open' | 'forced_open' | 'probes'.
-- Closed (or forced closed, or disabled): admitted at once, nothing
-- written. An open breaker whose open timeout has passed moves to half_open
-- here (a transition); a half-open call may take a probe slot: a ZSET member
-- whose score is the end of its lease.

local s = load(KEYS[1])
if s.forced == 'forced_open' then
  return {view(s, 0), {0, 0, 'forced_open'}, {}}
end
if s.forced ~= '' or s.state == 'closed' then
  return {view(s, 0), {1, 0, ''}, {}}
end

local ctx = {state_key = KEYS[1], channel = ARGV[1], name = ARGV[2], transitions = {}}
local now = now_ms()
if s.state == 'open' then
  if now < s.open_until_ms then
    return {view(s, now), {0, 0, 'open'}, {}}
  end
  complete(KEYS[1], s)
  s.state = 'half_open'
  s.successes = 0
  redis.call('DEL', KEYS[2])
  commit(ctx, s, 'open', now)
end

-- half_open: drop ended leases, then take a slot if one is free.
ensure_type(KEYS[2], 'zset')
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', fmt(now))
if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[4]) then
  local lease = tonumber(ARGV[5])
  redis.call('ZADD', KEYS[2], fmt(now + lease), ARGV[3])
  redis.call('PEXPIRE', KEYS[2], lease)
  return {view(s, now), {1, 1, ''}, ctx.transitions}
end
return {view(s, now), {0, 0, 'probes'}, ctx.transitions}
