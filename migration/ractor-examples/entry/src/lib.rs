//! `#[ractor_example_entry]`: what ractor's examples put on `main`. In ractor's repository
//! it is an unpublished crate that means `#[tokio::main]` on native targets; this one
//! says exactly that, so the examples build unchanged.

use proc_macro::TokenStream;

/// Marks the example's `async fn main` as a tokio entry point.
#[proc_macro_attribute]
pub fn ractor_example_entry(_args: TokenStream, item: TokenStream) -> TokenStream {
    let mut out: TokenStream = "#[::tokio::main]"
        .parse()
        .unwrap_or_else(|_| TokenStream::new());
    out.extend(item);
    out
}
