//! One node of a chaos run, driven over stdin (see `ensemble_chaos::protocol`).

use std::process::ExitCode;
use std::time::Duration;

use ensemble_chaos::node::{NodeOptions, run};

const HELP: &str = "chaos-node: one node of an ensemble-chaos run

USAGE: chaos-node --name NAME --listen IP:PORT [--seeds IP:PORT,...] [--certs DIR]
                  [--gossip-ms MS] [--workers N]

Reads commands on stdin, one per line (workload N, quiet, members ID, stats,
fault ..., leave) and writes its history on stdout as JSON lines; exits when stdin
closes. --certs names a directory with ca.pem, NAME.pem and NAME.key (the cluster
secret comes from ENSEMBLE_CLUSTER_SECRET); without it the node runs insecure_dev on
loopback. Logs go to stderr (RUST_LOG).";

use ensemble_chaos::flag_value as value;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let (Some(name), Some(listen)) = (value(&args, "--name"), value(&args, "--listen")) else {
        eprintln!("chaos-node: --name and --listen are required (see --help)");
        return ExitCode::FAILURE;
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let options = NodeOptions {
        name: name.to_string(),
        listen: listen.to_string(),
        seeds: value(&args, "--seeds")
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        certs: value(&args, "--certs").map(str::to_string),
        gossip: value(&args, "--gossip-ms")
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis),
        workers: value(&args, "--workers")
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos-node: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chaos-node {name}: {e}");
            ExitCode::FAILURE
        }
    }
}
