//! The article's counter system across processes: the counters under a supervisor on
//! the clients' node, placed on the other nodes; the clients and the aggregator on the
//! last node; mutual TLS with certificates made at start.
//!
//! ```text
//! cargo run --release --example counter_cluster -- --nodes 3
//! cargo run --release --example counter_cluster -- --nodes 3 --kill-one
//! ```
//!
//! The parent process makes a throwaway CA and one certificate per node, starts one
//! process per node on loopback, relays their output and waits for them. `--kill-one`
//! SIGKILLs a counter node while the clients run: its counters fail with
//! `NoConnection`, the supervisor restarts them on a surviving node from their last
//! report to the aggregator, and the clients carry on. What the dead node had counted
//! since its last report is lost (delivery is at most once), and printed.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ensemble::supervisor::{Strategy, Supervisor, SupervisorFlags, SupervisorMsg, SupervisorSpec};
use ensemble::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort};
use ensemble_cluster::{
    ClusterEvent, DevCa, Node, NodeConfig, Placement, RemoteMessage, TlsConfig,
};
use serde::{Deserialize, Serialize};

const HELP: &str =
    "counter_cluster: the article's counter system on several processes (loopback, mutual TLS)

USAGE: cargo run --release --example counter_cluster -- [--nodes N] [--kill-one]

  --nodes N    how many node processes (at least 2; default 3). The last one runs the
               clients, the aggregator and the counters' supervisor; the counters are
               placed on the others.
  --kill-one   SIGKILL the first counter node while the clients run: it is reported
               down (`node down: <name>`), its counters are restarted on a surviving
               node from their last report, and the run finishes (exit status 0). What
               they counted since that report is lost and printed.

Certificates come from a CA made at start; the cluster secret is random per run.
Set RUST_LOG (e.g. RUST_LOG=ensemble=info) for the nodes' logs.";

/// Counters report to the aggregator after this many operations.
const REPORT_EVERY: u64 = 5;
const COUNTERS: usize = 4;
const OPERATIONS: usize = 50;

// ---- The counter system (the article's, with serde, wire names and reports) ----

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

/// A counter's start: its id, where it starts from (its last report, after a restart)
/// and whom it reports to.
#[derive(Serialize, Deserialize)]
struct CounterArgs {
    id: String,
    value: i64,
    operations: u64,
    aggregator: ActorRef<AggregatorMessage>,
}

struct CounterActor;

struct CounterState {
    id: String,
    value: i64,
    total_operations: u64,
    start_time: Instant,
    aggregator: ActorRef<AggregatorMessage>,
}

impl Actor for CounterActor {
    type Msg = CounterMessage;
    type State = CounterState;
    type Arguments = CounterArgs;

    async fn pre_start(
        &self,
        _: ActorRef<CounterMessage>,
        args: CounterArgs,
    ) -> Result<CounterState, ActorProcessingErr> {
        if args.operations == 0 {
            println!("[{}] Counter starting", args.id);
        } else {
            println!(
                "[{}] Counter restarting from its last report: value {} after {} operations",
                args.id, args.value, args.operations
            );
        }
        Ok(CounterState {
            id: args.id,
            value: args.value,
            total_operations: args.operations,
            start_time: Instant::now(),
            aggregator: args.aggregator,
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
        if state.total_operations % REPORT_EVERY == 0 {
            let _ = state.aggregator.cast(AggregatorMessage::Report {
                id: state.id.clone(),
                value: state.value,
                operations: state.total_operations,
            });
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

#[derive(Serialize, Deserialize, RemoteMessage)]
#[remote(name = "counter_system.aggregator")]
enum AggregatorMessage {
    /// A counter's running value, sent every few operations.
    Report {
        id: String,
        value: i64,
        operations: u64,
    },
    /// Collects the stats of these counters.
    CollectStats(
        Vec<(String, ActorRef<CounterMessage>)>,
        RpcReplyPort<AggregatedStats>,
    ),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AggregatedStats {
    total_value: i64,
    total_operations: u64,
    num_counters: usize,
    avg_ops_per_second: f64,
    /// Each counter's (value, operations).
    per_counter: HashMap<String, (i64, u64)>,
}

/// The last report of each counter, shared with the supervisor's child specs (a
/// restarted counter starts from it).
type Reports = Arc<Mutex<HashMap<String, (i64, u64)>>>;

struct AggregatorActor;

impl Actor for AggregatorActor {
    type Msg = AggregatorMessage;
    type State = Reports;
    type Arguments = Reports;

    async fn pre_start(
        &self,
        _: ActorRef<AggregatorMessage>,
        reports: Reports,
    ) -> Result<Reports, ActorProcessingErr> {
        println!("[Aggregator] Starting");
        Ok(reports)
    }

    async fn handle(
        &self,
        _: ActorRef<AggregatorMessage>,
        message: AggregatorMessage,
        reports: &mut Reports,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            AggregatorMessage::Report {
                id,
                value,
                operations,
            } => {
                let mut reports = reports.lock().unwrap_or_else(|e| e.into_inner());
                let last = reports.entry(id).or_default();
                if operations >= last.1 {
                    *last = (value, operations);
                }
            }
            AggregatorMessage::CollectStats(counters, reply) => {
                let mut stats = AggregatedStats::default();
                let mut rate = 0.0;
                for (name, counter) in counters {
                    match counter
                        .call(CounterMessage::GetStats, Some(Duration::from_secs(2)))
                        .await
                    {
                        Ok(s) => {
                            stats.total_value += s.current_value;
                            stats.total_operations += s.total_operations;
                            rate += s.operations_per_second;
                            stats.num_counters += 1;
                            stats
                                .per_counter
                                .insert(name, (s.current_value, s.total_operations));
                        }
                        Err(e) => println!("[Aggregator] Failed to get stats from {name}: {e}"),
                    }
                }
                stats.avg_ops_per_second = if stats.num_counters == 0 {
                    0.0
                } else {
                    rate / stats.num_counters as f64
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
    /// Every node's name; the last one is the clients' node.
    names: Vec<String>,
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
    let node = Node::start(config).await?;
    // Every node can host counters.
    node.register_spawnable::<CounterActor, _>(|| CounterActor)?;
    Ok(node)
}

/// A node that hosts counters for the clients' node, until that node is gone.
async fn counter_node(args: NodeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let node = start_node(&args).await?;
    let clients = args.names.last().cloned().unwrap_or_default();
    let mut events = node.subscribe();
    println!("[{}] ready", args.name);
    while let Some(event) = events.recv().await {
        if let ClusterEvent::NodeDown(member, _) = event {
            if member.name == clients {
                break;
            }
        }
    }
    node.shutdown().await;
    Ok(())
}

/// The counter in slot `i` of the supervisor now, if it runs.
async fn counter(sup: &ActorRef<SupervisorMsg>, i: usize) -> Option<ActorRef<CounterMessage>> {
    let id = format!("counter-{i}");
    sup.which_children()
        .await
        .ok()?
        .into_iter()
        .find(|c| c.id == id)?
        .actor_ref()
}

/// Waits (up to 30 s) for the supervisor to run a counter in slot `i` other than `old`.
async fn restarted(
    node: &Node,
    sup: &ActorRef<SupervisorMsg>,
    i: usize,
    old: ActorId,
) -> Result<ActorRef<CounterMessage>, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(c) = counter(sup, i).await.filter(|c| c.id() != old) {
            let on = node.node_of(&c.cell()).unwrap_or_default();
            println!("[clients] counter-{i} now runs on {on}");
            return Ok(c);
        }
        if Instant::now() > deadline {
            return Err(format!("counter-{i} was not restarted within 30 s"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One client: the article's 50 operations on counter `idx`, 10 ms apart, following the
/// counter when it is restarted elsewhere. Returns the (operations, value) it got in.
async fn client(
    node: Node,
    sup: ActorRef<SupervisorMsg>,
    idx: usize,
) -> Result<(u64, i64), String> {
    let mut counter = counter(&sup, idx)
        .await
        .ok_or(format!("counter-{idx} is not running"))?;
    let (mut operations, mut value) = (0u64, 0i64);
    for i in 0..OPERATIONS {
        let amount = (idx + 1) as i64;
        let mut op = if i % 3 == 0 {
            CounterMessage::Decrement { amount }
        } else {
            CounterMessage::Increment { amount }
        };
        // A send refused (the counter's node is down) is retried on its successor.
        loop {
            match counter.send(op).await {
                Ok(()) => break,
                Err(e) => {
                    op = e.into_inner();
                    counter = restarted(&node, &sup, idx, counter.id()).await?;
                }
            }
        }
        operations += 1;
        value += if i % 3 == 0 { -amount } else { amount };
        // Every few operations, a call: it fails at once when the connection is lost.
        if i % 5 == 4
            && counter
                .call(CounterMessage::GetValue, Some(Duration::from_secs(2)))
                .await
                .is_err()
        {
            counter = restarted(&node, &sup, idx, counter.id()).await?;
        }
        if idx == 0 && i == OPERATIONS / 2 {
            println!("[clients] halfway");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((operations, value))
}

/// The clients' node: the aggregator, the counters' supervisor, the clients; reports.
async fn clients_node(args: NodeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let node = start_node(&args).await?;
    let mut events = node.subscribe();
    let homes: Vec<String> = args.names[..args.names.len() - 1].to_vec();

    // Wait until gossip says every counter node can host counters.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !homes
        .iter()
        .all(|h| node.spawnable_nodes::<CounterActor>().contains(h))
    {
        if Instant::now() > deadline {
            return Err("the counter nodes never joined".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let reports: Reports = Arc::default();
    let (aggregator, _) =
        Actor::spawn(Some("aggregator".into()), AggregatorActor, reports.clone()).await?;

    // The counters: a supervisor here, each child placed on its home node (restarted
    // elsewhere if that node is lost), starting from its last report.
    let flags = SupervisorFlags::new(Strategy::OneForOne).intensity(8, Duration::from_secs(10));
    let mut spec = SupervisorSpec::new(flags);
    for i in 0..COUNTERS {
        let id = format!("counter-{i}");
        let home = homes[i % homes.len()].clone();
        let (reports, aggregator, counter_id) = (reports.clone(), aggregator.clone(), id.clone());
        spec =
            spec.child(
                node.remote_child::<CounterActor, _>(id, Placement::On(home), move || {
                    let (value, operations) = reports
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&counter_id)
                        .copied()
                        .unwrap_or_default();
                    CounterArgs {
                        id: counter_id.clone(),
                        value,
                        operations,
                        aggregator: aggregator.clone(),
                    }
                }),
            );
    }
    let (sup, _) = Supervisor::start(Some("counters".into()), spec).await?;
    for i in 0..COUNTERS {
        if let Some(c) = counter(&sup, i).await {
            let on = node.node_of(&c.cell()).unwrap_or_default();
            println!("[supervisor] counter-{i} runs on {on}");
        }
    }

    // Report nodes going down as the cluster detects it.
    let watcher = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let ClusterEvent::NodeDown(member, why) = event {
                println!("node down: {} ({why})", member.name);
            }
        }
    });

    let mut handles = Vec::new();
    for idx in 0..COUNTERS {
        handles.push(tokio::spawn(client(node.clone(), sup.clone(), idx)));
    }
    let mut sent = Vec::new();
    for handle in handles {
        sent.push(handle.await??);
    }

    let mut current = Vec::new();
    for i in 0..COUNTERS {
        if let Some(c) = counter(&sup, i).await {
            current.push((format!("counter-{i}"), c));
        }
    }
    let final_stats = aggregator
        .call(
            |reply| AggregatorMessage::CollectStats(current, reply),
            Some(Duration::from_secs(10)),
        )
        .await?;
    // What was lost: what the clients got in minus what the counters hold.
    for (i, (operations, value)) in sent.iter().enumerate() {
        let name = format!("counter-{i}");
        let (held_value, held_ops) = final_stats
            .per_counter
            .get(&name)
            .copied()
            .unwrap_or_default();
        if held_ops != *operations {
            println!(
                "lost: {name}: {} operations (value {}) since its last report",
                operations.saturating_sub(held_ops),
                value - held_value
            );
        }
    }
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
    watcher.abort();
    // Shut down: the counters stop with their supervisor; the other nodes leave when
    // this one has.
    sup.stop(None);
    sup.wait(Some(Duration::from_secs(10))).await?;
    aggregator.stop(None);
    node.shutdown().await;
    println!(
        "cluster total: {} across {} nodes",
        final_stats.total_value, nodes
    );
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
    let mut children: Vec<(String, Child)> = Vec::new();
    let (lines_tx, lines_rx) = std_mpsc::channel::<(String, String)>();
    for (i, name) in names.iter().enumerate() {
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
            .args(["--names", &names.join(",")])
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
                names: split("--names"),
            };
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            runtime
                .block_on(async move {
                    if node_args.names.last() == Some(&node_args.name) {
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
