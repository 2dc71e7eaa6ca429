//! A failing or panicking actor never takes down the runtime or other actors.

mod common;

use common::{Log, Work, Worker};
use ensemble::{Actor, ActorProcessingErr, ActorRef, ActorStatus};

async fn check_isolation() {
    {
        let log = Log::default();
        let (bystander, _) = Actor::spawn(None, Worker::new("by", &log), ())
            .await
            .unwrap();
        for i in 0..20u32 {
            let (victim, handle) = Actor::spawn(None, Worker::new("v", &log), ())
                .await
                .unwrap();
            victim
                .cast(if i % 2 == 0 {
                    Work::Panic(format!("panic {i}"))
                } else {
                    Work::Fail(format!("err {i}"))
                })
                .unwrap();
            handle
                .await
                .expect("the actor's task ends normally after a panic");
            assert_eq!(victim.status(), ActorStatus::Stopped);
            bystander.cast(Work::Record(i)).unwrap();
        }
        assert_eq!(
            bystander.call(Work::Get, None).await.unwrap(),
            (0..20).collect::<Vec<_>>()
        );
        assert_eq!(
            log.snapshot()
                .iter()
                .filter(|l| *l == "v:post_stop")
                .count(),
            20
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn panics_do_not_take_down_a_current_thread_runtime() {
    check_isolation().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_do_not_take_down_a_multi_thread_runtime() {
    check_isolation().await;
}

/// Panics in the hook named by its argument.
struct PanicIn(&'static str);

impl Actor for PanicIn {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
    async fn post_start(&self, _: ActorRef<()>, _: &mut ()) -> Result<(), ActorProcessingErr> {
        if self.0 == "post_start" {
            panic!("in post_start");
        }
        Ok(())
    }
    async fn post_stop(&self, _: ActorRef<()>, _: &mut ()) -> Result<(), ActorProcessingErr> {
        if self.0 == "post_stop" {
            panic!("in post_stop");
        }
        Ok(())
    }
}

#[tokio::test]
async fn panics_in_post_start_and_post_stop_are_reported_as_failures() {
    for hook in ["post_start", "post_stop"] {
        let sup = ensemble_test::TestProbe::<()>::spawn().await;
        let (a, _) = Actor::spawn_linked(None, PanicIn(hook), (), sup.cell())
            .await
            .unwrap();
        sup.expect_started().await;
        if hook == "post_stop" {
            a.stop(None);
        }
        let (_, error) = sup.expect_failed().await;
        assert!(error.contains(&format!("in {hook}")), "{hook}: {error}");
    }
}
