//! Procedural macros for [Ensemble](https://docs.rs/ensemble).
//!
//! Ensemble's [`Actor`](https://docs.rs/ensemble/latest/ensemble/trait.Actor.html) trait
//! uses native `async fn` in traits, so no macro is needed to implement it. The
//! [`macro@async_trait`] attribute exists so that code written for async-trait era
//! frameworks (`#[ractor::async_trait]`) compiles unchanged after a rename.

use proc_macro::TokenStream;

/// An identity attribute: returns the item it decorates unchanged.
///
/// Accepted on `impl Actor for …` blocks for source compatibility with code written for
/// frameworks whose traits needed the `async-trait` crate. Ensemble's hooks are native
/// `async fn`s, so there is nothing to rewrite, no boxing and no allocation.
///
/// ```
/// #[ensemble_macros::async_trait]
/// impl Clone for Unit {
///     fn clone(&self) -> Self { Unit }
/// }
/// struct Unit;
/// ```
#[proc_macro_attribute]
pub fn async_trait(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
