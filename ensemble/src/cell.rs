//! `ActorCell`: the untyped handle to an actor, and the state every handle shares.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::mem;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Notify;

use crate::mailbox::{Leftovers, Mailbox, Next, Progress, Signal, SignalFlag};
use crate::{ActorId, ActorSystem, SendError, SupervisionEvent, WaitTimeout};

/// Where an actor is in its life.
///
/// `Starting` (running `pre_start`) → `Running` → optionally `Draining` → `Stopping`
/// (stopping children, running `post_stop`) → `Stopped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActorStatus {
    /// `pre_start` is running.
    Starting,
    /// Handling messages.
    Running,
    /// No longer accepting messages; handling what was queued, then stopping.
    Draining,
    /// Stopping its children and running `post_stop`.
    Stopping,
    /// Ended. Its name is free and its supervisor has been (or is being) told.
    Stopped,
}

impl ActorStatus {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => ActorStatus::Starting,
            1 => ActorStatus::Running,
            2 => ActorStatus::Draining,
            3 => ActorStatus::Stopping,
            _ => ActorStatus::Stopped,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            ActorStatus::Starting => 0,
            ActorStatus::Running => 1,
            ActorStatus::Draining => 2,
            ActorStatus::Stopping => 3,
            ActorStatus::Stopped => 4,
        }
    }

    /// Whether the actor has not ended yet.
    pub fn is_alive(self) -> bool {
        self != ActorStatus::Stopped
    }
}

/// The untyped part of an actor shared by all its handles.
///
/// `repr(C)`: `signaled` comes first, on the cache line of the `Arc` counts (both are the
/// actor's own per-message traffic), and the rest of the header keeps it more than a line
/// away from the mailbox lock that follows (see `Shared`).
#[repr(C)]
pub(crate) struct Header {
    /// Set (under the mailbox lock) whenever a signal or event is pending; read by the
    /// actor without the lock between messages.
    pub(crate) signaled: SignalFlag,
    status: AtomicU8,
    exited: AtomicBool,
    /// The default `handle` has warned that this actor's type does not implement it.
    pub(crate) warned_unhandled: AtomicBool,
    /// While introspection is on: when the running hook started (milliseconds since
    /// tracking began, plus one); 0 when idle. Fits the padding before `exit`.
    busy: AtomicU32,
    exit: Notify,
    pub(crate) id: ActorId,
    pub(crate) name: Option<Arc<str>>,
    /// The system the actor belongs to, for life: its name registry, groups and dead
    /// letter counts.
    pub(crate) system: ActorSystem,
    links: Mutex<Links>,
}

#[derive(Default)]
pub(crate) struct Links {
    supervisor: Option<ActorCell>,
    /// Set when the actor starts terminating: no more children can link to it.
    closed: bool,
    /// Set when the ending actor drops its supervisor: it can no longer be linked.
    detached: bool,
    /// Set when the actor has told its monitors of its end: later monitors get `NoProc`.
    down: bool,
    /// Children, shutdown policy, monitors and groups; allocated only for actors that
    /// use them, so that a plain actor stays small.
    watch: Option<Box<Watch>>,
}

impl Links {
    pub(crate) fn supervisor_id(&self) -> Option<ActorId> {
        self.supervisor.as_ref().map(ActorCell::id)
    }
}

#[derive(Default)]
struct Watch {
    /// Linked children, in start order.
    children: Vec<ActorCell>,
    /// How this actor's supervisor shuts it down.
    shutdown: Shutdown,
    /// Actors watching this one.
    watchers: Vec<ActorCell>,
    /// Actors this one watches.
    watching: Vec<ActorCell>,
    /// Process groups (system, scope, group) this actor is in.
    groups: Vec<(ActorSystem, Arc<str>, Arc<str>)>,
    /// The actor's span, made when spans are first enabled for it (`observe`).
    actor_span: Option<tracing::Span>,
    /// The span of the message being handled (TRACE).
    message_span: Option<tracing::Span>,
}

#[cfg(feature = "remote")]
impl Links {
    pub(crate) fn is_detached(&self) -> bool {
        self.detached
    }

    pub(crate) fn set_supervisor(&mut self, supervisor: ActorCell) {
        self.supervisor = Some(supervisor);
    }

    pub(crate) fn supervisor_is(&self, cell: &ActorCell) -> bool {
        self.supervisor.as_ref() == Some(cell)
    }

    pub(crate) fn clear_supervisor(&mut self) {
        self.supervisor = None;
    }
}

/// How a supervisor shuts a child down when it stops (or restarts) it.
///
/// Set per child by the [`Supervisor`](crate::supervisor::Supervisor) from its child spec;
/// any other linked child is shut down with `Infinity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Shutdown {
    /// Kill at once: `post_stop` does not run.
    Brutal,
    /// Ask to stop, then kill if the child has not ended within this time.
    Timeout(Duration),
    /// Ask to stop and wait for as long as it takes (the default; OTP's choice for
    /// supervisor children).
    #[default]
    Infinity,
}

impl Header {
    pub(crate) fn new(id: ActorId, name: Option<Arc<str>>, system: ActorSystem) -> Self {
        Header {
            id,
            name,
            system,
            status: AtomicU8::new(ActorStatus::Starting.as_u8()),
            exited: AtomicBool::new(false),
            warned_unhandled: AtomicBool::new(false),
            busy: AtomicU32::new(0),
            signaled: SignalFlag::new(),
            links: Mutex::new(Links::default()),
            exit: Notify::new(),
        }
    }

    /// When the running hook started (see `busy`); 0 when idle.
    pub(crate) fn busy_since(&self) -> u32 {
        self.busy.load(Ordering::Relaxed)
    }

    pub(crate) fn set_busy(&self, stamp: u32) {
        self.busy.store(stamp, Ordering::Relaxed);
    }

    /// The actor's spans (see `observe`), made on first use.
    pub(crate) fn spans(
        &self,
        make: impl FnOnce() -> tracing::Span,
    ) -> (tracing::Span, Option<tracing::Span>) {
        let mut links = self.links();
        let watch = links.watch.get_or_insert_with(Default::default);
        let actor = watch.actor_span.get_or_insert_with(make).clone();
        (actor, watch.message_span.clone())
    }

    /// Sets (or, with `None`, ends) the span of the message being handled.
    pub(crate) fn set_message_span(&self, span: Option<tracing::Span>) {
        let mut links = self.links();
        if span.is_none() && links.watch.is_none() {
            return;
        }
        links
            .watch
            .get_or_insert_with(Default::default)
            .message_span = span;
    }

    pub(crate) fn links(&self) -> MutexGuard<'_, Links> {
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn status(&self) -> ActorStatus {
        ActorStatus::from_u8(self.status.load(Ordering::Acquire))
    }

    pub(crate) fn set_status(&self, status: ActorStatus) {
        self.status.store(status.as_u8(), Ordering::Release);
    }

    /// Moves `Running` to `Draining`; other states are left alone.
    pub(crate) fn mark_draining(&self) {
        let _ = self.status.compare_exchange(
            ActorStatus::Running.as_u8(),
            ActorStatus::Draining.as_u8(),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Adds a child, unless this actor is already terminating.
    pub(crate) fn adopt(&self, child: ActorCell) -> bool {
        let mut links = self.links();
        if links.closed {
            return false;
        }
        let watch = links.watch.get_or_insert_with(Default::default);
        if !watch.children.contains(&child) {
            watch.children.push(child);
        }
        true
    }

    pub(crate) fn remove_child(&self, child: ActorId) {
        if let Some(w) = self.links().watch.as_mut() {
            w.children.retain(|c| c.id() != child);
        }
    }

    /// Takes the supervisor away for good: the actor is ending, and no later `link` may
    /// give it a new one.
    pub(crate) fn detach_supervisor(&self) -> Option<ActorCell> {
        let mut links = self.links();
        links.detached = true;
        links.supervisor.take()
    }

    pub(crate) fn shutdown_policy(&self) -> Shutdown {
        self.links()
            .watch
            .as_ref()
            .map(|w| w.shutdown)
            .unwrap_or_default()
    }

    pub(crate) fn set_shutdown_policy(&self, shutdown: Shutdown) {
        let mut links = self.links();
        if shutdown != Shutdown::default() || links.watch.is_some() {
            links.watch.get_or_insert_with(Default::default).shutdown = shutdown;
        }
    }

    /// Puts the children in the given order (ids not listed keep their relative order,
    /// after the listed ones). Parents shut children down in reverse of this order.
    pub(crate) fn order_children(&self, order: &[ActorId]) {
        let rank = |c: &ActorCell| {
            order
                .iter()
                .position(|id| *id == c.id())
                .unwrap_or(usize::MAX)
        };
        if let Some(w) = self.links().watch.as_mut() {
            w.children.sort_by_key(rank);
        }
    }

    /// Registers `watcher`; `false` if this actor has already told its monitors.
    fn add_watcher(&self, watcher: &ActorCell) -> bool {
        let mut links = self.links();
        if links.down {
            return false;
        }
        let watch = links.watch.get_or_insert_with(Default::default);
        if !watch.watchers.contains(watcher) {
            watch.watchers.push(watcher.clone());
        }
        true
    }

    pub(crate) fn forget_watcher(&self, watcher: ActorId) {
        if let Some(w) = self.links().watch.as_mut() {
            w.watchers.retain(|c| c.id() != watcher);
        }
    }

    /// Records that this actor watches `target`; `false` if this actor has already ended
    /// or already watches it (a second monitor is the same monitor).
    fn add_watching(&self, target: &ActorCell) -> bool {
        let mut links = self.links();
        if links.down {
            return false;
        }
        let watch = links.watch.get_or_insert_with(Default::default);
        if watch.watching.contains(target) {
            return false;
        }
        watch.watching.push(target.clone());
        true
    }

    /// Whether this actor has told its monitors of its end.
    fn is_down(&self) -> bool {
        self.links().down
    }

    /// How many actors this one watches (for tests).
    #[cfg(test)]
    pub(crate) fn watching_count(&self) -> usize {
        self.links().watch.as_ref().map_or(0, |w| w.watching.len())
    }

    pub(crate) fn forget_watched(&self, target: ActorId) {
        if let Some(w) = self.links().watch.as_mut() {
            w.watching.retain(|c| c.id() != target);
        }
    }

    /// Records a group membership; `false` if the actor has already ended.
    pub(crate) fn track_group(
        &self,
        system: &ActorSystem,
        scope: &Arc<str>,
        group: &Arc<str>,
    ) -> bool {
        let mut links = self.links();
        if links.down {
            return false;
        }
        let watch = links.watch.get_or_insert_with(Default::default);
        watch
            .groups
            .push((system.clone(), scope.clone(), group.clone()));
        true
    }

    pub(crate) fn untrack_group(&self, system: &ActorSystem, scope: &str, group: &str) {
        if let Some(w) = self.links().watch.as_mut() {
            w.groups
                .retain(|(y, s, g)| !(y == system && &**s == scope && &**g == group));
        }
    }

    /// Marks the actor down and takes its watchers (to tell) and the actors it watched
    /// (to forget it).
    pub(crate) fn take_watch(&self) -> (Vec<ActorCell>, Vec<ActorCell>) {
        let mut links = self.links();
        links.down = true;
        // The box itself stays: children still being shut down are listed until they
        // have ended (each removes itself).
        let Some(w) = links.watch.as_mut() else {
            return (Vec::new(), Vec::new());
        };
        let watchers = mem::take(&mut w.watchers);
        let watching = mem::take(&mut w.watching);
        let groups = mem::take(&mut w.groups);
        drop(links);
        for (system, scope, group) in groups {
            system.groups().remove(&scope, &group, &[self.id]);
        }
        (watchers, watching)
    }

    /// Stops new children from linking and returns the live ones, in start order.
    pub(crate) fn close_links(&self) -> Vec<ActorCell> {
        let mut links = self.links();
        links.closed = true;
        links
            .watch
            .as_ref()
            .map(|w| w.children.clone())
            .unwrap_or_default()
    }

    /// Marks the actor as fully ended and wakes everyone waiting for it.
    pub(crate) fn set_exited(&self) {
        self.exited.store(true, Ordering::Release);
        self.exit.notify_waiters();
    }

    /// Whether the actor has fully ended.
    pub(crate) fn has_exited(&self) -> bool {
        self.exited.load(Ordering::Acquire)
    }

    /// Waits until the actor has fully ended (its supervisor told).
    pub(crate) async fn exited(&self) {
        let mut notified = pin!(self.exit.notified());
        loop {
            notified.as_mut().enable();
            if self.exited.load(Ordering::Acquire) {
                return;
            }
            notified.as_mut().await;
            notified.set(self.exit.notified());
        }
    }

    pub(crate) async fn exited_within(&self, timeout: Option<Duration>) -> Result<(), WaitTimeout> {
        match timeout {
            None => {
                self.exited().await;
                Ok(())
            }
            Some(t) => tokio::time::timeout(t, self.exited())
                .await
                .map_err(|_| WaitTimeout(t)),
        }
    }
}

/// Serialises `ActorCell::link` (see there).
pub(crate) static LINKING: Mutex<()> = Mutex::new(());

/// The shared allocation behind every handle of one actor: header plus typed mailbox.
///
/// `repr(C)` to keep this order: the header (written rarely) sits between the `Arc`'s
/// reference counts (which the actor bumps for every message, cloning its own ref for
/// `handle`) and the mailbox lock and queue (which senders write for every message), so
/// those two never share a cache line. Letting the compiler put the mailbox first cost
/// about a third of multi-thread cast throughput.
#[repr(C)]
pub(crate) struct Shared<M> {
    pub(crate) header: Header,
    pub(crate) mailbox: ActorMailbox<M>,
    /// A test's message hook (`testing`).
    #[cfg(feature = "test-util")]
    pub(crate) hook: crate::testing::HookSlot<M>,
}

impl<M> Shared<M> {
    pub(crate) fn new(header: Header, mailbox: ActorMailbox<M>) -> Self {
        Shared {
            header,
            mailbox,
            #[cfg(feature = "test-util")]
            hook: Default::default(),
        }
    }

    /// Queues a test's request behind the messages queued now (`testing`).
    #[cfg(feature = "test-util")]
    pub(crate) fn control(
        &self,
        control: crate::testing::Control,
    ) -> Result<(), crate::testing::Control> {
        self.mailbox.deliver_control(control)
    }
}

/// An actor's mailbox: its messages, and supervision events on the event lane.
pub(crate) type ActorMailbox<M> = Mailbox<M, SupervisionEvent>;

/// The mailbox's signal operations, with the header's flag.
impl<M> Shared<M> {
    /// Asks the actor to stop. The first reason given wins.
    pub(crate) fn ask_stop(&self, reason: Option<String>) {
        self.mailbox.ask_stop(&self.header.signaled, reason);
    }

    /// Asks the actor to abort.
    pub(crate) fn ask_kill(&self) {
        self.mailbox.ask_kill(&self.header.signaled);
    }

    /// Delivers a supervision event, or hands it back if the actor has ended.
    pub(crate) fn deliver_event(&self, evt: SupervisionEvent) -> Result<(), SupervisionEvent> {
        self.mailbox.deliver_event(&self.header.signaled, evt)
    }

    /// The fast check made between messages.
    #[inline]
    pub(crate) fn signaled(&self) -> bool {
        self.header.signaled.is_set()
    }

    /// Takes the highest-priority pending signal.
    pub(crate) fn take_signal(&self) -> Option<Signal<SupervisionEvent>> {
        self.mailbox.take_signal(&self.header.signaled)
    }

    /// Waits for work: a signal, or messages moved into `batch`.
    #[inline]
    pub(crate) fn poll_next(
        &self,
        batch: &mut VecDeque<M>,
        progress: &mut Progress,
        cx: &Context<'_>,
    ) -> Poll<Next<SupervisionEvent>> {
        self.mailbox
            .poll_next(&self.header.signaled, batch, progress, cx)
    }

    /// Marks the actor's mailbox as ended; returns what it still held.
    pub(crate) fn end(&self) -> Leftovers<M, SupervisionEvent> {
        self.mailbox.end(&self.header.signaled)
    }
}

/// What an untyped handle can do; implemented by every `Shared<M>`.
pub(crate) trait CellApi: Send + Sync + 'static {
    fn header(&self) -> &Header;
    fn stop(&self, reason: Option<String>);
    fn kill(&self);
    fn drain(&self) -> bool;
    fn event(&self, evt: SupervisionEvent) -> Result<(), SupervisionEvent>;
    fn stats(&self) -> crate::MailboxStats;
    fn dead_letters(&self) -> u64;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<M: Send + 'static> CellApi for Shared<M> {
    fn header(&self) -> &Header {
        &self.header
    }

    fn stop(&self, reason: Option<String>) {
        self.ask_stop(reason);
    }

    fn kill(&self) {
        self.ask_kill();
    }

    fn drain(&self) -> bool {
        let accepted = self.mailbox.drain();
        if accepted {
            self.header.mark_draining();
        }
        accepted
    }

    fn event(&self, evt: SupervisionEvent) -> Result<(), SupervisionEvent> {
        self.deliver_event(evt)
    }

    fn stats(&self) -> crate::MailboxStats {
        self.mailbox.stats()
    }

    fn dead_letters(&self) -> u64 {
        self.mailbox.dead_letters()
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// An untyped handle to an actor, whatever its message type.
///
/// Supervisors, the registry and supervision events deal in `ActorCell`s. Every
/// [`ActorRef`](crate::ActorRef) converts into one (`myself.clone().into()`), and a ref
/// and its cell report the same [`ActorId`]. Cells compare and hash by id.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use ensemble::{Actor, ActorCell, ActorProcessingErr, ActorRef, ActorStatus};
/// struct Idle;
/// impl Actor for Idle {
///     type Msg = ();
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
/// }
/// let (actor, _) = Actor::spawn(None, Idle, ()).await.unwrap();
/// let cell: ActorCell = actor.clone().into();
/// assert_eq!(cell, actor.cell());
/// cell.stop_and_wait(None, None).await.unwrap();
/// assert_eq!(actor.status(), ActorStatus::Stopped);
/// # }
/// ```
#[derive(Clone)]
pub struct ActorCell(pub(crate) Arc<dyn CellApi>);

impl ActorCell {
    pub(crate) fn header(&self) -> &Header {
        self.0.header()
    }

    /// The actor's id.
    pub fn id(&self) -> ActorId {
        self.header().id
    }

    /// The actor's registered name, if it was spawned with one.
    pub fn name(&self) -> Option<String> {
        self.header().name.as_deref().map(str::to_owned)
    }

    /// Where the actor is in its life.
    pub fn status(&self) -> ActorStatus {
        self.header().status()
    }

    /// The [`ActorSystem`] the actor belongs to.
    pub fn system(&self) -> ActorSystem {
        self.header().system.clone()
    }

    /// Asks the actor to stop. The running handler finishes; queued messages are not
    /// handled (they are counted as dead letters); the actor's children are stopped, then
    /// its `post_stop` runs and its supervisor hears
    /// [`ActorTerminated`](SupervisionEvent::ActorTerminated) with this reason.
    /// Returns at once; a no-op on an actor that has ended.
    pub fn stop(&self, reason: Option<String>) {
        self.0.stop(reason);
    }

    /// Aborts the actor: the running handler is abandoned at its next `.await`, its
    /// children are killed, `post_stop` does not run, and its supervisor hears
    /// `ActorTerminated(cell, None, Some("killed"))`. Returns at once.
    pub fn kill(&self) {
        self.0.kill();
    }

    /// Stops accepting messages at once, handles every message already queued, then
    /// stops with reason `None`. `Err(SendError::Closed(()))` if the actor was already
    /// draining or ending.
    pub fn drain(&self) -> Result<(), SendError<()>> {
        if self.0.drain() {
            Ok(())
        } else {
            Err(SendError::Closed(()))
        }
    }

    /// Stops the actor and waits until it has fully ended (`post_stop` done, supervisor
    /// told), or until `timeout` passes.
    pub async fn stop_and_wait(
        &self,
        reason: Option<String>,
        timeout: Option<Duration>,
    ) -> Result<(), WaitTimeout> {
        self.stop(reason);
        self.wait(timeout).await
    }

    /// Kills the actor and waits until it has fully ended, or until `timeout` passes.
    pub async fn kill_and_wait(&self, timeout: Option<Duration>) -> Result<(), WaitTimeout> {
        self.kill();
        self.wait(timeout).await
    }

    /// Drains the actor (see [`drain`](Self::drain)) and waits until it has ended.
    /// If it was already ending, only waits.
    pub async fn drain_and_wait(&self, timeout: Option<Duration>) -> Result<(), WaitTimeout> {
        let _ = self.drain();
        self.wait(timeout).await
    }

    /// Waits until the actor has fully ended, without asking it to.
    pub async fn wait(&self, timeout: Option<Duration>) -> Result<(), WaitTimeout> {
        self.header().exited_within(timeout).await
    }

    /// Stops every live child of this actor (last linked first) and waits until all have
    /// ended, or until `timeout` passes. The actor itself keeps running.
    pub async fn stop_children_and_wait(
        &self,
        reason: Option<String>,
        timeout: Option<Duration>,
    ) -> Result<(), WaitTimeout> {
        let children = self.children();
        for child in children.iter().rev() {
            child.stop(reason.clone());
        }
        let all = async {
            for child in &children {
                child.header().exited().await;
            }
        };
        match timeout {
            None => {
                all.await;
                Ok(())
            }
            Some(t) => tokio::time::timeout(t, all)
                .await
                .map_err(|_| WaitTimeout(t)),
        }
    }

    /// The actor's live linked children, in the order they were linked.
    pub fn children(&self) -> Vec<ActorCell> {
        self.header()
            .links()
            .watch
            .as_ref()
            .map(|w| w.children.clone())
            .unwrap_or_default()
    }

    /// The actor this one is linked to as a child, if any.
    pub fn supervisor(&self) -> Option<ActorCell> {
        self.header().links().supervisor.clone()
    }

    /// Links this actor to `supervisor` as its child: the supervisor hears this actor's
    /// failure or termination, and stops this actor when it ends itself. Replaces any
    /// previous supervisor. Has no effect if `supervisor` is already ending, if this
    /// actor has ended, or if `supervisor` is this actor or one of its descendants (a
    /// cycle could never shut down).
    ///
    /// Either side may be an actor on another node (with the cluster): the link then spans
    /// the two nodes, and losing the other node is a failure of the remote side
    /// ([`ExitReason::NoConnection`](crate::ExitReason::NoConnection)).
    pub fn link(&self, supervisor: ActorCell) {
        {
            // Links are serialised so that two crossed `link` calls cannot both pass the
            // cycle check; linking is rare, so one lock for all of them costs nothing.
            let _serial = LINKING.lock().unwrap_or_else(PoisonError::into_inner);
            if supervisor.is_descendant_of(self) {
                return; // a cycle could never shut down
            }
            // Check and set under the child's lock, so a child that is ending at this
            // instant is never adopted. The supervisor's lock nests inside the child's;
            // nothing takes them the other way round.
            let mut links = self.header().links();
            if links.detached || !supervisor.header().adopt(self.clone()) {
                return;
            }
            let old = links.supervisor.replace(supervisor.clone());
            drop(links);
            if let Some(old) = old {
                if old != supervisor {
                    old.header().remove_child(self.id());
                }
            }
        }
        #[cfg(feature = "remote")]
        if let Some(dist) = crate::remote::distribution_for(self, &supervisor) {
            dist.link(self, &supervisor);
        }
    }

    /// Whether `ancestor` is this actor or one of its supervisors, transitively.
    fn is_descendant_of(&self, ancestor: &ActorCell) -> bool {
        let mut current = Some(self.clone());
        while let Some(cell) = current {
            if cell == *ancestor {
                return true;
            }
            current = cell.supervisor();
        }
        false
    }

    /// Undoes [`link`](Self::link) if `supervisor` is this actor's supervisor.
    pub fn unlink(&self, supervisor: ActorCell) {
        let mut links = self.header().links();
        if links.supervisor.as_ref() == Some(&supervisor) {
            links.supervisor = None;
            drop(links);
            supervisor.header().remove_child(self.id());
            #[cfg(feature = "remote")]
            if let Some(dist) = crate::remote::distribution_for(self, &supervisor) {
                dist.unlink(self, &supervisor);
            }
        }
    }

    /// Monitors `target`: this actor will receive
    /// [`SupervisionEvent::ActorDown`] with the target's exit reason exactly once, when it
    /// ends. One-way: this actor's own life is unaffected, and the event is ignored by the
    /// default `handle_supervisor_evt`. If the target has already ended, the event
    /// (reason [`ExitReason::NoProc`](crate::ExitReason::NoProc)) is delivered at once.
    /// Monitoring the same target twice is one monitor. A monitor ends with either actor.
    ///
    /// The target may be an actor on another node (with the cluster): the event then
    /// carries its real exit reason, or [`ExitReason::NoConnection`](crate::ExitReason::NoConnection)
    /// if its node dies, leaves or becomes unreachable first; still exactly once.
    pub fn monitor(&self, target: ActorCell) {
        if target == *self {
            return;
        }
        #[cfg(feature = "remote")]
        if let Some(dist) = crate::remote::distribution_for(&target, &target) {
            if self.header().add_watching(&target) {
                dist.monitor(self, &target);
            }
            return;
        }
        // The watcher's side first: the target's end makes the watcher forget it, so the
        // entry must exist before the target can see the watcher, or it would go stale.
        if !self.header().add_watching(&target) {
            return; // ended (it cannot hear any more), or already monitoring `target`
        }
        if target.header().add_watcher(self) {
            // This actor ended meanwhile: its end may have missed the target's side.
            if self.header().is_down() {
                target.header().forget_watcher(self.id());
            }
        } else {
            self.header().forget_watched(target.id());
            let _ = self.send_event(SupervisionEvent::ActorDown(
                target,
                crate::ExitReason::NoProc,
            ));
        }
    }

    /// Removes a monitor set with [`monitor`](Self::monitor). An `ActorDown` already
    /// delivered stays in the mailbox.
    pub fn demonitor(&self, target: ActorCell) {
        self.header().forget_watched(target.id());
        stop_watching(self, &target);
    }

    /// How many messages addressed to this actor were dropped undelivered: queued when
    /// it stopped, or accepted while it was stopping.
    pub fn dead_letters(&self) -> u64 {
        self.0.dead_letters()
    }

    /// The actor's message counts: received, handled, rejected, shed, queued.
    pub fn stats(&self) -> crate::MailboxStats {
        self.0.stats()
    }

    pub(crate) fn send_event(&self, evt: SupervisionEvent) -> Result<(), SupervisionEvent> {
        self.0.event(evt)
    }

    pub(crate) fn downcast<M: Send + 'static>(&self) -> Option<Arc<Shared<M>>> {
        self.0.clone().into_any().downcast::<Shared<M>>().ok()
    }
}

/// `watcher` no longer watches `target`: the target's side of the monitor goes (through the
/// cluster, for an actor on another node).
pub(crate) fn stop_watching(watcher: &ActorCell, target: &ActorCell) {
    #[cfg(feature = "remote")]
    if let Some(dist) = crate::remote::distribution_for(target, target) {
        dist.demonitor(watcher, target);
        return;
    }
    target.header().forget_watcher(watcher.id());
}

impl PartialEq for ActorCell {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for ActorCell {}

impl Hash for ActorCell {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl fmt::Debug for ActorCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.header().name {
            Some(n) => write!(f, "ActorCell({} {:?})", self.id(), n),
            None => write!(f, "ActorCell({})", self.id()),
        }
    }
}

impl fmt::Display for ActorCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.header().name {
            Some(n) => write!(f, "{} ({})", n, self.id()),
            None => write!(f, "{}", self.id()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use crate::{Actor, ActorProcessingErr, ActorRef};

    struct Idle;
    impl Actor for Idle {
        type Msg = ();
        type State = ();
        type Arguments = ();
        async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
            Ok(())
        }
    }

    /// A monitor set while its target ends leaves no entry behind on the watcher (which
    /// would keep the target's memory until the watcher ends). Racy by nature: many
    /// attempts on two threads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_monitor_racing_its_targets_end_leaves_nothing_behind() {
        let (watcher, _) = Actor::spawn(None, Idle, ()).await.unwrap();
        for _ in 0..2_000 {
            let (target, handle) = Actor::spawn(None, Idle, ()).await.unwrap();
            let (w, t) = (watcher.cell(), target.cell());
            let racer = tokio::spawn(async move { w.monitor(t) });
            target.stop(None);
            racer.await.unwrap();
            handle.await.unwrap();
        }
        assert_eq!(watcher.cell().header().watching_count(), 0);
    }
}
