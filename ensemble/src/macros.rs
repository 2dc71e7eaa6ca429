//! `cast!`, `call!` and `call_t!`: shorthands for the common message shapes.

/// Casts a message: `cast!(actor, msg)` is `actor.cast(msg)`.
///
/// ```
/// # use ensemble::{Actor, ActorProcessingErr, ActorRef, cast};
/// # struct Sink;
/// # impl Actor for Sink {
/// #     type Msg = u8; type State = (); type Arguments = ();
/// #     async fn pre_start(&self, _: ActorRef<u8>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (sink, _) = Actor::spawn(None, Sink, ()).await.unwrap();
/// cast!(sink, 7).unwrap();
/// # }
/// ```
#[macro_export]
macro_rules! cast {
    ($actor:expr, $msg:expr $(,)?) => {
        $actor.cast($msg)
    };
}

/// Calls with a message variant whose *last* field is the reply port, and no timeout:
/// `call!(actor, Msg::Get, key)` is `actor.call(|p| Msg::Get(key, p), None).await`.
///
/// ```
/// # use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, call, call_t};
/// enum Msg { Add(u32, u32, RpcReplyPort<u32>) }
/// # struct Calc;
/// # impl Actor for Calc {
/// #     type Msg = Msg; type State = (); type Arguments = ();
/// #     async fn pre_start(&self, _: ActorRef<Msg>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
/// #     async fn handle(&self, _: ActorRef<Msg>, m: Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
/// #         let Msg::Add(a, b, reply) = m; Ok(reply.send(a + b)?)
/// #     }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (calc, _) = Actor::spawn(None, Calc, ()).await.unwrap();
/// assert_eq!(call!(calc, Msg::Add, 2, 3).unwrap(), 5);
/// assert_eq!(call_t!(calc, Msg::Add, 100, 4, 5).unwrap(), 9);
/// # }
/// ```
#[macro_export]
macro_rules! call {
    ($actor:expr, $variant:path $(, $arg:expr)* $(,)?) => {
        $actor.call(|reply| $variant($($arg,)* reply), None).await
    };
}

/// Like [`call!`], with a timeout in milliseconds:
/// `call_t!(actor, Msg::Get, 500, key)`.
#[macro_export]
macro_rules! call_t {
    ($actor:expr, $variant:path, $timeout_ms:expr $(, $arg:expr)* $(,)?) => {
        $actor
            .call(
                |reply| $variant($($arg,)* reply),
                Some(::std::time::Duration::from_millis($timeout_ms as u64)),
            )
            .await
    };
}

/// Calls `actor` with a request built by `msg` (a variant taking the reply port) and
/// casts the reply, mapped by `map`, to `forward_to`; waits for both. Evaluates to
/// `Result<(), ForwardError<M, N>>` ([`rpc::ForwardError`](crate::rpc::ForwardError)).
/// An optional fifth argument is the call's timeout (a `Duration`). The non-waiting form
/// is [`ActorRef::call_and_forward`](crate::ActorRef::call_and_forward).
///
/// ```
/// # use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, forward};
/// enum Ask { Double(u32, RpcReplyPort<u32>) }
/// # struct Doubler;
/// # impl Actor for Doubler {
/// #     type Msg = Ask; type State = (); type Arguments = ();
/// #     async fn pre_start(&self, _: ActorRef<Ask>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
/// #     async fn handle(&self, _: ActorRef<Ask>, m: Ask, _: &mut ()) -> Result<(), ActorProcessingErr> {
/// #         let Ask::Double(n, reply) = m; Ok(reply.send(n * 2)?)
/// #     }
/// # }
/// # struct Sink;
/// # impl Actor for Sink {
/// #     type Msg = String; type State = Vec<String>; type Arguments = ();
/// #     async fn pre_start(&self, _: ActorRef<String>, _: ()) -> Result<Vec<String>, ActorProcessingErr> { Ok(vec![]) }
/// #     async fn handle(&self, _: ActorRef<String>, m: String, seen: &mut Vec<String>) -> Result<(), ActorProcessingErr> { seen.push(m); Ok(()) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (doubler, _) = Actor::spawn(None, Doubler, ()).await.unwrap();
/// let (sink, _) = Actor::spawn(None, Sink, ()).await.unwrap();
/// forward!(doubler, |reply| Ask::Double(21, reply), sink, |n: u32| format!("got {n}")).unwrap();
/// # }
/// ```
#[macro_export]
macro_rules! forward {
    (@go $actor:expr, $msg:expr, $forward:expr, $map:expr, $timeout:expr) => {
        match $actor.call(|reply| ($msg)(reply), $timeout).await {
            ::core::result::Result::Ok(reply) => $forward
                .cast(($map)(reply))
                .map_err($crate::rpc::ForwardError::Forward),
            ::core::result::Result::Err(e) => {
                ::core::result::Result::Err($crate::rpc::ForwardError::Call(e))
            }
        }
    };
    ($actor:expr, $msg:expr, $forward:expr, $map:expr $(,)?) => {
        $crate::forward!(@go $actor, $msg, $forward, $map, ::core::option::Option::None)
    };
    ($actor:expr, $msg:expr, $forward:expr, $map:expr, $timeout:expr $(,)?) => {
        $crate::forward!(@go $actor, $msg, $forward, $map, ::core::option::Option::Some($timeout))
    };
}
