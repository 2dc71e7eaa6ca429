//! The kit itself: each expectation passes when it should and fails (panics, naming what
//! was expected) when it should; fault plans are deterministic from their seed.

use std::time::Duration;

use ensemble::{Actor, ActorProcessingErr, ActorRef, ExitReason};
use ensemble_test::{FaultPlan, TestProbe, Trace, paused_runtime, within};

const SEC: Duration = Duration::from_secs(1);

/// Adds what it is sent; forwards each sum to a probe if it has one.
struct Adder;

impl Actor for Adder {
    type Msg = u64;
    type State = (u64, Option<ActorRef<u64>>);
    type Arguments = Option<ActorRef<u64>>;

    async fn pre_start(
        &self,
        _: ActorRef<u64>,
        to: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok((0, to))
    }

    async fn handle(
        &self,
        _: ActorRef<u64>,
        n: u64,
        (sum, to): &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        *sum += n;
        if let Some(to) = to {
            to.cast(*sum)?;
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn expectations_take_messages_in_order() {
    let probe = TestProbe::<u64>::spawn().await;
    let (adder, _) = Actor::spawn(None, Adder, Some(probe.actor_ref()))
        .await
        .unwrap();
    for n in 1..=5 {
        adder.cast(n).unwrap();
    }
    assert_eq!(probe.expect_msg(SEC).await, 1);
    assert_eq!(probe.expect_msg_matching(|s| *s == 3).await, 3);
    assert_eq!(probe.receive_n(2, SEC).await, [6, 10]);
    assert_eq!(probe.fish_for(SEC, |s| *s > 12).await, 15);
    probe.expect_no_msg(Duration::from_secs(60)).await;
    assert!(probe.try_recv().is_none());
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "expected a message (u64) within 1s; none came")]
async fn expect_msg_fails_when_nothing_comes() {
    let probe = TestProbe::<u64>::spawn().await;
    probe.expect_msg(SEC).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "the next message did not match: 7")]
async fn expect_msg_matching_fails_on_another_message() {
    let probe = TestProbe::<u64>::spawn().await;
    probe.actor_ref().cast(7).unwrap();
    probe.expect_msg_matching(|n| *n == 8).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "expected no message for 1s; got 7")]
async fn expect_no_msg_fails_on_a_message() {
    let probe = TestProbe::<u64>::spawn().await;
    probe.actor_ref().cast(7).unwrap();
    probe.expect_no_msg(SEC).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "expected 3 messages within 1s; got 2")]
async fn receive_n_fails_when_too_few_come() {
    let probe = TestProbe::<u64>::spawn().await;
    probe.actor_ref().cast(1).unwrap();
    probe.actor_ref().cast(2).unwrap();
    probe.receive_n(3, SEC).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "none (2 others skipped)")]
async fn fish_for_fails_when_nothing_matches() {
    let probe = TestProbe::<u64>::spawn().await;
    probe.actor_ref().cast(1).unwrap();
    probe.actor_ref().cast(2).unwrap();
    probe.fish_for(SEC, |n| *n > 2).await;
}

#[tokio::test(start_paused = true)]
async fn within_holds_exactly_on_paused_time() {
    let ms = Duration::from_millis;
    assert_eq!(
        within(ms(100)..ms(101), async {
            tokio::time::sleep(ms(100)).await;
            5
        })
        .await,
        5
    );
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "expected to take at least 100ms; took 50ms")]
async fn within_fails_when_too_early() {
    let ms = Duration::from_millis;
    within(ms(100)..ms(200), tokio::time::sleep(ms(50))).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "expected to finish within 200ms; still running")]
async fn within_fails_when_too_late() {
    let ms = Duration::from_millis;
    within(ms(100)..ms(200), tokio::time::sleep(ms(300))).await;
}

#[tokio::test(start_paused = true)]
async fn a_probe_supervises_and_monitors() {
    let sup = TestProbe::<()>::spawn().await;
    let watcher = TestProbe::<()>::spawn().await;
    let (adder, _) = Actor::spawn_linked(None, Adder, None, sup.cell())
        .await
        .unwrap();
    assert_eq!(sup.expect_started().await.id(), adder.id());
    watcher.watch(&adder.cell());
    FaultPlan::new(0).fail_on(2).install(&adder);
    adder.cast(1).unwrap();
    adder.cast(2).unwrap();
    let (child, error) = sup.expect_failed().await;
    assert_eq!(child.id(), adder.id());
    assert_eq!(error, "injected failure on message 2");
    let (id, reason) = watcher.expect_down().await;
    assert_eq!(id, adder.id());
    assert_eq!(
        reason,
        ExitReason::Failed("injected failure on message 2".into())
    );
    // The probe did not fail with its child.
    sup.actor_ref().cast(()).unwrap();
    sup.expect_msg(SEC).await;

    let (other, _) = Actor::spawn_linked(None, Adder, None, sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    other.stop(Some("enough".into()));
    let (child, reason) = sup.expect_terminated().await;
    assert_eq!(
        (child.id(), reason.as_deref()),
        (other.id(), Some("enough"))
    );
    sup.expect_no_event(SEC).await;
}

#[test]
#[should_panic(expected = "expected a child to fail; got")]
fn expect_failed_names_the_event_it_got_instead() {
    paused_runtime().block_on(async {
        let sup = TestProbe::<()>::spawn().await;
        let (adder, _) = Actor::spawn_linked(None, Adder, None, sup.cell())
            .await
            .unwrap();
        drop(adder);
        sup.expect_failed().await;
    });
}

/// Runs `plan` against a fresh adder fed 1..=200; returns what was injected and the sum.
fn run_plan(plan: FaultPlan) -> (Vec<(u64, String)>, u64) {
    paused_runtime().block_on(async {
        let (adder, _) = Actor::spawn(None, Adder, None).await.unwrap();
        let log = plan.install(&adder);
        for n in 1..=200 {
            adder.cast(n).unwrap();
        }
        let sum = adder
            .inspect(|(sum, _): &mut (u64, Option<ActorRef<u64>>)| *sum)
            .await
            .unwrap();
        (log.injected(), sum)
    })
}

#[test]
fn a_seed_decides_every_draw() {
    let plan = |seed| {
        FaultPlan::new(seed)
            .drop_with_probability(0.1)
            .delay_with_probability(0.05, SEC)
    };
    let (a, sum_a) = run_plan(plan(42));
    let (b, sum_b) = run_plan(plan(42));
    assert_eq!((&a, sum_a), (&b, sum_b), "same seed, same run");
    let (c, _) = run_plan(plan(43));
    assert_ne!(a, c, "another seed, another run");
    let drops: Vec<u64> = a
        .iter()
        .filter(|(_, w)| w == "drop")
        .map(|(n, _)| *n)
        .collect();
    assert!(
        (5..=40).contains(&drops.len()),
        "{} drops of 200 at p = 0.1",
        drops.len()
    );
    assert!(a.iter().any(|(_, w)| w == "delay"));
    // Dropped messages are exactly the ones missing from the sum.
    assert_eq!(sum_a, (1..=200u64).sum::<u64>() - drops.iter().sum::<u64>());
}

#[test]
fn every_nth_and_delays() {
    let (log, sum) = run_plan(FaultPlan::new(0).drop_every(50));
    assert_eq!(
        log,
        [
            (50, "drop".into()),
            (100, "drop".into()),
            (150, "drop".into()),
            (200, "drop".into())
        ]
    );
    assert_eq!(sum, 20_100 - 500);
    paused_runtime().block_on(async {
        let (adder, _) = Actor::spawn(None, Adder, None).await.unwrap();
        FaultPlan::new(0).delay_all(SEC).install(&adder);
        adder.cast(1).unwrap();
        adder.cast(2).unwrap();
        let sum = within(
            2 * SEC..2 * SEC + Duration::from_millis(1),
            adder.inspect(|s: &mut (u64, Option<ActorRef<u64>>)| s.0),
        )
        .await;
        assert_eq!(sum.unwrap(), 3);
    });
}

#[tokio::test(start_paused = true)]
async fn a_stall_holds_until_a_kill() {
    let watcher = TestProbe::<()>::spawn().await;
    let (adder, _) = Actor::spawn(None, Adder, None).await.unwrap();
    watcher.watch(&adder.cell());
    let log = FaultPlan::new(0).stall_on(1).install(&adder);
    adder.cast(1).unwrap();
    watcher.expect_no_event(Duration::from_secs(3600)).await;
    assert_eq!(log.injected(), [(1, "stall".into())]);
    adder.kill();
    assert_eq!(watcher.expect_down().await.1, ExitReason::Killed);
}

#[tokio::test(start_paused = true)]
async fn a_trace_records_in_order_until_stopped() {
    let (adder, _) = Actor::spawn(None, Adder, None).await.unwrap();
    let trace = Trace::install(&adder);
    adder.cast(1).unwrap();
    adder.cast(2).unwrap();
    adder
        .inspect(|_: &mut (u64, Option<ActorRef<u64>>)| ())
        .await
        .unwrap();
    assert_eq!(trace.messages(), ["1", "2"]);
    trace.stop();
    adder.cast(3).unwrap();
    adder
        .inspect(|_: &mut (u64, Option<ActorRef<u64>>)| ())
        .await
        .unwrap();
    assert_eq!(trace.len(), 2);
}
