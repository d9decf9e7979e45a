//! `rpack prune`.

use rpack::Error;
use rpack::store::Store;
use rpack::toolbox::format::human_size;

pub fn run() -> Result<(), Error> {
    let store = Store::from_env()?;
    let pruned = rpack::store::images::prune(&store)?;
    println!(
        "removed {} unreferenced blobs and {} stale temp entries, {} freed",
        pruned.blobs,
        pruned.temp,
        human_size(pruned.bytes)
    );
    Ok(())
}
