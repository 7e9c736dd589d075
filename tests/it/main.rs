//! Switchyard's integration tests, linked as one test binary (`cargo test --test it`): one
//! module per area, each starting the real `switchyard` and `switchyard-emulator` binaries on
//! free loopback ports (see [`common`]), or driving the library in process (`alloc`,
//! `quota_redis`).
//!
//! One binary links the gateway's dependencies once instead of once per file. Tests share the
//! process, so a test must not change process-wide state (environment variables, the current
//! directory, global statics): start a child process for that instead.
//!
//! Adding a test file: put it next to this file as `tests/it/NAME.rs`, declare it below as
//! `mod NAME;` (alphabetical order), and reach the harness with `use crate::common::{...}`
//! (not `mod common;`). Its tests then run as `it NAME::test_name`, e.g.
//! `cargo test --test it NAME::` for one module.
//!
//! The emulator is another package's binary: `cargo build --workspace --bins` (or
//! `make unit`) builds it next to `switchyard` before the tests run; see [`common::emulator_bin`].
//!
//! `alloc` installs `allocation-counter`'s counting global allocator for the whole binary; it
//! counts per thread, only the thread inside `measure`, so the other tests running in parallel
//! neither disturb its figures nor are affected beyond a thread-local counter per allocation.

// Test code: a failed step is a failed test, and tests may start tasks directly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

mod common;

mod alloc;
mod azure_presets;
mod bad_input;
mod bedrock;
mod catalog;
mod chat;
mod degraded;
mod failover;
mod gemini;
mod governance;
mod ledger;
mod lifecycle;
mod limits;
mod messages;
mod ollama_cohere;
mod quota_redis;
mod reload;
mod routing;
mod streams;
mod upgrade;
