//! Integration tests: the real server, a real Postgres (a fresh database per test), real
//! sockets. The only stand-in is the identity provider, an outside party.

mod helpers;
mod hostile;

mod balancer;
mod bench;
mod blocking;
mod changes;
mod clients;
mod cluster;
mod contract;
mod durability;
mod everyone;
mod http_api;
mod limits;
mod logs;
mod mentions;
mod messaging;
mod mirrors;
mod names;
mod online_list;
mod openapi;
mod people;
mod presence;
mod receipts;
mod replies;
mod retention;
mod rollback;
mod rooms;
mod routing;
mod search;
mod session;
mod shutdown;
mod snapshot;
mod startup;
mod statements;
mod terminal;
mod tls;
mod upgrades;
