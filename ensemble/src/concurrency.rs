//! The runtime's building blocks under the names ractor code imports from
//! `ractor::concurrency`: tokio's time, tasks and channels. Ensemble runs on tokio only,
//! so each is tokio's own type or a one-line wrapper.

use std::future::Future;

pub use tokio::task::{JoinHandle, JoinSet};
pub use tokio::time::{Duration, Instant, Interval, interval, sleep};

/// A oneshot channel's sending half.
pub type OneshotSender<T> = tokio::sync::oneshot::Sender<T>;
/// A oneshot channel's receiving half.
pub type OneshotReceiver<T> = tokio::sync::oneshot::Receiver<T>;
/// A bounded mpsc channel's sending half.
pub type MpscSender<T> = tokio::sync::mpsc::Sender<T>;
/// A bounded mpsc channel's receiving half.
pub type MpscReceiver<T> = tokio::sync::mpsc::Receiver<T>;
/// An unbounded mpsc channel's sending half.
pub type MpscUnboundedSender<T> = tokio::sync::mpsc::UnboundedSender<T>;
/// An unbounded mpsc channel's receiving half.
pub type MpscUnboundedReceiver<T> = tokio::sync::mpsc::UnboundedReceiver<T>;
/// A broadcast channel's sending half.
pub type BroadcastSender<T> = tokio::sync::broadcast::Sender<T>;
/// A broadcast channel's receiving half.
pub type BroadcastReceiver<T> = tokio::sync::broadcast::Receiver<T>;
/// tokio's `Notify`.
pub type Notify = tokio::sync::Notify;

/// A oneshot channel.
pub fn oneshot<T>() -> (OneshotSender<T>, OneshotReceiver<T>) {
    tokio::sync::oneshot::channel()
}

/// A bounded mpsc channel (`buffer` at least 1).
pub fn mpsc_bounded<T>(buffer: usize) -> (MpscSender<T>, MpscReceiver<T>) {
    tokio::sync::mpsc::channel(buffer.max(1))
}

/// An unbounded mpsc channel.
pub fn mpsc_unbounded<T>() -> (MpscUnboundedSender<T>, MpscUnboundedReceiver<T>) {
    tokio::sync::mpsc::unbounded_channel()
}

/// A broadcast channel (`buffer` at least 1).
pub fn broadcast<T: Clone>(buffer: usize) -> (BroadcastSender<T>, BroadcastReceiver<T>) {
    tokio::sync::broadcast::channel(buffer.max(1))
}

/// Spawns a task on the current tokio runtime.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future)
}

/// Spawns a task; the name is for ractor compatibility and unused (tokio names tasks
/// only under `tokio_unstable`).
pub fn spawn_named<F>(name: Option<&str>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let _ = name;
    tokio::spawn(future)
}

/// The error of [`timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout;

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for Timeout {}

/// Runs `future` for at most `duration`.
///
/// # Errors
/// [`Timeout`] if it did not finish in time.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Timeout> {
    tokio::time::timeout(duration, future)
        .await
        .map_err(|_| Timeout)
}
