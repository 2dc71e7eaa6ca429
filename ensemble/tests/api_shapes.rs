//! The public API's shapes: traits the contract promises, ids, Debug without `M: Debug`,
//! errors usable with `?`, the macros.

mod common;

use std::collections::HashSet;
use std::error::Error;

use common::{Log, Work, Worker};
use ensemble::{
    Actor, ActorCell, ActorId, ActorRef, CallError, RpcReplyPort, SendError, SpawnError,
    SupervisionEvent, WaitTimeout, call, call_t, cast,
};

struct NotDebug;

fn assert_error<E: Error + Send + Sync + 'static>() {}
fn assert_send_sync<T: Send + Sync>() {}
fn assert_clone_eq_hash<T: Clone + PartialEq + Eq + std::hash::Hash + std::fmt::Debug>() {}

#[test]
fn errors_are_std_errors_without_message_debug() {
    assert_error::<SendError<NotDebug>>();
    assert_error::<CallError<NotDebug>>();
    assert_error::<SpawnError>();
    assert_error::<WaitTimeout>();
    assert_send_sync::<ActorRef<NotDebug>>();
    assert_send_sync::<ActorCell>();
    assert_clone_eq_hash::<ActorCell>();
    assert_clone_eq_hash::<ActorId>();
    fn assert_send<T: Send>() {}
    assert_send::<SupervisionEvent>();
    fn question_mark() -> Result<(), Box<dyn Error>> {
        Err(SendError::Closed(NotDebug))?;
        Ok(())
    }
    assert!(question_mark().unwrap_err().to_string().contains("ended"));
    fn in_handler() -> Result<(), ensemble::ActorProcessingErr> {
        Err(SendError::Full(5u8))?
    }
    assert!(in_handler().unwrap_err().to_string().contains("full"));
}

#[tokio::test]
async fn refs_and_cells_share_an_id_and_print_without_message_debug() {
    struct Silent;
    impl Actor for Silent {
        type Msg = NotDebug;
        type State = ();
        type Arguments = ();
        async fn pre_start(
            &self,
            _: ActorRef<NotDebug>,
            _: (),
        ) -> Result<(), ensemble::ActorProcessingErr> {
            Ok(())
        }
    }
    let (a, _) = Actor::spawn(Some("api-named".into()), Silent, ())
        .await
        .unwrap();
    let (b, _) = Actor::spawn(None, Silent, ()).await.unwrap();
    let cell: ActorCell = a.clone().into();
    assert_eq!(cell.id(), a.id());
    assert_eq!(cell, a.cell());
    assert_ne!(a.id(), b.id());
    assert!(a.id().is_local() && a.id().node() == 0);
    assert_eq!(a.id().to_string(), format!("<0.{}>", a.id().local()));
    assert!(format!("{a:?}").contains("api-named"));
    assert!(format!("{b:?}").starts_with("ActorRef(<0."));
    let set: HashSet<ActorCell> = [a.cell(), a.cell(), b.cell()].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert!(cell.into_ref::<NotDebug>().is_some());
    assert!(b.cell().into_ref::<u8>().is_none());
}

enum Math {
    Add(u32, u32, RpcReplyPort<u32>),
    Ping(RpcReplyPort<()>),
}

struct Calc;

impl Actor for Calc {
    type Msg = Math;
    type State = u32;
    type Arguments = ();
    async fn pre_start(
        &self,
        _: ActorRef<Math>,
        _: (),
    ) -> Result<u32, ensemble::ActorProcessingErr> {
        Ok(0)
    }
    async fn handle(
        &self,
        _: ActorRef<Math>,
        m: Math,
        calls: &mut u32,
    ) -> Result<(), ensemble::ActorProcessingErr> {
        *calls += 1;
        match m {
            Math::Add(a, b, r) => r.send(a + b)?,
            Math::Ping(r) => r.send(())?,
        }
        Ok(())
    }
}

#[tokio::test]
async fn cast_call_and_call_t_macros() {
    let (calc, _) = Actor::spawn(None, Calc, ()).await.unwrap();
    assert_eq!(call!(calc, Math::Add, 1, 2).unwrap(), 3);
    assert_eq!(call_t!(calc, Math::Add, 50, 3, 4).unwrap(), 7);
    call!(calc, Math::Ping).unwrap();
    let log = Log::default();
    let (w, _) = Actor::spawn(None, Worker::new("m", &log), ())
        .await
        .unwrap();
    cast!(w, Work::Record(1)).unwrap();
    assert_eq!(call!(w, Work::Get).unwrap(), vec![1]);
}

#[ensemble::async_trait]
impl Actor for Log {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ensemble::ActorProcessingErr> {
        Ok(())
    }
}

#[tokio::test]
async fn async_trait_attribute_is_accepted_and_changes_nothing() {
    let (a, h) = Actor::spawn(None, Log::default(), ()).await.unwrap();
    a.stop(None);
    h.await.unwrap();
}

#[test]
fn readme_example_is_the_counter_example() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../examples/counter.rs");
    let code: String = example
        .lines()
        .filter(|l| !l.starts_with("//!"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        readme.contains(&code),
        "README example drifted from examples/counter.rs"
    );
}
