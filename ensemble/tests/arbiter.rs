//! Arbiters: opt-in placement of actors on one thread. An actor spawned on an arbiter
//! lives on its thread from `post_start` on (`pre_start` runs in the spawning task, as
//! for every actor), and what it spawns there follows; messages and timers work across
//! runtimes; stopping the arbiter ends its actors as killed.
//! SEMANTICS 15.2.

use std::time::Duration;

use ensemble::{
    Actor, ActorProcessingErr, ActorRef, Arbiter, ExitReason, RpcReplyPort, SpawnOptions,
};
use ensemble_test::TestProbe;

const WAIT: Duration = Duration::from_secs(10);

fn thread() -> String {
    std::thread::current().name().unwrap_or("?").to_string()
}

/// Reports the threads of its `pre_start`, its handler, and a child it spawns (the
/// child's `post_start` thread).
struct Probe;

enum Ask {
    Threads(RpcReplyPort<(String, String, String)>),
    Started(RpcReplyPort<String>),
    Later(ActorRef<String>),
}

impl Actor for Probe {
    type Msg = Ask;
    type State = (String, String);
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<Ask>, _: ()) -> Result<Self::State, ActorProcessingErr> {
        Ok((thread(), String::new()))
    }
    async fn post_start(
        &self,
        _: ActorRef<Ask>,
        (_, post): &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        *post = thread();
        Ok(())
    }
    async fn handle(
        &self,
        _: ActorRef<Ask>,
        msg: Ask,
        (pre, post): &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Ask::Threads(reply) => {
                let (child, _) = Actor::spawn(None, Probe, ()).await?;
                let child_started_on = child.call(Ask::Started, Some(WAIT)).await?;
                child.stop(None);
                reply.send((pre.clone(), post.clone(), child_started_on))?;
            }
            Ask::Started(reply) => reply.send(post.clone())?,
            // A timer on the arbiter's runtime, then a cast to an actor elsewhere.
            Ask::Later(to) => {
                tokio::time::sleep(Duration::from_millis(1)).await;
                to.cast(thread())?;
            }
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_on_an_arbiter_lives_on_its_thread_and_what_it_spawns_follows() {
    let arbiter = Arbiter::new("a1").unwrap();
    assert_eq!(arbiter.name(), "a1");
    let (p, _) = Actor::spawn_with(SpawnOptions::new().arbiter(&arbiter), Probe, ())
        .await
        .unwrap();
    let (pre, post, child) = p.call(Ask::Threads, Some(WAIT)).await.unwrap();
    assert!(
        !pre.starts_with("ensemble-arbiter"),
        "pre_start runs in the spawning task: {pre}"
    );
    assert_eq!(
        post, "ensemble-arbiter-a1",
        "from post_start on, the actor is there"
    );
    assert_eq!(
        child, "ensemble-arbiter-a1",
        "a child spawned there follows"
    );
    // Without the option, an actor stays on the caller's runtime.
    let (q, _) = Actor::spawn(None, Probe, ()).await.unwrap();
    let (_, elsewhere, _) = q.call(Ask::Threads, Some(WAIT)).await.unwrap();
    assert!(!elsewhere.starts_with("ensemble-arbiter"), "{elsewhere}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_and_timers_work_across_runtimes() {
    let arbiter = Arbiter::new("a2").unwrap();
    let (p, _) = Actor::spawn_with(SpawnOptions::new().arbiter(&arbiter), Probe, ())
        .await
        .unwrap();
    let listener = TestProbe::<String>::spawn().await;
    for _ in 0..100 {
        p.cast(Ask::Later(listener.actor_ref())).unwrap();
    }
    let got = listener.receive_n(100, WAIT).await;
    assert!(got.iter().all(|t| t == "ensemble-arbiter-a2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_arbiter_ends_its_actors_as_killed() {
    let arbiter = Arbiter::new("a3").unwrap();
    let watcher = TestProbe::<()>::spawn().await.with_timeout(WAIT);
    let (p, handle) = Actor::spawn_with(SpawnOptions::new().arbiter(&arbiter), Probe, ())
        .await
        .unwrap();
    watcher.watch(&p.cell());
    arbiter.stop();
    arbiter.join();
    assert_eq!(watcher.expect_down().await, (p.id(), ExitReason::Killed));
    assert!(handle.await.unwrap_err().is_cancelled());
    // On a stopped arbiter, an actor ends at once, as killed (its task has nowhere to run).
    let (late, handle) = Actor::spawn_with(SpawnOptions::new().arbiter(&arbiter), Probe, ())
        .await
        .unwrap();
    assert!(handle.await.unwrap_err().is_cancelled());
    late.wait(Some(WAIT)).await.unwrap();
    assert!(!late.status().is_alive());
}
