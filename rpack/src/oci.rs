//! OCI images on disk: image layouts, reproducible layers, manifests and configs.
//!
//! Everything here streams: a layer is tarred, gzipped and hashed (both the compressed digest and the
//! uncompressed diff id) in one pass, straight into the layout's blob store. Reading is bounded and checked:
//! blobs are opened without following symlinks, read up to the size their descriptor declares and hashed as
//! they stream (see [`Layout::open_blob`]); JSON documents are capped at [`MAX_JSON_SIZE`].

pub mod archive;
mod blob;
mod diff_id;
mod digest;
pub(crate) mod extract;
mod image;
pub(crate) mod index;
mod json;
pub mod labels;
mod layer;
mod layout;
pub(crate) mod platform;
pub mod reference;

pub(crate) use blob::{open_regular, open_user_file};
pub(crate) use diff_id::{LayerTar, known_layers, max_layer_bytes, verify_layers};
pub use digest::{Digest, HashingWriter};
pub(crate) use image::to_digest;
pub use image::{Image, ImageError};
pub(crate) use json::canonical_json;
pub use layer::{Layer, LayerWriter, NORMALIZED_MTIME};
pub(crate) use layout::write_index_of;
pub use layout::{Layout, LayoutError, write_atomic};
pub use platform::Platform;
