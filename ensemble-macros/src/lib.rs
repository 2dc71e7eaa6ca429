//! Procedural macros for [Ensemble](https://docs.rs/ensemble).
//!
//! Ensemble's [`Actor`](https://docs.rs/ensemble/latest/ensemble/trait.Actor.html) trait
//! uses native `async fn` in traits, so no macro is needed to implement it. The
//! [`macro@async_trait`] attribute exists so that code written for async-trait era
//! frameworks (`#[ractor::async_trait]`) compiles unchanged after a rename.

use proc_macro::TokenStream;

mod actor;

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

/// Writes an actor's message enum and its `Actor` impl from an `impl` block of handler
/// methods, one per message (the shape of ractor's `#[actor]`).
///
/// `#[actor(message = [pub] enum Name, state = State, arguments = Args)]` on
/// `impl MyActor { ... }` (`state` and `arguments` default to `()`; `crate_path =
/// ::ensemble` if the crate is renamed). Inside:
///
/// - `pre_start` (required), and `post_start`, `post_stop`, `handle_supervisor_evt` if
///   wanted, written exactly as in an `impl Actor`;
/// - a method marked `#[message(Variant)]` or `#[message(Variant(field, ...))]` becomes
///   the variant `Variant(types...)`, each field typed by the method's parameter of that
///   name; the method's other parameters are the actor's `ActorRef` and its state
///   (`&State` or `&mut State`), recognised by type. A method with a return type returns a
///   `Result` whose error fails the actor;
/// - a method marked `#[rpc(Variant(field, ...))]` becomes `Variant(types..., RpcReplyPort<R>)`
///   where `R` is its return type, which is sent back (a caller that gave up is ignored);
///   call it with `actor.call(Name::Variant, timeout)` or `call_t!`;
/// - `async` methods are awaited; doc comments become the variants' docs; everything else
///   stays in the `impl` as written.
///
/// ```
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, call_t};
///
/// struct Counter;
///
/// #[ensemble::actor(message = enum CounterMessage, state = i64, arguments = i64)]
/// impl Counter {
///     async fn pre_start(&self, _: ActorRef<CounterMessage>, start: i64) -> Result<i64, ActorProcessingErr> {
///         Ok(start)
///     }
///
///     /// Adds `amount`.
///     #[ensemble::message(Add(amount))]
///     fn add(&self, amount: i64, count: &mut i64) {
///         *count += amount;
///     }
///
///     /// The current count.
///     #[ensemble::rpc(Read)]
///     fn read(&self, count: &i64) -> i64 {
///         *count
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (counter, _) = Actor::spawn(None, Counter, 10).await.unwrap();
/// counter.cast(CounterMessage::Add(5)).unwrap();
/// assert_eq!(call_t!(counter, CounterMessage::Read, 100).unwrap(), 15);
/// # }
/// ```
#[proc_macro_attribute]
pub fn actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    match actor::expand(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Marks a handler method inside an [`macro@actor`] impl: `#[message(Variant(field, ...))]`.
/// Alone, it is an error.
#[proc_macro_attribute]
pub fn message(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside("message", item)
}

/// Marks a request-reply handler inside an [`macro@actor`] impl:
/// `#[rpc(Variant(field, ...))]`. Alone, it is an error.
#[proc_macro_attribute]
pub fn rpc(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside("rpc", item)
}

fn outside(name: &str, item: TokenStream) -> TokenStream {
    let msg = format!(
        "`#[{name}]` marks a handler method inside an `#[actor(...)]` impl block; put \
         `#[ensemble::actor(message = enum Name, ...)]` on the impl"
    );
    let mut out: proc_macro2::TokenStream = quote::quote!(::core::compile_error!(#msg););
    out.extend(proc_macro2::TokenStream::from(item));
    out.into()
}

/// Derives `ensemble::remote::RemoteMessage` for a message type that also derives serde's
/// `Serialize` and `Deserialize`, so that it can be sent to actors on other nodes.
///
/// - `#[remote(name = "...")]` sets the stable wire name both nodes check (default: the
///   type's name). Change it when the type changes incompatibly.
/// - Fields of type `RpcReplyPort<T>` (direct fields of a variant or of the struct) are
///   moved out before encoding and travel as tokens, so `call` works remotely.
/// - Fields of type `ActorRef<N>` travel as names and resolve again on their own node.
///
/// Generic types are not supported: write the impl by hand.
///
/// See `ensemble::remote` for an example.
#[proc_macro_derive(RemoteMessage, attributes(remote))]
pub fn derive_remote_message(input: TokenStream) -> TokenStream {
    match remote::derive(syn::parse_macro_input!(input as syn::DeriveInput)) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

mod remote {
    use proc_macro2::TokenStream;
    use quote::{format_ident, quote};
    use syn::{Data, DeriveInput, Fields, LitStr, Type};

    /// Whether `ty` is (a path ending in) `RpcReplyPort<..>`.
    fn is_reply_port(ty: &Type) -> bool {
        match ty {
            Type::Path(p) => p
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "RpcReplyPort"),
            _ => false,
        }
    }

    fn wire_name(input: &DeriveInput) -> syn::Result<String> {
        let mut name = input.ident.to_string();
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("remote")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    let value: LitStr = meta.value()?.parse()?;
                    if value.value().is_empty() {
                        return Err(meta.error("the wire name must not be empty"));
                    }
                    name = value.value();
                    Ok(())
                } else {
                    Err(meta.error("expected `name = \"...\"`"))
                }
            })?;
        }
        Ok(name)
    }

    /// The statements that take the ports out of `fields`, bound by `pattern` names.
    fn take_fields(fields: &Fields) -> (TokenStream, Vec<TokenStream>) {
        let mut takes = Vec::new();
        let pattern = match fields {
            Fields::Named(named) => {
                let binds = named
                    .named
                    .iter()
                    .filter(|f| is_reply_port(&f.ty))
                    .map(|f| {
                        let ident = f.ident.clone();
                        takes.push(quote! { __ports.take(#ident); });
                        quote! { #ident }
                    });
                let binds: Vec<_> = binds.collect();
                quote! { { #(#binds,)* .. } }
            }
            Fields::Unnamed(unnamed) => {
                let binds = unnamed.unnamed.iter().enumerate().map(|(i, f)| {
                    if is_reply_port(&f.ty) {
                        let ident = format_ident!("__port{}", i);
                        takes.push(quote! { __ports.take(#ident); });
                        quote! { #ident }
                    } else {
                        quote! { _ }
                    }
                });
                let binds: Vec<_> = binds.collect();
                quote! { ( #(#binds),* ) }
            }
            Fields::Unit => quote! {},
        };
        (pattern, takes)
    }

    pub(crate) fn derive(input: DeriveInput) -> syn::Result<TokenStream> {
        if !input.generics.params.is_empty() {
            return Err(syn::Error::new_spanned(
                &input.generics,
                "RemoteMessage cannot be derived for a generic type: implement \
                 `ensemble::remote::RemoteMessage` by hand, with a wire name per instance",
            ));
        }
        let ident = &input.ident;
        let name = wire_name(&input)?;
        let body = match &input.data {
            Data::Enum(data) => {
                let arms = data.variants.iter().map(|v| {
                    let variant = &v.ident;
                    let (pattern, takes) = take_fields(&v.fields);
                    quote! { Self::#variant #pattern => { #(#takes)* } }
                });
                quote! {
                    #[allow(unreachable_patterns)]
                    match self { #(#arms)* _ => {} }
                }
            }
            Data::Struct(data) => {
                let (pattern, takes) = take_fields(&data.fields);
                quote! { let Self #pattern = self; #(#takes)* }
            }
            Data::Union(_) => {
                return Err(syn::Error::new_spanned(
                    ident,
                    "RemoteMessage cannot be derived for a union",
                ));
            }
        };
        Ok(quote! {
            impl ::ensemble::remote::RemoteMessage for #ident {
                const WIRE_NAME: &'static str = #name;

                #[allow(unused_variables)]
                fn take_reply_ports(&mut self, __ports: &mut ::ensemble::remote::ReplyPorts) {
                    #body
                }
            }
        })
    }
}
