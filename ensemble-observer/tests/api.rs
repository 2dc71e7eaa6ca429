//! The observer's HTTP API: the snapshot as JSON, server-sent events, Prometheus text,
//! the token, actions only when allowed, loopback unless told otherwise.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use ensemble::{Actor, ActorProcessingErr, ActorRef, ActorSystem, SpawnOptions};
use ensemble_observer::{Observer, ObserverError};

struct Echo;

impl Actor for Echo {
    type Msg = u32;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<u32>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(&self, _: ActorRef<u32>, _: u32, _: &mut ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

/// A blocking GET or POST; (status, body). Errors are statuses here, not failures.
async fn http(method: &'static str, url: String, bearer: Option<&'static str>) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let response = match method {
            "POST" => {
                let mut r = agent.post(&url);
                if let Some(t) = bearer {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.send_empty()
            }
            _ => {
                let mut r = agent.get(&url);
                if let Some(t) = bearer {
                    r = r.header("Authorization", format!("Bearer {t}"));
                }
                r.call()
            }
        };
        let mut response = response.expect("request");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    })
    .await
    .unwrap()
}

/// An actor id as a URL path segment (`<0.5>` → `%3C0.5%3E`), as the page sends it.
fn seg(id: ensemble::ActorId) -> String {
    id.to_string().replace('<', "%3C").replace('>', "%3E")
}

async fn system_with_actors(name: &str) -> (ActorSystem, ActorRef<u32>) {
    let system = ActorSystem::new(name);
    system.enable_introspection();
    let (echo, _) = Actor::spawn_with(SpawnOptions::new().system(&system).name("echo"), Echo, ())
        .await
        .unwrap();
    for n in 0..5 {
        echo.cast(n).unwrap();
    }
    (system, echo)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_metrics_and_page_are_served() {
    let (system, echo) = system_with_actors("served").await;
    let observer = Observer::bind("127.0.0.1:0")
        .system(&system)
        .start()
        .await
        .unwrap();
    let base = format!("http://{}", observer.local_addr());
    assert_eq!(observer.url(), format!("{base}/"));

    let (status, body) = http("GET", format!("{base}/api/snapshot"), None).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["system"], "served");
    assert_eq!(json["tracking"], true);
    assert_eq!(json["actions"], false);
    let actor = json["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "echo")
        .unwrap();
    assert_eq!(actor["type"], "Echo");
    assert_eq!(actor["id"], echo.id().to_string());

    let (status, text) = http("GET", format!("{base}/metrics"), None).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("# TYPE ensemble_actors_alive gauge"),
        "{text}"
    );
    assert!(
        text.contains("ensemble_actors_alive{system=\"served\",type=\"Echo\"} 1"),
        "{text}"
    );
    // Each metric's samples are one group.
    let helps = text
        .lines()
        .filter(|l| l.starts_with("# HELP ensemble_actors_alive "))
        .count();
    assert_eq!(helps, 1, "{text}");

    let (status, page) = http("GET", format!("{base}/"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("<script src=\"app.js\">"));
    let (status, js) = http("GET", format!("{base}/app.js"), None).await;
    assert_eq!(status, 200);
    assert!(js.contains("EventSource"));
    observer.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_a_snapshot_at_once_and_then_every_interval() {
    let (system, _echo) = system_with_actors("streamed").await;
    let observer = Observer::bind("127.0.0.1:0")
        .system(&system)
        .interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let url = format!("http://{}/api/events", observer.local_addr());
    let events = tokio::task::spawn_blocking(move || {
        let mut response = ureq::get(&url).call().expect("events");
        let reader = BufReader::new(response.body_mut().as_reader());
        let mut seen = Vec::new();
        for line in reader.lines() {
            let line = line.expect("a line");
            if let Some(data) = line.strip_prefix("data:") {
                seen.push(data.trim().to_string());
                if seen.len() == 2 {
                    break;
                }
            }
        }
        seen
    })
    .await
    .unwrap();
    for data in events {
        let json: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(json["system"], "streamed");
    }
    observer.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_the_data_and_actions_need_to_be_allowed() {
    let (system, echo) = system_with_actors("guarded").await;
    let observer = Observer::bind("127.0.0.1:0")
        .system(&system)
        .token("s3cret")
        .start()
        .await
        .unwrap();
    let base = format!("http://{}", observer.local_addr());
    assert_eq!(observer.url(), format!("{base}/?token=s3cret"));
    let (status, body) = http("GET", format!("{base}/api/snapshot"), None).await;
    assert_eq!(status, 401);
    assert!(body.contains("token"), "{body}");
    assert_eq!(
        http("GET", format!("{base}/metrics"), Some("wrong"))
            .await
            .0,
        401
    );
    assert_eq!(
        http("GET", format!("{base}/metrics"), Some("s3cret"))
            .await
            .0,
        200
    );
    assert_eq!(
        http("GET", format!("{base}/api/snapshot?token=s3cret"), None)
            .await
            .0,
        200
    );
    // The page itself loads without it (it holds no data).
    assert_eq!(http("GET", format!("{base}/"), None).await.0, 200);
    // Read-only unless allowed.
    let (status, body) = http(
        "POST",
        format!("{base}/api/actors/{}/stop", seg(echo.id())),
        Some("s3cret"),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("allow_actions"), "{body}");
    observer.shutdown();

    let observer = Observer::bind("127.0.0.1:0")
        .system(&system)
        .allow_actions()
        .start()
        .await
        .unwrap();
    let base = format!("http://{}", observer.local_addr());
    assert_eq!(
        http(
            "POST",
            format!("{base}/api/actors/%3C0.999999%3E/stop"),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        http(
            "POST",
            format!("{base}/api/actors/{}/dance", seg(echo.id())),
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(
        http(
            "POST",
            format!("{base}/api/actors/{}/stop", seg(echo.id())),
            None
        )
        .await
        .0,
        202
    );
    tokio::time::timeout(Duration::from_secs(10), echo.wait(None))
        .await
        .unwrap()
        .unwrap();
    observer.shutdown();
}

#[tokio::test]
async fn only_loopback_unless_allowed_and_then_only_with_a_token() {
    let e = Observer::bind("0.0.0.0:0").start().await.unwrap_err();
    assert!(
        matches!(&e, ObserverError::Config(why) if why.contains("allow_remote")),
        "{e}"
    );
    let e = Observer::bind("0.0.0.0:0")
        .allow_remote()
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ObserverError::Config(why) if why.contains("token")),
        "{e}"
    );
    let e = Observer::bind("not an address").start().await.unwrap_err();
    assert!(e.to_string().contains("not an address"), "{e}");
}
