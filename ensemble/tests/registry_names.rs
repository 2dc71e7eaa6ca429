//! The registry: unique names, typed lookup, release on end.

mod common;

use common::{Log, Work, Worker};
use ensemble::{Actor, ActorRef, SpawnError, registry};

#[tokio::test]
async fn where_is_finds_a_live_actor_and_typed_lookup_checks_the_message_type() {
    let log = Log::default();
    let (w, _) = Actor::spawn(Some("rn-typed".into()), Worker::new("t", &log), ())
        .await
        .unwrap();
    assert_eq!(registry::where_is("rn-typed").unwrap().id(), w.id());
    let typed = ActorRef::<Work>::where_is(String::from("rn-typed")).unwrap();
    assert_eq!(typed.id(), w.id());
    assert!(ActorRef::<u64>::where_is("rn-typed").is_none());
    assert!(registry::where_is("rn-nobody").is_none());
    assert!(registry::registered().contains(&"rn-typed".to_string()));
    assert_eq!(w.name().as_deref(), Some("rn-typed"));
}

#[tokio::test]
async fn a_taken_name_is_refused_and_the_holder_is_untouched() {
    let log = Log::default();
    let (first, _) = Actor::spawn(Some("rn-taken".into()), Worker::new("first", &log), ())
        .await
        .unwrap();
    first.cast(Work::Record(1)).unwrap();
    match Actor::spawn(Some("rn-taken".into()), Worker::new("second", &log), ()).await {
        Err(SpawnError::AlreadyRegistered(name)) => assert_eq!(name, "rn-taken"),
        Err(e) => panic!("unexpected {e:?}"),
        Ok(_) => panic!("a taken name must be refused"),
    }
    assert!(
        !log.contains("second:pre_start"),
        "the refused actor never starts"
    );
    assert_eq!(registry::where_is("rn-taken").unwrap().id(), first.id());
    assert_eq!(first.call(Work::Get, None).await.unwrap(), vec![1]);
}

#[tokio::test]
async fn a_name_is_free_again_once_its_actor_has_ended() {
    let log = Log::default();
    for round in 0..3 {
        let (w, handle) = Actor::spawn(Some("rn-reuse".into()), Worker::new("r", &log), ())
            .await
            .unwrap();
        assert_eq!(registry::where_is("rn-reuse").unwrap().id(), w.id());
        if round == 1 {
            w.kill();
        } else {
            w.stop(None);
        }
        handle.await.unwrap();
        assert!(registry::where_is("rn-reuse").is_none());
        assert!(!registry::registered().contains(&"rn-reuse".to_string()));
    }
}

#[tokio::test]
async fn a_failed_actor_releases_its_name() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(Some("rn-failed".into()), Worker::new("f", &log), ())
        .await
        .unwrap();
    w.cast(Work::Panic("oops".into())).unwrap();
    handle.await.unwrap();
    assert!(registry::where_is("rn-failed").is_none());
}
