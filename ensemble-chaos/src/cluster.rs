//! The driver: starts node processes, talks to them over stdin, collects what they
//! write, and injects faults — SIGKILL, SIGSTOP/SIGCONT, a graceful leave, partitions
//! (network namespaces, [`netns`](crate::netns)) and the in-process fault layer.
//!
//! Every wait is bounded; the processes are killed and the namespaces removed when the
//! [`Cluster`] is dropped, and a node process exits by itself when its stdin closes (the
//! driver died).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ensemble_cluster::DevCa;

use crate::history::{self, DRIVER, Facts, Report, Writer};
use crate::netns::Netns;
use crate::node::now_us;
use crate::protocol::{Event, Record};

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many nodes.
    pub nodes: usize,
    /// The gossip interval; `None` for the library's default (what the figures use).
    pub gossip: Option<Duration>,
    /// Workers per node.
    pub workers: usize,
    /// Each node in a network namespace of its own (real partitions); needs root.
    pub netns: bool,
    /// The node program (`chaos-node`).
    pub program: PathBuf,
}

/// One node process.
struct Proc {
    /// Its serial number in the run (a restarted node is a new process).
    serial: Writer,
    child: Child,
    stdin: Option<ChildStdin>,
    alive: bool,
    stopped_at: Option<u64>,
}

/// A running cluster of node processes.
pub struct Cluster {
    options: Options,
    names: Vec<String>,
    addrs: Vec<String>,
    procs: Vec<Proc>,
    records: Arc<Mutex<Vec<(Writer, Record)>>>,
    facts: Facts,
    next_serial: Writer,
    next_rid: u64,
    dir: PathBuf,
    secret: String,
    netns: Option<Netns>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn free_port() -> std::io::Result<u16> {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = tcp.local_addr()?.port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
}

impl Cluster {
    /// Starts the nodes and waits (up to 30 s) until each sees all the others.
    pub fn start(options: Options) -> Result<Cluster, String> {
        let dir = std::env::temp_dir().join(format!(
            "ensemble-chaos-{}-{}",
            std::process::id(),
            now_us()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let ca = DevCa::new("ensemble chaos CA").map_err(|e| e.to_string())?;
        let names: Vec<String> = (1..=options.nodes).map(|i| format!("node-{i}")).collect();
        for name in &names {
            ca.write_pem_files(&dir, name).map_err(|e| e.to_string())?;
        }
        let netns = if options.netns {
            Some(Netns::create(options.nodes)?)
        } else {
            None
        };
        let addrs: Vec<String> = (0..options.nodes)
            .map(|i| match &netns {
                Some(ns) => Ok(format!("{}:7400", ns.addr(i))),
                None => free_port()
                    .map(|p| format!("127.0.0.1:{p}"))
                    .map_err(|e| e.to_string()),
            })
            .collect::<Result<_, String>>()?;
        let secret = format!("chaos-{}", now_us());
        let mut cluster = Cluster {
            options,
            names,
            addrs,
            procs: Vec::new(),
            records: Arc::default(),
            facts: Facts {
                call_margin_us: 500_000,
                ..Facts::default()
            },
            next_serial: 0,
            next_rid: 1,
            dir,
            secret,
            netns,
        };
        for i in 0..cluster.options.nodes {
            let p = cluster.spawn(i)?;
            cluster.procs.push(p);
        }
        for i in 0..cluster.options.nodes {
            cluster.wait_for(i, Duration::from_secs(30), |e| {
                matches!(e, Event::Ready { .. })
            })?;
        }
        let all: Vec<usize> = (0..cluster.options.nodes).collect();
        cluster.converged(&all, Duration::from_secs(30))?;
        Ok(cluster)
    }

    /// The node names, `node-1` first.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn spawn(&mut self, i: usize) -> Result<Proc, String> {
        let seeds: Vec<&str> = self
            .addrs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, a)| a.as_str())
            .collect();
        let mut args: Vec<String> = Vec::new();
        if let Some(ns) = &self.netns {
            args.extend(ns.exec(i));
        }
        args.push(self.options.program.to_string_lossy().into_owned());
        args.extend([
            "--name".into(),
            self.names[i].clone(),
            "--listen".into(),
            self.addrs[i].clone(),
            "--seeds".into(),
            seeds.join(","),
            "--certs".into(),
            self.dir.to_string_lossy().into_owned(),
            "--workers".into(),
            self.options.workers.to_string(),
        ]);
        if let Some(g) = self.options.gossip {
            args.extend(["--gossip-ms".into(), g.as_millis().to_string()]);
        }
        let mut child = Command::new(&args[0])
            .args(&args[1..])
            .env("ENSEMBLE_CLUSTER_SECRET", &self.secret)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", args[0]))?;
        let serial = self.next_serial;
        self.next_serial += 1;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let records = self.records.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                match serde_json::from_str::<Record>(&line) {
                    Ok(r) => lock(&records).push((serial, r)),
                    Err(_) => eprintln!("[node {serial}] {line}"),
                }
            }
        });
        Ok(Proc {
            serial,
            stdin: child.stdin.take(),
            child,
            alive: true,
            stopped_at: None,
        })
    }

    /// Sends a command line to node `i`.
    pub fn send(&mut self, i: usize, line: &str) -> Result<(), String> {
        let p = &mut self.procs[i];
        let stdin = p.stdin.as_mut().ok_or("the node's stdin is closed")?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("to {}: {e}", self.names[i]))
    }

    /// Sends a command to every live node.
    pub fn broadcast(&mut self, line: &str) -> Result<(), String> {
        for i in 0..self.procs.len() {
            if self.procs[i].alive && self.procs[i].stopped_at.is_none() {
                self.send(i, line)?;
            }
        }
        Ok(())
    }

    /// Waits up to `within` for node `i`'s current process to write a record matching `f`.
    fn wait_for(
        &self,
        i: usize,
        within: Duration,
        f: impl Fn(&Event) -> bool,
    ) -> Result<Record, String> {
        let serial = self.procs[i].serial;
        let deadline = Instant::now() + within;
        let mut seen = 0;
        loop {
            {
                let records = lock(&self.records);
                if let Some((_, r)) = records[seen..]
                    .iter()
                    .find(|(w, r)| *w == serial && f(&r.event))
                {
                    return Ok(r.clone());
                }
                seen = records.len();
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{}: nothing expected within {within:?}",
                    self.names[i]
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits up to `within` until at least `n` more records than now match `f` (for
    /// letting a workload run: "until 300 more messages arrived").
    pub fn wait_more(
        &self,
        n: usize,
        within: Duration,
        f: impl Fn(&Record) -> bool,
    ) -> Result<(), String> {
        let count = || lock(&self.records).iter().filter(|(_, r)| f(r)).count();
        let target = count() + n;
        let deadline = Instant::now() + within;
        while count() < target {
            if Instant::now() > deadline {
                return Err(format!("fewer than {n} new records within {within:?}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// The members node `i` sees now.
    pub fn members(&mut self, i: usize) -> Result<Vec<String>, String> {
        let rid = self.next_rid;
        self.next_rid += 1;
        self.send(i, &format!("members {rid}"))?;
        let r = self.wait_for(
            i,
            Duration::from_secs(10),
            |e| matches!(e, Event::Members { rid: r, .. } if *r == rid),
        )?;
        match r.event {
            Event::Members { names, .. } => Ok(names),
            _ => Err("unexpected record".into()),
        }
    }

    /// Waits up to `within` until each of `nodes` sees exactly `nodes`; how long it took.
    pub fn converged(&mut self, nodes: &[usize], within: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        let want: HashSet<&str> = nodes.iter().map(|i| self.names[*i].as_str()).collect();
        let want: HashSet<String> = want.into_iter().map(str::to_string).collect();
        loop {
            let mut all = true;
            for &i in nodes {
                let seen: HashSet<String> = self.members(i)?.into_iter().collect();
                if seen != want {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(started.elapsed());
            }
            if started.elapsed() > within {
                let mut views = Vec::new();
                for &i in nodes {
                    let seen = self.members(i);
                    views.push(format!("{}: {seen:?}", self.names[i]));
                }
                return Err(format!(
                    "membership did not converge within {within:?}: {}",
                    views.join("; ")
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn note(&self, event: Event) {
        lock(&self.records).push((
            DRIVER,
            Record {
                t: now_us(),
                node: "driver".into(),
                inc: 0,
                event,
            },
        ));
    }

    fn signal(&self, i: usize, signal: &str) -> Result<(), String> {
        let pid = self.procs[i].child.id().to_string();
        let out = Command::new("kill")
            .args([signal, &pid])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("kill {signal} {pid} failed"))
        }
    }

    /// SIGKILLs node `i`.
    pub fn kill(&mut self, i: usize) -> Result<(), String> {
        self.note(Event::Injected {
            fault: "sigkill".into(),
            nodes: vec![self.names[i].clone()],
        });
        self.procs[i].child.kill().map_err(|e| e.to_string())?;
        let _ = self.procs[i].child.wait();
        self.procs[i].alive = false;
        self.facts.ended.insert(self.procs[i].serial);
        Ok(())
    }

    /// SIGSTOPs node `i` (a hung node).
    pub fn stop(&mut self, i: usize) -> Result<(), String> {
        self.note(Event::Injected {
            fault: "sigstop".into(),
            nodes: vec![self.names[i].clone()],
        });
        self.signal(i, "-STOP")?;
        self.procs[i].stopped_at = Some(now_us());
        Ok(())
    }

    /// SIGCONTs node `i`.
    pub fn cont(&mut self, i: usize) -> Result<(), String> {
        self.signal(i, "-CONT")?;
        if let Some(at) = self.procs[i].stopped_at.take() {
            self.facts
                .stopped
                .entry(self.procs[i].serial)
                .or_default()
                .push((at, now_us()));
        }
        self.note(Event::Healed);
        Ok(())
    }

    /// Node `i` leaves gracefully and exits.
    pub fn leave(&mut self, i: usize) -> Result<(), String> {
        self.note(Event::Injected {
            fault: "leave".into(),
            nodes: vec![self.names[i].clone()],
        });
        self.send(i, "leave")?;
        self.wait_for(i, Duration::from_secs(10), |e| matches!(e, Event::Left))?;
        let _ = self.procs[i].child.wait();
        self.procs[i].alive = false;
        self.facts.ended.insert(self.procs[i].serial);
        Ok(())
    }

    /// Starts node `i` again (a new process: a new incarnation) and waits until it is up.
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        let p = self.spawn(i)?;
        self.procs[i] = p;
        self.wait_for(i, Duration::from_secs(30), |e| {
            matches!(e, Event::Ready { .. })
        })?;
        Ok(())
    }

    /// Cuts the network between the groups `a` and `b`: both ways, or only what `a`
    /// sends to `b`. Needs namespaces.
    pub fn partition(&mut self, a: &[usize], b: &[usize], one_way: bool) -> Result<(), String> {
        let ns = self
            .netns
            .as_ref()
            .ok_or("partitions need network namespaces (Options::netns)")?;
        for &x in a {
            for &y in b {
                ns.cut(x, y)?;
                if !one_way {
                    ns.cut(y, x)?;
                }
            }
        }
        let hit: Vec<String> = a.iter().map(|i| self.names[*i].clone()).collect();
        self.note(Event::Injected {
            fault: if one_way {
                "one-way partition".into()
            } else {
                "partition".into()
            },
            nodes: hit,
        });
        Ok(())
    }

    /// Ends the partitions.
    pub fn heal(&mut self) -> Result<(), String> {
        if let Some(ns) = &self.netns {
            ns.heal()?;
        }
        self.note(Event::Healed);
        Ok(())
    }

    /// Notes a fault injected with a command (the in-process fault layer).
    pub fn injected(&self, fault: &str, nodes: &[usize]) {
        self.note(Event::Injected {
            fault: fault.into(),
            nodes: nodes.iter().map(|i| self.names[*i].clone()).collect(),
        });
    }

    /// The indices of the nodes whose processes run.
    pub fn alive(&self) -> Vec<usize> {
        (0..self.procs.len())
            .filter(|i| self.procs[*i].alive)
            .collect()
    }

    /// Counts the `down` records written so far, by node.
    pub fn downs(&self) -> HashMap<String, usize> {
        let mut downs = HashMap::new();
        for (_, r) in lock(&self.records).iter() {
            if let Event::Down { .. } = r.event {
                *downs.entry(r.node.clone()).or_insert(0) += 1;
            }
        }
        downs
    }

    /// Stops the workload, waits until it has settled (every call from a live process
    /// has resolved and no message has arrived for 300 ms; at most `within`), and checks
    /// the history.
    pub fn finish(&mut self, within: Duration) -> Result<Report, String> {
        self.broadcast("quiet")?;
        let deadline = Instant::now() + within;
        let mut last_count = 0;
        let mut quiet_since = Instant::now();
        loop {
            let (unresolved, received) = {
                let records = lock(&self.records);
                let mut open: HashSet<(Writer, &str)> = HashSet::new();
                let mut received = 0;
                for (w, r) in records.iter() {
                    match &r.event {
                        Event::Call { id, .. } if !self.facts.ended.contains(w) => {
                            open.insert((*w, id));
                        }
                        Event::Reply { id, .. } => {
                            open.remove(&(*w, id.as_str()));
                        }
                        Event::Recv { .. } => received += 1,
                        _ => {}
                    }
                }
                (open.len(), received)
            };
            if received != last_count {
                last_count = received;
                quiet_since = Instant::now();
            }
            let settled = unresolved == 0 && quiet_since.elapsed() >= Duration::from_millis(300);
            if settled || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let records = lock(&self.records).clone();
        Ok(history::check(&records, &self.facts))
    }

    /// Every record so far (for saving or a closer look).
    pub fn records(&self) -> Vec<(Writer, Record)> {
        lock(&self.records).clone()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for p in &mut self.procs {
            if p.stopped_at.is_some() {
                let _ = Command::new("kill")
                    .args(["-CONT", &p.child.id().to_string()])
                    .output();
            }
            drop(p.stdin.take());
            if p.alive {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
