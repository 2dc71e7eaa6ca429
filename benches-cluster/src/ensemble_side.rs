//! The ensemble-cluster side: a sink actor registered on the server node; the client
//! finds it by name and drives it.

use std::path::Path;
use std::time::{Duration, Instant};

use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use ensemble_cluster::{ClusterEvent, DevCa, Node, NodeConfig, RemoteMessage, TlsConfig};
use serde::{Deserialize, Serialize};

use crate::{Measured, Server};

#[derive(Serialize, Deserialize, RemoteMessage)]
#[remote(name = "bench.sink")]
pub(crate) enum SinkMsg {
    Data(#[serde(with = "serde_bytes")] Vec<u8>),
    Echo(u64, RpcReplyPort<u64>),
    Count(RpcReplyPort<u64>),
}

struct Sink;

impl Actor for Sink {
    type Msg = SinkMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<SinkMsg>, _: ()) -> Result<u64, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _: ActorRef<SinkMsg>,
        msg: SinkMsg,
        seen: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SinkMsg::Data(_) => *seen += 1,
            SinkMsg::Echo(n, reply) => reply.send(n)?,
            SinkMsg::Count(reply) => reply.send(*seen)?,
        }
        Ok(())
    }
}

const SECRET: &str = "cluster benchmark secret";

fn config(name: &str, dir: &Path) -> NodeConfig {
    let tls = TlsConfig::from_pem_files(
        dir.join("ca.pem"),
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
    .unwrap_or_else(|e| panic!("certificates: {e}"));
    NodeConfig::new(name, "127.0.0.1:0")
        .tls(tls)
        .cluster_secret(SECRET)
}

/// Makes the CA and both nodes' certificates in `dir`.
pub(crate) fn certificates(dir: &Path) {
    let ca = DevCa::new("cluster benchmarks").unwrap_or_else(|e| panic!("CA: {e}"));
    for name in ["bench-server", "bench-client"] {
        ca.write_pem_files(dir, name)
            .unwrap_or_else(|e| panic!("certificates: {e}"));
    }
}

pub(crate) async fn serve(dir: &Path) {
    let node = Node::start(config("bench-server", dir))
        .await
        .unwrap_or_else(|e| panic!("server node: {e}"));
    let (sink, _) = Actor::spawn(None, Sink, ())
        .await
        .unwrap_or_else(|e| panic!("sink: {e}"));
    node.register("sink", &sink)
        .unwrap_or_else(|e| panic!("register: {e}"));
    println!("ready {}", node.address().port());
    std::future::pending::<()>().await;
}

pub(crate) async fn client(scenario: &str, n: u64, size: usize, dir: &Path) -> Option<Measured> {
    certificates(dir);
    let mut server = Server::start("ensemble", dir);
    let node =
        Node::start(config("bench-client", dir).seeds([format!("127.0.0.1:{}", server.port)]))
            .await
            .unwrap_or_else(|e| panic!("client node: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let sink = loop {
        if let Some(s) = node.where_is::<SinkMsg>("sink").await {
            break s;
        }
        assert!(Instant::now() < deadline, "the sink never appeared");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let timeout = Some(Duration::from_secs(10));
    let measured = match scenario {
        "remote-call" => {
            let driver = tokio::spawn(async move {
                for i in 0..1_000 {
                    sink.call(|r| SinkMsg::Echo(i, r), timeout)
                        .await
                        .unwrap_or_else(|e| panic!("warm-up call: {e}"));
                }
                let mut lat = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let t = Instant::now();
                    let got = sink
                        .call(|r| SinkMsg::Echo(i, r), timeout)
                        .await
                        .unwrap_or_else(|e| panic!("call: {e}"));
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                    assert_eq!(got, i);
                }
                lat
            });
            Measured::Latency(driver.await.unwrap_or_else(|e| panic!("driver: {e}")))
        }
        "detect" => {
            let mut events = node.subscribe();
            sink.call(|r| SinkMsg::Echo(1, r), timeout)
                .await
                .unwrap_or_else(|e| panic!("call: {e}"));
            server.kill();
            let t = Instant::now();
            loop {
                match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
                    Ok(Some(ClusterEvent::NodeDown(m, _))) if m.name == "bench-server" => break,
                    Ok(Some(_)) => {}
                    _ => panic!("no node-down within 30 s"),
                }
            }
            Measured::Detect(t.elapsed().as_secs_f64())
        }
        _ => {
            let payload = vec![7u8; size];
            let driver = tokio::spawn(async move {
                let t = Instant::now();
                for _ in 0..n {
                    sink.send(SinkMsg::Data(payload.clone()))
                        .await
                        .unwrap_or_else(|e| panic!("send: {e}"));
                }
                let seen = sink
                    .call(SinkMsg::Count, timeout)
                    .await
                    .unwrap_or_else(|e| panic!("count: {e}"));
                assert_eq!(seen, n, "every cast arrived");
                t.elapsed().as_secs_f64()
            });
            let secs = driver.await.unwrap_or_else(|e| panic!("driver: {e}"));
            Measured::Rate {
                msgs: n as f64 / secs,
                bytes: (n as f64 * size as f64) / secs,
            }
        }
    };
    drop(server);
    Some(measured)
}

/// The local call, for reference: the same loop against a sink in this process.
pub(crate) async fn local(scenario: &str, n: u64) -> Option<Measured> {
    if scenario != "remote-call" {
        return None;
    }
    let (sink, _) = Actor::spawn(None, Sink, ())
        .await
        .unwrap_or_else(|e| panic!("sink: {e}"));
    let driver = tokio::spawn(async move {
        for i in 0..1_000 {
            let _ = sink.call(|r| SinkMsg::Echo(i, r), None).await;
        }
        let mut lat = Vec::with_capacity(n as usize);
        for i in 0..n {
            let t = Instant::now();
            let got = sink
                .call(|r| SinkMsg::Echo(i, r), None)
                .await
                .unwrap_or_else(|e| panic!("call: {e}"));
            lat.push(t.elapsed().as_secs_f64() * 1e6);
            assert_eq!(got, i);
        }
        lat
    });
    Some(Measured::Latency(
        driver.await.unwrap_or_else(|e| panic!("driver: {e}")),
    ))
}
