//! Parts of the one program that are loaded on demand.
//!
//! A function declared with [`on_demand!`] is a split point (Leptos' own
//! code splitting, `wasm_split`): in the release bundle (`--features split`,
//! built by `scripts/build-bundle`, which runs wasm-split-cli between cargo and
//! wasm-bindgen) its code, and whatever only it reaches, is a WASM chunk of its
//! own, fetched the first time the function is called. The chunk shares the
//! first load's memory, runtime and state: it is called as Rust, with Rust
//! values, and reads the same `AppState` as everything else. Without the
//! feature (`trunk serve`, the tests) the function is a plain one of the one
//! module.
//!
//! A chunk that cannot be fetched is an error the caller shows
//! ([`PartError`]), never a panic: the next call tries again.

/// A part of the program could not be loaded (its chunk did not arrive or
/// did not start; the browser's console has the detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartError {
    pub part: &'static str,
}

impl std::fmt::Display for PartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} did not load (its code could not be fetched from the server); try again",
            self.part
        )
    }
}

impl std::error::Error for PartError {}

/// The loader's error carries no detail (it is logged to the console); the
/// wrapper below names the part.
#[cfg(feature = "split")]
impl From<leptos::wasm_split::SplitLoaderError> for PartError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self { part: "" }
    }
}

/// Declares `pub async fn $name(args) -> Result<$out, PartError>` whose body
/// runs in the chunk `$chunk` (functions naming the same chunk share it; code
/// two chunks both need goes into a chunk of its own, loaded with either).
/// `$part` names it for people ("load tester").
#[macro_export]
macro_rules! on_demand {
    (
        $(#[$doc:meta])*
        $chunk:ident, $part:literal: pub fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $out:ty $body:block
    ) => {
        $(#[$doc])*
        pub async fn $name($($arg: $ty),*) -> Result<$out, $crate::browser::split::PartError> {
            #[cfg_attr(
                feature = "split",
                ::leptos::wasm_split::wasm_split(
                    $chunk,
                    wasm_split_path = ::leptos::wasm_split,
                    fallible
                )
            )]
            fn $name($($arg: $ty),*) -> Result<$out, $crate::browser::split::PartError> {
                Ok($body)
            }
            #[cfg(feature = "split")]
            let loaded = $name($($arg),*).await;
            #[cfg(not(feature = "split"))]
            let loaded = $name($($arg),*);
            loaded.map_err(|_| $crate::browser::split::PartError { part: $part })
        }
    };
}
