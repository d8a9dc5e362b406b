//! lbd: a load balancer that reads HAProxy's configuration language.
//!
//! The crate follows the flow of data (see `README.md`):
//! `config` (text → AST) → `compile` (AST → `Program`) → `proxy` (workers)
//! with `stick` tables and `stats` shared between workers, and `api` (the
//! runtime API) reading and changing that live state.

pub mod api;
pub mod cli;
pub mod clock;
pub mod compile;
pub mod config;
pub mod fuzzing;
pub mod proxy;
pub mod reload;
pub mod rules;
pub mod run;
pub mod stats;
pub mod stick;
pub mod tls;
