/**
 * The Lua scripts of the Redis adapter. Each runs atomically inside Redis, so a room's `seq`, its
 * history entry and its pub/sub frame are one step: every instance sees the frames of a room in
 * `seq` order, and history never has a hole.
 *
 * Keys of one script share a hash tag (`{r:<room>}`), so every script also runs on Redis Cluster.
 * Times come from Redis (`TIME`), never from instance clocks, so clock skew cannot reap a live
 * instance or expire history early.
 */

/** `redis.call('TIME')` as milliseconds. */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * Durable publish. KEYS: seq, log. ARGV: channel, head, tail, except, maxLen, ttlMs, seqTtlMs.
 * Returns the new seq. The pub/sub payload is `<seq>\n<except>\n<frame>`.
 */
export const PUBLISH_DURABLE = `${NOW_MS}
local seq = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
local frame = ARGV[2] .. ',"seq":' .. seq .. ARGV[3]
local maxLen = tonumber(ARGV[5])
if maxLen > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxLen, '*', 's', seq, 'd', frame, 'x', ARGV[4])
  redis.call('XTRIM', KEYS[2], 'MINID', '~', now - tonumber(ARGV[6]))
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
redis.call('PUBLISH', ARGV[1], seq .. '\\n' .. ARGV[4] .. '\\n' .. frame)
return seq`

/**
 * Durable messages after `since`. KEYS: seq, log. ARGV: since, ttlMs, maxLen (the exact bound:
 * `MAXLEN ~` trims whole stream nodes, so the stream may hold a few more).
 * Returns `{recovered (0|1), last, frame, except, frame, except…}`. Seqs are contiguous (INCR and XADD are one step), so
 * the newest `last - since` entries are the missed ones exactly when the oldest of them is
 * `since + 1` and younger than the TTL (approximate trimming may leave older ones behind).
 */
export const RECOVER = `${NOW_MS}
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local since = tonumber(ARGV[1])
if since > last then return {0, last} end
local want = last - since
if want == 0 then return {1, last} end
if want > tonumber(ARGV[3]) then return {0, last} end
local entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', want)
if #entries < want then return {0, last} end
local oldest = entries[want]
if tonumber(oldest[2][2]) ~= since + 1 then return {0, last} end
if tonumber(string.match(oldest[1], '^(%d+)')) < now - tonumber(ARGV[2]) then return {0, last} end
local out = {1, last}
for i = want, 1, -1 do
  out[#out + 1] = entries[i][2][4]
  out[#out + 1] = entries[i][2][6] or ''
end
return out`

/**
 * A connection joins a room. KEYS: conns (connection → user), users (user → connection count).
 * ARGV: connectionId, userId. Returns 1 when it is the user's first connection in the room.
 */
export const ADD_MEMBER = `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then return 1 end
return 0`

/** A connection leaves a room. Same keys and arguments. Returns 1 when it was the user's last. */
export const REMOVE_MEMBER = `if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  return 1
end
return 0`

/**
 * Liveness. KEYS: instances (sorted set: id → last heartbeat, Redis time). ARGV: instanceId.
 * Returns 1 when the instance was not registered (first beat, or others reaped it).
 */
export const HEARTBEAT = `${NOW_MS}
return redis.call('ZADD', KEYS[1], now, ARGV[1])`

/**
 * Claim dead instances. KEYS: instances. ARGV: timeoutMs, limit. Returns the ids removed; ZREM is
 * the claim, so exactly one survivor cleans up each dead instance.
 */
export const CLAIM_DEAD = `${NOW_MS}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(dead) do redis.call('ZREM', KEYS[1], id) end
return dead`

/** Take an instance's membership records. KEYS: the instance's set. Returns its members. */
export const TAKE_SET = `local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members`

/**
 * A page of older history. KEYS: seq, log. ARGV: before, limit. Returns `{seq, frame, except…}`,
 * newest first: the newest `limit` entries with seq < before. Seqs at the top of the stream are
 * contiguous up to the counter, so the entries to skip are counted, not scanned for.
 */
export const HISTORY_PAGE = `local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local before = math.min(tonumber(ARGV[1]), last + 1)
local limit = tonumber(ARGV[2])
local entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', last + 1 - before + limit)
local out = {}
for _, entry in ipairs(entries) do
  local seq = tonumber(entry[2][2])
  if seq < before and #out < limit * 3 then
    out[#out + 1] = seq
    out[#out + 1] = entry[2][4]
    out[#out + 1] = entry[2][6] or ''
  end
end
return out`
