//! An actor's family, from either handle: its children (stop or drain them all, spawn a
//! new one linked), its supervisor, links and monitors.
//!
//! [`ActorCell`] holds the operations; [`ActorRef`] has the same ones, so a typed ref
//! goes wherever ractor code reached the cell through `Deref`.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::{Actor, ActorCell, ActorRef, SpawnError, WaitTimeout};

impl ActorCell {
    /// Asks every live child to stop (last linked first); returns at once. The actor
    /// itself keeps running. [`stop_children_and_wait`](Self::stop_children_and_wait)
    /// waits for them.
    pub fn stop_children(&self, reason: Option<String>) {
        for child in self.children().iter().rev() {
            child.stop(reason.clone());
        }
    }

    /// Asks every live child to drain (handle what is queued, then stop); returns at
    /// once. A child that is already ending is left to end.
    pub fn drain_children(&self) {
        for child in self.children().iter().rev() {
            let _ = child.drain();
        }
    }

    /// Drains every live child and waits until all have ended, or until `timeout` passes.
    ///
    /// ```
    /// use ensemble::{Actor, ActorProcessingErr, ActorRef};
    ///
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     type State = ();
    ///     type Arguments = ();
    ///     async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (parent, _) = Actor::spawn(None, Worker, ()).await.unwrap();
    /// for _ in 0..3 {
    ///     parent.spawn_linked(None, Worker, ()).await.unwrap();
    /// }
    /// assert_eq!(parent.children().len(), 3);
    /// parent.cell().drain_children_and_wait(None).await.unwrap();
    /// assert!(parent.children().is_empty());
    /// assert!(parent.status().is_alive(), "the parent runs on");
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`WaitTimeout`] if some child was still running at the timeout.
    pub async fn drain_children_and_wait(
        &self,
        timeout: Option<Duration>,
    ) -> Result<(), WaitTimeout> {
        let children = self.children();
        for child in children.iter().rev() {
            let _ = child.drain();
        }
        let all = async {
            for child in &children {
                let _ = child.wait(None).await;
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

    /// Spawns `handler` as a child of this actor: [`Actor::spawn_linked`] with this
    /// actor as the supervisor.
    ///
    /// # Errors
    /// As [`Actor::spawn_linked`].
    pub async fn spawn_linked<A: Actor>(
        &self,
        name: Option<String>,
        handler: A,
        args: A::Arguments,
    ) -> Result<(ActorRef<A::Msg>, JoinHandle<()>), SpawnError> {
        A::spawn_linked(name, handler, args, self.clone()).await
    }
}

/// The family operations of [`ActorCell`], on the typed ref.
impl<M: Send + 'static> ActorRef<M> {
    /// The actor's live linked children; see [`ActorCell::children`].
    pub fn children(&self) -> Vec<ActorCell> {
        self.cell().children()
    }

    /// The actor's supervisor, if linked; see [`ActorCell::supervisor`].
    pub fn supervisor(&self) -> Option<ActorCell> {
        self.cell().supervisor()
    }

    /// Links this actor under `supervisor`; see [`ActorCell::link`].
    pub fn link(&self, supervisor: ActorCell) {
        self.cell().link(supervisor);
    }

    /// Undoes [`link`](Self::link); see [`ActorCell::unlink`].
    pub fn unlink(&self, supervisor: ActorCell) {
        self.cell().unlink(supervisor);
    }

    /// Makes this actor a watcher of `target`; see [`ActorCell::monitor`].
    pub fn monitor(&self, target: ActorCell) {
        self.cell().monitor(target);
    }

    /// Stops watching `target`; see [`ActorCell::demonitor`].
    pub fn demonitor(&self, target: ActorCell) {
        self.cell().demonitor(target);
    }

    /// Asks every live child to stop; see [`ActorCell::stop_children`].
    pub fn stop_children(&self, reason: Option<String>) {
        self.cell().stop_children(reason);
    }

    /// Stops every live child and waits; see [`ActorCell::stop_children_and_wait`].
    ///
    /// # Errors
    /// [`WaitTimeout`] if some child was still running at the timeout.
    pub async fn stop_children_and_wait(
        &self,
        reason: Option<String>,
        timeout: Option<Duration>,
    ) -> Result<(), WaitTimeout> {
        self.cell().stop_children_and_wait(reason, timeout).await
    }

    /// Asks every live child to drain; see [`ActorCell::drain_children`].
    pub fn drain_children(&self) {
        self.cell().drain_children();
    }

    /// Drains every live child and waits; see [`ActorCell::drain_children_and_wait`].
    ///
    /// # Errors
    /// [`WaitTimeout`] if some child was still running at the timeout.
    pub async fn drain_children_and_wait(
        &self,
        timeout: Option<Duration>,
    ) -> Result<(), WaitTimeout> {
        self.cell().drain_children_and_wait(timeout).await
    }

    /// Spawns `handler` as a child of this actor; see [`ActorCell::spawn_linked`].
    ///
    /// # Errors
    /// As [`Actor::spawn_linked`].
    pub async fn spawn_linked<A: Actor>(
        &self,
        name: Option<String>,
        handler: A,
        args: A::Arguments,
    ) -> Result<(ActorRef<A::Msg>, JoinHandle<()>), SpawnError> {
        A::spawn_linked(name, handler, args, self.cell()).await
    }
}

impl<M: Send + 'static> From<&ActorRef<M>> for ActorCell {
    fn from(r: &ActorRef<M>) -> Self {
        r.cell()
    }
}

impl From<&ActorCell> for ActorCell {
    fn from(cell: &ActorCell) -> Self {
        cell.clone()
    }
}
