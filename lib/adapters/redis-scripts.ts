/**
 * The Lua scripts of the Redis adapter. Each runs atomically inside Redis, so a room's `seq`, its
 * history entry and its pub/sub frame are one step: every instance sees the frames of a room in
 * `seq` order, and history never has a hole.
 *
 * Keys of one script share a hash tag (`{r:<room>}`), so every script also runs on Redis Cluster.
 * Times come from Redis (`TIME`), never from instance clocks, so clock skew cannot reap a live
 * instance or expire history early.
 */

import { DROP_STATE } from './redis-state-scripts.js'

/** `redis.call('TIME')` as milliseconds. */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * Keep the room's epoch (KEYS[3]) alive as long as its counter, or start a new one: a missing
 * epoch means the numbering was forgotten or lost. Redis time names it (unique per room over
 * time). Needs `NOW_MS`; `ttl` is the counter's TTL. Leaves it in `epoch` when `read` is set.
 */
function ensureEpoch (ttl: string, read: boolean): string {
  const touch = `if redis.call('PEXPIRE', KEYS[3], ${ttl}) == 0 then
  redis.call('SET', KEYS[3], t[1] .. '.' .. t[2], 'PX', ${ttl})
end`
  return read ? `${touch}
local epoch = redis.call('GET', KEYS[3])` : touch
}

/** INCR, XADD, trim, publish; leaves the new seq in `seq`. Arguments: see `PUBLISH_DURABLE`. */
const PUBLISH_BODY = `local seq = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
${ensureEpoch('ARGV[7]', false)}
local frame = ARGV[2] .. ',"seq":' .. seq .. ARGV[3]
local maxLen = tonumber(ARGV[5])
if maxLen > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxLen, '*', 's', seq, 'd', frame, 'x', ARGV[4])
  redis.call('XTRIM', KEYS[2], 'MINID', '~', now - tonumber(ARGV[6]))
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
redis.call(ARGV[8], ARGV[1], seq .. '\\n' .. ARGV[4] .. '\\n' .. frame)`

/**
 * Durable publish. KEYS: seq, log, epoch. ARGV: channel, head, tail, except, maxLen, ttlMs, seqTtlMs,
 * publish command (PUBLISH, or SPUBLISH on Redis Cluster). Returns the new seq. The pub/sub
 * payload is `<seq>\n<except>\n<frame>`.
 */
export const PUBLISH_DURABLE = `${NOW_MS}
${PUBLISH_BODY}
return seq`

/**
 * Idempotent durable publish: as `PUBLISH_DURABLE`, plus KEYS[4], the idempotency key's record
 * (same hash tag). When it exists, the publish already ran: return its seq, publish nothing.
 */
export const PUBLISH_DURABLE_ONCE = `local done = redis.call('GET', KEYS[4])
if done then return tonumber(done) end
${NOW_MS}
${PUBLISH_BODY}
redis.call('SET', KEYS[4], seq, 'PX', ARGV[6])
return seq`

/**
 * Where the room's numbering stands. KEYS: seq, (unused), epoch. ARGV: seqTtlMs. Returns
 * `{last, epoch}`; the epoch is created on first use, and its TTL and the counter's renewed.
 */
export const POSITION = `${NOW_MS}
redis.call('PEXPIRE', KEYS[1], ARGV[1])
${ensureEpoch('ARGV[1]', true)}
return {tonumber(redis.call('GET', KEYS[1]) or '0'), epoch}`

/**
 * Durable messages after `since`. KEYS: seq, log, epoch. ARGV: since, ttlMs, maxLen (the exact
 * bound: `MAXLEN ~` trims whole stream nodes, so the stream may hold a few more), the epoch the
 * client saw ('' for none), seqTtlMs.
 * Returns `{recovered (0|1), last, epoch, frame, except, frame, except…}`. Not recovered when the
 * numbering is another epoch (it restarted: the same numbers are other messages). Seqs are
 * contiguous (INCR and XADD are one step), so the newest `last - since` entries are the missed
 * ones exactly when the oldest of them is `since + 1` and younger than the TTL (approximate
 * trimming may leave older ones behind).
 */
export const RECOVER = `${NOW_MS}
${ensureEpoch('ARGV[5]', true)}
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local since = tonumber(ARGV[1])
if ARGV[4] ~= '' and ARGV[4] ~= epoch then return {0, last, epoch} end
if since > last then return {0, last, epoch} end
local want = last - since
if want == 0 then return {1, last, epoch} end
if want > tonumber(ARGV[3]) then return {0, last, epoch} end
local entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', want)
if #entries < want then return {0, last, epoch} end
local oldest = entries[want]
if tonumber(oldest[2][2]) ~= since + 1 then return {0, last, epoch} end
if tonumber(string.match(oldest[1], '^(%d+)')) < now - tonumber(ARGV[2]) then return {0, last, epoch} end
local out = {1, last, epoch}
for i = want, 1, -1 do
  out[#out + 1] = entries[i][2][4]
  out[#out + 1] = entries[i][2][6] or ''
end
return out`

/**
 * The room's presence version (KEYS: `pv`, see `PresenceLeave.version`): bumped with each change of
 * its users. An emptied room's counter is kept a day (`VERSION_IDLE_MS`), so a room that fills
 * again goes on above it; a missing one (new room, or Redis lost its data) starts from Redis time
 * in µs, above every version clients saw of the room before (short of a million changes a second).
 */
const BUMP_VERSION = `local function bumpVersion (key)
  if redis.call('EXISTS', key) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', key, t[1] .. string.rep('0', 6 - #t[2]) .. t[2])
  else
    redis.call('PERSIST', key)
  end
  return redis.call('INCR', key)
end`

/** How long an emptied room keeps its presence version. */
const VERSION_IDLE_MS = 86_400_000

/**
 * A connection joins a room. KEYS: conns (connection → user), users (user → connection count),
 * sorted (the users in id order, for `MEMBERS_AFTER`), pv (presence version). ARGV: connectionId,
 * userId. Returns the room's new presence version when it is the user's first connection in the
 * room, else 0.
 */
export const ADD_MEMBER = `${BUMP_VERSION}
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then
  redis.call('ZADD', KEYS[3], 0, ARGV[2])
  return bumpVersion(KEYS[4])
end
return 0`

/**
 * A connection leaves a room, and its presence state with it. KEYS: conns, users, state
 * (`redis-state-scripts.ts`), sorted, pv. ARGV: connectionId, userId. Returns the room's new
 * presence version when it was the user's last connection, else 0.
 */
export const REMOVE_MEMBER = `${DROP_STATE}
${BUMP_VERSION}
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
dropState(KEYS[3], ARGV[1], ARGV[2])
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[4], ARGV[2])
  local version = bumpVersion(KEYS[5])
  if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('PEXPIRE', KEYS[5], ${VERSION_IDLE_MS}) end
  return version
end
return 0`

/**
 * Up to `limit` of the room's users (any), its size and presence version, in one step (what
 * `room_joined` lists). KEYS: users, pv. ARGV: limit. Returns `{count, version, {id…}}`.
 */
export const MEMBER_LIST = `return {redis.call('HLEN', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('HRANDFIELD', KEYS[1], tonumber(ARGV[1]))}`

/**
 * A page of the room's users in id order (byte order). KEYS: users, sorted, pv. ARGV: after ('' for
 * the first page), limit. Returns `{count, {id…}, version}`. The sorted set is kept by the member scripts;
 * when its size is not the room's (keys written by an older version), it is rebuilt once here.
 */
export const MEMBERS_AFTER = `local n = redis.call('HLEN', KEYS[1])
if redis.call('ZCARD', KEYS[2]) ~= n then
  redis.call('DEL', KEYS[2])
  local ids = redis.call('HKEYS', KEYS[1])
  for i = 1, #ids, 500 do
    local args = {}
    for j = i, math.min(i + 499, #ids) do
      args[#args + 1] = 0
      args[#args + 1] = ids[j]
    end
    redis.call('ZADD', KEYS[2], unpack(args))
  end
end
local min = '-'
if ARGV[1] ~= '' then min = '(' .. ARGV[1] end
return {n, redis.call('ZRANGEBYLEX', KEYS[2], min, '+', 'LIMIT', 0, tonumber(ARGV[2])), tonumber(redis.call('GET', KEYS[3]) or '0')}`

/** Several connections join one room. Same keys; ARGV: connectionId, userId, … Returns per pair the new version or 0, as `ADD_MEMBER`. */
export const ADD_MEMBERS = `${BUMP_VERSION}
local out = {}
for i = 1, #ARGV, 2 do
  local first = 0
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 and redis.call('HINCRBY', KEYS[2], ARGV[i + 1], 1) == 1 then
    redis.call('ZADD', KEYS[3], 0, ARGV[i + 1])
    first = bumpVersion(KEYS[4])
  end
  out[#out + 1] = first
end
return out`

/** Several connections leave one room (states too). Keys as `REMOVE_MEMBER`, arguments as `ADD_MEMBERS`; per pair the new version or 0, as `REMOVE_MEMBER`. */
export const REMOVE_MEMBERS = `${DROP_STATE}
${BUMP_VERSION}
local out = {}
for i = 1, #ARGV, 2 do
  local last = 0
  local removed = redis.call('HDEL', KEYS[1], ARGV[i]) == 1
  if removed then dropState(KEYS[3], ARGV[i], ARGV[i + 1]) end
  if removed and redis.call('HINCRBY', KEYS[2], ARGV[i + 1], -1) <= 0 then
    redis.call('HDEL', KEYS[2], ARGV[i + 1])
    redis.call('ZREM', KEYS[4], ARGV[i + 1])
    last = bumpVersion(KEYS[5])
  end
  out[#out + 1] = last
end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('PEXPIRE', KEYS[5], ${VERSION_IDLE_MS}) end
return out`

/**
 * Liveness. KEYS: instances (sorted set: id → last heartbeat, Redis time), reaping (id → when a
 * survivor claimed it). ARGV: instanceId. Returns 1 when the instance was not registered (first
 * beat, or others claimed it dead). A beat withdraws a claim: a live instance is not reaped again.
 */
export const HEARTBEAT = `${NOW_MS}
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('ZADD', KEYS[1], now, ARGV[1])`

/**
 * Claim dead instances. KEYS: instances, reaping. ARGV: timeoutMs, limit, self. Returns the ids
 * claimed: each moves from instances to reaping (so exactly one survivor cleans up each), and a
 * claim not renewed for timeoutMs (its survivor died mid-reap) is claimed again.
 */
export const CLAIM_DEAD = `${NOW_MS}
local oldest = now - tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local claimed = {}
for _, key in ipairs(KEYS) do
  if #claimed < limit then
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', oldest, 'LIMIT', 0, limit - #claimed + 1)) do
      if id ~= ARGV[3] and #claimed < limit then
        redis.call('ZREM', KEYS[1], id)
        redis.call('ZADD', KEYS[2], now, id)
        claimed[#claimed + 1] = id
      end
    end
  end
end
return claimed`

/**
 * A survivor still reaping renews its claim. KEYS: reaping. ARGV: instanceId. Returns 0 when the
 * claim is gone (the instance beat again: it is alive, stop removing its members).
 */
export const RENEW_CLAIM = `${NOW_MS}
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
return 1`

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
