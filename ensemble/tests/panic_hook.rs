//! `panics::install_tracing_hook`: panics inside actors become one `tracing` event; every
//! other panic still reaches the hook installed before. The panic hook is process-wide,
//! so this file holds a single test.

mod common;

use std::sync::Mutex;

use common::capture::run_captured;
use common::{Log, Work, Worker};
use ensemble::{Actor, ActorProcessingErr, ActorRef, SpawnError};
use tracing::Level;

/// Messages of the panics that reached the hook installed before ensemble's.
static EARLIER_HOOK: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct FailsToStart;
impl Actor for FailsToStart {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        panic!("no start today")
    }
}

#[test]
fn actor_panics_go_to_tracing_and_all_others_to_the_earlier_hook() {
    std::panic::set_hook(Box::new(|info| {
        let text = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        EARLIER_HOOK.lock().unwrap().push(text);
    }));
    ensemble::panics::install_tracing_hook();
    ensemble::panics::install_tracing_hook(); // a second call changes nothing

    let mut worker_id = None;
    let events = run_captured(async {
        let log = Log::default();
        let (w, handle) = Actor::spawn(Some("panicky".into()), Worker::new("p", &log), ())
            .await
            .unwrap();
        worker_id = Some(w.id());
        w.cast(Work::Panic("inside the actor".into())).unwrap();
        handle.await.unwrap();
        // pre_start runs in the spawning task: still the new actor's code.
        assert!(matches!(
            Actor::spawn(None, FailsToStart, ()).await,
            Err(SpawnError::StartupFailed(_))
        ));
        // A panic in a plain task is not an actor's.
        let plain = tokio::spawn(async { panic!("outside any actor") });
        assert!(plain.await.unwrap_err().is_panic());
        assert_eq!(ensemble::panics::current_actor(), None);
    });

    let earlier = EARLIER_HOOK.lock().unwrap().clone();
    assert_eq!(
        earlier,
        ["outside any actor"],
        "only the non-actor panic reaches it"
    );
    let panics: Vec<_> = events
        .iter()
        .filter(|(_, target, _)| target == "ensemble::panic")
        .collect();
    assert_eq!(panics.len(), 2, "{events:#?}");
    let (level, _, fields) = panics[0];
    assert_eq!(*level, Level::ERROR);
    let id = worker_id.unwrap().to_string();
    assert!(fields.contains(&format!("actor={id}")), "{fields}");
    assert!(fields.contains("name=panicky"), "{fields}");
    assert!(fields.contains("inside the actor"), "{fields}");
    assert!(
        fields.contains("location=ensemble/tests/common/mod.rs"),
        "{fields}"
    );
    assert!(panics[1].2.contains("no start today"), "{}", panics[1].2);
}
