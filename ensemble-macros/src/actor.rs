//! `#[actor(...)]` on an `impl` block: the message enum and the `Actor` impl generated
//! from methods marked `#[message(...)]` and `#[rpc(...)]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, Pat, Path, ReturnType, Token, Type,
    Visibility,
};

/// The attribute's arguments: `message = [vis] enum Name, state = T, arguments = A,
/// crate_path = path`.
struct Args {
    vis: Visibility,
    message: Ident,
    state: Type,
    arguments: Type,
    krate: Path,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (mut message, mut state, mut arguments, mut krate) = (None, None, None, None);
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "message" => {
                    let vis: Visibility = input.parse()?;
                    input.parse::<Token![enum]>()?;
                    let name: Ident = input.parse()?;
                    message = Some((vis, name));
                }
                "state" => state = Some(input.parse::<Type>()?),
                "arguments" => arguments = Some(input.parse::<Type>()?),
                "crate_path" => krate = Some(input.parse::<Path>()?),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown argument `{other}`: expected `message = enum Name`, \
                             `state = Type`, `arguments = Type` or `crate_path = path`"
                        ),
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let (vis, message) = message.ok_or_else(|| {
            input.error("missing `message = enum Name` (the message enum to generate)")
        })?;
        let unit: Type = syn::parse_quote!(());
        Ok(Args {
            vis,
            message,
            state: state.unwrap_or_else(|| unit.clone()),
            arguments: arguments.unwrap_or(unit),
            krate: krate.unwrap_or_else(|| syn::parse_quote!(::ensemble)),
        })
    }
}

/// `Variant` or `Variant(field, ...)`, from `#[message(...)]` / `#[rpc(...)]`.
struct VariantSpec {
    name: Ident,
    fields: Vec<Ident>,
}

impl Parse for VariantSpec {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        let mut fields = Vec::new();
        if input.peek(syn::token::Paren) {
            let inner;
            syn::parenthesized!(inner in input);
            let list: Punctuated<Ident, Token![,]> =
                inner.parse_terminated(Ident::parse, Token![,])?;
            fields = list.into_iter().collect();
        }
        Ok(VariantSpec { name, fields })
    }
}

enum Kind {
    Message,
    Rpc,
}

/// The marker attribute on a method, if any (`message`, `rpc`, with any path prefix).
fn marker(attrs: &[Attribute]) -> Option<(usize, Kind)> {
    attrs.iter().enumerate().find_map(|(i, a)| {
        let last = a.path().segments.last()?.ident.to_string();
        match last.as_str() {
            "message" => Some((i, Kind::Message)),
            "rpc" => Some((i, Kind::Rpc)),
            _ => None,
        }
    })
}

fn is_actor_ref(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "ActorRef"))
}

const LIFECYCLE: [&str; 4] = [
    "pre_start",
    "post_start",
    "post_stop",
    "handle_supervisor_evt",
];

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(args)?;
    let mut imp: ItemImpl = syn::parse2(item)?;
    if !imp.generics.params.is_empty() || imp.trait_.is_some() {
        return Err(syn::Error::new(
            imp.span(),
            "`#[actor]` goes on a plain `impl Type { ... }` block without generics",
        ));
    }
    let Args {
        vis,
        message,
        state,
        arguments,
        krate,
    } = args;
    let self_ty = imp.self_ty.clone();
    let mut lifecycle = Vec::new();
    let mut kept = Vec::new();
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    for item in std::mem::take(&mut imp.items) {
        let ImplItem::Fn(mut f) = item else {
            kept.push(item);
            continue;
        };
        if LIFECYCLE.contains(&f.sig.ident.to_string().as_str()) {
            f.vis = Visibility::Inherited;
            lifecycle.push(f);
            continue;
        }
        let Some((at, kind)) = marker(&f.attrs) else {
            kept.push(ImplItem::Fn(f));
            continue;
        };
        let attr = f.attrs.remove(at);
        let spec: VariantSpec = attr.parse_args()?;
        let (variant, arm) = handler(&krate, &message, &f, &spec, &kind)?;
        let docs: Vec<&Attribute> = f
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect();
        variants.push(quote! { #(#docs)* #variant });
        arms.push(arm);
        kept.push(ImplItem::Fn(f));
    }
    imp.items = kept;
    let enum_doc = format!(
        "The messages of [`{}`], generated by `#[actor]`.",
        quote!(#self_ty)
    );
    Ok(quote! {
        #[doc = #enum_doc]
        #vis enum #message {
            #(#variants,)*
        }

        #imp

        impl #krate::Actor for #self_ty {
            type Msg = #message;
            type State = #state;
            type Arguments = #arguments;

            #(#lifecycle)*

            async fn handle(
                &self,
                myself: #krate::ActorRef<#message>,
                message: #message,
                state: &mut #state,
            ) -> ::core::result::Result<(), #krate::ActorProcessingErr> {
                let _ = (&myself, &state);
                match message {
                    #(#arms)*
                }
                ::core::result::Result::Ok(())
            }
        }
    })
}

/// The variant for one handler method and the match arm that calls it.
fn handler(
    krate: &Path,
    message: &Ident,
    f: &ImplItemFn,
    spec: &VariantSpec,
    kind: &Kind,
) -> syn::Result<(TokenStream, TokenStream)> {
    let VariantSpec { name, fields } = spec;
    // The type of each named field, from the method's parameter of that name.
    let mut field_types = vec![None; fields.len()];
    let mut call_args = Vec::new();
    for input in f.sig.inputs.iter().skip(1) {
        let FnArg::Typed(arg) = input else {
            return Err(syn::Error::new(input.span(), "expected `&self` first"));
        };
        let param = match &*arg.pat {
            Pat::Ident(p) => p.ident.clone(),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "handler parameters must be plain names",
                ));
            }
        };
        if let Some(i) = fields.iter().position(|f| *f == param) {
            field_types[i] = Some((*arg.ty).clone());
            let local = format_ident!("__field_{}", param);
            call_args.push(quote!(#local));
        } else if is_actor_ref(&arg.ty) {
            call_args.push(quote!(myself.clone()));
        } else if let Type::Reference(r) = &*arg.ty {
            call_args.push(if r.mutability.is_some() {
                quote!(&mut *state)
            } else {
                quote!(&*state)
            });
        } else {
            return Err(syn::Error::new(
                param.span(),
                format!(
                    "parameter `{param}` is not a field of the message (list it: \
                     `#[message({name}({param}))]`), the actor's `ActorRef` or its state \
                     (`&State` / `&mut State`)"
                ),
            ));
        }
    }
    let mut types = Vec::new();
    for (field, ty) in fields.iter().zip(field_types) {
        match ty {
            Some(ty) => types.push(quote!(#ty)),
            None => {
                return Err(syn::Error::new(
                    field.span(),
                    format!("`{field}` is not a parameter of `{}`", f.sig.ident),
                ));
            }
        }
    }
    let locals: Vec<Ident> = fields
        .iter()
        .map(|f| format_ident!("__field_{}", f))
        .collect();
    let method = &f.sig.ident;
    let awaited = if f.sig.asyncness.is_some() {
        quote!(.await)
    } else {
        quote!()
    };
    let call = quote!(self.#method(#(#call_args),*) #awaited);
    let reply = Ident::new("__reply", Span::call_site());
    Ok(match kind {
        Kind::Message => {
            let variant = if fields.is_empty() {
                quote!(#name)
            } else {
                quote!(#name(#(#types),*))
            };
            let pattern = if fields.is_empty() {
                quote!(#message::#name)
            } else {
                quote!(#message::#name(#(#locals),*))
            };
            // A method with a return type returns a `Result`, whose error fails the actor.
            let body = match &f.sig.output {
                ReturnType::Default => quote!({ #call; }),
                ReturnType::Type(..) => quote!({ #call?; }),
            };
            (variant, quote!(#pattern => #body))
        }
        Kind::Rpc => {
            let ReturnType::Type(_, ret) = &f.sig.output else {
                return Err(syn::Error::new(
                    f.sig.span(),
                    "an `#[rpc]` method returns the reply's type",
                ));
            };
            let variant = quote!(#name(#(#types,)* #krate::RpcReplyPort<#ret>));
            let pattern = quote!(#message::#name(#(#locals,)* #reply));
            // A caller that gave up is not the actor's failure: the reply just drops.
            let body = quote!({
                let __value = #call;
                let _ = #reply.send(__value);
            });
            (variant, quote!(#pattern => #body))
        }
    })
}
