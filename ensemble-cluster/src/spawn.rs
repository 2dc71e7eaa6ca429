//! Remote spawn and placement: starting actors on other nodes, alone or as a
//! supervisor's children.
//!
//! A node lists the actor kinds it can start for others with
//! [`Node::register_spawnable`]; the kind is the actor's message type's wire name, and it
//! is published in the node's gossip state (`s:<kind>`), so every node knows who can
//! start what. [`Node::spawn_remote`] starts one there; [`Node::spawn_remote_linked`]
//! links it to a local supervisor, exactly as a local `spawn_linked` would: its failure
//! reaches the supervisor as `ActorFailed`, losing its node is a failure
//! (`NoConnection`), and stopping the supervisor stops it. [`Node::remote_child`] makes a
//! [`ChildSpec`] whose every start picks a node by [`Placement`], so a child lost with its
//! node is restarted on one that survives.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ensemble::remote::{RemoteMessage, decode, encode, export, proxy_factory, with_context};
use ensemble::supervisor::ChildSpec;
use ensemble::{Actor, ActorCell, ActorRef, SpawnError, SpawnOptions};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::RemoteSpawnError;
use crate::node::Inner;
use crate::registry::Publish;
use crate::remote::{SpawnFn, SpawnFuture, SpawnRequest};
use crate::wire::Refusal;
use crate::{ClusterError, Node};

/// The gossip key that says a node can start actors of `kind`.
pub(crate) fn kind_key(kind: &str) -> String {
    format!("s:{kind}")
}

/// Where a supervisor's remote child is started, each time it is started.
///
/// Only nodes that registered the child's kind ([`Node::register_spawnable`]) and are up
/// are candidates. Among several, the child's id chooses one (the same choice on every
/// start while the candidates stay the same), and each restart moves to the next one, so
/// children spread over the nodes and a child whose node keeps failing it moves on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placement {
    /// On this node while it is up (it may be this node); on another candidate when it
    /// is not, as when it died.
    On(String),
    /// On any candidate but this node: the child never shares this node's fate.
    AnyButMine,
    /// On any candidate, this node included.
    Any,
}

impl Node {
    /// Lets other nodes start actors of type `A` here
    /// ([`spawn_remote`](Self::spawn_remote)): `factory` makes each new actor, the
    /// arguments come from the caller. The kind is `A::Msg`'s wire name, so a node
    /// registers at most one actor type per message type (`ClusterError::NameTaken`
    /// otherwise). Other nodes learn of it through gossip (a few gossip intervals).
    ///
    /// ```no_run
    /// # use ensemble::{Actor, ActorProcessingErr, ActorRef};
    /// # use ensemble_cluster::{Node, RemoteMessage};
    /// # #[derive(RemoteMessage, serde::Serialize, serde::Deserialize)]
    /// # #[remote(name = "counter.v1")] enum CounterMsg { Add(u64) }
    /// # struct Counter;
    /// # impl Actor for Counter {
    /// #     type Msg = CounterMsg; type State = u64; type Arguments = u64;
    /// #     async fn pre_start(&self, _: ActorRef<CounterMsg>, start: u64) -> Result<u64, ActorProcessingErr> { Ok(start) }
    /// # }
    /// # async fn demo(a: Node, b: Node) -> Result<(), Box<dyn std::error::Error>> {
    /// b.register_spawnable::<Counter, _>(|| Counter)?;
    /// // On node a, once gossip has told it that b can start counters:
    /// let counter = a.spawn_remote::<Counter>(b.name(), Some("counter-7".into()), 100).await?;
    /// counter.cast(CounterMsg::Add(1))?;
    /// # Ok(()) }
    /// ```
    pub fn register_spawnable<A, F>(&self, factory: F) -> Result<(), ClusterError>
    where
        A: Actor,
        A::Msg: RemoteMessage,
        A::Arguments: Serialize + DeserializeOwned,
        F: Fn() -> A + Send + Sync + 'static,
    {
        self.running()?;
        let kind = <A::Msg as RemoteMessage>::WIRE_NAME;
        let node = Arc::downgrade(&self.inner);
        let start: SpawnFn = Arc::new(move |request: SpawnRequest| -> SpawnFuture {
            let actor = factory();
            let node = node.clone();
            Box::pin(async move {
                let args: A::Arguments = with_context(&request.context, || decode(&request.args))
                    .map_err(Refusal::Arguments)?;
                let mut options = SpawnOptions::new().system(&request.system);
                if let Some(name) = &request.name {
                    options = options.name(name.clone());
                }
                if let Some(parent) = request.parent {
                    options = options.supervisor(parent);
                }
                let actor_ref = match A::spawn_with(options, actor, args).await {
                    Ok((actor_ref, _)) => actor_ref,
                    Err(SpawnError::AlreadyRegistered(name)) => {
                        return Err(Refusal::AlreadyRegistered(name));
                    }
                    Err(SpawnError::StartupFailed(e)) => {
                        return Err(Refusal::StartupFailed(ensemble::remote::error_text(&*e)));
                    }
                    Err(other) => return Err(Refusal::StartupFailed(other.to_string())),
                };
                let Some(inner) = node.upgrade() else {
                    actor_ref.stop(Some("the node shut down".into()));
                    return Err(Refusal::ShuttingDown);
                };
                let node = Node { inner };
                if let Some(name) = &request.name {
                    // Registered cluster-wide too, so `where_is` finds it from any node.
                    if let Err(e) = node.register(name, &actor_ref) {
                        tracing::debug!(target: "ensemble::remote", name, error = %e,
                            "remote-spawned actor not published");
                        actor_ref.stop(Some("its name is taken".into()));
                        return Err(Refusal::AlreadyRegistered(name.clone()));
                    }
                }
                let (id, _) = node.inner.remote.export_local(export(&actor_ref));
                Ok(id)
            })
        });
        if !self.inner.remote.add_spawnable(kind, start) {
            return Err(ClusterError::NameTaken(format!("spawnable kind {kind}")));
        }
        let _ = self
            .inner
            .publish
            .send(Publish::Set(kind_key(kind), String::new()));
        Ok(())
    }

    /// Starts an actor of type `A` on node `on_node` (registered there with
    /// [`register_spawnable`](Self::register_spawnable)), under `name` if given (on that
    /// node and in the cluster registry), with `args` (encoded here, so they may hold
    /// actor refs). Returns a ref to it that works like any other. Naming this node
    /// starts it here, through the same registration.
    ///
    /// The actor is linked back to this node: when this node leaves or is lost, it is
    /// stopped (no orphans), while its own failure is only logged here (target
    /// `ensemble::remote`). To have a supervisor of yours hear it, use
    /// [`spawn_remote_linked`](Self::spawn_remote_linked).
    ///
    /// Errors are typed ([`RemoteSpawnError`]): no such live node, a kind the node does
    /// not know, a taken name, arguments that do not decode, a failed `pre_start`, the
    /// node lost, or no answer within the node's spawn timeout
    /// ([`NodeConfig::spawn_timeout`](crate::NodeConfig::spawn_timeout)).
    pub async fn spawn_remote<A>(
        &self,
        on_node: impl AsRef<str>,
        name: Option<String>,
        args: A::Arguments,
    ) -> Result<ActorRef<A::Msg>, RemoteSpawnError>
    where
        A: Actor,
        A::Msg: RemoteMessage,
        A::Arguments: Serialize + DeserializeOwned,
    {
        let anchor = self
            .anchor()
            .await
            .map_err(|_| RemoteSpawnError::Shutdown)?;
        self.spawn_on::<A>(on_node.as_ref(), name, args, Some(anchor))
            .await
    }

    /// [`spawn_remote`](Self::spawn_remote), linked to `supervisor` (an actor of this
    /// node) as its child: the child's failure reaches it as `ActorFailed` (with a
    /// `RemoteExit` error), its node's loss as a failure with `NoConnection`, and when the
    /// supervisor ends the child is stopped.
    pub async fn spawn_remote_linked<A>(
        &self,
        on_node: impl AsRef<str>,
        name: Option<String>,
        args: A::Arguments,
        supervisor: ActorCell,
    ) -> Result<ActorRef<A::Msg>, RemoteSpawnError>
    where
        A: Actor,
        A::Msg: RemoteMessage,
        A::Arguments: Serialize + DeserializeOwned,
    {
        self.spawn_on::<A>(on_node.as_ref(), name, args, Some(supervisor))
            .await
    }

    /// This node's anchor: the parent of the actors it spawns elsewhere without a
    /// supervisor of the caller's, made on first use.
    async fn anchor(&self) -> Result<ActorCell, SpawnError> {
        let system = self.inner.system.clone();
        self.inner
            .anchor
            .get_or_try_init(|| async move {
                let (anchor, _) =
                    Actor::spawn_with(SpawnOptions::new().system(&system), Anchor, ()).await?;
                Ok::<ActorCell, SpawnError>(anchor.cell())
            })
            .await
            .cloned()
    }

    async fn spawn_on<A>(
        &self,
        on_node: &str,
        name: Option<String>,
        args: A::Arguments,
        parent: Option<ActorCell>,
    ) -> Result<ActorRef<A::Msg>, RemoteSpawnError>
    where
        A: Actor,
        A::Msg: RemoteMessage,
        A::Arguments: Serialize + DeserializeOwned,
    {
        self.running().map_err(|_| RemoteSpawnError::Shutdown)?;
        let inner = &self.inner;
        let kind = <A::Msg as RemoteMessage>::WIRE_NAME;
        let context = inner.remote.context().ok_or(RemoteSpawnError::Shutdown)?;
        let args = with_context(&context, || encode(&args)).map_err(RemoteSpawnError::Arguments)?;
        let cell = if on_node == inner.name {
            let start =
                inner
                    .remote
                    .spawnable(kind)
                    .ok_or_else(|| RemoteSpawnError::NotSpawnable {
                        node: on_node.to_string(),
                        kind: kind.to_string(),
                    })?;
            let request = SpawnRequest {
                args,
                name,
                parent,
                context,
                system: inner.system.clone(),
            };
            let id = start(request)
                .await
                .map_err(|refusal| refused(on_node, kind, refusal))?;
            inner
                .remote
                .local_cell(id)
                .ok_or_else(|| RemoteSpawnError::StartupFailed {
                    node: on_node.to_string(),
                    reason: "the actor ended at once".into(),
                })?
        } else {
            let member = inner
                .member(on_node)
                .ok_or_else(|| RemoteSpawnError::NoNode(on_node.to_string()))?;
            inner
                .remote
                .request_spawn(
                    on_node,
                    member.incarnation(),
                    kind,
                    name,
                    args,
                    parent,
                    proxy_factory::<A::Msg>,
                    inner.spawn_timeout,
                )
                .await?
        };
        cell.into_ref::<A::Msg>()
            .ok_or_else(|| RemoteSpawnError::Arguments(format!("not an actor of {kind}")))
    }

    /// The nodes that can start actors of type `A` now (sorted by name): live members that
    /// registered it, as gossip has told this node, and this node if it did.
    pub fn spawnable_nodes<A>(&self) -> Vec<String>
    where
        A: Actor,
        A::Msg: RemoteMessage,
    {
        self.inner.candidates(<A::Msg as RemoteMessage>::WIRE_NAME)
    }

    /// A supervisor child of type `A` started on a node chosen by `placement` at every
    /// start and restart, with arguments from `args` (called for each start). When its
    /// node dies the child fails with `NoConnection` and is restarted on a surviving
    /// candidate, within the supervisor's restart intensity; a start that finds no
    /// candidate counts as a failed restart and is retried.
    ///
    /// ```no_run
    /// # use ensemble::{Actor, ActorProcessingErr, ActorRef};
    /// # use ensemble::supervisor::{Supervisor, SupervisorFlags, SupervisorSpec, Strategy};
    /// # use ensemble_cluster::{Node, Placement, RemoteMessage};
    /// # #[derive(RemoteMessage, serde::Serialize, serde::Deserialize)]
    /// # #[remote(name = "worker.v1")] enum WorkerMsg { Job(u64) }
    /// # struct Worker;
    /// # impl Actor for Worker {
    /// #     type Msg = WorkerMsg; type State = (); type Arguments = ();
    /// #     async fn pre_start(&self, _: ActorRef<WorkerMsg>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
    /// # }
    /// # async fn demo(node: Node) -> Result<(), Box<dyn std::error::Error>> {
    /// let spec = SupervisorSpec::new(SupervisorFlags::new(Strategy::OneForOne))
    ///     .child(node.remote_child::<Worker, _>("worker-1", Placement::AnyButMine, || ()));
    /// let (supervisor, _) = Supervisor::start(None, spec).await?;
    /// # Ok(()) }
    /// ```
    pub fn remote_child<A, F>(
        &self,
        id: impl Into<String>,
        placement: Placement,
        args: F,
    ) -> ChildSpec
    where
        A: Actor,
        A::Msg: RemoteMessage,
        A::Arguments: Serialize + DeserializeOwned,
        F: Fn() -> A::Arguments + Send + Sync + 'static,
    {
        let id = id.into();
        let node = Arc::downgrade(&self.inner);
        let args = Arc::new(args);
        let starts = Arc::new(AtomicUsize::new(0));
        let child_id = id.clone();
        ChildSpec::custom(id, move |options: SpawnOptions| {
            let node = node.clone();
            let args = args.clone();
            let attempt = starts.fetch_add(1, Ordering::Relaxed);
            let placement = placement.clone();
            let child_id = child_id.clone();
            async move {
                let inner = node.upgrade().ok_or(RemoteSpawnError::Shutdown)?;
                let node = Node { inner };
                let kind = <A::Msg as RemoteMessage>::WIRE_NAME;
                let target = node
                    .inner
                    .place(kind, &placement, &child_id, attempt)
                    .ok_or_else(|| RemoteSpawnError::NoNode(format!("{placement:?} for {kind}")))?;
                tracing::debug!(target: "ensemble::remote", child = %child_id, node = %target,
                    "starting a remote child");
                let name = options.registered_name().map(str::to_string);
                let parent = options.parent().cloned();
                let child = node.spawn_on::<A>(&target, name, args(), parent).await?;
                Ok::<ActorCell, SpawnError>(child.cell())
            }
        })
    }
}

/// The parent of the actors this node spawns elsewhere with `spawn_remote`: it keeps them
/// linked to this node (they stop when it is lost) and logs their failures.
struct Anchor;

impl Actor for Anchor {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ensemble::ActorProcessingErr> {
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<()>,
        evt: ensemble::SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ensemble::ActorProcessingErr> {
        if let ensemble::SupervisionEvent::ActorFailed(child, err) = evt {
            tracing::warn!(target: "ensemble::remote", actor = %child.id(), error = %err,
                "an actor spawned on another node failed");
        }
        Ok(())
    }
}

/// The typed error for a refusal from `node`.
fn refused(node: &str, kind: &str, refusal: Refusal) -> RemoteSpawnError {
    let node = node.to_string();
    match refusal {
        Refusal::NotSpawnable => RemoteSpawnError::NotSpawnable {
            node,
            kind: kind.to_string(),
        },
        Refusal::AlreadyRegistered(name) => RemoteSpawnError::AlreadyRegistered { node, name },
        Refusal::Arguments(why) => RemoteSpawnError::Arguments(why),
        Refusal::StartupFailed(reason) => RemoteSpawnError::StartupFailed { node, reason },
        Refusal::ShuttingDown => RemoteSpawnError::Shutdown,
    }
}

impl Inner {
    /// The nodes that can start `kind` now: live members that published it, and this
    /// node if it registered it; sorted by name.
    fn candidates(&self, kind: &str) -> Vec<String> {
        let key = kind_key(kind);
        let mut nodes: Vec<String> = self.membership.with_live(|live| {
            live.iter()
                .filter(|(id, state)| {
                    *id.node_id != *self.name
                        && state.get(&key).is_some()
                        && !self.is_down(&id.node_id, id.generation_id)
                        && self.member(&id.node_id).is_some()
                })
                .map(|(id, _)| id.node_id.to_string())
                .collect()
        });
        if self.remote.spawnable(kind).is_some() {
            nodes.push(self.name.clone());
        }
        nodes.sort();
        nodes.dedup();
        nodes
    }

    /// The node a child `child_id` of `kind` starts on, for its `attempt`-th start.
    fn place(
        &self,
        kind: &str,
        placement: &Placement,
        child_id: &str,
        attempt: usize,
    ) -> Option<String> {
        let mut nodes = self.candidates(kind);
        match placement {
            Placement::On(node) if nodes.contains(node) => return Some(node.clone()),
            Placement::On(node) => nodes.retain(|n| n != node),
            Placement::AnyButMine => nodes.retain(|n| *n != self.name),
            Placement::Any => {}
        }
        if nodes.is_empty() {
            return None;
        }
        // FNV-1a of the child's id: the same on every node and run.
        let hash = child_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let i = (hash as usize).wrapping_add(attempt) % nodes.len();
        Some(nodes[i].clone())
    }
}
