//! Streams into actors: any `futures_core::Stream` as a message source, with real
//! backpressure.

use std::future::poll_fn;
use std::pin::pin;

use futures_core::Stream;

use crate::{ActorRef, SendError, TimerHandle};

impl<M: Send + 'static> ActorRef<M> {
    /// Feeds `stream` to this actor: each item goes through `map` and is sent with
    /// [`send`](Self::send), so with a bounded [`Overflow::Wait`](crate::Overflow::Wait)
    /// mailbox the stream is polled for the next item only once the last one was
    /// accepted (at most one item is ever held outside the mailbox). When the stream
    /// ends, `on_end` is sent. The feed stops when the actor ends or the returned
    /// handle is cancelled.
    ///
    /// Only a `Wait` mailbox makes the feed lossless: with `Reject` an item that finds the
    /// mailbox full is refused (counted in [`stats`](Self::stats) as rejected), with the
    /// drop policies it may be shed (counted as shed), and with an unbounded mailbox
    /// nothing holds the stream back. The feed yields to the scheduler every 128 items.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
    /// enum Msg { Item(u32), End, Sum(RpcReplyPort<(u32, bool)>) }
    /// struct Summer;
    /// impl Actor for Summer {
    ///     type Msg = Msg;
    ///     type State = (u32, bool);
    ///     type Arguments = ();
    ///     async fn pre_start(&self, _: ActorRef<Msg>, _: ()) -> Result<(u32, bool), ActorProcessingErr> { Ok((0, false)) }
    ///     async fn handle(&self, _: ActorRef<Msg>, m: Msg, s: &mut (u32, bool)) -> Result<(), ActorProcessingErr> {
    ///         match m { Msg::Item(n) => s.0 += n, Msg::End => s.1 = true, Msg::Sum(r) => r.send(*s)? }
    ///         Ok(())
    ///     }
    /// }
    /// # struct Iter(std::ops::Range<u32>);
    /// # impl futures_core::Stream for Iter {
    /// #     type Item = u32;
    /// #     fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<u32>> {
    /// #         std::task::Poll::Ready(self.0.next())
    /// #     }
    /// # }
    /// let (summer, _) = Actor::spawn(None, Summer, ()).await.unwrap();
    /// let feed = summer.attach_stream(Iter(1..5), Msg::Item, Msg::End);
    /// while !feed.is_finished() { tokio::task::yield_now().await; }
    /// assert_eq!(summer.call(Msg::Sum, None).await.unwrap(), (10, true));
    /// # }
    /// ```
    pub fn attach_stream<S, F>(&self, stream: S, map: F, on_end: M) -> TimerHandle
    where
        S: Stream + Send + 'static,
        S::Item: Send,
        F: FnMut(S::Item) -> M + Send + 'static,
    {
        let actor = self.clone();
        TimerHandle::new(tokio::spawn(async move {
            let mut map = map;
            let mut fed = 0u32;
            let mut stream = pin!(stream);
            let mut exited = pin!(actor.inner.header.exited());
            loop {
                // Wait for room before taking the next item from the stream.
                tokio::select! {
                    _ = actor.inner.mailbox.room() => {}
                    _ = &mut exited => return,
                }
                let next = tokio::select! {
                    item = poll_fn(|cx| stream.as_mut().poll_next(cx)) => item,
                    _ = &mut exited => return,
                };
                let msg = match next {
                    Some(item) => map(item),
                    None => {
                        let _ = actor.send(on_end).await;
                        return;
                    }
                };
                if let Err(SendError::Closed(_)) = actor.send(msg).await {
                    return;
                }
                fed = fed.wrapping_add(1);
                if fed % 128 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }))
    }
}
