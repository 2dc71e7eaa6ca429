//! What the runtime reports through `tracing`: failures nobody supervises, dead letters.

mod common;

use std::sync::{Arc, Mutex};

use common::{Log, Work, Worker, block};
use ensemble::Actor;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Records (level, target, message fields) of every event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(Level, String, String)>>>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let meta = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((*meta.level(), meta.target().to_string(), fields.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn run_captured(f: impl std::future::Future<Output = ()>) -> Vec<(Level, String, String)> {
    let capture = Capture::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(capture.clone(), || rt.block_on(f));
    capture.0.lock().unwrap().clone()
}

#[test]
fn a_failure_nobody_supervises_is_logged_at_error() {
    let events = run_captured(async {
        let log = Log::default();
        let (w, handle) = Actor::spawn(None, Worker::new("lonely", &log), ())
            .await
            .unwrap();
        w.cast(Work::Fail("unseen failure".into())).unwrap();
        handle.await.unwrap();
    });
    assert!(
        events
            .iter()
            .any(|(lvl, _, f)| *lvl == Level::ERROR && f.contains("unseen failure")),
        "{events:?}"
    );
}

#[test]
fn dead_letters_are_reported_on_their_target() {
    let events = run_captured(async {
        let log = Log::default();
        let (w, handle) = Actor::spawn(None, Worker::new("dl", &log), ())
            .await
            .unwrap();
        let gate = block(&w).await;
        w.cast(Work::Record(1)).unwrap();
        w.cast(Work::Record(2)).unwrap();
        w.stop(None);
        gate.send(()).unwrap();
        handle.await.unwrap();
    });
    assert!(
        events.iter().any(|(lvl, target, f)| *lvl == Level::DEBUG
            && target == "ensemble::dead_letters"
            && f.contains("count=2")),
        "{events:?}"
    );
}
