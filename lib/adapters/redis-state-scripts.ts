/**
 * Lua scripts of the presence-state role on Redis. One hash per room, `{r:<room>}:state` (the
 * room's hash tag, so it runs on Redis Cluster), with three kinds of fields:
 *   `c:<connectionId>` → that connection's state (JSON)
 *   `u:<userId>`       → the user's connections with a state, least recently set first (`\n`-separated)
 *   `s:<userId>`       → the user's merged state: their most recently set connection's
 * Reading the merged states of a members list is one HMGET.
 */

/** Lua: forget connection `conn`'s state in `key`; the user's merged state falls back to their next most recent. */
export const DROP_STATE = `local function dropState (key, conn, user)
  if redis.call('HDEL', key, 'c:' .. conn) == 0 then return end
  local order = {}
  for id in string.gmatch(redis.call('HGET', key, 'u:' .. user) or '', '[^\\n]+') do
    if id ~= conn then order[#order + 1] = id end
  end
  if #order == 0 then
    redis.call('HDEL', key, 'u:' .. user, 's:' .. user)
  else
    redis.call('HSET', key, 'u:' .. user, table.concat(order, '\\n'), 's:' .. user, redis.call('HGET', key, 'c:' .. order[#order]))
  end
end`

/**
 * Set a member connection's state. KEYS: conns (connection → user), state. ARGV: connectionId,
 * userId, state. Returns -1 when the connection is not a member, 1 when the user's merged state
 * changed, else 0.
 */
export const SET_STATE = `if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return -1 end
local order = {}
for id in string.gmatch(redis.call('HGET', KEYS[2], 'u:' .. ARGV[2]) or '', '[^\\n]+') do
  if id ~= ARGV[1] then order[#order + 1] = id end
end
order[#order + 1] = ARGV[1]
local before = redis.call('HGET', KEYS[2], 's:' .. ARGV[2])
redis.call('HSET', KEYS[2], 'c:' .. ARGV[1], ARGV[3], 'u:' .. ARGV[2], table.concat(order, '\\n'), 's:' .. ARGV[2], ARGV[3])
if before == ARGV[3] then return 0 end
return 1`

/** Forget a connection's state. KEYS: state. ARGV: connectionId, userId. Returns `{changed (0|1), merged state or nil}`. */
export const CLEAR_STATE = `${DROP_STATE}
local before = redis.call('HGET', KEYS[1], 's:' .. ARGV[2])
dropState(KEYS[1], ARGV[1], ARGV[2])
local after = redis.call('HGET', KEYS[1], 's:' .. ARGV[2])
if before == after then return {0, after} end
return {1, after}`
