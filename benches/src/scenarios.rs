//! The scenarios, their full sizes, and how one is run for one adapter.

use crate::adapters::Adapter;
use crate::savina::{Bench, Params};
use crate::{Flavor, Sample, Shape};

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Name used on the command line and in the table.
    pub name: &'static str,
    /// What it measures, for the table.
    pub what: &'static str,
    /// The runtime.
    pub flavor: Flavor,
}

/// Every scenario, in table order.
pub const ALL: &[Scenario] = &[
    Scenario {
        name: "cast",
        what: "cast throughput: 1 sender, 1,000,000 casts + 1 call",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "cast-ct",
        what: "cast throughput: 1 sender, 1,000,000 casts + 1 call",
        flavor: Flavor::CurrentThread,
    },
    Scenario {
        name: "cast-task",
        what: "cast throughput: 1 sender in a task on the runtime, 1,000,000 casts + 1 call",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "cast-task-ct",
        what: "cast throughput: 1 sender in a task on the runtime, 1,000,000 casts + 1 call",
        flavor: Flavor::CurrentThread,
    },
    Scenario {
        name: "call",
        what: "call round trip: 100,000 sequential calls from a task",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "call-ct",
        what: "call round trip: 100,000 sequential calls from a task",
        flavor: Flavor::CurrentThread,
    },
    Scenario {
        name: "call-block",
        what: "call round trip: 100,000 sequential calls from the block_on thread",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "call-block-ct",
        what: "call round trip: 100,000 sequential calls from the block_on thread",
        flavor: Flavor::CurrentThread,
    },
    Scenario {
        name: "spawn-stop",
        what: "spawn + stop: 100,000 actors",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "spawn-stop-ct",
        what: "spawn + stop: 100,000 actors",
        flavor: Flavor::CurrentThread,
    },
    Scenario {
        name: "idle-memory",
        what: "idle memory per actor: RSS over 100,000 actors",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "fan-in",
        what: "fan-in: 8 senders x 125,000 casts",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "fan-in-ct",
        what: "fan-in: 8 senders x 125,000 casts",
        flavor: Flavor::CurrentThread,
    },
    Scenario {
        name: "ring",
        what: "ring: 1,000 actors, 100,000 hops",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "ring-ct",
        what: "ring: 1,000 actors, 100,000 hops",
        flavor: Flavor::CurrentThread,
    },
    Scenario {
        name: "ring-pinned",
        what: "ring, actors placed on one thread (Ensemble: an Arbiter; tokio: work stealing)",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "bounded",
        what: "bounded cast, capacity 64: 1,000,000 sends",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "bounded-task",
        what: "bounded cast, capacity 64: 1,000,000 sends from a task on the runtime",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "bounded-pinned",
        what: "bounded-task with the producer and the actor on one thread (Ensemble: an Arbiter; tokio: work stealing)",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "counter-system",
        what: "the seed's counter system: 4 counters + aggregator, 1,000,000 ops",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "savina-pingpong",
        what: "Savina ping-pong: 40,000 round trips",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "savina-count",
        what: "Savina counting: 1,000,000 messages",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "savina-fjthrput",
        what: "Savina fork-join throughput: 60 actors x 10,000 messages",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "savina-threadring",
        what: "Savina thread ring: 100 actors, 100,000 hops",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "savina-chameneos",
        what: "Savina chameneos: 100 chameneos, 200,000 meetings",
        flavor: Flavor::MultiThread,
    },
    Scenario {
        name: "savina-big",
        what: "Savina big: 120 actors x 20,000 pings",
        flavor: Flavor::MultiThread,
    },
];

/// The scenario called `name`.
pub fn by_name(name: &str) -> Option<Scenario> {
    ALL.iter().copied().find(|s| s.name == name)
}

/// Runs `scenario` once for `adapter` at `scale` (1.0 = full size). Idle memory is
/// measured by `idle` (a fresh process); every other row in this process.
pub fn run(
    scenario: Scenario,
    adapter: &dyn Adapter,
    scale: f64,
    idle: &dyn Fn(&dyn Adapter, u64) -> Option<f64>,
) -> Option<(Sample, Option<(f64, f64)>)> {
    let n = |full: u64| ((full as f64 * scale) as u64).max(10);
    let f = scenario.flavor;
    match scenario.name {
        "cast" | "cast-ct" | "cast-task" | "cast-task-ct" => {
            let shape = if scenario.name.starts_with("cast-task") {
                Shape::Task
            } else {
                Shape::BlockOn
            };
            adapter
                .cast_throughput(f, shape, n(1_000_000))
                .map(|d| (Sample::Time(d), None))
        }
        "call" | "call-ct" | "call-block" | "call-block-ct" => {
            let shape = if scenario.name.starts_with("call-block") {
                Shape::BlockOn
            } else {
                Shape::Task
            };
            adapter
                .call_round_trip(f, shape, n(100_000))
                .map(|(d, mut lat)| {
                    lat.sort();
                    let pct =
                        |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
                    (Sample::Time(d), Some((pct(0.5), pct(0.99))))
                })
        }
        "spawn-stop" | "spawn-stop-ct" => adapter
            .spawn_stop(f, n(100_000))
            .map(|d| (Sample::Time(d), None)),
        "idle-memory" => idle(adapter, n(100_000)).map(|b| (Sample::Bytes(b), None)),
        "fan-in" | "fan-in-ct" => adapter
            .fan_in(f, 8, n(125_000))
            .map(|d| (Sample::Time(d), None)),
        "ring" | "ring-ct" => adapter
            .ring(f, n(1_000).max(10), n(100_000))
            .map(|d| (Sample::Time(d), None)),
        "ring-pinned" => adapter
            .ring_pinned(f, n(1_000).max(10), n(100_000))
            .map(|d| (Sample::Time(d), None)),
        "bounded" => adapter
            .bounded_cast(f, n(1_000_000), 64)
            .map(|d| (Sample::Time(d), None)),
        "bounded-task" => adapter
            .bounded_task(f, n(1_000_000), 64)
            .map(|d| (Sample::Time(d), None)),
        "bounded-pinned" => adapter
            .bounded_pinned(f, n(1_000_000), 64)
            .map(|d| (Sample::Time(d), None)),
        "counter-system" => adapter
            .counter_system(f, n(1_000_000))
            .map(|d| (Sample::Time(d), None)),
        name if name.starts_with("savina-") => {
            let bench = match name {
                "savina-pingpong" => Bench::PingPong,
                "savina-count" => Bench::Counting,
                "savina-fjthrput" => Bench::ForkJoin,
                "savina-threadring" => Bench::ThreadRing,
                "savina-chameneos" => Bench::Chameneos,
                "savina-big" => Bench::Big,
                _ => return None,
            };
            adapter
                .savina(bench, f, Params::scaled(scale))
                .map(|d| (Sample::Time(d), None))
        }
        _ => None,
    }
}
