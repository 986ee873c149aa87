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
//! - `P routes:<user>`: set of nodes where the user has a window (from its attach, before
//!   its snapshot is read, to its last detach): where [`DELIVER`] sends their events
//! - `P node_routes:<node>`: set of users the node routes (for reaping it)
//! - `P routed_nodes`: set of nodes that keep routes and subscribe to their own channel
//! - `P events`: the channel every node subscribes to (presence, and events for many)
//! - `P events:<node>`: one node's routed events

/// Sets this node's socket count for a user and publishes the user's transition
/// online/offline when the total crosses zero. While they stay online, their stored
/// details take the node's (a new display name).
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
elseif after > 0 and redis.call('HGET', KEYS[2], ARGV[3]) ~= ARGV[4] then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
end
return 0
"#;

/// Removes every socket of a dead (or restarting) node and publishes `offline` for the
/// users who have no socket left anywhere. Idempotent: any node may run it.
///
/// Also takes the node out of every route it held, and out of the routing nodes.
///
/// KEYS: the dead node's user set, online hash, nodes set, the dead node's routes, the
/// routing nodes set.
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
for _, user in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  redis.call('SREM', ARGV[2] .. 'routes:' .. user, ARGV[1])
end
redis.call('DEL', KEYS[4])
redis.call('SREM', KEYS[5], ARGV[1])
return gone
"#;

/// Publishes one event to the nodes that need it: the channel of each node where one of
/// the people it concerns has a window (but the publishing node's own, which delivered
/// it already). While any registered node does not route (an older version, during a
/// rolling deploy), the event goes on the shared channel instead, once, so every node,
/// routing or not, receives it exactly once.
///
/// Order: one node publishes on one connection, and Redis runs scripts one at a time, so
/// every receiver gets a node's events in the order it committed them. No event is missed
/// by a window that is connecting: its node adds itself to `routes:<user>` before the
/// window's snapshot is read from Postgres, so an event either runs this script after
/// that (and is routed there) or was committed before the snapshot read (and is in it).
///
/// KEYS: none (the route keys are built from the prefix, as `REAP` builds its keys).
/// ARGV: key prefix, publishing node, shared channel, payload, then the people it
/// concerns. Returns how many channels it was published on.
pub const DELIVER: &str = r#"
local prefix, me, shared, payload = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if #redis.call('SDIFF', prefix .. 'nodes', prefix .. 'routed_nodes') > 0 then
  redis.call('PUBLISH', shared, payload)
  return 1
end
local sent = {}
local count = 0
for i = 5, #ARGV do
  for _, node in ipairs(redis.call('SMEMBERS', prefix .. 'routes:' .. ARGV[i])) do
    if node ~= me and not sent[node] then
      sent[node] = true
      count = count + 1
      redis.call('PUBLISH', shared .. ':' .. node, payload)
    end
  end
end
return count
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
local over = tat - now + every - every * burst
if over > 0 then
  return -over
end
local next = tat + every
redis.call('SET', KEYS[1], next, 'PX', next - now)
return 1
"#;

/// Makes the node's routes exactly the users given: drops it from the routes of users it
/// lists but who are not given (gone while Redis was unreachable, or from its previous
/// life), and adds it to every given user's. Run in order with the node's route changes
/// and events (on its publishing connection), so a user who arrived after the list was
/// taken is added after it, never removed by it.
///
/// KEYS: none (built from the prefix). ARGV: key prefix, node, then the users.
pub const REPLACE_ROUTES: &str = r#"
local prefix, node = ARGV[1], ARGV[2]
local mine = prefix .. 'node_routes:' .. node
local keep = {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
for _, user in ipairs(redis.call('SMEMBERS', mine)) do
  if not keep[user] then
    redis.call('SREM', prefix .. 'routes:' .. user, node)
    redis.call('SREM', mine, user)
  end
end
for i = 3, #ARGV do
  redis.call('SADD', mine, ARGV[i])
  redis.call('SADD', prefix .. 'routes:' .. ARGV[i], node)
end
return #ARGV - 2
"#;
