//! Introspection: snapshots of a running system (actors, tree, mailboxes, busy handlers,
//! ended actors, dead letters, call timeouts, per-type totals) and the metrics derived
//! from them. (The spans handlers run in: `spans.rs`.)

mod common;

use std::time::Duration;

use common::{Log, Work, Worker, block};
use ensemble::introspect::MetricKind;
use ensemble::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorFlags, SupervisorSpec};
use ensemble::{Actor, ActorStatus, ActorSystem, CallError, SpawnOptions};

fn metric(s: &ensemble::introspect::Snapshot, name: &str, label: (&str, &str)) -> Option<f64> {
    s.metrics()
        .into_iter()
        .find(|m| m.name == name && m.labels.iter().any(|(k, v)| *k == label.0 && v == label.1))
        .map(|m| m.value)
}

#[tokio::test]
async fn a_snapshot_lists_every_actor_with_its_type_tree_and_mailbox() {
    let system = ActorSystem::new("snap");
    system.enable_introspection();
    let log = Log::default();
    let spec = SupervisorSpec::new(SupervisorFlags::new(Strategy::OneForOne)).child(
        ChildSpec::new("w1", {
            let log = log.clone();
            move || (Worker::new("w1", &log), ())
        })
        .name("w1"),
    );
    let (sup, _) = Actor::spawn_with(
        SpawnOptions::new().system(&system).name("sup"),
        Supervisor,
        spec,
    )
    .await
    .unwrap();
    let (lone, _) = Actor::spawn_with(
        SpawnOptions::new().system(&system),
        Worker::new("lone", &log),
        (),
    )
    .await
    .unwrap();
    for n in 0..3 {
        lone.cast(Work::Record(n)).unwrap();
    }
    lone.call(Work::Get, None).await.unwrap();

    let s = system.snapshot();
    assert!(s.tracking_since.is_some());
    assert_eq!(s.system, "snap");
    let sup_info = s.actors.iter().find(|a| a.id == sup.id()).unwrap();
    assert_eq!(sup_info.name.as_deref(), Some("sup"));
    assert!(
        sup_info.type_name.ends_with("Supervisor"),
        "{}",
        sup_info.type_name
    );
    assert_eq!(sup_info.short_type(), "Supervisor");
    assert_eq!(sup_info.children.len(), 1);
    let child = s
        .actors
        .iter()
        .find(|a| a.id == sup_info.children[0])
        .unwrap();
    assert_eq!(child.parent, Some(sup.id()));
    assert_eq!(child.name.as_deref(), Some("w1"));
    assert_eq!(child.status, ActorStatus::Running);
    let lone_info = s.actors.iter().find(|a| a.id == lone.id()).unwrap();
    assert_eq!(lone_info.parent, None);
    assert_eq!(lone_info.mailbox.received, 4);
    assert_eq!(lone_info.mailbox.handled, 4);
    assert!(lone_info.busy_for.is_none());
    assert!(lone_info.type_name.ends_with("Worker"));
    // Metrics by short type name.
    assert_eq!(
        metric(&s, "ensemble_actors_alive", ("type", "Worker")),
        Some(2.0)
    );
    assert_eq!(
        metric(&s, "ensemble_messages_handled_total", ("type", "Worker")),
        Some(4.0)
    );
    assert_eq!(
        metric(&s, "ensemble_actors_started_total", ("type", "Supervisor")),
        Some(1.0)
    );
    let alive = s
        .metrics()
        .into_iter()
        .find(|m| m.name == "ensemble_actors_alive")
        .unwrap();
    assert_eq!(alive.kind, MetricKind::Gauge);
    assert_eq!(alive.labels[0], ("system", "snap".to_string()));
    sup.stop(None);
}

#[tokio::test]
async fn without_introspection_named_actors_and_their_trees_are_still_seen() {
    let system = ActorSystem::new("untracked");
    let log = Log::default();
    let spec = SupervisorSpec::new(SupervisorFlags::new(Strategy::OneForOne)).child(
        ChildSpec::new("w", {
            let log = log.clone();
            move || (Worker::new("w", &log), ())
        }),
    );
    let (sup, _) = Actor::spawn_with(
        SpawnOptions::new().system(&system).name("root"),
        Supervisor,
        spec,
    )
    .await
    .unwrap();
    let (_anon, _) = Actor::spawn_with(
        SpawnOptions::new().system(&system),
        Worker::new("a", &log),
        (),
    )
    .await
    .unwrap();
    let s = system.snapshot();
    assert!(s.tracking_since.is_none());
    // The named supervisor and its child; not the anonymous root.
    assert_eq!(s.actors.len(), 2, "{:?}", s.actors);
    assert!(
        s.actors
            .iter()
            .any(|a| a.id == sup.id() && a.type_name == "?")
    );
    sup.stop(None);
}

#[tokio::test]
async fn a_busy_handler_shows_how_long_it_has_run_and_an_idle_one_does_not() {
    let system = ActorSystem::new("busy");
    system.enable_introspection();
    let log = Log::default();
    let (w, _) = Actor::spawn_with(
        SpawnOptions::new().system(&system),
        Worker::new("b", &log),
        (),
    )
    .await
    .unwrap();
    let gate = block(&w).await;
    let busy = system
        .snapshot()
        .actors
        .into_iter()
        .find(|a| a.id == w.id())
        .unwrap()
        .busy_for;
    assert!(busy.is_some(), "the blocked handler is busy");
    gate.send(()).unwrap();
    w.call(Work::Get, None).await.unwrap();
    let after = system.snapshot();
    let idle = after.actors.iter().find(|a| a.id == w.id()).unwrap();
    assert_eq!(idle.busy_for, None);
    // Handler time, per type (this thread's tally is flushed by the snapshot).
    let (_, totals) = after
        .types
        .iter()
        .find(|(t, _)| t.ends_with("Worker"))
        .unwrap();
    assert!(totals.handler_calls >= 2, "{totals:?}");
    w.stop(None);
}

#[tokio::test]
async fn ended_actors_stay_visible_with_their_reason_and_restarts_are_counted() {
    let system = ActorSystem::new("ended");
    system.enable_introspection();
    let log = Log::default();
    let flags = SupervisorFlags::new(Strategy::OneForOne).intensity(5, Duration::from_secs(10));
    let spec = SupervisorSpec::new(flags).child(ChildSpec::new("w", {
        let log = log.clone();
        move || (Worker::new("w", &log), ())
    }));
    let (sup, _) = Actor::spawn_with(SpawnOptions::new().system(&system), Supervisor, spec)
        .await
        .unwrap();
    let first = sup.which_children().await.unwrap()[0].cell.clone().unwrap();
    let first: ensemble::ActorRef<Work> = first.into_ref().unwrap();
    first.cast(Work::Fail("bad input 42".into())).unwrap();
    first.wait(None).await.unwrap();
    let second = loop {
        let c = sup.which_children().await.unwrap()[0].cell.clone();
        if let Some(c) = c.filter(|c| c.id() != first.id()) {
            break c;
        }
        tokio::task::yield_now().await;
    };
    let s = system.snapshot();
    let ended = s.ended.iter().find(|e| e.id == first.id()).unwrap();
    assert!(ended.failed);
    assert!(ended.reason.contains("bad input 42"), "{}", ended.reason);
    assert_eq!(ended.parent, Some(sup.id()));
    let now = s.actors.iter().find(|a| a.id == second.id()).unwrap();
    assert_eq!(now.restarts, 1);
    assert_eq!(
        metric(&s, "ensemble_actors_failed_total", ("type", "Worker")),
        Some(1.0)
    );
    assert_eq!(
        metric(&s, "ensemble_actors_restarted_total", ("type", "Worker")),
        Some(1.0)
    );
    sup.stop(None);
}

#[tokio::test(start_paused = true)]
async fn dead_letters_by_reason_and_call_timeouts_are_always_counted() {
    let system = ActorSystem::new("letters");
    let log = Log::default();
    let (w, handle) = Actor::spawn_with(
        SpawnOptions::new().system(&system),
        Worker::new("d", &log),
        (),
    )
    .await
    .unwrap();
    let gate = block(&w).await;
    let timed_out = w.call(Work::Get, Some(Duration::from_millis(10))).await;
    assert!(matches!(timed_out, Err(CallError::Timeout)));
    w.cast(Work::Record(1)).unwrap();
    w.stop(None);
    gate.send(()).unwrap();
    handle.await.unwrap();
    let s = system.snapshot();
    assert_eq!(s.call_timeouts, 1);
    // The timed-out call and the cast were left queued when the actor stopped.
    assert_eq!(s.dead_letters, vec![("actor stopped".to_string(), 2)]);
    assert_eq!(s.dead_letters_total, 2);
    assert_eq!(
        metric(
            &s,
            "ensemble_dead_letters_total",
            ("reason", "actor stopped")
        ),
        Some(2.0)
    );
}

/// A `metrics` recorder that keeps every counter and gauge, by name and labels.
#[cfg(feature = "metrics")]
#[derive(Default)]
struct Recorded {
    values: std::sync::Mutex<
        std::collections::HashMap<String, std::sync::Arc<std::sync::atomic::AtomicU64>>,
    >,
}

#[cfg(feature = "metrics")]
impl Recorded {
    fn slot(&self, key: &metrics::Key) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.values.lock().unwrap().entry(name).or_default().clone()
    }

    fn get(&self, name: &str) -> Option<u64> {
        self.values
            .lock()
            .unwrap()
            .get(name)
            .map(|v| v.load(std::sync::atomic::Ordering::Relaxed))
    }
}

#[cfg(feature = "metrics")]
impl metrics::Recorder for Recorded {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::from_arc(self.slot(key))
    }
    fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::from_arc(self.slot(key))
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        metrics::Histogram::noop()
    }
}

#[cfg(feature = "metrics")]
#[tokio::test]
async fn publish_metrics_hands_them_to_the_metrics_facade() {
    let system = ActorSystem::new("facade");
    system.enable_introspection();
    let log = Log::default();
    let (w, _) = Actor::spawn_with(
        SpawnOptions::new().system(&system),
        Worker::new("m", &log),
        (),
    )
    .await
    .unwrap();
    w.cast(Work::Record(1)).unwrap();
    w.call(Work::Get, None).await.unwrap();
    let recorder = Recorded::default();
    metrics::with_local_recorder(&recorder, || ensemble::introspect::publish_metrics(&system));
    assert_eq!(
        recorder.get("ensemble_messages_handled_total{system=facade,type=Worker}"),
        Some(2)
    );
    assert_eq!(
        recorder.get("ensemble_actors_started_total{system=facade,type=Worker}"),
        Some(1)
    );
    // A gauge holds f64 bits.
    let alive = recorder
        .get("ensemble_actors_alive{system=facade,type=Worker}")
        .unwrap();
    assert_eq!(f64::from_bits(alive), 1.0);
    w.stop(None);
}
