//! Test helpers: a scriptable worker actor and a shared log. Supervision events are
//! recorded by the test kit's probes (`ensemble_test::TestProbe`): no test sleeps to
//! wait for anything.
#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod capture;

use std::sync::{Arc, Mutex};

use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::oneshot;

/// A log shared between actors and the test.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    pub fn snapshot(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn contains(&self, s: &str) -> bool {
        self.0.lock().unwrap().iter().any(|x| x == s)
    }
}

/// What a [`Worker`] can be told to do.
pub enum Work {
    /// Logs `"{label}:{n}"` and keeps `n`.
    Record(u32),
    /// Says it started, then waits for the gate to open before finishing.
    Block {
        started: oneshot::Sender<()>,
        gate: oneshot::Receiver<()>,
    },
    /// Returns an error with this text.
    Fail(String),
    /// Panics with this text.
    Panic(String),
    /// Replies with every `n` recorded so far.
    Get(RpcReplyPort<Vec<u32>>),
    /// Says it started, then never finishes.
    Hang(oneshot::Sender<()>),
}

/// A worker whose hooks all write to a shared log.
pub struct Worker {
    pub label: String,
    pub log: Log,
}

impl Worker {
    pub fn new(label: &str, log: &Log) -> Self {
        Worker {
            label: label.to_string(),
            log: log.clone(),
        }
    }
}

impl Actor for Worker {
    type Msg = Work;
    type State = Vec<u32>;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<Work>, _: ()) -> Result<Vec<u32>, ActorProcessingErr> {
        self.log.push(format!("{}:pre_start", self.label));
        Ok(Vec::new())
    }

    async fn post_start(
        &self,
        _: ActorRef<Work>,
        _: &mut Vec<u32>,
    ) -> Result<(), ActorProcessingErr> {
        self.log.push(format!("{}:post_start", self.label));
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<Work>,
        msg: Work,
        seen: &mut Vec<u32>,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Work::Record(n) => {
                tracing::info!(target: "test::worker", "{}:{}", self.label, n);
                self.log.push(format!("{}:{}", self.label, n));
                seen.push(n);
            }
            Work::Block { started, gate } => {
                let _ = started.send(());
                let _ = gate.await;
                self.log.push(format!("{}:unblocked", self.label));
            }
            Work::Fail(text) => return Err(text.into()),
            Work::Panic(text) => panic!("{text}"),
            Work::Get(reply) => reply.send(seen.clone())?,
            Work::Hang(started) => {
                let _ = started.send(());
                std::future::pending::<()>().await;
                self.log.push(format!("{}:hang-resumed", self.label));
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _: ActorRef<Work>,
        _: &mut Vec<u32>,
    ) -> Result<(), ActorProcessingErr> {
        self.log.push(format!("{}:post_stop", self.label));
        Ok(())
    }
}

/// Blocks `worker` inside a handler; returns the gate that releases it.
pub async fn block(worker: &ActorRef<Work>) -> oneshot::Sender<()> {
    let (started_tx, started_rx) = oneshot::channel();
    let (gate_tx, gate_rx) = oneshot::channel();
    worker
        .cast(Work::Block {
            started: started_tx,
            gate: gate_rx,
        })
        .unwrap_or_else(|_| panic!("worker closed"));
    started_rx
        .await
        .expect("worker never started the blocking handler");
    gate_tx
}

/// Puts `worker` into a handler that never finishes; returns once it runs.
pub async fn hang(worker: &ActorRef<Work>) {
    let (tx, rx) = oneshot::channel();
    worker
        .cast(Work::Hang(tx))
        .unwrap_or_else(|_| panic!("worker closed"));
    rx.await.expect("worker never started the hanging handler");
}

/// The full text of an error and its sources.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(" <- ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Polls a future exactly once (to get a call's request queued without awaiting it).
pub async fn poll_once<F: std::future::Future + Unpin>(fut: &mut F) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

/// The path of example `name` of package `package`, built by `cargo test` before the
/// tests run (or built here if missing).
pub fn example_binary(package: &str, name: &str) -> std::path::PathBuf {
    // Integration tests live in target/<profile>/deps; examples in target/<profile>/examples.
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", package, "--example", name])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building example {name} failed");
    }
    bin
}

/// Runs example `name` of `package` with `args`; panics with its output unless it exits
/// successfully; returns its standard output.
pub fn run_example(package: &str, name: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(example_binary(package, name))
        .args(args)
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
