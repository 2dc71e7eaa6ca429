//! ractor's names for things Ensemble names differently: each is a deprecated alias
//! whose message names the Ensemble one, so ractor code compiles with only the crate
//! renamed and its warnings point the way. Hidden from the documentation; the guide's
//! migration chapter lists them.

#![allow(missing_docs)]

use crate::port::OutputPort;
use crate::{
    ActorCell, ActorId, ActorRef, ActorStatus, BoxedStateError, CallError, SendError, SpawnError,
};

#[doc(hidden)]
#[deprecated(note = "ractor's name: Ensemble uses `String` for actor names")]
pub type ActorName = String;

#[doc(hidden)]
#[deprecated(note = "ractor's name: use `ensemble::SpawnError`")]
pub type SpawnErr = SpawnError;

#[doc(hidden)]
#[deprecated(note = "ractor's name: use `ensemble::SendError`")]
pub type MessagingErr<M> = SendError<M>;

#[doc(hidden)]
#[deprecated(note = "ractor's name: use `ensemble::CallError` (a call returns the reply itself)")]
pub type RactorErr<M> = CallError<M>;

#[doc(hidden)]
#[deprecated(
    note = "ractor's name: a taken name is `ensemble::SpawnError::AlreadyRegistered` at spawn"
)]
pub type ActorRegistryErr = SpawnError;

#[doc(hidden)]
#[deprecated(note = "ractor's name: use `ensemble::BoxedStateError`")]
pub type BoxedDowncastErr = BoxedStateError;

#[doc(hidden)]
impl<M: Send + 'static> ActorRef<M> {
    #[deprecated(note = "ractor's name: use `id()`")]
    pub fn get_id(&self) -> ActorId {
        self.id()
    }

    #[deprecated(note = "ractor's name: use `name()`")]
    pub fn get_name(&self) -> Option<String> {
        self.name()
    }

    #[deprecated(note = "ractor's name: use `status()`")]
    pub fn get_status(&self) -> ActorStatus {
        self.status()
    }

    #[deprecated(note = "ractor's name: use `cell()`")]
    pub fn get_cell(&self) -> ActorCell {
        self.cell()
    }

    #[deprecated(note = "ractor's name: use `cast(msg)`")]
    pub fn send_message(&self, message: M) -> Result<(), SendError<M>> {
        self.cast(message)
    }

    #[deprecated(note = "ractor's name: use `children()`")]
    pub fn get_children(&self) -> Vec<ActorCell> {
        self.children()
    }

    #[deprecated(note = "ractor's name: use `supervisor()`")]
    pub fn try_get_supervisor(&self) -> Option<ActorCell> {
        self.supervisor()
    }

    #[deprecated(note = "ractor's name: use `demonitor(target)`")]
    pub fn unmonitor(&self, target: ActorCell) {
        self.demonitor(target);
    }
}

#[doc(hidden)]
impl ActorCell {
    #[deprecated(note = "ractor's name: use `id()`")]
    pub fn get_id(&self) -> ActorId {
        self.id()
    }

    #[deprecated(note = "ractor's name: use `name()`")]
    pub fn get_name(&self) -> Option<String> {
        self.name()
    }

    #[deprecated(note = "ractor's name: use `status()`")]
    pub fn get_status(&self) -> ActorStatus {
        self.status()
    }

    #[deprecated(note = "ractor's name: use `children()`")]
    pub fn get_children(&self) -> Vec<ActorCell> {
        self.children()
    }

    #[deprecated(note = "ractor's name: use `supervisor()`")]
    pub fn try_get_supervisor(&self) -> Option<ActorCell> {
        self.supervisor()
    }

    #[deprecated(note = "ractor's name: use `demonitor(target)`")]
    pub fn unmonitor(&self, target: ActorCell) {
        self.demonitor(target);
    }
}

#[doc(hidden)]
impl ActorId {
    #[deprecated(note = "ractor's name: use `local()` (the node-local part)")]
    pub const fn pid(&self) -> u64 {
        self.local()
    }
}

#[doc(hidden)]
impl<T: Clone + Send + 'static> OutputPort<T> {
    #[deprecated(note = "ractor's name: use `publish(value)`")]
    pub fn send(&self, value: T) {
        self.publish(value);
    }
}
