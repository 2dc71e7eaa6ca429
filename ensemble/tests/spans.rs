//! The `actor` and `message` spans handlers run in. Alone in its test binary: a
//! subscriber set for one thread while other tests' threads register the same callsites
//! can leave tracing's interest cache stale (a race in tracing-core), which would make
//! this test flaky, not the runtime wrong.

mod common;

use std::sync::{Arc, Mutex};

use common::{Log, Work, Worker};
use ensemble::Actor;

/// Each event's text, with the names and fields of the spans it happened in.
type Events = Vec<(String, Vec<String>)>;

/// Records, for each event, the names and fields of the spans it happened in.
#[derive(Clone, Default)]
struct SpanCapture {
    spans: Arc<Mutex<Vec<String>>>,
    stack: Arc<Mutex<Vec<u64>>>,
    events: Arc<Mutex<Events>>,
}

struct Text(String);

impl tracing::field::Visit for Text {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for SpanCapture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut text = Text(format!("{} ", attrs.metadata().name()));
        attrs.record(&mut text);
        let mut spans = self.spans.lock().unwrap();
        spans.push(text.0);
        tracing::span::Id::from_u64(spans.len() as u64)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = Text(String::new());
        event.record(&mut text);
        let spans = self.spans.lock().unwrap();
        let within = self
            .stack
            .lock()
            .unwrap()
            .iter()
            .map(|id| spans[*id as usize - 1].clone())
            .collect();
        self.events.lock().unwrap().push((text.0, within));
    }
    fn enter(&self, id: &tracing::span::Id) {
        self.stack.lock().unwrap().push(id.into_u64());
    }
    fn exit(&self, _: &tracing::span::Id) {
        self.stack.lock().unwrap().pop();
    }
}

#[test]
fn handlers_run_inside_an_actor_span_and_at_trace_a_message_span() {
    let capture = SpanCapture::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(capture.clone(), || {
        rt.block_on(async {
            let log = Log::default();
            let (w, _) = Actor::spawn(Some("spanned".into()), Worker::new("s", &log), ())
                .await
                .unwrap();
            w.cast(Work::Record(7)).unwrap();
            w.call(Work::Get, None).await.unwrap();
            w.stop(None);
        });
    });
    let events = capture.events.lock().unwrap();
    // The worker logs "s:7" from its handler (see common::Worker).
    let (_, within) = events
        .iter()
        .find(|(text, _)| text.contains("s:7"))
        .unwrap_or_else(|| panic!("{events:?}"));
    assert!(
        within.iter().any(|s| s.starts_with("actor ")
            && s.contains("name=\"spanned\"")
            && s.contains("type=\"Worker\"")),
        "{within:?}"
    );
    assert!(
        within.iter().any(|s| s.starts_with("message ")),
        "{within:?}"
    );
}
