//! [`TestProbe`]: a real actor that records what it receives, for tests to assert on.

use std::fmt::Debug;
use std::time::Duration;

use ensemble::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, ExitReason, SpawnOptions,
    SupervisionEvent,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long an expectation waits when not told (Akka's `single-expect-default`). On
/// paused time (see the [crate docs](crate)) waiting costs no wall time: a message that
/// never comes fails the test at once.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// A real actor standing in for a collaborator: messages sent to its
/// [`actor_ref`](Self::actor_ref) are recorded, and the test asserts on them in order
/// with the `expect_*` methods, which panic with a message naming what was expected (a
/// probe is an assertion tool).
///
/// It also records [`SupervisionEvent`]s, so it can stand in as a child's supervisor
/// (spawn the child linked to [`cell`](Self::cell): [`expect_started`](Self::expect_started),
/// [`expect_failed`](Self::expect_failed), [`expect_terminated`](Self::expect_terminated))
/// or as a monitor ([`watch`](Self::watch), [`expect_down`](Self::expect_down)). It never
/// fails because a child did.
///
/// ```
/// use std::time::Duration;
/// use ensemble_test::TestProbe;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let probe = TestProbe::<String>::spawn().await;
/// probe.actor_ref().cast("hello".to_string()).unwrap();
/// assert_eq!(probe.expect_msg(Duration::from_secs(1)).await, "hello");
/// probe.expect_no_msg(Duration::from_millis(100)).await;
/// # }
/// ```
pub struct TestProbe<M: Send + 'static> {
    actor: ActorRef<M>,
    messages: tokio::sync::Mutex<mpsc::UnboundedReceiver<M>>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<SupervisionEvent>>,
    timeout: Duration,
}

struct Probe<M>(std::marker::PhantomData<fn() -> M>);

struct Sinks<M> {
    messages: mpsc::UnboundedSender<M>,
    events: mpsc::UnboundedSender<SupervisionEvent>,
}

impl<M: Send + 'static> Actor for Probe<M> {
    type Msg = M;
    type State = Sinks<M>;
    type Arguments = Sinks<M>;

    async fn pre_start(
        &self,
        _: ActorRef<M>,
        sinks: Sinks<M>,
    ) -> Result<Sinks<M>, ActorProcessingErr> {
        Ok(sinks)
    }

    async fn handle(
        &self,
        _: ActorRef<M>,
        msg: M,
        sinks: &mut Sinks<M>,
    ) -> Result<(), ActorProcessingErr> {
        // The test may have dropped the probe's receiving half: nothing to record then.
        let _ = sinks.messages.send(msg);
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<M>,
        evt: SupervisionEvent,
        sinks: &mut Sinks<M>,
    ) -> Result<(), ActorProcessingErr> {
        let _ = sinks.events.send(evt);
        Ok(())
    }
}

impl<M: Send + 'static> TestProbe<M> {
    /// Spawns a probe (unnamed, unsupervised, unbounded mailbox, the global system).
    ///
    /// # Panics
    /// If the probe cannot be spawned (only outside a tokio runtime).
    pub async fn spawn() -> TestProbe<M> {
        TestProbe::spawn_with(SpawnOptions::default()).await
    }

    /// Spawns a probe with `options`: a name (to stand in for a registered actor the
    /// code under test looks up), a supervisor, a mailbox bound, an actor system.
    ///
    /// # Panics
    /// If the probe cannot be spawned (the name is taken, say).
    pub async fn spawn_with(options: SpawnOptions) -> TestProbe<M> {
        let (messages, messages_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let sinks = Sinks { messages, events };
        let (actor, _) = Actor::spawn_with(options, Probe(std::marker::PhantomData), sinks)
            .await
            .unwrap_or_else(|e| panic!("the test probe could not start: {e}"));
        TestProbe {
            actor,
            messages: tokio::sync::Mutex::new(messages_rx),
            events: tokio::sync::Mutex::new(events_rx),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same probe with another default timeout (for the methods that take none).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> TestProbe<M> {
        self.timeout = timeout;
        self
    }

    /// The probe's reference: hand it to the code under test.
    pub fn actor_ref(&self) -> ActorRef<M> {
        self.actor.clone()
    }

    /// The probe's untyped handle: pass it as a supervisor or monitor.
    pub fn cell(&self) -> ActorCell {
        self.actor.cell()
    }

    /// The next message, waiting at most `timeout`.
    ///
    /// # Panics
    /// If none arrives in time.
    pub async fn expect_msg(&self, timeout: Duration) -> M {
        match self.recv(timeout).await {
            Some(msg) => msg,
            None => panic!(
                "expected a message ({}) within {timeout:?}; none came",
                std::any::type_name::<M>()
            ),
        }
    }

    /// The next message, which must satisfy `predicate`; waits the default timeout.
    ///
    /// # Panics
    /// If none arrives in time, or the next one does not match.
    pub async fn expect_msg_matching(&self, predicate: impl FnOnce(&M) -> bool) -> M
    where
        M: Debug,
    {
        let msg = self.expect_msg(self.timeout).await;
        assert!(predicate(&msg), "the next message did not match: {msg:?}");
        msg
    }

    /// Waits `duration` and checks that no message arrived meanwhile (nor was waiting).
    ///
    /// # Panics
    /// If one did.
    pub async fn expect_no_msg(&self, duration: Duration)
    where
        M: Debug,
    {
        if let Some(msg) = self.recv(duration).await {
            panic!("expected no message for {duration:?}; got {msg:?}");
        }
    }

    /// The next `n` messages, all within `timeout` (from now).
    ///
    /// # Panics
    /// If fewer arrive in time.
    pub async fn receive_n(&self, n: usize, timeout: Duration) -> Vec<M> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Some(msg) => got.push(msg),
                None => panic!(
                    "expected {n} messages within {timeout:?}; got {}",
                    got.len()
                ),
            }
        }
        got
    }

    /// Skips messages until one satisfies `predicate`, and returns it: for when other
    /// traffic is expected and does not matter (Akka's `fishForMessage`).
    ///
    /// # Panics
    /// If none does within `timeout`.
    pub async fn fish_for(&self, timeout: Duration, mut predicate: impl FnMut(&M) -> bool) -> M {
        let deadline = Instant::now() + timeout;
        let mut skipped = 0usize;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                Some(msg) if predicate(&msg) => return msg,
                Some(_) => skipped += 1,
                None => panic!(
                    "fished for a matching message for {timeout:?}: none ({skipped} others skipped)"
                ),
            }
        }
    }

    /// Waits until the probe has taken every message and event sent to it before this
    /// call: afterwards [`try_recv`](Self::try_recv) sees them, and "nothing arrived"
    /// is a fact rather than a timeout (useful on real time).
    pub async fn flush(&self) {
        // The probe's own state: the inspection waits behind what was queued before it.
        let _ = self.actor.inspect(|_: &mut Sinks<M>| ()).await;
    }

    /// The next message if one is waiting now, without waiting.
    pub fn try_recv(&self) -> Option<M> {
        self.messages.try_lock().ok()?.try_recv().ok()
    }

    async fn recv(&self, timeout: Duration) -> Option<M> {
        let mut messages = self.messages.lock().await;
        tokio::time::timeout(timeout, messages.recv())
            .await
            .ok()
            .flatten()
    }

    // ---- Supervision events ----

    /// Monitors `target`: when it ends, the probe records a
    /// [`SupervisionEvent::ActorDown`] ([`expect_down`](Self::expect_down)).
    pub fn watch(&self, target: &ActorCell) {
        self.cell().monitor(target.clone());
    }

    /// Stops monitoring `target`.
    pub fn unwatch(&self, target: &ActorCell) {
        self.cell().demonitor(target.clone());
    }

    /// The next supervision event, waiting at most `timeout`.
    ///
    /// # Panics
    /// If none arrives in time.
    pub async fn expect_event(&self, timeout: Duration) -> SupervisionEvent {
        let mut events = self.events.lock().await;
        match tokio::time::timeout(timeout, events.recv()).await {
            Ok(Some(evt)) => evt,
            _ => panic!("expected a supervision event within {timeout:?}; none came"),
        }
    }

    /// Waits `duration` and checks that no supervision event arrived meanwhile.
    ///
    /// # Panics
    /// If one did.
    pub async fn expect_no_event(&self, duration: Duration) {
        let mut events = self.events.lock().await;
        if let Ok(Some(evt)) = tokio::time::timeout(duration, events.recv()).await {
            panic!("expected no supervision event for {duration:?}; got {evt}");
        }
    }

    /// The next event must be that a child started; returns the child.
    ///
    /// # Panics
    /// If it is another event, or none comes within the default timeout.
    pub async fn expect_started(&self) -> ActorCell {
        match self.expect_event(self.timeout).await {
            SupervisionEvent::ActorStarted(child) => child,
            other => panic!("expected a child to start; got {other}"),
        }
    }

    /// The next event must be that a child failed; returns the child and the error's text
    /// with its sources' (`"outer: inner"`, as in [`ExitReason::Failed`]).
    ///
    /// # Panics
    /// If it is another event, or none comes within the default timeout.
    pub async fn expect_failed(&self) -> (ActorCell, String) {
        match self.expect_event(self.timeout).await {
            SupervisionEvent::ActorFailed(child, err) => (child, error_text(&*err)),
            other => panic!("expected a child to fail; got {other}"),
        }
    }

    /// The next event must be that a child ended without failing (stopped, drained or
    /// killed); returns the child and the reason it was given.
    ///
    /// # Panics
    /// If it is another event, or none comes within the default timeout.
    pub async fn expect_terminated(&self) -> (ActorCell, Option<String>) {
        match self.expect_event(self.timeout).await {
            SupervisionEvent::ActorTerminated(child, _, reason) => (child, reason),
            other => panic!("expected a child to terminate; got {other}"),
        }
    }

    /// The next event must be that a monitored actor ended; returns its id and why.
    ///
    /// # Panics
    /// If it is another event, or none comes within the default timeout.
    pub async fn expect_down(&self) -> (ActorId, ExitReason) {
        match self.expect_event(self.timeout).await {
            SupervisionEvent::ActorDown(cell, reason) => (cell.id(), reason),
            other => panic!("expected a monitored actor to go down; got {other}"),
        }
    }

    /// The free function [`within`] as a method (Akka's `probe.within`).
    pub async fn within<T>(
        &self,
        range: std::ops::Range<Duration>,
        fut: impl Future<Output = T>,
    ) -> T {
        within(range, fut).await
    }

    /// Stops the probe and waits for it to end.
    pub async fn stop(self) {
        self.actor.stop(None);
        let _ = self.actor.wait(None).await;
    }
}

impl<M: Send + 'static> Debug for TestProbe<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TestProbe<{}>({})",
            std::any::type_name::<M>(),
            self.actor.id()
        )
    }
}

/// Runs `fut` and checks that it took at least `range.start` and less than `range.end`
/// on tokio's clock (Akka's `within`); returns its output. On paused time the bounds are
/// exact: nothing else moves the clock.
///
/// # Panics
/// If it finished too early, or did not finish before `range.end`.
///
/// ```
/// use std::time::Duration;
/// use ensemble_test::within;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let ms = Duration::from_millis;
/// within(ms(100)..ms(200), tokio::time::sleep(ms(150))).await;
/// # }
/// ```
pub async fn within<T>(range: std::ops::Range<Duration>, fut: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let out = match tokio::time::timeout(range.end, fut).await {
        Ok(out) => out,
        Err(_) => panic!("expected to finish within {:?}; still running", range.end),
    };
    let took = start.elapsed();
    assert!(
        took >= range.start,
        "expected to take at least {:?}; took {took:?}",
        range.start
    );
    out
}

/// An error's text and its sources', as `ExitReason::Failed` carries it.
fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}
