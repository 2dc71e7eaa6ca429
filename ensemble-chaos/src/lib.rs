//! The fault harness of `ensemble-cluster`: real node processes, real faults, and a
//! checker that judges what they logged.
//!
//! - [`node`]: the node process (`chaos-node`): a cluster node with workers, a watcher
//!   and a workload, driven over stdin, logging its history on stdout ([`protocol`]).
//! - [`cluster`]: the driver: starts node processes, injects faults (SIGKILL,
//!   SIGSTOP/SIGCONT, graceful leave, partitions one-way or two-way through network
//!   namespaces and nftables ([`netns`]), and the transport's own fault layer for delay,
//!   loss and connection resets), measures re-convergence, and collects the history.
//! - [`history`]: the checker: no duplicate delivery, FIFO per pair, nothing from a
//!   quarantined incarnation, every monitor fires once, every call resolves once in time;
//!   losses counted.
//!
//! The scenarios in `tests/` run in CI (`cargo test -p ensemble-chaos`); the long chaos
//! mix is a command:
//!
//! ```text
//! cargo run --release -p ensemble-chaos --bin chaos -- --help
//! cargo run --release -p ensemble-chaos --bin chaos -- mix --minutes 10
//! ```
#![forbid(unsafe_code)]

pub mod cluster;
pub mod history;
pub mod netns;
pub mod node;
pub mod protocol;

/// The value after `flag` in command-line `args` (`--nodes 3` → `"3"`).
pub fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}
