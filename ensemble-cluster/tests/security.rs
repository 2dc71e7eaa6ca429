//! Strangers are kept out: a peer with a certificate from another CA cannot connect, a
//! node whose certificate does not name it cannot start, and gossip under another secret
//! is dropped unread.

mod common;

use std::time::Duration;

use common::*;
use ensemble::{CallError, SendError};
use ensemble_cluster::{ClusterError, DevCa, Node, NodeConfig};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_with_a_certificate_from_another_ca_is_refused_and_backs_up() {
    let ca = DevCa::new("ours").unwrap();
    let theirs = DevCa::new("theirs").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    // Same secret (so gossip works and it learns the name), foreign certificate.
    let x = node_with(&theirs, SECRET, "node-x", &[&a], |c| c.peer_queue(2)).await;
    let c = counter(&a).await;
    a.register("counter", &c).unwrap();
    let remote = eventually(WAIT, || x.where_is::<CounterMsg>("counter"))
        .await
        .expect("gossip works with the shared secret");
    // Its connection attempts fail the TLS handshake: nothing gets through, the queue
    // to node-a fills, and then casts come back with the message. The first `Full` can
    // come before the proxy has taken its first batch (it runs on the other worker), so
    // cast until `Full` holds across five polls 10 ms apart: by then the proxy, the writer
    // queue and the dialer each hold all they can, and nothing frees room again.
    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut n, mut streak) = (0, 0);
    while streak < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue to node-a never filled"
        );
        n += 1;
        match remote.cast(CounterMsg::Add(n)) {
            Ok(()) => streak = 0,
            Err(SendError::Full(CounterMsg::Add(back))) => {
                assert_eq!(back, n, "the refused message comes back");
                streak += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(other) => panic!("expected Full with the message back, got {other:?}"),
        }
    }
    // A call on the backed-up ref fails at once, handing the request back.
    match remote.call(CounterMsg::Get, Some(WAIT)).await {
        Err(CallError::Send(SendError::Full(CounterMsg::Get(_)))) => {}
        other => panic!("expected a fast Full, got {other:?}"),
    }
    assert_eq!(
        c.call(CounterMsg::Get, Some(WAIT)).await.unwrap(),
        0,
        "nothing got through"
    );
    x.shutdown().await;
    a.shutdown().await;
}

#[tokio::test]
async fn a_node_whose_certificate_names_another_node_cannot_start() {
    let ca = DevCa::new("ours").unwrap();
    let config = NodeConfig::new("node-a", "127.0.0.1:0")
        .tls(ca.tls_config("node-b").unwrap())
        .cluster_secret(SECRET);
    match Node::start(config).await {
        Err(ClusterError::Tls(why)) => assert!(why.contains("does not name"), "{why}"),
        other => panic!("expected a TLS error, got {:?}", other.map(|_| ())),
    }
    let config = NodeConfig::new("not a dns name", "127.0.0.1:0").insecure_dev();
    assert!(matches!(
        Node::start(config).await,
        Err(ClusterError::Config(_))
    ));
    let config = NodeConfig::new("node-a", "127.0.0.1:0");
    match Node::start(config).await {
        Err(ClusterError::Config(why)) => assert!(why.contains(".tls("), "{why}"),
        other => panic!("expected a config error, got {:?}", other.map(|_| ())),
    }
    let config = NodeConfig::new("node-a", "0.0.0.0:0").insecure_dev();
    match Node::start(config).await {
        Err(ClusterError::Config(why)) => assert!(why.contains("loopback"), "{why}"),
        other => panic!("expected insecure_dev refused, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_under_a_wrong_secret_is_dropped_unread() {
    let ca = DevCa::new("ours").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let d = node_with(&ca, b"another secret", "node-d", &[&a], |c| c).await;
    let rejected = eventually(WAIT, || async { (a.gossip_rejected() >= 3).then_some(()) }).await;
    assert!(rejected.is_some(), "node-a drops node-d's datagrams");
    assert_eq!(a.members().len(), 1, "node-d never joins");
    assert_eq!(
        d.members().len(),
        1,
        "node-a's replies (none) never reach node-d either"
    );
    d.shutdown().await;
    a.shutdown().await;
}
