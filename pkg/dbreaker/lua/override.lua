-- override.lua: applies an operator action that every replica obeys.
--
-- KEYS[1]  state hash    <prefix>:{<name>}
-- KEYS[2]  window hash   <prefix>:{<name>}:window
-- KEYS[3]  probes zset   <prefix>:{<name>}:probes
-- ARGV[1]  events channel
-- ARGV[2]  breaker name
-- ARGV[3]  action: reset | forced_open | forced_closed | disabled
--
-- Reply (see lib.lua): no own fields, full.
-- reset clears counters, leases, the window and any override (closed, as
-- new). A force sets the override; forced_closed and disabled also restart
-- the state machine closed, so counting resumes from zero. Setting the
-- override already in force changes nothing.

local L = lib()
local now_ms, fmt, int_field, fresh, load, complete, save, effective, reply, ensure_type, context, commit, window_sum =
  L.now_ms, L.fmt, L.int_field, L.fresh, L.load, L.complete, L.save, L.effective, L.reply, L.ensure_type, L.context, L.commit, L.window_sum
local ctx = context(KEYS[1], ARGV[1], ARGV[2])
local action = ARGV[3]
if action ~= 'reset' and action ~= 'forced_open' and action ~= 'forced_closed' and action ~= 'disabled' then
  return redis.error_reply('ERR dbreaker: unknown override action ' .. tostring(action))
end

local now = now_ms()
local s = load(KEYS[1], 6)
local from = effective(s)

if action == 'reset' or action ~= s.forced or s.corrupt then
  if action == 'forced_open' then
    complete(KEYS[1], s)
  else
    local wrongtype = s.wrongtype
    s = fresh(s.gen)
    s.wrongtype = wrongtype
    redis.call('DEL', KEYS[2], KEYS[3])
  end
  if action ~= 'reset' then s.forced = action end
  commit(ctx, s, from, now)
else
  complete(KEYS[1], s)
end

return reply(s, now, '', ctx, true)
