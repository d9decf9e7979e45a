//! `rpack prune`.

use libbuildpack::toolbox::style::format_size;
use rpack::Error;
use rpack::store::Store;

pub fn run() -> Result<(), Error> {
    let store = Store::from_env()?;
    let pruned = rpack::store::images::prune(&store)?;
    println!(
        "removed {} unreferenced blobs, {} stale temp entries and {} builders of deleted builder.toml files, {} freed",
        pruned.blobs,
        pruned.temp,
        pruned.builders,
        format_size(pruned.bytes)
    );
    Ok(())
}
