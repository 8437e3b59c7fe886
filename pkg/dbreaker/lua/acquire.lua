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
-- Reply: {snapshot, {allowed 0|1, probe 0|1, reason}, transitions}
--   reason: '' when allowed, else 'open' | 'forced_open' | 'probes'.
-- An open breaker whose open timeout has passed moves to half_open here
-- (a transition), and the call may take a probe slot: a ZSET member whose
-- score is the end of its lease.

local ctx = {state_key = KEYS[1], channel = ARGV[1], name = ARGV[2], transitions = {}}
local token = ARGV[3]
local max_probes = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])

local now = now_ms()
local s = load(KEYS[1])
local allowed, probe, reason = 0, 0, ''

if s.forced == 'forced_open' then
  reason = 'forced_open'
elseif s.forced ~= '' or s.state == 'closed' then
  allowed = 1
else
  if s.state == 'open' then
    if now < s.open_until_ms then
      reason = 'open'
    else
      s.state = 'half_open'
      s.successes = 0
      redis.call('DEL', KEYS[2])
      commit(ctx, s, 'open', now)
    end
  end
  if s.state == 'half_open' then
    if live_probes(KEYS[2], now) < max_probes then
      redis.call('ZADD', KEYS[2], fmt(now + lease), token)
      redis.call('PEXPIRE', KEYS[2], lease)
      allowed, probe = 1, 1
    else
      reason = 'probes'
    end
  end
end

return {snap(s, now), {allowed, probe, reason}, ctx.transitions}
