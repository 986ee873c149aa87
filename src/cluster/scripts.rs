//! The Lua scripts that decide presence atomically in Redis, so two nodes never disagree
//! about whether someone is online.
//!
//! Keys (all under the configured prefix `P`):
//! - `P presence:<user>`: hash node → number of that user's sockets on the node
//! - `P online`: hash user → `{"id","email"}` of everyone with at least one socket
//! - `P node_users:<node>`: set of users with sockets on the node (for reaping it)
//! - `P node:<node>`: the node's heartbeat, expiring unless renewed
//! - `P nodes`: set of nodes that registered
//! - `P allowance:<action>:<user>`: a person's allowance for an action (see
//!   `TAKE_ALLOWANCE`)
//! - `P events`: the pub/sub channel

/// Sets this node's socket count for a user and publishes the user's transition
/// online/offline when the total crosses zero.
///
/// KEYS: presence hash, online hash, this node's user set.
/// ARGV: node, count, user id, user JSON, channel, online envelope, offline envelope.
/// Returns 1 (came online), -1 (went offline) or 0.
pub const SET_COUNT: &str = r#"
local before = redis.call('HLEN', KEYS[1])
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[3])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[3])
end
local after = redis.call('HLEN', KEYS[1])
if before == 0 and after > 0 then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
  redis.call('PUBLISH', ARGV[5], ARGV[6])
  return 1
elseif before > 0 and after == 0 then
  redis.call('HDEL', KEYS[2], ARGV[3])
  redis.call('PUBLISH', ARGV[5], ARGV[7])
  return -1
end
return 0
"#;

/// Removes every socket of a dead (or restarting) node and publishes `offline` for the
/// users who have no socket left anywhere. Idempotent: any node may run it.
///
/// KEYS: the dead node's user set, online hash, nodes set.
/// ARGV: dead node, key prefix, channel, publishing node.
/// Returns how many users went offline.
pub const REAP: &str = r#"
local users = redis.call('SMEMBERS', KEYS[1])
local gone = 0
for _, user in ipairs(users) do
  local key = ARGV[2] .. 'presence:' .. user
  redis.call('HDEL', key, ARGV[1])
  if redis.call('HLEN', key) == 0 then
    local json = redis.call('HGET', KEYS[2], user)
    redis.call('HDEL', KEYS[2], user)
    if json then
      gone = gone + 1
      redis.call('PUBLISH', ARGV[3],
        '{"node":"' .. ARGV[4] .. '","event":{"type":"presence","user":' .. json .. ',"online":false}}')
    end
  end
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return gone
"#;

/// Takes one from a person's allowance for an action (`chat::allowance`), as a GCRA:
/// the key holds the theoretical arrival time of the next take, in milliseconds of
/// Redis's clock, so every node decides against the same clock and the same state.
///
/// KEYS: `P allowance:<action>:<user>`. ARGV: milliseconds per take, burst.
/// Returns 1 (taken) or 0 (none left). The key expires once the allowance is full again.
pub const TAKE_ALLOWANCE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local every = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now + every > every * burst then
  return 0
end
local next = tat + every
redis.call('SET', KEYS[1], next, 'PX', next - now)
return 1
"#;
