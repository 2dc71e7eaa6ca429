//! Typed proxies: the local actor behind an `ActorRef<M>` to an actor on another node.

use std::marker::PhantomData;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{
    ChildExit, Outgoing, ProxyControl, RemoteExit, RemoteMessage, ReplyPorts, WireContext,
    encode_sized, with_context,
};
use crate::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, ActorSystem, MailboxConfig, Overflow,
    RemoteError, SupervisionEvent,
};

/// Everything a proxy needs, given by the cluster when it makes one.
pub struct ProxyTarget {
    /// The remote actor's id (its node part names the node and incarnation).
    pub id: ActorId,
    /// The remote node's name, for errors.
    pub node: String,
    /// The writer queue of the connection to that node.
    pub outbox: mpsc::Sender<Outgoing>,
    /// The context to encode messages in.
    pub context: Arc<dyn WireContext>,
    /// The system the proxy lives in.
    pub system: ActorSystem,
    /// The proxy's mailbox bound: when the node's writer is backed up this far, `cast`
    /// hands messages back with `SendError::Full`, `call` fails at once with it, and
    /// `send` waits for room.
    pub capacity: usize,
    /// The cluster's hold on the proxy (see [`ProxyControl`]).
    pub control: Arc<ProxyControl>,
}

/// The proxy actor: encodes each message and queues it for the node's writer.
struct Proxy<M>(PhantomData<fn() -> M>);

/// A proxy's state: its target, and the size of the last message it encoded (the first
/// guess at the next one's).
struct ProxyState {
    target: ProxyTarget,
    last_len: usize,
}

impl<M: RemoteMessage> Actor for Proxy<M> {
    type Msg = M;
    type State = ProxyState;
    type Arguments = ProxyTarget;

    async fn pre_start(
        &self,
        _: ActorRef<M>,
        target: ProxyTarget,
    ) -> Result<ProxyState, ActorProcessingErr> {
        Ok(ProxyState {
            target,
            last_len: 64,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<M>,
        mut msg: M,
        state: &mut ProxyState,
    ) -> Result<(), ActorProcessingErr> {
        let mut ports = ReplyPorts::default();
        msg.take_reply_ports(&mut ports);
        let hint = state.last_len + state.last_len / 8;
        let target = &state.target;
        let encoded = with_context(&target.context, || encode_sized(&msg, hint));
        if let Ok(bytes) = &encoded {
            state.last_len = bytes.len();
        }
        drop(msg);
        let mut out = Outgoing::Message {
            target: target.id.local(),
            wire_name: M::WIRE_NAME,
            payload: Vec::new(),
            replies: ports.into_taken(),
        };
        match (encoded, &mut out) {
            (Ok(encoded), Outgoing::Message { payload, .. }) => *payload = encoded,
            (Err(why), _) => {
                tracing::warn!(target: "ensemble::remote", actor = %target.id,
                    wire_name = M::WIRE_NAME, error = %why, "message could not be encoded; dropped");
                out.fail(RemoteError::Encode(why), &target.context);
                return Ok(());
            }
            (Ok(_), _) => {}
        }
        if let Err(mpsc::error::SendError(out)) = target.outbox.send(out).await {
            // The node's writer is gone: the node is down. Fail the call, end the proxy.
            let node = target.node.clone();
            out.fail(RemoteError::NodeDown { node }, &target.context);
            target.control.set_quiet();
            myself.stop(Some("remote node down".into()));
        }
        Ok(())
    }

    /// A proxy stands in for its remote actor as a watcher (of local actors the remote one
    /// monitors) and as a parent (of local children linked to it): what it hears is
    /// forwarded. An event about itself is the cluster ending it as a failure.
    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<M>,
        evt: SupervisionEvent,
        state: &mut ProxyState,
    ) -> Result<(), ActorProcessingErr> {
        let target = &state.target;
        let me = target.id.local();
        let out = match evt {
            SupervisionEvent::ActorDown(cell, reason) if cell.id() == myself.id() => {
                return Err(Box::new(RemoteExit {
                    node: target.node.clone(),
                    reason,
                }));
            }
            SupervisionEvent::ActorDown(cell, reason) => Outgoing::Down {
                watcher: me,
                target: cell.id().local(),
                reason,
            },
            SupervisionEvent::ActorStarted(child) => Outgoing::Exit {
                parent: me,
                child: child.id().local(),
                exit: ChildExit::Started,
            },
            SupervisionEvent::ActorFailed(child, err) => Outgoing::Exit {
                parent: me,
                child: child.id().local(),
                exit: ChildExit::Failed(crate::runtime::error_text(&*err)),
            },
            SupervisionEvent::ActorTerminated(child, state, reason) => Outgoing::Exit {
                parent: me,
                child: child.id().local(),
                exit: if state.is_none() && reason.as_deref() == Some("killed") {
                    ChildExit::Killed
                } else {
                    ChildExit::Stopped(reason)
                },
            },
            _ => return Ok(()),
        };
        if let Err(out) = target.context.signal(target.id, out) {
            let _ = target.outbox.send(out).await;
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _: ActorRef<M>,
        state: &mut ProxyState,
    ) -> Result<(), ActorProcessingErr> {
        let target = &state.target;
        if !target.control.is_quiet() {
            // `stop` on a remote ref stops the remote actor.
            let _ = target
                .outbox
                .send(Outgoing::Stop {
                    target: target.id.local(),
                })
                .await;
        }
        Ok(())
    }
}

/// Makes the typed proxy for `target` (a `fn` pointer the cluster calls from
/// [`WireContext::import`](super::WireContext::import)). Must run inside a tokio runtime.
pub fn proxy_factory<M: RemoteMessage>(target: ProxyTarget) -> ActorCell {
    let id = target.id;
    let system = target.system.clone();
    // `send` waits for room (flow control), `cast` hands the message back, `call` fails
    // at once: a backed-up node is not a place to queue requests.
    let mailbox = MailboxConfig::bounded(target.capacity, Overflow::Wait).calls_fail_fast();
    let state = ProxyState {
        target,
        last_len: 64,
    };
    crate::runtime::spawn_ready(id, system, mailbox, Proxy::<M>(PhantomData), state).cell()
}
