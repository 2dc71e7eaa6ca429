//! Spawning and the per-actor task: the message loop and the ordered shutdown.

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::task::JoinHandle;

use crate::cell::{ActorMailbox, Header, Shared};
use crate::errors::{Panicked, Reason};
use crate::introspect::Ending;
use crate::mailbox::{Next, Progress, Signal};
use crate::node::record_dead_letters;
use crate::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, ActorStatus, ActorSystem, BoxedState,
    ExitReason, Shutdown, SpawnError, SpawnOptions, SupervisionEvent,
};
use crate::{observe, panics};

/// Messages handled back to back before the actor yields to the scheduler, so that a
/// busy actor cannot starve other tasks on its worker thread.
const YIELD_EVERY: u16 = 128;

/// How an actor ended.
enum Exit {
    Stopped(Option<String>),
    /// Drained its mailbox (after `drain`): its children are drained too.
    Drained,
    Failed(ActorProcessingErr),
    Killed,
}

/// How a hook ended.
pub(crate) enum Outcome<T> {
    Done(T),
    Panicked(Panicked),
    Killed,
}

impl Outcome<Result<(), ActorProcessingErr>> {
    /// `None` to carry on, or the exit it causes.
    #[inline]
    fn exit(self) -> Option<Exit> {
        match self {
            Outcome::Done(Ok(())) => None,
            Outcome::Done(Err(e)) => Some(Exit::Failed(e)),
            Outcome::Panicked(p) => Some(Exit::Failed(Box::new(p))),
            Outcome::Killed => Some(Exit::Killed),
        }
    }
}

/// Polls a hook once, catching panics; a hook that is pending is abandoned if the actor
/// has been killed. The hook's future stays pinned in the caller's frame: no allocation.
/// `ty` is the actor's type name (for introspection and spans).
#[inline]
fn poll_hook<M, F: Future>(
    shared: &Shared<M>,
    hook: &'static str,
    ty: &'static str,
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Outcome<F::Output>> {
    // With the panic hook installed (`panics`), introspection on, or DEBUG enabled, the
    // poll takes the watched path; until then this costs one relaxed load.
    if observe::active() {
        return poll_hook_watched(shared, hook, ty, fut, cx);
    }
    poll_hook_unmarked(shared, hook, fut, cx)
}

#[cold]
#[inline(never)]
fn poll_hook_watched<M, F: Future>(
    shared: &Shared<M>,
    hook: &'static str,
    ty: &'static str,
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Outcome<F::Output>> {
    let header = &shared.header;
    let watched = observe::begin(header, hook, ty);
    let result = observe::within(&watched, || {
        if panics::routed() {
            panics::running(header.id, || poll_hook_unmarked(shared, hook, fut, cx))
        } else {
            poll_hook_unmarked(shared, hook, fut, cx)
        }
    });
    observe::end(header, ty, watched, result.is_ready());
    result
}

#[inline(always)]
fn poll_hook_unmarked<M, F: Future>(
    shared: &Shared<M>,
    hook: &'static str,
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Outcome<F::Output>> {
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Ready(v)) => Poll::Ready(Outcome::Done(v)),
        Ok(Poll::Pending) if shared.mailbox.poll_kill(cx) => Poll::Ready(Outcome::Killed),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => Poll::Ready(Outcome::Panicked(Panicked::from_payload(hook, payload))),
    }
}

/// Runs a hook to completion under [`poll_hook`]. A macro rather than an `async fn` so
/// the hook's future is stored once, in the caller's state, not copied into a callee's.
macro_rules! run_hook {
    ($shared:expr, $hook:expr, $ty:expr, $fut:expr) => {{
        let mut fut = pin!($fut);
        poll_fn(|cx| poll_hook($shared, $hook, $ty, fut.as_mut(), cx)).await
    }};
}

/// Runs a boxed hook to completion; for rare paths kept out of the idle task's size.
pub(crate) async fn run_boxed_hook<M, T>(
    shared: &Shared<M>,
    hook: &'static str,
    ty: &'static str,
    fut: impl Future<Output = T>,
) -> Outcome<T> {
    run_hook!(shared, hook, ty, fut)
}

/// Undoes a half-done spawn if `pre_start` fails or the spawning future is dropped.
struct StartGuard<'a, M: Send + 'static> {
    myself: &'a ActorRef<M>,
    armed: bool,
}

impl<M: Send + 'static> Drop for StartGuard<'_, M> {
    fn drop(&mut self) {
        if self.armed {
            let header = &self.myself.inner.header;
            let (msgs, events) = self.myself.inner.end();
            if let Some(name) = &header.name {
                header.system.unregister(name, header.id);
            }
            header.set_status(ActorStatus::Stopped);
            // Children linked during a failed `pre_start` must not outlive it.
            for child in header.close_links() {
                child.stop(Some("supervisor failed to start".into()));
            }
            record_dead_letters(&self.myself.inner, msgs.len(), "actor failed to start");
            drop((msgs, events));
            // A supervisor linked by hand during pre_start forgets the actor.
            if let Some(sup) = header.detach_supervisor() {
                sup.header().remove_child(header.id);
            }
            // Monitors, monitored actors and groups set up during pre_start.
            tell_down(
                &self.myself.cell(),
                ExitReason::Failed("failed to start".into()),
            );
            header.set_exited();
        }
    }
}

pub(crate) async fn spawn<A: Actor>(
    options: SpawnOptions,
    actor: A,
    args: A::Arguments,
) -> Result<(ActorRef<A::Msg>, JoinHandle<()>), SpawnError> {
    let SpawnOptions {
        name,
        supervisor,
        mailbox,
        system,
        arbiter,
    } = options;
    let system = system
        .or_else(|| supervisor.as_ref().map(ActorCell::system))
        .unwrap_or_else(ActorSystem::global);
    let name: Option<Arc<str>> = name.map(Into::into);
    observe::actor_started();
    let shared = Arc::new(Shared::new(
        Header::new(ActorId::next_local(), name.clone(), system),
        ActorMailbox::new(mailbox),
    ));
    let myself = ActorRef { inner: shared };
    if let Some(name) = name {
        if !myself
            .inner
            .header
            .system
            .register(name.clone(), myself.cell())
        {
            return Err(SpawnError::AlreadyRegistered(name.to_string()));
        }
    }

    // `pre_start` runs in the spawning task: the caller waits for it anyway, and this
    // saves a round trip through the scheduler.
    let mut guard = StartGuard {
        myself: &myself,
        armed: true,
    };
    let outcome = run_hook!(
        &myself.inner,
        "pre_start",
        std::any::type_name::<A>(),
        actor.pre_start(myself.clone(), args)
    );
    let state = match outcome {
        Outcome::Done(Ok(state)) => state,
        Outcome::Done(Err(e)) => return Err(SpawnError::StartupFailed(e)),
        Outcome::Panicked(p) => return Err(SpawnError::StartupFailed(Box::new(p))),
        Outcome::Killed => {
            return Err(SpawnError::StartupFailed(Box::new(Reason(
                "killed during pre_start".into(),
            ))));
        }
    };
    guard.armed = false;
    drop(guard);
    myself.inner.header.set_status(ActorStatus::Running);
    let tracker = myself.inner.header.system.tracker();
    if tracker.enabled() {
        tracker.started(&myself.cell(), std::any::type_name::<A>());
    }

    if let Some(supervisor) = supervisor {
        let cell = myself.cell();
        cell.link(supervisor.clone());
        if cell.supervisor().as_ref() == Some(&supervisor) {
            let _ = supervisor.send_event(SupervisionEvent::ActorStarted(cell));
        } else {
            tracing::debug!(actor = %myself.id(), supervisor = %supervisor.id(),
                "supervisor already ending; stopping the new child");
            myself.stop(Some("supervisor ended".into()));
        }
    }

    // The guard is part of the task from the start, so a task dropped even before its
    // first poll still ends the actor properly.
    let guard = AbandonGuard(myself.clone());
    let task = run(actor, state, guard);
    let handle = match &arbiter {
        None => tokio::spawn(task),
        // A stopped arbiter's runtime drops the task at once: the guard ends the actor as
        // killed.
        Some(arbiter) => arbiter.handle().spawn(task),
    };
    Ok((myself, handle))
}

/// Starts an actor whose state is already built (no `pre_start`), under a given id, from
/// a synchronous context inside a tokio runtime: the cluster's typed proxies for remote
/// actors, made while decoding a message. No name, no supervisor.
#[cfg(feature = "remote")]
pub(crate) fn spawn_ready<A: Actor>(
    id: ActorId,
    system: ActorSystem,
    mailbox: crate::MailboxConfig,
    actor: A,
    state: A::State,
) -> ActorRef<A::Msg> {
    let myself = ActorRef {
        inner: Arc::new(Shared::new(
            Header::new(id, None, system),
            ActorMailbox::new(mailbox),
        )),
    };
    myself.inner.header.set_status(ActorStatus::Running);
    let tracker = myself.inner.header.system.tracker();
    if tracker.enabled() {
        tracker.started(&myself.cell(), std::any::type_name::<A>());
    }
    let guard = AbandonGuard(myself.clone());
    drop(tokio::spawn(run(actor, state, guard)));
    myself
}

/// The actor's task: `post_start`, then signals and messages until the actor should
/// end, then the (boxed) shutdown.
///
/// Its size is what every idle actor costs, so it is written with the layout in mind:
/// one flat `async move` block (an `async fn` would keep a copy of each argument beside
/// the local it moves it into), the actor's own ref reached through the guard rather than
/// copied, and no value kept across an `.await` that does not need to be (a scrutinee
/// such as `batch.pop_front()` in an `if let` would be).
#[allow(clippy::manual_async_fn)] // on purpose: see above
fn run<A: Actor>(
    actor: A,
    mut state: A::State,
    guard: AbandonGuard<A::Msg>,
) -> impl Future<Output = ()> + Send {
    async move {
        let mut batch = VecDeque::new();
        // Handled since the count was last published, and since the last yield.
        let mut progress = Progress::default();
        let spends_budget = guard.mailbox().waits_for_room();
        let exit = 'life: {
            let started = run_hook!(
                guard.shared(),
                "post_start",
                std::any::type_name::<A>(),
                actor.post_start(guard.0.clone(), &mut state)
            );
            if let Some(exit) = started.exit() {
                break 'life exit;
            }
            loop {
                let evt = {
                    let signal = if guard.0.inner.signaled() {
                        guard.0.inner.take_signal()
                    } else if batch.is_empty() {
                        let next =
                            poll_fn(|cx| guard.0.inner.poll_next(&mut batch, &mut progress, cx));
                        match next.await {
                            Next::Messages => continue,
                            Next::Drained => break Exit::Drained,
                            Next::Signal(signal) => Some(signal),
                        }
                    } else {
                        let Some(msg) = batch.pop_front() else {
                            continue;
                        };
                        #[cfg(feature = "test-util")]
                        let msg = if guard.shared().hook.is_set() {
                            let ty = std::any::type_name::<A>();
                            match Box::pin(crate::testing::intercept(guard.shared(), ty, msg)).await
                            {
                                Ok(msg) => msg,
                                Err(outcome) => {
                                    progress.handled();
                                    match outcome.exit() {
                                        Some(exit) => break exit,
                                        None => continue,
                                    }
                                }
                            }
                        } else {
                            msg
                        };
                        let hook = actor.handle(guard.0.clone(), msg, &mut state);
                        match run_hook!(guard.shared(), "handle", std::any::type_name::<A>(), hook)
                        {
                            Outcome::Done(Ok(())) => progress.handled(),
                            Outcome::Killed => break Exit::Killed,
                            failed => {
                                progress.handled();
                                if let Some(exit) = failed.exit() {
                                    break exit;
                                }
                            }
                        }
                        if progress.should_yield(YIELD_EVERY) {
                            guard.mailbox().publish_handled(&mut progress);
                            tokio::task::yield_now().await;
                        }
                        // An actor behind a `Wait` mailbox spends the task's cooperative
                        // budget per message, as tokio's bounded receiver does; with its
                        // senders spending theirs (see `Mailbox::push_wait`), a producer and
                        // the actor stay on one worker instead of being split by tokio's
                        // cap on LIFO turns. Other mailboxes skip it (it costs ~55
                        // instructions a message) and rely on the yield above.
                        if spends_budget {
                            tokio::task::coop::consume_budget().await;
                        }
                        continue;
                    };
                    match signal {
                        None => continue,
                        Some(Signal::Kill) => break Exit::Killed,
                        Some(Signal::Stop(reason)) => break Exit::Stopped(reason),
                        Some(Signal::Event(evt)) => evt,
                        #[cfg(feature = "test-util")]
                        Some(Signal::Control(control)) => {
                            crate::testing::run_control(guard.shared(), control, &mut state);
                            continue;
                        }
                    }
                };
                // Supervision events are rare; boxing their hook keeps its state (the
                // event, the hook's future) out of every idle actor's task.
                let hook = actor.handle_supervisor_evt(guard.0.clone(), evt, &mut state);
                let outcome = Box::pin(run_boxed_hook(
                    guard.shared(),
                    "handle_supervisor_evt",
                    std::any::type_name::<A>(),
                    hook,
                ));
                if let Some(exit) = outcome.await.exit() {
                    break exit;
                }
                progress.event();
                if progress.should_yield(YIELD_EVERY) {
                    guard.mailbox().publish_handled(&mut progress);
                    tokio::task::yield_now().await;
                }
            }
        };
        guard.mailbox().publish_handled(&mut progress);
        record_dead_letters(&guard.0.inner, batch.len(), "actor stopped");
        drop(batch);
        // Shutdown runs once per actor; boxing it keeps its large state out of every idle
        // actor's task (one allocation at the end of life, none per message). The guard
        // stands down by itself once `terminate` has marked the actor exited.
        Box::pin(terminate(&actor, state, guard.0.clone(), exit)).await;
        drop(guard);
    }
}

/// Ends an actor whose task is dropped before it finished (aborted through its
/// `JoinHandle`, or its runtime shut down) as if it had been killed: its name is
/// released, its children are killed, its supervisor and monitors are told, its waiters
/// woken. Nothing is left registered or waiting.
///
/// It also holds the task's own ref to its actor. It does nothing once the actor has
/// exited (the end of [`terminate`]).
struct AbandonGuard<M: Send + 'static>(ActorRef<M>);

impl<M: Send + 'static> AbandonGuard<M> {
    #[inline]
    fn mailbox(&self) -> &ActorMailbox<M> {
        &self.0.inner.mailbox
    }

    #[inline]
    fn shared(&self) -> &Shared<M> {
        &self.0.inner
    }
}

impl<M: Send + 'static> Drop for AbandonGuard<M> {
    fn drop(&mut self) {
        let myself = &self.0;
        let header = &myself.inner.header;
        if header.has_exited() {
            return;
        }
        tracing::debug!(actor = %header.id, "actor task dropped before it ended; treating it as killed");
        let (msgs, events) = myself.inner.end();
        record_dead_letters(&myself.inner, msgs.len(), "actor task dropped");
        if let Some(name) = &header.name {
            header.system.unregister(name, header.id);
        }
        header.set_status(ActorStatus::Stopped);
        for child in header.close_links() {
            child.kill();
        }
        let cell = myself.cell();
        let parent = header.links().supervisor_id();
        if let Some(sup) = header.detach_supervisor() {
            sup.header().remove_child(header.id);
            let killed =
                SupervisionEvent::ActorTerminated(cell.clone(), None, Some("killed".into()));
            drop(sup.send_event(killed));
        }
        tell_down(&cell, ExitReason::Killed);
        let tracker = header.system.tracker();
        if tracker.enabled() {
            tracker.ended(
                &cell,
                parent,
                Ending::Killed,
                || "killed (task dropped)".into(),
                cell.stats(),
            );
        }
        header.set_exited();
        drop((msgs, events));
    }
}

/// Shuts `children` down, last started first, by their policies (all brutally once the
/// parent is killed). A kill while children are being shut down turns `exit` into a kill.
async fn stop_children<M>(shared: &Shared<M>, children: &[ActorCell], exit: &mut Exit) {
    for child in children.iter().rev() {
        let policy = if matches!(exit, Exit::Killed) {
            Shutdown::Brutal
        } else {
            child.header().shutdown_policy()
        };
        let drain = matches!(exit, Exit::Drained);
        let shutdown = shutdown_child(child, policy, drain);
        if let Outcome::Killed = run_hook!(shared, "stop children", "", shutdown) {
            *exit = Exit::Killed;
            shutdown_child(child, Shutdown::Brutal, false).await;
        }
    }
}

/// The ordered end of an actor: children (last started first), `post_stop`, name
/// release, supervisor notification, then waiters.
async fn terminate<A: Actor>(actor: &A, mut state: A::State, myself: ActorRef<A::Msg>, exit: Exit) {
    let shared = &myself.inner;
    let header = &shared.header;
    let mailbox = &shared.mailbox;
    header.set_status(ActorStatus::Stopping);
    {
        let leftover = mailbox.close();
        record_dead_letters(shared, leftover.len(), "actor stopped");
    }

    let mut exit = exit;
    let children = header.close_links();
    if !children.is_empty() {
        // Boxed: most actors have no children, and this future is large.
        Box::pin(stop_children(shared, &children, &mut exit)).await;
    }
    drop(children);

    // A kill that arrived after the stop was taken still wins over post_stop.
    if mailbox.kill_pending() {
        exit = Exit::Killed;
    }
    if !matches!(exit, Exit::Killed) {
        let stopped = run_hook!(
            shared,
            "post_stop",
            std::any::type_name::<A>(),
            actor.post_stop(myself.clone(), &mut state)
        );
        match (stopped.exit(), exit) {
            (None, e) => exit = e,
            (Some(Exit::Killed), _) => exit = Exit::Killed,
            (Some(Exit::Failed(e)), Exit::Failed(first)) => {
                tracing::warn!(actor = %header.id, error = %e, "post_stop failed after a failure");
                exit = Exit::Failed(first);
            }
            (Some(new), _) => exit = new,
        }
        tracing::trace!(target: "ensemble::lifecycle", actor = %header.id, "post_stop done");
    }

    let (msgs, events) = shared.end();
    record_dead_letters(shared, msgs.len(), "actor stopped");
    drop((msgs, events));
    if let Some(name) = &header.name {
        header.system.unregister(name, header.id);
        tracing::trace!(target: "ensemble::lifecycle", actor = %header.id, "name released");
    }
    header.set_status(ActorStatus::Stopped);
    let supervisor = header.detach_supervisor();
    if let Some(sup) = &supervisor {
        sup.header().remove_child(header.id);
    }

    let cell = myself.cell();
    let (watchers, watching) = header.take_watch();
    if header.system.tracker().enabled() {
        track_end(&cell, supervisor.as_ref(), &exit);
    }
    let reason = (!watchers.is_empty()).then(|| exit_reason(&exit));
    match supervisor {
        Some(sup) => {
            let event = match exit {
                Exit::Stopped(reason) => SupervisionEvent::ActorTerminated(
                    cell.clone(),
                    Some(BoxedState::new(state)),
                    reason,
                ),
                Exit::Drained => SupervisionEvent::ActorTerminated(
                    cell.clone(),
                    Some(BoxedState::new(state)),
                    None,
                ),
                Exit::Killed => {
                    drop(state);
                    SupervisionEvent::ActorTerminated(cell.clone(), None, Some("killed".into()))
                }
                Exit::Failed(err) => {
                    drop(state);
                    SupervisionEvent::ActorFailed(cell.clone(), err)
                }
            };
            drop(sup.send_event(event));
            tracing::trace!(target: "ensemble::lifecycle", actor = %header.id, "supervisor told");
        }
        // Nobody to tell: no event is built (and the state is not boxed for it).
        None => {
            drop(state);
            if let Exit::Failed(err) = &exit {
                tracing::error!(actor = %header.id, name = header.name.as_deref().unwrap_or(""),
                    error = %error_text(&**err), "actor failed");
            }
        }
    }
    if let Some(reason) = reason {
        for watcher in &watchers {
            watcher.header().forget_watched(header.id);
            drop(watcher.send_event(SupervisionEvent::ActorDown(cell.clone(), reason.clone())));
        }
    }
    for target in watching {
        crate::cell::stop_watching(&cell, &target);
    }
    header.set_exited();
    tracing::trace!(target: "ensemble::lifecycle", actor = %header.id, "ended");
}

/// Tells introspection how `cell` ended (only when it is on: kept out of line).
#[cold]
#[inline(never)]
fn track_end(cell: &ActorCell, supervisor: Option<&ActorCell>, exit: &Exit) {
    let ending = match exit {
        Exit::Failed(_) => Ending::Failed,
        Exit::Killed => Ending::Killed,
        Exit::Stopped(_) | Exit::Drained => Ending::Stopped,
    };
    cell.system().tracker().ended(
        cell,
        supervisor.map(ActorCell::id),
        ending,
        || exit_reason(exit).to_string(),
        cell.stats(),
    );
}

/// Marks `cell` down: its watchers hear `ActorDown(reason)`, the actors it watched
/// forget it, and it leaves its process groups.
fn tell_down(cell: &ActorCell, reason: ExitReason) {
    let header = cell.header();
    let (watchers, watching) = header.take_watch();
    for watcher in watchers {
        watcher.header().forget_watched(header.id);
        drop(watcher.send_event(SupervisionEvent::ActorDown(cell.clone(), reason.clone())));
    }
    for target in watching {
        crate::cell::stop_watching(cell, &target);
    }
}

/// What monitors are told about an exit.
fn exit_reason(exit: &Exit) -> ExitReason {
    match exit {
        Exit::Stopped(reason) => ExitReason::Stopped(reason.clone()),
        Exit::Drained => ExitReason::Stopped(None),
        Exit::Killed => ExitReason::Killed,
        Exit::Failed(err) => ExitReason::Failed(error_text(&**err)),
    }
}

/// An error's text followed by those of its sources, skipping a source whose text the
/// chain already shows (many errors print their source in their own message).
pub(crate) fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
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

/// Shuts a child down by its policy and waits until it has fully ended. With `drain`
/// (its parent ended by draining) the child drains instead of stopping.
pub(crate) async fn shutdown_child(child: &ActorCell, policy: Shutdown, drain: bool) {
    let ask = || {
        if drain {
            let _ = child.drain();
        } else {
            child.stop(Some("shutdown".into()));
        }
    };
    match policy {
        Shutdown::Brutal => child.kill(),
        Shutdown::Infinity => ask(),
        Shutdown::Timeout(limit) => {
            ask();
            if tokio::time::timeout(limit, child.header().exited())
                .await
                .is_ok()
            {
                return;
            }
            tracing::warn!(child = %child, timeout = ?limit, "child ignored its shutdown timeout; killing it");
            child.kill();
        }
    }
    child.header().exited().await;
}

/// The default `Actor::handle`: warns once per actor that its type drops every message.
pub(crate) fn warn_unhandled<A: Actor>(myself: &ActorRef<A::Msg>) {
    let header = &myself.inner.header;
    if !header
        .warned_unhandled
        .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        tracing::warn!(
            actor = %header.id,
            name = header.name.as_deref().unwrap_or(""),
            actor_type = std::any::type_name::<A>(),
            "actor got a message but its type does not implement `Actor::handle`, so it \
             drops every message; implement `handle` (this is said once per actor)"
        );
    }
}

/// The error a supervisor fails with when a linked child fails and the supervisor uses
/// the default `handle_supervisor_evt`. Its source is the child's error.
pub(crate) struct LinkedFailure {
    child: String,
    source: ActorProcessingErr,
}

impl LinkedFailure {
    pub(crate) fn new(child: &ActorCell, source: ActorProcessingErr) -> Self {
        LinkedFailure {
            child: child.to_string(),
            source,
        }
    }
}

impl fmt::Debug for LinkedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinkedFailure({}: {:?})", self.child, self.source)
    }
}

impl fmt::Display for LinkedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "linked child {} failed: {}", self.child, self.source)
    }
}

impl std::error::Error for LinkedFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

#[cfg(test)]
mod size_guard {
    //! An idle actor costs its task and its shared block. tokio's task is this future plus
    //! 104 bytes (header, scheduler, id, trailer), aligned to 128 on x86_64: a future of at
    //! most 152 bytes keeps the task at 256 bytes; one byte more makes it 384. These
    //! bounds catch a change that silently grows either.
    use super::*;
    use crate::RpcReplyPort;

    type CounterMsg = (u64, Option<RpcReplyPort<u64>>);
    struct Counter;
    impl Actor for Counter {
        type Msg = CounterMsg;
        type State = u64;
        type Arguments = ();
        async fn pre_start(
            &self,
            _: ActorRef<CounterMsg>,
            _: (),
        ) -> Result<u64, ActorProcessingErr> {
            Ok(0)
        }
        async fn handle(
            &self,
            _: ActorRef<CounterMsg>,
            m: CounterMsg,
            n: &mut u64,
        ) -> Result<(), ActorProcessingErr> {
            *n += m.0;
            if let Some(r) = m.1 {
                r.send(*n)?;
            }
            Ok(())
        }
    }

    #[test]
    fn idle_actor_stays_small() {
        let myself = ActorRef {
            inner: Arc::new(Shared::new(
                Header::new(ActorId::next_local(), None, ActorSystem::global()),
                ActorMailbox::<CounterMsg>::new(Default::default()),
            )),
        };
        let guard = AbandonGuard(myself.clone());
        let task = run(Counter, 0, guard);
        let task_size = std::mem::size_of_val(&task);
        let shared_size = std::mem::size_of::<Shared<CounterMsg>>();
        // With `test-util` (on in this crate's tests, through the test kit) the block also
        // holds the message hook's slot, which a production build has not: count without.
        #[cfg(feature = "test-util")]
        let shared_size = shared_size - std::mem::size_of::<crate::testing::HookSlot<CounterMsg>>();
        assert!(
            task_size <= 152,
            "actor task future grew to {task_size} bytes (tokio's task: 384 bytes, not 256)"
        );
        // 232: with the `Arc` counts 248 bytes, one 256-byte malloc chunk. Rarely used
        // parts (events, children, monitors, groups) are boxed on first use.
        assert!(
            shared_size <= 232,
            "shared actor block grew to {shared_size} bytes"
        );
    }
}
