-- override.lua: applies an operator action that every replica obeys.
--
-- KEYS[1]  state hash    <prefix>:{<name>}
-- KEYS[2]  window hash   <prefix>:{<name>}:window
-- KEYS[3]  probes zset   <prefix>:{<name>}:probes
-- KEYS[4]  log stream    <prefix>:{<name>}:log
-- ARGV[1]  events channel
-- ARGV[2]  breaker name
-- ARGV[3]  action: reset | forced_open | forced_closed | disabled
-- ARGV[4]  incarnation for a hash this script would have to create anew
-- ARGV[5]  who acts: the operator's name ('' when not given)
--
-- Reply (see lib.lua): no own fields, full.
-- reset clears counters, leases, the window and any override (closed, as
-- new). A force sets the override; forced_closed and disabled also restart
-- the state machine closed, so counting resumes from zero. Setting the
-- override already in force changes nothing, but is announced all the same.
-- The event of an override says so (its "override" field), and replicas
-- take the state it announces whatever they held before. Every action is
-- appended to the log with the operator's name, a change or not.

local L = lib()
local now_ms, fresh, load, complete, effective, reply, context, announce, commit =
  L.now_ms, L.fresh, L.load, L.complete, L.effective, L.reply, L.context, L.announce, L.commit
local ctx = context(KEYS[1], ARGV[1], ARGV[2], ARGV[4], KEYS[4], ARGV[5])
local action = ARGV[3]
if action ~= 'reset' and action ~= 'forced_open' and action ~= 'forced_closed' and action ~= 'disabled' then
  return redis.error_reply('ERR dbreaker: unknown override action ' .. tostring(action))
end

local now = now_ms()
local s = load(KEYS[1], 7)
local from = effective(s)

if action == 'reset' or action ~= s.forced or s.corrupt then
  if action == 'forced_open' then
    complete(KEYS[1], s)
  else
    local old = s
    s = fresh()
    s.inc, s.gen, s.wrongtype = old.inc, old.gen, old.wrongtype
    redis.call('DEL', KEYS[2], KEYS[3])
  end
  if action ~= 'reset' then s.forced = action end
  commit(ctx, s, from, now, action)
else
  -- Nothing changes, but the action is still announced: replicas whose
  -- view went astray take the state again.
  complete(KEYS[1], s)
  announce(ctx, s, from, now, action)
end

return reply(s, now, '', ctx, true)
