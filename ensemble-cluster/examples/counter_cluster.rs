//! The article's counter system across processes: counters on some nodes, the clients and
//! the aggregator on another, over mutual TLS with certificates made at start.
//!
//! ```text
//! cargo run --release --example counter_cluster -- --nodes 3
//! cargo run --release --example counter_cluster -- --nodes 3 --kill-one
//! ```
//!
//! The parent process makes a throwaway CA and one certificate per node, starts one
//! process per node on loopback, relays their output and waits for them. `--kill-one`
//! SIGKILLs a counter node while the clients run: the aggregator reports it down and
//! finishes with the counters that survive.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use ensemble::{Actor, ActorProcessingErr, ActorRef, CallError, RpcReplyPort, SpawnOptions};
use ensemble_cluster::{ClusterEvent, DevCa, Node, NodeConfig, RemoteMessage, TlsConfig};
use serde::{Deserialize, Serialize};

const HELP: &str =
    "counter_cluster: the article's counter system on several processes (loopback, mutual TLS)

USAGE: cargo run --release --example counter_cluster -- [--nodes N] [--kill-one]

  --nodes N    how many node processes (at least 2; default 3). The last one runs the
               clients and the aggregator; the others share the 4 counters.
  --kill-one   SIGKILL the first counter node while the clients run: the aggregator
               prints `node down: <name>` once the cluster detects it, and finishes with
               the counters on the surviving nodes (exit status 0).

Certificates come from a CA made at start; the cluster secret is random per run.
Set RUST_LOG (e.g. RUST_LOG=ensemble=info) for the nodes' logs.";

// ---- The counter system (the article's, with serde and a wire name) ----

#[derive(Debug, Serialize, Deserialize, RemoteMessage)]
#[remote(name = "counter_system.counter")]
enum CounterMessage {
    Increment { amount: i64 },
    Decrement { amount: i64 },
    GetValue(RpcReplyPort<i64>),
    GetStats(RpcReplyPort<CounterStats>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CounterStats {
    current_value: i64,
    total_operations: u64,
    operations_per_second: f64,
}

struct CounterActor;

struct CounterState {
    id: String,
    value: i64,
    total_operations: u64,
    start_time: Instant,
}

impl Actor for CounterActor {
    type Msg = CounterMessage;
    type State = CounterState;
    type Arguments = String;

    async fn pre_start(
        &self,
        _: ActorRef<CounterMessage>,
        id: String,
    ) -> Result<CounterState, ActorProcessingErr> {
        println!("[{id}] Counter starting");
        Ok(CounterState {
            id,
            value: 0,
            total_operations: 0,
            start_time: Instant::now(),
        })
    }

    async fn handle(
        &self,
        _: ActorRef<CounterMessage>,
        message: CounterMessage,
        state: &mut CounterState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            CounterMessage::Increment { amount } => {
                state.value += amount;
                state.total_operations += 1;
            }
            CounterMessage::Decrement { amount } => {
                state.value -= amount;
                state.total_operations += 1;
            }
            CounterMessage::GetValue(reply) => reply.send(state.value)?,
            CounterMessage::GetStats(reply) => {
                let elapsed = state.start_time.elapsed().as_secs_f64();
                reply.send(CounterStats {
                    current_value: state.value,
                    total_operations: state.total_operations,
                    operations_per_second: if elapsed > 0.0 {
                        state.total_operations as f64 / elapsed
                    } else {
                        0.0
                    },
                })?;
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _: ActorRef<CounterMessage>,
        state: &mut CounterState,
    ) -> Result<(), ActorProcessingErr> {
        println!(
            "[{}] Counter stopping with final value {} after {} operations",
            state.id, state.value, state.total_operations
        );
        Ok(())
    }
}

enum AggregatorMessage {
    RegisterCounter(String, ActorRef<CounterMessage>),
    CollectStats(RpcReplyPort<AggregatedStats>),
}

#[derive(Debug, Clone, Default)]
struct AggregatedStats {
    total_value: i64,
    total_operations: u64,
    num_counters: usize,
    avg_ops_per_second: f64,
}

struct AggregatorActor;

impl Actor for AggregatorActor {
    type Msg = AggregatorMessage;
    type State = Vec<(String, ActorRef<CounterMessage>)>;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<AggregatorMessage>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        println!("[Aggregator] Starting");
        Ok(Vec::new())
    }

    async fn handle(
        &self,
        _: ActorRef<AggregatorMessage>,
        message: AggregatorMessage,
        counters: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            AggregatorMessage::RegisterCounter(name, counter) => {
                println!("[Aggregator] Registered {name} ({})", counter.id());
                counters.push((name, counter));
            }
            AggregatorMessage::CollectStats(reply) => {
                let mut stats = AggregatedStats::default();
                let mut rate = 0.0;
                let mut alive = Vec::new();
                for (name, counter) in counters.drain(..) {
                    match counter
                        .call(CounterMessage::GetStats, Some(Duration::from_secs(2)))
                        .await
                    {
                        Ok(s) => {
                            stats.total_value += s.current_value;
                            stats.total_operations += s.total_operations;
                            rate += s.operations_per_second;
                            alive.push((name, counter));
                        }
                        // A counter whose node is gone is dropped from the totals.
                        Err(e @ (CallError::Remote(_) | CallError::Send(_))) => {
                            println!("[Aggregator] {name} is gone: {e}");
                        }
                        Err(e) => {
                            println!("[Aggregator] Failed to get stats from {name}: {e}");
                            alive.push((name, counter));
                        }
                    }
                }
                *counters = alive;
                stats.num_counters = counters.len();
                stats.avg_ops_per_second = if counters.is_empty() {
                    0.0
                } else {
                    rate / counters.len() as f64
                };
                println!(
                    "[Aggregator] Total value: {}, Total ops: {}, Avg ops/sec: {:.2}",
                    stats.total_value, stats.total_operations, stats.avg_ops_per_second
                );
                reply.send(stats)?;
            }
        }
        Ok(())
    }
}

// ---- The node processes ----

struct NodeArgs {
    name: String,
    listen: String,
    seeds: Vec<String>,
    certs: String,
    /// Counter indices this node hosts; empty for the clients' node.
    counters: Vec<usize>,
    nodes: usize,
}

async fn start_node(args: &NodeArgs) -> Result<Node, Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(&args.certs);
    let tls = TlsConfig::from_pem_files(
        dir.join("ca.pem"),
        dir.join(format!("{}.pem", args.name)),
        dir.join(format!("{}.key", args.name)),
    )?;
    let secret = std::env::var("ENSEMBLE_CLUSTER_SECRET")?;
    let config = NodeConfig::new(args.name.as_str(), args.listen.as_str())
        .seeds(args.seeds.clone())
        .tls(tls)
        .cluster_secret(secret);
    Ok(Node::start(config).await?)
}

/// A node that hosts counters: registers them, then runs until they are stopped.
async fn counter_node(args: NodeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let node = start_node(&args).await?;
    let mut counters = Vec::new();
    for i in &args.counters {
        let id = format!("counter-{i}");
        let (counter, _) = Actor::spawn_with(SpawnOptions::new(), CounterActor, id.clone()).await?;
        node.register(&id, &counter)?;
        counters.push(counter);
    }
    println!("[{}] ready", args.name);
    for c in &counters {
        c.wait(None).await?;
    }
    node.shutdown().await;
    Ok(())
}

/// The clients' node: finds the counters, runs the article's workload, reports.
async fn clients_node(args: NodeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let node = start_node(&args).await?;
    let mut events = node.subscribe();
    let (aggregator, _) = Actor::spawn(Some("aggregator".into()), AggregatorActor, ()).await?;

    let mut counter_refs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    for i in 0..4 {
        let name = format!("counter-{i}");
        let counter = loop {
            if let Some(c) = node.where_is::<CounterMessage>(&name).await {
                break c;
            }
            if Instant::now() > deadline {
                return Err(format!("{name} never appeared in the cluster").into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        aggregator.cast(AggregatorMessage::RegisterCounter(name, counter.clone()))?;
        counter_refs.push(counter);
    }

    // Report nodes going down as the cluster detects it.
    let watcher = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let ClusterEvent::NodeDown(member, why) = event {
                println!("node down: {} ({why})", member.name);
            }
        }
    });

    // The article's clients: 50 operations per counter, 10 ms apart.
    let mut handles = Vec::new();
    for (idx, counter) in counter_refs.iter().enumerate() {
        let counter = counter.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..50 {
                let op = if i % 3 == 0 {
                    CounterMessage::Decrement {
                        amount: (idx + 1) as i64,
                    }
                } else {
                    CounterMessage::Increment {
                        amount: (idx + 1) as i64,
                    }
                };
                if counter.send(op).await.is_err() {
                    return; // its node is gone
                }
                if idx == 0 && i == 25 {
                    println!("[clients] halfway");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    for handle in handles {
        handle.await?;
    }

    let final_stats = aggregator
        .call(
            AggregatorMessage::CollectStats,
            Some(Duration::from_secs(10)),
        )
        .await?;
    println!("\n=== Final System Statistics ===");
    println!(
        "Total value across all counters: {}",
        final_stats.total_value
    );
    println!("Total operations: {}", final_stats.total_operations);
    println!("Number of counters: {}", final_stats.num_counters);
    println!(
        "Average ops/second per counter: {:.2}",
        final_stats.avg_ops_per_second
    );

    let nodes = node.members().len();
    // Shut down: stop the counters (their nodes then leave), wait for them to leave.
    watcher.abort();
    for counter in &counter_refs {
        counter.stop(None);
    }
    let wait_until = Instant::now() + Duration::from_secs(10);
    while node.members().len() > 1 && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    aggregator.stop(None);
    node.shutdown().await;
    println!(
        "cluster total: {} across {} nodes",
        final_stats.total_value, nodes
    );
    let _ = args.nodes;
    Ok(())
}

// ---- The parent: certificates, processes, output ----

fn free_port() -> std::io::Result<u16> {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = tcp.local_addr()?.port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
}

fn run_parent(nodes: usize, kill_one: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("counter_cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let ca = DevCa::new("counter_cluster example CA")?;
    let names: Vec<String> = (1..=nodes).map(|i| format!("node-{i}")).collect();
    for name in &names {
        ca.write_pem_files(&dir, name)?;
    }
    let ports: Vec<u16> = (0..nodes).map(|_| free_port()).collect::<Result<_, _>>()?;
    let secret: String = {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| "no randomness for the cluster secret")?;
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let exe = std::env::current_exe()?;
    let counter_nodes = nodes - 1;
    let mut children: Vec<(String, Child)> = Vec::new();
    let (lines_tx, lines_rx) = std_mpsc::channel::<(String, String)>();
    for (i, name) in names.iter().enumerate() {
        let counters: Vec<String> = if i < counter_nodes {
            (0..4)
                .filter(|c| c % counter_nodes == i)
                .map(|c| c.to_string())
                .collect()
        } else {
            Vec::new()
        };
        let seeds: Vec<String> = (0..nodes)
            .filter(|j| *j != i)
            .map(|j| format!("127.0.0.1:{}", ports[j]))
            .collect();
        let mut child = Command::new(&exe)
            .args([
                "--node",
                name,
                "--listen",
                &format!("127.0.0.1:{}", ports[i]),
            ])
            .args([
                "--seeds",
                &seeds.join(","),
                "--certs",
                &dir.to_string_lossy(),
            ])
            .args([
                "--counters",
                &counters.join(","),
                "--nodes",
                &nodes.to_string(),
            ])
            .env("ENSEMBLE_CLUSTER_SECRET", &secret)
            .stdout(Stdio::piped())
            .spawn()?;
        if let Some(out) = child.stdout.take() {
            let (tx, name) = (lines_tx.clone(), name.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let _ = tx.send((name.clone(), line));
                }
            });
        }
        children.push((name.clone(), child));
    }
    drop(lines_tx);
    let clients = names[nodes - 1].clone();
    let mut killed = None;
    let mut last_line = None;
    let mut status: HashMap<String, bool> = HashMap::new();
    for (name, line) in lines_rx {
        if name == clients {
            if line.starts_with("cluster total:") {
                last_line = Some(line);
                continue;
            }
            println!("{line}");
            if kill_one && killed.is_none() && line == "[clients] halfway" {
                let (victim, child) = &mut children[0];
                child.kill()?; // SIGKILL
                println!("[parent] SIGKILL {victim}");
                killed = Some(victim.clone());
            }
        } else {
            println!("  [{name}] {line}");
        }
    }
    for (name, child) in &mut children {
        let ok = child.wait()?.success();
        status.insert(name.clone(), ok || killed.as_deref() == Some(name.as_str()));
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(line) = last_line {
        println!("{line}");
    }
    let all_ok = status.values().all(|ok| *ok) && status.get(&clients) == Some(&true);
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let nodes: usize = value(&args, "--nodes")
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    if nodes < 2 {
        eprintln!("--nodes must be at least 2 (counters on one node, clients on another)");
        return ExitCode::FAILURE;
    }
    let result = match value(&args, "--node") {
        None => run_parent(nodes, args.iter().any(|a| a == "--kill-one")),
        Some(name) => {
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_writer(std::io::stderr)
                .init();
            let split = |flag| {
                value(&args, flag)
                    .unwrap_or("")
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            let node_args = NodeArgs {
                name: name.to_string(),
                listen: value(&args, "--listen")
                    .unwrap_or("127.0.0.1:0")
                    .to_string(),
                seeds: split("--seeds"),
                certs: value(&args, "--certs").unwrap_or(".").to_string(),
                counters: split("--counters")
                    .iter()
                    .filter_map(|c| c.parse().ok())
                    .collect(),
                nodes,
            };
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            runtime
                .block_on(async move {
                    if node_args.counters.is_empty() {
                        clients_node(node_args).await
                    } else {
                        counter_node(node_args).await
                    }
                })
                .map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("counter_cluster: {e}");
            ExitCode::FAILURE
        }
    }
}
