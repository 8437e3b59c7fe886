-- snapshot.lua: reads a breaker's whole state without changing it. A
-- corrupt hash is reported as closed and flagged; only writes repair it.
--
-- KEYS[1]  state hash    <prefix>:{<name>}
-- KEYS[2]  window hash   <prefix>:{<name>}:window
-- KEYS[3]  probes zset   <prefix>:{<name>}:probes
-- ARGV[1]  window length, ms (0: no window totals)
-- ARGV[2]  window buckets
--
-- Reply (see lib.lua), own fields: window calls, window failures, window
-- slow, live probes; full.

local L = lib()
local now_ms, fmt, load, complete, reply, context, window_sum =
  L.now_ms, L.fmt, L.load, L.complete, L.reply, L.context, L.window_sum
local window_ms = tonumber(ARGV[1])
local buckets = tonumber(ARGV[2])
local now = now_ms()
local s = load(KEYS[1], 7)
if not s.wrongtype and not complete(KEYS[1], s) then
  s.corrupt = true
end

local calls, fails, slow = 0, 0, 0
if window_ms > 0 and redis.call('TYPE', KEYS[2]).ok == 'hash' then
  local width = math.floor(window_ms / buckets)
  calls, fails, slow = window_sum(redis.call('HGETALL', KEYS[2]), math.floor(now / width) - buckets + 1)
end

local probes = 0
if redis.call('TYPE', KEYS[3]).ok == 'zset' then
  probes = redis.call('ZCOUNT', KEYS[3], '(' .. fmt(now), '+inf')
end

return reply(s, now, string.format('|%d|%d|%d|%d', calls, fails, slow, probes), context(KEYS[1], '', '', nil), true)
