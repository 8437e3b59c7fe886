-- lib.lua: helpers shared by every breaker script. The Go wrapper prepends
-- this file to each script body, so each script stays one atomic unit.
--
-- The helpers are made by lib() only when a script needs them: making a
-- dozen closures costs Redis about as much as the whole fast path of a
-- closed breaker (acquire.lua and report.lua start with it), so the fast
-- path does without them. canonical() is the fast paths' one helper: a
-- non-negative integer as fmt() writes it (no sign, no leading zero, at most
-- 15 digits), so the fast paths can copy it into the reply as it is.
local function canonical(v)
  return v == '0' or type(v) == 'string' and #v <= 15 and string.find(v, '^[1-9]%d*$') ~= nil
end

-- incarnation() tells a well-formed incarnation: 1 to 40 letters, digits and
-- ':' (so the fast paths can copy it into the reply as it is).
local function incarnation(v)
  return type(v) == 'string' and #v >= 1 and #v <= 40 and string.find(v, '^[%w:]+$') ~= nil
end

--
-- State hash fields (integers are decimal strings; times are Redis TIME in
-- milliseconds):
--   state          closed | open | half_open
--   inc            incarnation: a random id given by the caller of the script
--                  that created the hash; a hash that vanished (DEL, FLUSHALL,
--                  eviction, a failover that lost writes) comes back with
--                  another one, so no replica mistakes it for the old one
--   gen            generation, +1 at every transition; compared only within
--                  one incarnation
--   failures       consecutive failures while closed
--   successes      successful probes in this half-open period
--   trips          trips since the breaker was last closed
--   opened_at_ms   when it last opened
--   open_until_ms  when a probe may be tried
--   forced         '' | forced_open | forced_closed | disabled
--   last_error     text of the last failure (truncated by the caller)
--   updated_at_ms  last write
--
-- The hot path reads only the "hot" fields (state, gen, forced,
-- open_until_ms, inc, failures, successes) and writes only what changed; a
-- transition reads the rest and rewrites every field. A missing hash is a
-- closed breaker of no incarnation ('') at generation 0, and nothing writes
-- it until there is something to record. An unreadable hot field (or a key
-- of the wrong type) makes the state "corrupt": it is treated like a missing
-- hash, and the next write rewrites the whole hash with a new incarnation.
-- An unreadable cold field is repaired by the next transition.
--
-- Every script replies with one string of fields separated by '|':
--   state|forced|gen|open_until_ms|now_ms|corrupt|failures|successes|inc
--   |<the script's own fields>
--   |<number of transitions>|<from|to|gen|open_until_ms for each>
--   and, from snapshot and override only:
--   |trips|opened_at_ms|updated_at_ms|last_error (the rest of the string)
-- now_ms is 0 when the script did not need TIME; acquire does not read
-- failures and successes and reports them as 0.

local function lib()
  local MAX_INT = 9007199254740991

  local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end

  local function fmt(n)
    return string.format('%d', n)
  end

  -- A non-negative integer field; false (missing) reads as 0, anything else
  -- that is not such an integer reads as nil.
  local function int_field(v)
    if v == false or v == nil then return 0 end
    local n = tonumber(v)
    if n == nil or n ~= n or n < 0 or n > MAX_INT or n ~= math.floor(n) then return nil end
    return n
  end

  -- A new state: closed, of no incarnation yet, at generation 0.
  local function fresh()
    return {state = 'closed', inc = '', gen = 0, failures = 0, successes = 0, trips = 0,
      opened_at_ms = 0, open_until_ms = 0, forced = '', last_error = '',
      updated_at_ms = 0, corrupt = false, wrongtype = false, complete = true}
  end

  local function corrupt_state(wrongtype)
    local s = fresh()
    s.corrupt, s.wrongtype, s.new = true, wrongtype, true
    return s
  end

  -- Reads the first n hot fields: state, gen, forced, open_until_ms, inc
  -- (n = 5), then failures, successes (n = 7).
  local function load(key, n)
    local raw
    if n > 5 then
      raw = redis.pcall('HMGET', key, 'state', 'gen', 'forced', 'open_until_ms', 'inc', 'failures', 'successes')
    else
      raw = redis.pcall('HMGET', key, 'state', 'gen', 'forced', 'open_until_ms', 'inc')
    end
    if raw.err then return corrupt_state(true) end
    local state, forced = raw[1], raw[3]
    local gen = int_field(raw[2])
    if state == false and raw[2] == false and forced == false and raw[4] == false and raw[5] == false and not raw[6] and not raw[7] then
      local s = fresh()
      if redis.call('EXISTS', key) == 1 then s.corrupt = true end
      s.new = true -- the first write must write every field
      return s
    end
    if forced == false then forced = '' end
    local s = {state = state, inc = raw[5], gen = gen, forced = forced, open_until_ms = int_field(raw[4]), failures = 0,
      successes = 0, corrupt = false, wrongtype = false, complete = false}
    if n > 5 then
      s.failures, s.successes = int_field(raw[6]), int_field(raw[7])
    end
    if gen == nil or raw[2] == false or s.open_until_ms == nil or s.failures == nil or s.successes == nil
        or not incarnation(s.inc)
        or not (state == 'closed' or state == 'open' or state == 'half_open')
        or not (forced == '' or forced == 'forced_open' or forced == 'forced_closed' or forced == 'disabled')
        or (state == 'open' and s.open_until_ms == 0) then
      return corrupt_state(false)
    end
    return s
  end

  -- Reads the cold fields a script has not set itself, before a transition
  -- rewrites the hash. Returns false when one was unreadable (it then takes
  -- its fresh value).
  local function complete(key, s)
    if s.complete then return true end
    s.complete = true
    local raw = redis.call('HMGET', key, 'trips', 'opened_at_ms', 'last_error', 'updated_at_ms')
    local trips, opened, updated = int_field(raw[1]), int_field(raw[2]), int_field(raw[4])
    if s.trips == nil then s.trips = trips or 0 end
    if s.opened_at_ms == nil then s.opened_at_ms = opened or 0 end
    if s.last_error == nil then s.last_error = raw[3] or '' end
    if s.updated_at_ms == nil then s.updated_at_ms = updated or 0 end
    return trips ~= nil and opened ~= nil and updated ~= nil
  end

  -- Rewrites every field (after a transition, or to create the hash or
  -- repair a corrupt one: then it takes the caller's new incarnation).
  local function save(ctx, s, now)
    local key = ctx.state_key
    s.updated_at_ms = now
    if s.wrongtype then
      redis.call('DEL', key)
      s.wrongtype = false
    end
    if s.inc == '' then s.inc = ctx.inc end
    s.new = false
    redis.call('HSET', key,
      'state', s.state, 'inc', s.inc, 'gen', fmt(s.gen), 'failures', fmt(s.failures),
      'successes', fmt(s.successes), 'trips', fmt(s.trips),
      'opened_at_ms', fmt(s.opened_at_ms), 'open_until_ms', fmt(s.open_until_ms),
      'forced', s.forced, 'last_error', s.last_error, 'updated_at_ms', fmt(now))
    s.corrupt = false
  end

  local function effective(s)
    if s.forced ~= '' then return s.forced end
    return s.state
  end

  -- The reply: the view of s, the script's own fields (a string starting
  -- with '|', or ''), the transitions, and with full the cold fields.
  local function reply(s, now, own, ctx, full)
    local corrupt = 0
    if s.corrupt then corrupt = 1 end
    local r = string.format('%s|%s|%d|%d|%d|%d|%d|%d|%s', s.state, s.forced, s.gen, s.open_until_ms, now,
      corrupt, s.failures, s.successes, s.inc) .. own .. '|' .. ctx.count .. ctx.transitions
    if full then
      r = r .. string.format('|%d|%d|%d|', s.trips, s.opened_at_ms, s.updated_at_ms) .. s.last_error
    end
    return r
  end

  -- Deletes a key of the wrong type so it can be written again.
  local function ensure_type(key, want)
    local t = redis.call('TYPE', key).ok
    if t ~= 'none' and t ~= want then redis.call('DEL', key) end
  end

  -- ctx: what a write needs (the state key, channel, name, the
  -- incarnation a new hash takes, the log stream and who acts, for an
  -- operator action; nil for a script that never writes) and the
  -- transitions committed so far, as reply text.
  local function context(state_key, channel, name, inc, log_key, by)
    if inc ~= nil and not incarnation(inc) then
      error('dbreaker: malformed incarnation argument ' .. tostring(inc))
    end
    return {state_key = state_key, channel = channel, name = name, inc = inc, log_key = log_key, by = by or '',
      count = 0, transitions = ''}
  end

  -- Appends a transition, or an operator action, to the breaker's log: a
  -- stream capped at about 1000 entries (MAXLEN ~ trims whole nodes, so a
  -- few more may stay). Each entry holds the Redis time, from, to,
  -- incarnation, generation, open_until_ms, the last error (redacted by the
  -- caller), and for an operator action the action and who did it.
  local function log(ctx, s, from, to, now, override)
    ensure_type(ctx.log_key, 'stream')
    local entry = {'XADD', ctx.log_key, 'MAXLEN', '~', '1000', '*', 'at_ms', fmt(now), 'from', from, 'to', to,
      'inc', s.inc, 'gen', fmt(s.gen), 'open_until_ms', fmt(s.open_until_ms), 'error', s.last_error}
    if override ~= nil then
      table.insert(entry, 'action')
      table.insert(entry, override)
      table.insert(entry, 'by')
      table.insert(entry, ctx.by)
    end
    redis.call(unpack(entry))
  end

  -- Publishes the event of a change from `from` to s's effective state,
  -- {breaker, from, to, inc, gen, open_until_ms, at_ms[, override]} (at_ms:
  -- the Redis time of the transition, so a replica can tell how long the
  -- breaker stays open without trusting its own clock; override: the
  -- operator action that caused it), and appends it to the log; returns the
  -- effective state. An operator action that changes nothing is announced
  -- this way too.
  local function announce(ctx, s, from, now, override)
    local to = effective(s)
    redis.call('PUBLISH', ctx.channel, cjson.encode({breaker = ctx.name, from = from,
      to = to, inc = s.inc, gen = s.gen, open_until_ms = s.open_until_ms, at_ms = now, override = override}))
    log(ctx, s, from, to, now, override)
    return to
  end

  -- Commits a transition: bumps the generation, rewrites the hash,
  -- announces it (event and log) and adds it to the reply. The caller has
  -- completed s. A generation that would leave the integers Redis and Lua
  -- represent exactly starts a new incarnation at generation 1.
  local function commit(ctx, s, from, now, override)
    if s.gen >= MAX_INT then
      s.inc, s.gen = ctx.inc, 0
    end
    s.gen = s.gen + 1
    save(ctx, s, now)
    local to = announce(ctx, s, from, now, override)
    ctx.count = ctx.count + 1
    ctx.transitions = ctx.transitions .. string.format('|%s|%s|%d|%d', from, to, s.gen, s.open_until_ms)
  end

  -- Sliding window: one hash field per bucket and counter ("<bucket>:c" calls,
  -- ":f" failures, ":s" slow), bucket = floor(now / width). window_sum adds
  -- up an HGETALL reply's buckets from `oldest` on and lists the fields that
  -- are older or unreadable.
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

  return {now_ms = now_ms, fmt = fmt, int_field = int_field, fresh = fresh, corrupt_state = corrupt_state, load = load, complete = complete, save = save, effective = effective, reply = reply, ensure_type = ensure_type, context = context, log = log, announce = announce, commit = commit, window_sum = window_sum}
end
