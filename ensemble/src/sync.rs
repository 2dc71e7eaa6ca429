//! The synchronisation primitives the mailbox is built on: the standard library's, or
//! loom's when the crate is built with `RUSTFLAGS="--cfg ensemble_loom"` to model-check
//! the mailbox (see `mailbox::model`). Nothing else changes between the two builds.

#[cfg(not(ensemble_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64};
#[cfg(not(ensemble_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(ensemble_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64};
#[cfg(ensemble_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
