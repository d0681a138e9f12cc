//! # reparti-derive: `#[derive(Message)]`
//!
//! An algorithm's message type must say which *kind* each message is (`ELECT`,
//! `ELECTED`): engines count messages by kind, traces name them, and the binary wire
//! format numbers them. Kept by hand, the list of names and the `kind()` match drift
//! apart; this derive writes both from the type itself.
//!
//! * On an enum, each variant is a kind, in declaration order. Its name is, in order of
//!   preference: `#[message(kind = "NAME")]` on the variant, the variant's
//!   `#[serde(rename = "NAME")]` (so the JSON wire and the counts agree), or the variant
//!   name in SCREAMING_SNAKE_CASE (`Elected` → `ELECTED`, `NewRound` → `NEW_ROUND`).
//! * On a struct, there is one kind, named likewise from `#[message(kind = "NAME")]`
//!   on the struct or the struct's name (`Msg` → `MSG`).
//!
//! Algorithms whose messages carry node ids and that declare a symmetry implement
//! `Message` by hand instead, to write `rename_nodes`.

#![warn(missing_docs)]

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Expr, ExprLit, Fields, Lit, Meta};

/// Derives `reparti_core::Message`: `KINDS` and `kind()` from the type's variants.
#[proc_macro_derive(Message, attributes(message))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let (kinds, kind_body) = match &input.data {
        Data::Enum(data) => {
            if data.variants.is_empty() {
                return Err(syn::Error::new_spanned(name, "a message enum needs at least one variant"));
            }
            let mut kinds = Vec::new();
            let mut arms = Vec::new();
            for (k, v) in data.variants.iter().enumerate() {
                kinds.push(kind_name(&v.attrs, &v.ident.to_string())?);
                let ident = &v.ident;
                let pattern = match &v.fields {
                    Fields::Unit => quote!(#name::#ident),
                    Fields::Unnamed(_) => quote!(#name::#ident(..)),
                    Fields::Named(_) => quote!(#name::#ident { .. }),
                };
                arms.push(quote!(#pattern => #k,));
            }
            (kinds, quote!(match self { #(#arms)* }))
        }
        Data::Struct(_) => (vec![kind_name(&input.attrs, &name.to_string())?], quote!(0)),
        Data::Union(_) => return Err(syn::Error::new_spanned(name, "a message cannot be a union")),
    };
    Ok(quote! {
        impl #impl_generics ::reparti_core::Message for #name #ty_generics #where_clause {
            fn kinds() -> &'static [&'static str] {
        &[#(#kinds),*]
    }
            #[inline]
            fn kind(&self) -> usize {
                #kind_body
            }
        }
    })
}

/// The kind name an item's attributes give, or its identifier in SCREAMING_SNAKE_CASE.
fn kind_name(attrs: &[Attribute], ident: &str) -> syn::Result<String> {
    if let Some(explicit) = string_attr(attrs, "message", "kind")? {
        return Ok(explicit);
    }
    if let Some(renamed) = string_attr(attrs, "serde", "rename")? {
        return Ok(renamed);
    }
    Ok(screaming_snake(ident))
}

/// The string value of `#[outer(key = "value")]`, if present.
fn string_attr(attrs: &[Attribute], outer: &str, key: &str) -> syn::Result<Option<String>> {
    for attr in attrs.iter().filter(|a| a.path().is_ident(outer)) {
        let Meta::List(list) = &attr.meta else { continue };
        let mut found = None;
        // serde attributes hold other keys too (`skip`, `with = ...`): read ours, skip the rest.
        let parsed = list.parse_nested_meta(|meta| {
            if meta.path.is_ident(key) {
                let value: Expr = meta.value()?.parse()?;
                if let Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) = value {
                    found = Some(s.value());
                }
            } else if meta.input.peek(syn::Token![=]) {
                let _: Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        });
        if outer == "message" {
            parsed?;
        }
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn screaming_snake(ident: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = ident.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = i > 0
            && c.is_uppercase()
            && (chars[i - 1].is_lowercase() || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary && !out.ends_with('_') {
            out.push('_');
        }
        out.extend(c.to_uppercase());
    }
    out
}
