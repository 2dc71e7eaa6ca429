//! The supervisor's bookkeeping: which children run, restart intensity, backoff timers.

use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::{
    ChildCounts, ChildInfo, ChildKind, ChildSpec, Restart, RestartTimer, Strategy, SupervisorError,
    SupervisorFlags, SupervisorMsg, SupervisorSpec,
};
use crate::runtime::shutdown_child;
use crate::{ActorCell, ActorProcessingErr, ActorRef, SpawnError, SpawnOptions, SupervisionEvent};

/// A supervisor's private state (its children and restart history).
pub struct SupervisorState {
    flags: SupervisorFlags,
    children: Vec<Child>,
    /// When recent restarts happened, for the intensity check.
    restarts: VecDeque<Instant>,
    timers: Vec<(u64, AbortHandle)>,
    next_timer: u64,
    rng: u64,
}

/// A killed supervisor skips `post_stop`; its pending restart timers end with its state.
impl Drop for SupervisorState {
    fn drop(&mut self) {
        self.cancel_timers();
    }
}

struct Child {
    spec: ChildSpec,
    cell: Option<ActorCell>,
    restarts: u32,
    /// Consecutive restarts, for backoff.
    attempt: u32,
    started_at: Instant,
    /// The timer that will restart this child, if one is pending.
    pending: Option<u64>,
}

/// The error a supervisor fails with when its children restart too often.
#[derive(Debug, Clone)]
pub struct IntensityExceeded {
    /// The id of the child whose end exceeded the intensity.
    pub child: String,
    /// Why that child ended.
    pub reason: String,
    /// The allowed restarts…
    pub max_restarts: u32,
    /// …within this period.
    pub period: Duration,
}

impl fmt::Display for IntensityExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "restart intensity exceeded (more than {} restarts in {:?}); child {:?} ended: {}",
            self.max_restarts, self.period, self.child, self.reason
        )
    }
}

impl std::error::Error for IntensityExceeded {}

/// A child failed to start while the supervisor was starting.
#[derive(Debug)]
struct ChildStartFailed {
    child: String,
    source: SpawnError,
}

impl fmt::Display for ChildStartFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "child {:?} failed to start: {}", self.child, self.source)
    }
}

impl std::error::Error for ChildStartFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

async fn spawn_child(
    myself: &ActorRef<SupervisorMsg>,
    spec: &ChildSpec,
) -> Result<ActorCell, SpawnError> {
    let mut options = SpawnOptions::new()
        .supervisor(myself.cell())
        .mailbox(spec.mailbox);
    if let Some(name) = &spec.name {
        options = options.name(name.clone());
    }
    let cell = (spec.start)(options).await?;
    if !spec.links_itself && cell.supervisor().as_ref() != Some(&myself.cell()) {
        // A custom start that did not link the child: the supervisor must hear its end.
        cell.link(myself.cell());
        if cell.supervisor().as_ref() != Some(&myself.cell()) {
            return Err(SpawnError::StartupFailed(
                format!(
                    "child {:?} started but could not be linked to its supervisor \
                     (it ended at once, or already has another supervisor)",
                    spec.id
                )
                .into(),
            ));
        }
    }
    cell.header().set_shutdown_policy(spec.shutdown);
    Ok(cell)
}

impl SupervisorState {
    pub(super) async fn start(
        myself: ActorRef<SupervisorMsg>,
        spec: SupervisorSpec,
    ) -> Result<Self, ActorProcessingErr> {
        let mut state = SupervisorState {
            flags: spec.flags,
            children: Vec::with_capacity(spec.children.len()),
            restarts: VecDeque::new(),
            timers: Vec::new(),
            next_timer: 0,
            rng: RandomState::new().hash_one(myself.id()) | 1,
        };
        for child in spec.children {
            if state.position(&child.id).is_some() {
                state.shutdown_all().await;
                return Err(format!("duplicate child id {:?}", child.id).into());
            }
            match spawn_child(&myself, &child).await {
                Ok(cell) => state.children.push(Child::running(child, cell)),
                Err(source) => {
                    state.shutdown_all().await;
                    return Err(Box::new(ChildStartFailed {
                        child: child.id,
                        source,
                    }));
                }
            }
        }
        state.order(&myself);
        Ok(state)
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.children.iter().position(|c| c.spec.id == id)
    }

    /// Keeps the runtime's child list in spec order, so shutdown is reverse spec order.
    fn order(&self, myself: &ActorRef<SupervisorMsg>) {
        let ids: Vec<_> = self
            .children
            .iter()
            .filter_map(|c| c.cell.as_ref().map(ActorCell::id))
            .collect();
        myself.cell().header().order_children(&ids);
    }

    async fn shutdown_all(&mut self) {
        for child in self.children.iter_mut().rev() {
            if let Some(cell) = child.cell.take() {
                shutdown_child(&cell, child.spec.shutdown, false).await;
            }
        }
    }

    pub(super) fn cancel_timers(&mut self) {
        for (_, timer) in self.timers.drain(..) {
            timer.abort();
        }
    }

    fn random(&mut self) -> f64 {
        // xorshift64: jitter only needs to spread restarts, not be unpredictable.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(super) async fn on_event(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        evt: SupervisionEvent,
    ) -> Result<(), ActorProcessingErr> {
        let (id, abnormal, why) = match &evt {
            SupervisionEvent::ActorFailed(cell, err) => (cell.id(), true, err.to_string()),
            SupervisionEvent::ActorTerminated(cell, state, reason) => (
                cell.id(),
                state.is_none(), // killed
                reason.clone().unwrap_or_else(|| "normal".into()),
            ),
            _ => return Ok(()),
        };
        drop(evt);
        // An end we caused ourselves (the cell was cleared first) or of an old
        // incarnation is not ours to act on.
        let Some(i) = self
            .children
            .iter()
            .position(|c| c.cell.as_ref().is_some_and(|c| c.id() == id))
        else {
            return Ok(());
        };
        self.children[i].cell = None;
        let restart = match self.children[i].spec.restart {
            Restart::Permanent => true,
            Restart::Transient => abnormal,
            Restart::Temporary => false,
        };
        if !restart {
            if self.children[i].spec.restart == Restart::Temporary {
                self.children.remove(i);
            }
            return Ok(());
        }
        let child_id = self.children[i].spec.id.clone();
        tracing::info!(supervisor = %myself.id(), child = %child_id, reason = %why, "restarting child");
        self.restart(myself, &child_id, why).await
    }

    /// Counts a restart against the intensity; `Err` to escalate.
    ///
    /// The restarts of the last `max_period` count, this one included: an entry leaves
    /// the window only once it is *older* than the period, so the restart just recorded
    /// always counts (`intensity(0, _)` fails on the first restart, even with a zero
    /// period). Only the last `max_restarts + 1` entries matter, so no more are kept.
    fn note_restart(&mut self, child: &str, why: &str) -> Result<(), ActorProcessingErr> {
        let now = Instant::now();
        let limit = self.flags.max_restarts as usize;
        self.restarts.push_back(now);
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.flags.max_period)
            || self.restarts.len() > limit.saturating_add(1)
        {
            self.restarts.pop_front();
        }
        if self.restarts.len() > limit {
            return Err(Box::new(IntensityExceeded {
                child: child.to_string(),
                reason: why.to_string(),
                max_restarts: self.flags.max_restarts,
                period: self.flags.max_period,
            }));
        }
        Ok(())
    }

    /// Restarts `child_id` (which has ended) and, by strategy, its siblings.
    async fn restart(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        child_id: &str,
        why: String,
    ) -> Result<(), ActorProcessingErr> {
        self.note_restart(child_id, &why)?;
        let Some(i) = self.position(child_id) else {
            return Ok(());
        };
        let group: Vec<usize> = match self.flags.strategy {
            Strategy::OneForOne => vec![i],
            Strategy::OneForAll => (0..self.children.len()).collect(),
            Strategy::RestForOne => (i..self.children.len()).collect(),
        };
        // Shut the rest of the group down, last first.
        for &j in group.iter().rev() {
            if let Some(cell) = self.children[j].cell.take() {
                shutdown_child(&cell, self.children[j].spec.shutdown, false).await;
            }
        }
        // Temporary siblings are not restarted; they leave the tree.
        let ids: Vec<String> = group
            .iter()
            .filter(|&&j| j == i || self.children[j].spec.restart != Restart::Temporary)
            .map(|&j| self.children[j].spec.id.clone())
            .collect();
        self.children.retain(|c| {
            c.spec.restart != Restart::Temporary || c.cell.is_some() || c.spec.id == child_id
        });

        let delay = self
            .position(child_id)
            .map_or(Duration::ZERO, |i| self.next_delay(i));
        if delay.is_zero() {
            self.start_group(myself, &ids).await
        } else {
            tracing::debug!(supervisor = %myself.id(), child = %child_id, ?delay, "restart delayed by backoff");
            self.schedule(myself, &ids, delay);
            Ok(())
        }
    }

    /// The backoff before restarting child `i` again (zero without backoff), advancing
    /// its consecutive-restart count; a child that ran for the reset period starts over.
    fn next_delay(&mut self, i: usize) -> Duration {
        let Some(backoff) = self.flags.backoff else {
            return Duration::ZERO;
        };
        let random = self.random();
        let child = &mut self.children[i];
        if child.started_at.elapsed() >= backoff.reset_period() {
            child.attempt = 0;
        }
        let delay = backoff.delay(child.attempt, random);
        child.attempt = child.attempt.saturating_add(1);
        delay
    }

    /// Starts every listed child that is not running, in spec order. A child that fails
    /// to start counts as another restart and is retried through the mailbox, after its
    /// backoff if there is one.
    async fn start_group(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        ids: &[String],
    ) -> Result<(), ActorProcessingErr> {
        for j in 0..self.children.len() {
            if self.children[j].cell.is_some() || !ids.contains(&self.children[j].spec.id) {
                continue;
            }
            match spawn_child(myself, &self.children[j].spec).await {
                Ok(cell) => {
                    let child = &mut self.children[j];
                    child.restarts += 1;
                    cell.system().tracker().restarted(&cell, child.restarts);
                    child.cell = Some(cell);
                    child.started_at = Instant::now();
                    child.pending = None;
                }
                Err(e) => {
                    let id = self.children[j].spec.id.clone();
                    tracing::warn!(supervisor = %myself.id(), child = %id, error = %e, "restart failed");
                    self.note_restart(&id, &e.to_string())?;
                    let delay = self.next_delay(j);
                    self.schedule(myself, std::slice::from_ref(&id), delay);
                }
            }
        }
        self.order(myself);
        Ok(())
    }

    /// Restarts `ids` after `delay`, through a message to the supervisor itself.
    fn schedule(&mut self, myself: &ActorRef<SupervisorMsg>, ids: &[String], delay: Duration) {
        let timer = self.next_timer;
        self.next_timer += 1;
        for child in self
            .children
            .iter_mut()
            .filter(|c| ids.contains(&c.spec.id))
        {
            child.pending = Some(timer);
        }
        let me = myself.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // Past any bound: a supervisor with a full bounded mailbox must still restart.
            let _ = me.cast_internal(SupervisorMsg::RestartDue(RestartTimer(timer)));
        });
        self.timers.push((timer, task.abort_handle()));
    }

    fn cancel_pending(&mut self, i: usize) {
        if let Some(timer) = self.children[i].pending.take() {
            if !self.children.iter().any(|c| c.pending == Some(timer)) {
                self.timers.retain(|(t, h)| {
                    if *t == timer {
                        h.abort();
                    }
                    *t != timer
                });
            }
        }
    }

    pub(super) async fn handle(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::StartChild(spec, reply) => {
                let result = if self.position(&spec.id).is_some() {
                    Err(SupervisorError::AlreadyPresent(spec.id))
                } else {
                    match spawn_child(myself, &spec).await {
                        Ok(cell) => {
                            self.children.push(Child::running(spec, cell.clone()));
                            self.order(myself);
                            Ok(cell)
                        }
                        Err(e) => Err(SupervisorError::StartFailed(spec.id, e)),
                    }
                };
                let _ = reply.send(result);
            }
            SupervisorMsg::TerminateChild(id, reply) => {
                let result = match self.position(&id) {
                    None => Err(SupervisorError::NotFound(id)),
                    Some(i) => {
                        self.cancel_pending(i);
                        if let Some(cell) = self.children[i].cell.take() {
                            shutdown_child(&cell, self.children[i].spec.shutdown, false).await;
                        }
                        if self.children[i].spec.restart == Restart::Temporary {
                            self.children.remove(i);
                        }
                        Ok(())
                    }
                };
                let _ = reply.send(result);
            }
            SupervisorMsg::RestartChild(id, reply) => {
                let result = match self.position(&id) {
                    None => Err(SupervisorError::NotFound(id)),
                    Some(i) if self.children[i].cell.is_some() => Err(SupervisorError::Running(id)),
                    Some(i) => {
                        self.cancel_pending(i);
                        match spawn_child(myself, &self.children[i].spec).await {
                            Ok(cell) => {
                                self.children[i].cell = Some(cell.clone());
                                self.children[i].started_at = Instant::now();
                                self.order(myself);
                                Ok(cell)
                            }
                            Err(e) => Err(SupervisorError::StartFailed(id, e)),
                        }
                    }
                };
                let _ = reply.send(result);
            }
            SupervisorMsg::DeleteChild(id, reply) => {
                let result = match self.position(&id) {
                    None => Err(SupervisorError::NotFound(id)),
                    Some(i) if self.children[i].cell.is_some() => Err(SupervisorError::Running(id)),
                    Some(i) => {
                        self.cancel_pending(i);
                        self.children.remove(i);
                        Ok(())
                    }
                };
                let _ = reply.send(result);
            }
            SupervisorMsg::WhichChildren(reply) => {
                let _ = reply.send(self.children.iter().map(Child::info).collect());
            }
            SupervisorMsg::CountChildren(reply) => {
                let mut counts = ChildCounts {
                    specs: self.children.len(),
                    ..Default::default()
                };
                for c in &self.children {
                    counts.active += usize::from(c.cell.is_some());
                    match c.spec.kind {
                        ChildKind::Supervisor => counts.supervisors += 1,
                        _ => counts.workers += 1,
                    }
                }
                let _ = reply.send(counts);
            }
            SupervisorMsg::RestartDue(RestartTimer(timer)) => {
                self.timers.retain(|(t, _)| *t != timer);
                let ids: Vec<String> = self
                    .children
                    .iter()
                    .filter(|c| c.pending == Some(timer))
                    .map(|c| c.spec.id.clone())
                    .collect();
                if !ids.is_empty() {
                    self.start_group(myself, &ids).await?;
                }
            }
        }
        Ok(())
    }
}

impl Child {
    fn running(spec: ChildSpec, cell: ActorCell) -> Self {
        Child {
            spec,
            cell: Some(cell),
            restarts: 0,
            attempt: 0,
            started_at: Instant::now(),
            pending: None,
        }
    }

    fn info(&self) -> ChildInfo {
        ChildInfo {
            id: self.spec.id.clone(),
            cell: self.cell.clone(),
            kind: self.spec.kind,
            restart: self.spec.restart,
            restarts: self.restarts,
        }
    }
}
