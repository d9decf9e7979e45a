//! The error of a folder of rpack (`store::Error`, `build::Error`...): an enum with one transparent variant per
//! error it passes on, a `From` for each, and `hint()` asking the variants that have hints. Written once here
//! so the folders list only what they aggregate.

/// Declares a folder's `Error`. Each variant is `Name(from Type)` or `Name(boxed Type)` (kept in a `Box`, for
/// big errors), followed by `hint` when the type has a `hint()` to ask; `via { Type => Variant }` adds `From`
/// impls for errors that go in through one of the variants' types.
///
/// ```ignore
/// folder_error! {
///     /// What failed in the ops folder.
///     pub enum Error {
///         /// Rebasing an image.
///         Rebase(from rebase::RebaseError) hint,
///         /// The store.
///         Store(from crate::store::StoreError),
///         /// A build.
///         Build(boxed crate::build::Error) hint,
///     }
///     via { crate::buildpack::package::PackageError => Buildpack }
/// }
/// ```
macro_rules! folder_error {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident($how:ident $ty:ty) $($hint:ident)?
            ),* $(,)?
        }
        $(via { $($via:ty => $through:ident),* $(,)? })?
    ) => {
        $(#[$meta])*
        #[derive(Debug, thiserror::Error)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[error(transparent)]
                $variant($crate::toolbox::folder_error::folder_error!(@field $how $ty)),
            )*
        }

        impl $name {
            /// What the user can do about it, when there is something to say.
            #[must_use]
            pub fn hint(&self) -> Option<String> {
                match self {
                    $(Self::$variant(e) => $crate::toolbox::folder_error::folder_error!(@hint e $($hint)?),)*
                }
            }
        }

        $($crate::toolbox::folder_error::folder_error!(@from $name $variant $how $ty);)*

        $($(
            impl From<$via> for $name {
                fn from(err: $via) -> Self {
                    Self::$through(err.into())
                }
            }
        )*)?
    };
    (@field from $ty:ty) => { $ty };
    (@field boxed $ty:ty) => { Box<$ty> };
    (@hint $e:ident hint) => { $e.hint() };
    (@hint $e:ident) => {{
        let _ = $e;
        None
    }};
    (@from $name:ident $variant:ident from $ty:ty) => {
        impl From<$ty> for $name {
            fn from(err: $ty) -> Self {
                Self::$variant(err)
            }
        }
    };
    (@from $name:ident $variant:ident boxed $ty:ty) => {
        impl From<$ty> for $name {
            // Boxed: a big error would grow every result that can hold it.
            fn from(err: $ty) -> Self {
                Self::$variant(Box::new(err))
            }
        }
    };
}

pub(crate) use folder_error;
