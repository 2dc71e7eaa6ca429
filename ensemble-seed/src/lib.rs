//! Hosts the seed example `counter_system` (the article's program, copied verbatim with
//! only the crate name changed). Run it with
//! `cargo run --release --example counter_system`.
#![forbid(unsafe_code)]
