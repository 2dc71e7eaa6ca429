//! serde for `ActorRef<M>` and `RpcReplyPort<T>`: they travel by name (a [`WireRef`]) and
//! by token, in the [`WireContext`] the cluster sets while it encodes or decodes.

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{RemoteMessage, WireRef, current_context, export, proxy_factory, remote_port};
use crate::{ActorRef, RpcReplyPort};

const NO_CONTEXT: &str = "actor refs and reply ports can only be encoded or decoded by the \
    cluster, as part of a message to or from another node";

impl<M: RemoteMessage> Serialize for ActorRef<M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let context = current_context().ok_or_else(|| S::Error::custom(NO_CONTEXT))?;
        let wire = context
            .export(&self.cell(), export(self))
            .map_err(S::Error::custom)?;
        wire.serialize(serializer)
    }
}

impl<'de, M: RemoteMessage> Deserialize<'de> for ActorRef<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireRef::deserialize(deserializer)?;
        if wire.wire_name != M::WIRE_NAME {
            return Err(D::Error::custom(format!(
                "an actor ref of message type {:?} where {:?} was expected",
                wire.wire_name,
                M::WIRE_NAME
            )));
        }
        let context = current_context().ok_or_else(|| D::Error::custom(NO_CONTEXT))?;
        let cell = context
            .import(&wire, proxy_factory::<M>)
            .map_err(D::Error::custom)?;
        cell.into_ref::<M>().ok_or_else(|| {
            D::Error::custom(format!(
                "actor {} does not take messages of type {:?}",
                wire.actor,
                M::WIRE_NAME
            ))
        })
    }
}

impl<T> Serialize for RpcReplyPort<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.port() {
            crate::rpc::Port::Token(token) => serializer.serialize_u64(*token),
            _ => Err(S::Error::custom(
                "a reply port can only travel as a direct field of a #[derive(RemoteMessage)] \
                 message sent to another node",
            )),
        }
    }
}

impl<'de, T: Serialize + DeserializeOwned + Send + 'static> Deserialize<'de> for RpcReplyPort<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let token = u64::deserialize(deserializer)?;
        let context = current_context().ok_or_else(|| D::Error::custom(NO_CONTEXT))?;
        let sink = context.reply_sink(token).map_err(D::Error::custom)?;
        Ok(remote_port(sink))
    }
}
