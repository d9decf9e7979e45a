//! OCI images on disk: image layouts, reproducible layers, manifests and configs.
//!
//! Everything here streams: a layer is tarred, gzipped and hashed (both the compressed digest and the
//! uncompressed diff id) in one pass, straight into the layout's blob store.

mod digest;
mod image;
mod json;
mod layer;
mod layout;

pub use digest::{Digest, HashingWriter};
pub use image::{Image, ImageError};
pub use json::canonical_json;
pub use layer::{Layer, LayerWriter, NORMALIZED_MTIME};
pub use layout::{Layout, LayoutError, write_atomic};
