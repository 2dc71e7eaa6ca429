//! Messaging: FIFO per sender, sequential handling, casts to ended actors.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Log, Work, Worker};
use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SendError};

/// Checks that numbers from each sender arrive in increasing order.
struct OrderCheck;

enum OrderMsg {
    Item { sender: usize, seq: u64 },
    Report(RpcReplyPort<(u64, bool)>),
}

impl Actor for OrderCheck {
    type Msg = OrderMsg;
    /// (last seq per sender, total, in order so far)
    type State = (Vec<Option<u64>>, u64, bool);
    type Arguments = usize;
    async fn pre_start(
        &self,
        _: ActorRef<OrderMsg>,
        senders: usize,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok((vec![None; senders], 0, true))
    }
    async fn handle(
        &self,
        _: ActorRef<OrderMsg>,
        msg: OrderMsg,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            OrderMsg::Item { sender, seq } => {
                if let Some(last) = st.0[sender] {
                    st.2 &= seq == last + 1;
                } else {
                    st.2 &= seq == 0;
                }
                st.0[sender] = Some(seq);
                st.1 += 1;
            }
            OrderMsg::Report(reply) => reply.send((st.1, st.2))?,
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_one_sender_arrive_in_order() {
    let (a, _) = Actor::spawn(None, OrderCheck, 1).await.unwrap();
    for seq in 0..20_000 {
        a.cast(OrderMsg::Item { sender: 0, seq }).unwrap();
    }
    assert_eq!(
        a.call(OrderMsg::Report, None).await.unwrap(),
        (20_000, true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_of_many_senders_keeps_its_order() {
    const SENDERS: usize = 4;
    const EACH: u64 = 5_000;
    let (a, _) = Actor::spawn(None, OrderCheck, SENDERS).await.unwrap();
    let tasks: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let a = a.clone();
            tokio::spawn(async move {
                for seq in 0..EACH {
                    a.cast(OrderMsg::Item { sender, seq }).unwrap();
                    if seq % 512 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let (total, in_order) = a.call(OrderMsg::Report, None).await.unwrap();
    assert_eq!(total, SENDERS as u64 * EACH);
    assert!(in_order);
}

/// Fails the test if two handlers of one actor ever overlap.
struct Exclusive {
    in_flight: Arc<AtomicUsize>,
    overlaps: Arc<AtomicUsize>,
}

impl Actor for Exclusive {
    type Msg = RpcReplyPort<()>;
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
    async fn handle(
        &self,
        _: ActorRef<Self::Msg>,
        reply: Self::Msg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if self.in_flight.fetch_add(1, Ordering::SeqCst) != 0 {
            self.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        reply.send(())?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_of_one_actor_never_overlap() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let (a, _) = Actor::spawn(
        None,
        Exclusive {
            in_flight: in_flight.clone(),
            overlaps: overlaps.clone(),
        },
        (),
    )
    .await
    .unwrap();
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move { a.call(|r| r, None).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn cast_to_an_ended_actor_hands_the_message_back() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("ended", &log), ())
        .await
        .unwrap();
    w.stop(None);
    handle.await.unwrap();
    match w.cast(Work::Record(9)) {
        Err(SendError::Closed(Work::Record(n))) => assert_eq!(n, 9),
        _ => panic!("expected Closed with the message"),
    }
    let err = w.cast(Work::Record(10)).unwrap_err();
    assert!(err.is_closed());
    assert!(matches!(err.into_inner(), Work::Record(10)));
}

/// Ticks by casting to itself, one message at a time, and counts its ticks.
struct Ticker(Arc<AtomicUsize>);

impl Actor for Ticker {
    type Msg = usize;
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<usize>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
    async fn handle(
        &self,
        myself: ActorRef<usize>,
        left: usize,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        self.0.fetch_add(1, Ordering::Relaxed);
        if left > 0 {
            let _ = myself.cast(left - 1);
        }
        Ok(())
    }
}

/// A busy actor yields to the scheduler at least every 128 messages, even when its mail
/// arrives one message at a time (it casts to itself; or a bounded mailbox hands it over
/// one by one), so it cannot starve the other tasks of a single-threaded runtime.
#[tokio::test]
async fn a_busy_actor_yields_every_128_messages_even_fed_one_at_a_time() {
    for bounded in [false, true] {
        let ticks = Arc::new(AtomicUsize::new(0));
        let options = if bounded {
            ensemble::SpawnOptions::new().capacity(4, ensemble::Overflow::Reject)
        } else {
            ensemble::SpawnOptions::new()
        };
        let (ticker, _) = Actor::spawn_with(options, Ticker(ticks.clone()), ())
            .await
            .unwrap();
        ticker.cast(10_000).unwrap();
        // Runs once the ticker gives up the (only) thread.
        let seen = ticks.clone();
        let at = tokio::spawn(async move { seen.load(Ordering::Relaxed) })
            .await
            .unwrap();
        assert!(
            at <= 256,
            "bounded {bounded}: another task first ran after {at} ticks"
        );
        ticker.stop_and_wait(None, None).await.unwrap();
    }
}
