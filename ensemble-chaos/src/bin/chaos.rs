//! The chaos command: long fault mixes and the failure-detection figures.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ensemble_chaos::cluster::{Cluster, Options};
use ensemble_chaos::history::spread;
use ensemble_chaos::protocol::{Event, Record};

const HELP: &str = "chaos: fault runs against ensemble-cluster node processes

USAGE:
  chaos mix [--minutes M] [--nodes N] [--seed S] [--netns] [--gossip-ms MS]
      Rounds of random faults (SIGKILL and restart, SIGSTOP/SIGCONT, graceful leave
      and restart, the fault layer's isolation, delay, loss and resets, and with
      --netns two-way and one-way partitions) under a steady workload, each healed
      and followed by re-convergence; then the history is checked. Prints a line per
      round and a report; exits 1 if a promise broke.
  chaos figures [--netns] [--rounds R]
      At default settings: time from SIGKILL, SIGSTOP and (with --netns) a partition
      to every monitor firing, and re-convergence after each heal.
  chaos saturate [--seconds S]
      Three nodes at default settings with the workload, while another process keeps
      both cores busy for S seconds (default 60): counts false NodeDowns.

Partitions (--netns) need root, `ip` and `nft`. The node program is chaos-node, next
to this one. Set RUST_LOG for the nodes' logs (stderr).";

use ensemble_chaos::flag_value as value;

fn options(args: &[String], nodes: usize, gossip: Option<Duration>) -> Result<Options, String> {
    let program = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name("chaos-node");
    if !program.exists() {
        return Err(format!(
            "{} not found: build it (cargo build --release -p ensemble-chaos)",
            program.display()
        ));
    }
    Ok(Options {
        nodes,
        gossip,
        workers: 2,
        netns: args.iter().any(|a| a == "--netns"),
        program,
    })
}

fn received(r: &Record) -> bool {
    matches!(r.event, Event::Recv { .. })
}

/// A small deterministic random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

fn mix(args: &[String]) -> Result<bool, String> {
    let minutes: f64 = value(args, "--minutes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let nodes: usize = value(args, "--nodes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
        .max(3);
    let seed: u64 = value(args, "--seed")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(ensemble_chaos::node::now_us);
    let gossip = value(args, "--gossip-ms")
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis);
    let opts = options(args, nodes, gossip)?;
    let netns = opts.netns;
    println!("chaos mix: {nodes} nodes, {minutes} min, seed {seed}, partitions: {netns}");
    let mut c = Cluster::start(opts)?;
    c.broadcast("workload 100")?;
    let mut rng = Rng(seed | 1);
    let all: Vec<usize> = (0..nodes).collect();
    let until = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let mut round = 0;
    let mut convergence = Vec::new();
    while Instant::now() < until {
        round += 1;
        c.wait_more(100, Duration::from_secs(30), received)?;
        // Node 0 is never hit, so the cluster always has a member to converge on.
        let victim = 1 + rng.below(nodes - 1);
        let kinds = if netns { 9 } else { 7 };
        let fault = match rng.below(kinds) {
            0 => {
                c.kill(victim)?;
                c.converged(&others(&all, victim), Duration::from_secs(60))?;
                c.restart(victim)?;
                c.send(victim, "workload 100")?;
                "sigkill + restart"
            }
            1 => {
                c.stop(victim)?;
                c.converged(&others(&all, victim), Duration::from_secs(60))?;
                c.cont(victim)?;
                "sigstop, sigcont"
            }
            2 => {
                c.leave(victim)?;
                c.converged(&others(&all, victim), Duration::from_secs(60))?;
                c.restart(victim)?;
                c.send(victim, "workload 100")?;
                "leave + restart"
            }
            3 => {
                c.send(victim, "fault isolate")?;
                c.injected("isolate", &[victim]);
                c.converged(&others(&all, victim), Duration::from_secs(60))?;
                c.send(victim, "fault heal")?;
                "isolate, heal"
            }
            4 => {
                c.send(victim, "fault delay 50")?;
                c.injected("delay 50 ms", &[victim]);
                c.wait_more(200, Duration::from_secs(30), received)?;
                c.send(victim, "fault heal")?;
                "delay 50 ms"
            }
            5 => {
                c.send(victim, "fault drop 7")?;
                c.injected("drop 1 in 7", &[victim]);
                c.wait_more(200, Duration::from_secs(30), received)?;
                c.send(victim, "fault heal")?;
                "drop 1 in 7"
            }
            6 => {
                let peer = c.names()[rng.below(nodes)].clone();
                c.send(victim, &format!("fault reset {peer}"))?;
                c.injected("reset", &[victim]);
                "connection reset"
            }
            7 => {
                c.partition(&[victim], &others(&all, victim), false)?;
                c.converged(&others(&all, victim), Duration::from_secs(60))?;
                c.heal()?;
                "partition, heal"
            }
            _ => {
                c.partition(&[victim], &others(&all, victim), true)?;
                c.converged(&others(&all, victim), Duration::from_secs(60))?;
                c.heal()?;
                "one-way partition, heal"
            }
        };
        let took = c.converged(&all, Duration::from_secs(60))?;
        convergence.push(took.as_secs_f64() * 1000.0);
        println!(
            "round {round}: {fault} on {} -> converged in {:.0} ms ({:.0} s left)",
            c.names()[victim],
            took.as_secs_f64() * 1000.0,
            until
                .saturating_duration_since(Instant::now())
                .as_secs_f64()
        );
    }
    let report = c.finish(Duration::from_secs(10))?;
    println!("\n{report}");
    if let Some((n, min, med, max)) = spread(&convergence) {
        println!(
            "re-convergence after each round: {n}, min {min:.0} ms, median {med:.0} ms, max {max:.0} ms"
        );
    }
    Ok(report.ok())
}

fn others(all: &[usize], but: usize) -> Vec<usize> {
    all.iter().copied().filter(|i| *i != but).collect()
}

fn figures(args: &[String]) -> Result<bool, String> {
    let rounds: usize = value(args, "--rounds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let opts = options(args, 3, None)?;
    let netns = opts.netns;
    println!("chaos figures: 3 nodes, default settings (gossip 200 ms, phi 8), {rounds} rounds");
    let mut c = Cluster::start(opts)?;
    c.broadcast("workload 100")?;
    let all = [0, 1, 2];
    let mut heal = Vec::new();
    for _ in 0..rounds {
        c.wait_more(100, Duration::from_secs(30), received)?;
        c.kill(2)?;
        c.converged(&[0, 1], Duration::from_secs(60))?;
        c.restart(2)?;
        c.send(2, "workload 100")?;
        c.converged(&all, Duration::from_secs(60))?;
        c.wait_more(100, Duration::from_secs(30), received)?;
        c.stop(2)?;
        c.converged(&[0, 1], Duration::from_secs(60))?;
        c.cont(2)?;
        heal.push(c.converged(&all, Duration::from_secs(60))?.as_secs_f64() * 1000.0);
        if netns {
            c.wait_more(100, Duration::from_secs(30), received)?;
            c.partition(&[2], &[0, 1], false)?;
            c.converged(&[0, 1], Duration::from_secs(60))?;
            c.heal()?;
            heal.push(c.converged(&all, Duration::from_secs(60))?.as_secs_f64() * 1000.0);
        }
    }
    let report = c.finish(Duration::from_secs(10))?;
    println!("{report}\n\nfigures (all rounds):");
    let mut by_fault: Vec<(String, Vec<f64>)> = Vec::new();
    for (fault, ms) in &report.fault_to_fire {
        let kind = fault.split(' ').next().unwrap_or(fault).to_string();
        match by_fault.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, all)) => all.extend(ms),
            None => by_fault.push((kind, ms.clone())),
        }
    }
    for (kind, ms) in &by_fault {
        if let Some((n, min, med, max)) = spread(ms) {
            println!(
                "  {kind} -> every monitor fired: {n} monitors, min {min:.0} ms, median {med:.0} ms, max {max:.0} ms"
            );
        }
    }
    if let Some((n, min, med, max)) = spread(&heal) {
        println!(
            "  re-convergence after SIGCONT / heal: {n} heals, min {min:.0} ms, median {med:.0} ms, max {max:.0} ms"
        );
    }
    Ok(report.ok())
}

fn saturate(args: &[String]) -> Result<bool, String> {
    let seconds: u64 = value(args, "--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut c = Cluster::start(options(args, 3, None)?)?;
    c.broadcast("workload 100")?;
    c.wait_more(100, Duration::from_secs(30), received)?;
    let before = c.downs();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut burner = std::process::Command::new(exe)
        .args(["burn", "--seconds", &seconds.to_string()])
        .spawn()
        .map_err(|e| e.to_string())?;
    println!("both cores busy for {seconds} s (pid {})...", burner.id());
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(10).min(Duration::from_secs(seconds)));
        let downs: usize = c.downs().values().sum::<usize>() - before.values().sum::<usize>();
        println!(
            "  {:>3} s: {downs} NodeDown(s) so far",
            started.elapsed().as_secs()
        );
    }
    let _ = burner.wait();
    let downs: usize = c.downs().values().sum::<usize>() - before.values().sum::<usize>();
    let report = c.finish(Duration::from_secs(10))?;
    println!("{report}");
    println!("false NodeDowns while both cores were saturated for {seconds} s: {downs}");
    Ok(report.ok())
}

/// Keeps every core busy for a while (for `saturate`).
fn burn(args: &[String]) {
    let seconds: u64 = value(args, "--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let until = Instant::now() + Duration::from_secs(seconds);
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            std::thread::spawn(move || {
                let mut x = 1u64;
                while Instant::now() < until {
                    for _ in 0..10_000 {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    }
                    std::hint::black_box(x);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let result = match args[0].as_str() {
        "mix" => mix(&args),
        "figures" => figures(&args),
        "saturate" => saturate(&args),
        "burn" => {
            burn(&args);
            Ok(true)
        }
        other => Err(format!("unknown command {other:?} (see --help)")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("chaos: {e}");
            ExitCode::FAILURE
        }
    }
}
