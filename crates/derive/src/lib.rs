//! # strata-derive
//!
//! `#[derive(Module)]` writes the bookkeeping half of
//! [`strata_nn::Module`](https://docs.rs/strata-nn) for a struct of modules —
//! `visit_params`, `visit_params_mut` and `set_training`, from the struct's
//! fields, and `visit_buffers` for state such as batch norm's running
//! statistics — so a custom architecture is its fields and its `forward`:
//!
//! ```ignore
//! use strata::prelude::*;
//!
//! #[derive(Module)]
//! struct Residual<T: Float = f32> {
//!     fc1: Linear<T>,
//!     fc2: Linear<T>,
//! }
//!
//! impl<T: Float> Residual<T> {
//!     fn forward<'t>(&self, tape: &'t Tape<T>, x: Var<'t, T>) -> Var<'t, T> {
//!         x + self.fc2.forward(tape, self.fc1.forward(tape, x).relu())
//!     }
//! }
//! ```
//!
//! The struct's inherent `forward` becomes `Module::forward` (a struct
//! without one panics at its first forward pass, naming the struct: a derive
//! cannot see impl blocks). An inherent `describe(&self) -> String` or
//! `forward_traced` is used the same way when the struct has one; without,
//! the module is described by its name and traced as one layer. Fields are
//! named as PyTorch names them in a state dict: a module field `fc1` gives
//! `fc1.weight`, `fc1.bias`; a `Param` field `alpha` gives `alpha`; a
//! `Vec` of modules or params `blocks` gives `blocks.0.…`, `blocks.1.…`; an
//! `Option` is visited when it is `Some`. `#[module(skip)]` leaves a field
//! out (sizes, flags, anything that is neither a module nor a parameter).
//!
//! The float type is the struct's type parameter bounded by `Float` (or its
//! only type parameter), else `f32`; `#[module(float = f64)]` on the struct
//! says it outright. Generated paths start at `::strata::nn`; a crate that
//! depends on `strata-nn` directly says `#[module(crate = strata_nn)]`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::{
    parse_macro_input, spanned::Spanned, Data, DeriveInput, Fields, GenericArgument, GenericParam, Ident, Path,
    PathArguments, Type, TypeParamBound,
};

/// Derives `Module` for a struct of modules and parameters; see the crate docs.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// What a field holds, as far as visiting goes.
enum Kind {
    Module,
    Param,
}

/// How a field holds it.
enum Shape {
    One,
    Vec,
    Option,
}

struct StructOptions {
    krate: Path,
    float: Option<Type>,
}

fn struct_options(input: &DeriveInput) -> syn::Result<StructOptions> {
    let mut opts = StructOptions { krate: syn::parse_quote!(::strata::nn), float: None };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                opts.krate = meta.value()?.parse()?;
                Ok(())
            } else if meta.path.is_ident("float") {
                opts.float = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `crate = path` or `float = type`"))
            }
        })?;
    }
    Ok(opts)
}

fn skipped(field: &syn::Field) -> syn::Result<bool> {
    let mut skip = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error("expected `skip`"))
            }
        })?;
    }
    Ok(skip)
}

/// The float type: `#[module(float = …)]`, else the type parameter bounded by
/// `Float`, else the only type parameter, else `f32`.
fn float_type(input: &DeriveInput, opts: &StructOptions) -> syn::Result<Type> {
    if let Some(t) = &opts.float {
        return Ok(t.clone());
    }
    let params: Vec<&syn::TypeParam> = input
        .generics
        .params
        .iter()
        .filter_map(|p| if let GenericParam::Type(t) = p { Some(t) } else { None })
        .collect();
    let bounded_by_float = |t: &&&syn::TypeParam| {
        t.bounds.iter().any(
            |b| matches!(b, TypeParamBound::Trait(tb) if tb.path.segments.last().is_some_and(|s| s.ident == "Float")),
        )
    };
    let ident = match (params.iter().find(bounded_by_float), params.as_slice()) {
        (Some(t), _) => &t.ident,
        (None, [only]) => &only.ident,
        (None, []) => return Ok(syn::parse_quote!(f32)),
        (None, _) => {
            return Err(syn::Error::new(
                input.generics.span(),
                "derive(Module): cannot tell which type parameter is the float type; \
                 bound it by `Float` or say #[module(float = T)]",
            ));
        }
    };
    Ok(syn::parse_quote!(#ident))
}

/// The last path segment's name and its first type argument, if any.
fn outer(ty: &Type) -> Option<(&Ident, Option<&Type>)> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    let arg = match &seg.arguments {
        PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    Some((&seg.ident, arg))
}

fn classify(ty: &Type) -> (Shape, Kind) {
    let kind_of = |t: &Type| match outer(t) {
        Some((name, _)) if name == "Param" => Kind::Param,
        _ => Kind::Module,
    };
    match outer(ty) {
        Some((name, Some(inner))) if name == "Vec" => (Shape::Vec, kind_of(inner)),
        Some((name, Some(inner))) if name == "Option" => (Shape::Option, kind_of(inner)),
        _ => (Shape::One, kind_of(ty)),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let opts = struct_options(input)?;
    let float = float_type(input, &opts)?;
    let krate = &opts.krate;
    let d = quote!(#krate::__derive);
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(input.span(), "derive(Module) works on structs (a module is its fields)"));
    };
    let fields: Vec<(Tokens, String, &Type)> = match &data.fields {
        Fields::Named(named) => named
            .named
            .iter()
            .filter_map(|f| match skipped(f) {
                Ok(true) => None,
                Ok(false) => {
                    let id = f.ident.as_ref().expect("named field");
                    Some(Ok((quote!(#id), id.to_string(), &f.ty)))
                }
                Err(e) => Some(Err(e)),
            })
            .collect::<syn::Result<_>>()?,
        Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match skipped(f) {
                Ok(true) => None,
                Ok(false) => {
                    let index = syn::Index::from(i);
                    Some(Ok((quote!(#index), i.to_string(), &f.ty)))
                }
                Err(e) => Some(Err(e)),
            })
            .collect::<syn::Result<_>>()?,
        Fields::Unit => Vec::new(),
    };

    let (mut visit, mut visit_mut, mut training, mut arch) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut buffers, mut buffers_mut) = (Vec::new(), Vec::new());
    let (mut unnamed, mut unnamed_mut) = (Vec::new(), Vec::new());
    for (access, name, ty) in &fields {
        let (shape, kind) = classify(ty);
        let item = format_ident!("__item");
        let (one, one_mut) = match kind {
            Kind::Module => {
                (quote!(#d::visit_child(&__name, #item, __f)), quote!(#d::visit_child_mut(&__name, #item, __f)))
            }
            Kind::Param => (quote!(__f(&__name, #item)), quote!(__f(&__name, #item))),
        };
        let train = match kind {
            Kind::Module => quote!(#d::Module::<#float>::set_training(#item, __training)),
            Kind::Param => quote!({ let _ = #item; }),
        };
        let wrap = |body: &Tokens, by: Tokens| match shape {
            Shape::One => quote! {{ let __name: &str = #name; let #item = #by self.#access; #body; }},
            Shape::Option => quote! {
                if let Some(#item) = #by self.#access { let __name: &str = #name; #body; }
            },
            Shape::Vec => {
                let iter = if by.to_string().contains("mut") { quote!(iter_mut) } else { quote!(iter) };
                quote! {
                    for (__i, #item) in self.#access.#iter().enumerate() {
                        let __name = ::std::format!("{}.{}", #name, __i);
                        #body;
                    }
                }
            }
        };
        let part = match kind {
            Kind::Module => quote!(#d::Module::<#float>::architecture(#item)),
            Kind::Param => quote!(::std::format!("{:?}", #item.value().dims())),
        };
        arch.push(match shape {
            Shape::One => quote! {{ let #item = &self.#access; __parts.push(::std::format!("{}: {}", #name, #part)); }},
            Shape::Option => quote! {
                match &self.#access {
                    Some(#item) => __parts.push(::std::format!("{}: {}", #name, #part)),
                    None => __parts.push(::std::format!("{}: none", #name)),
                }
            },
            Shape::Vec => quote! {{
                let __each: ::std::vec::Vec<::std::string::String> = self.#access.iter().map(|#item| #part).collect();
                __parts.push(::std::format!("{}: [{}]", #name, __each.join(", ")));
            }},
        });
        visit.push(wrap(&one, quote!(&)));
        visit_mut.push(wrap(&one_mut, quote!(&mut)));
        // The nameless walks (`params`, `params_mut`): no name is joined.
        let (bare, bare_mut) = match kind {
            Kind::Module => {
                (quote!(#d::Module::<#float>::params(#item, __f)), quote!(#d::Module::<#float>::params_mut(#item, __f)))
            }
            Kind::Param => (quote!(__f(#item)), quote!(__f(#item))),
        };
        let wrap_bare = |body: &Tokens, by: Tokens| match shape {
            Shape::One => quote! {{ let #item = #by self.#access; #body; }},
            Shape::Option => quote! {
                if let Some(#item) = #by self.#access { #body; }
            },
            Shape::Vec => {
                let iter = if by.to_string().contains("mut") { quote!(iter_mut) } else { quote!(iter) };
                quote! {
                    for #item in self.#access.#iter() {
                        #body;
                    }
                }
            }
        };
        unnamed.push(wrap_bare(&bare, quote!(&)));
        unnamed_mut.push(wrap_bare(&bare_mut, quote!(&mut)));
        if matches!(kind, Kind::Module) {
            training.push(wrap(&train, quote!(&mut)));
            buffers.push(wrap(&quote!(#d::visit_child_buffers(&__name, #item, __f)), quote!(&)));
            buffers_mut.push(wrap(&quote!(#d::visit_child_buffers_mut(&__name, #item, __f)), quote!(&mut)));
        }
    }

    let name = &input.ident;
    let no_forward = format!(
        "derive(Module): `{name}` has no inherent forward; write \
         `impl {name} {{ fn forward<'t>(&self, tape: &'t Tape, x: Var<'t>) -> Var<'t> {{ … }} }}`"
    );
    let short_name = name.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #d::Module<#float> for #name #ty_generics #where_clause {
            // The struct's inherent `forward`. Without one, `Self::forward`
            // names this very method, which would recurse until the stack
            // overflows: compare the two and say what is missing instead.
            // (The comparison folds away when they differ.)
            fn forward<'__t>(&self, tape: &'__t #d::Tape<#float>, x: #d::Var<'__t, #float>) -> #d::Var<'__t, #float> {
                let inherent: fn(&Self, &'__t #d::Tape<#float>, #d::Var<'__t, #float>) -> #d::Var<'__t, #float> =
                    Self::forward;
                let this: fn(&Self, &'__t #d::Tape<#float>, #d::Var<'__t, #float>) -> #d::Var<'__t, #float> =
                    <Self as #d::Module<#float>>::forward;
                if ::std::ptr::fn_addr_eq(inherent, this) {
                    ::std::panic!("{}", #no_forward);
                }
                inherent(self, tape, x)
            }

            // An inherent `describe` or `forward_traced`, if the struct has
            // one, overrides the trait's default (written out here, since the
            // trait's default body cannot be called from an override).
            fn describe(&self) -> ::std::string::String {
                let inherent: fn(&Self) -> ::std::string::String = Self::describe;
                let this: fn(&Self) -> ::std::string::String = <Self as #d::Module<#float>>::describe;
                if ::std::ptr::fn_addr_eq(inherent, this) {
                    ::std::string::String::from(#short_name)
                } else {
                    inherent(self)
                }
            }

            // `Name(field: child's architecture, …)`, what checkpoints record.
            fn architecture(&self) -> ::std::string::String {
                let mut __parts: ::std::vec::Vec<::std::string::String> = ::std::vec::Vec::new();
                #(#arch)*
                ::std::format!("{}({})", #short_name, __parts.join(", "))
            }

            fn forward_traced<'__t>(
                &self,
                tape: &'__t #d::Tape<#float>,
                x: #d::Var<'__t, #float>,
                trace: &mut #d::Trace<'__t, #float>,
            ) -> #d::Var<'__t, #float> {
                let inherent: fn(&Self, &'__t #d::Tape<#float>, #d::Var<'__t, #float>, &mut #d::Trace<'__t, #float>) -> #d::Var<'__t, #float> =
                    Self::forward_traced;
                let this: fn(&Self, &'__t #d::Tape<#float>, #d::Var<'__t, #float>, &mut #d::Trace<'__t, #float>) -> #d::Var<'__t, #float> =
                    <Self as #d::Module<#float>>::forward_traced;
                if ::std::ptr::fn_addr_eq(inherent, this) {
                    let y = #d::Module::<#float>::forward(self, tape, x);
                    trace.record(#d::LayerTrace::of_module(self, y));
                    y
                } else {
                    inherent(self, tape, x, trace)
                }
            }

            #[allow(unused_variables)]
            fn visit_params(&self, __f: &mut dyn FnMut(&str, &#d::Param<#float>)) {
                #(#visit)*
            }

            #[allow(unused_variables)]
            fn visit_params_mut(&mut self, __f: &mut dyn FnMut(&str, &mut #d::Param<#float>)) {
                #(#visit_mut)*
            }

            #[allow(unused_variables)]
            fn params(&self, __f: &mut dyn FnMut(&#d::Param<#float>)) {
                #(#unnamed)*
            }

            #[allow(unused_variables)]
            fn params_mut(&mut self, __f: &mut dyn FnMut(&mut #d::Param<#float>)) {
                #(#unnamed_mut)*
            }

            #[allow(unused_variables)]
            fn visit_buffers(&self, __f: &mut dyn FnMut(&str, &#d::Buffer<#float>)) {
                #(#buffers)*
            }

            #[allow(unused_variables)]
            fn visit_buffers_mut(&mut self, __f: &mut dyn FnMut(&str, &mut #d::Buffer<#float>)) {
                #(#buffers_mut)*
            }

            #[allow(unused_variables)]
            fn set_training(&mut self, __training: bool) {
                #(#training)*
            }
        }
    })
}
