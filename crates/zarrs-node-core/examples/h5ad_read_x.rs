//! Read a sparse X (`/X/data`, `/X/indices`, `/X/indptr`) of an .h5ad through the h5ad
//! source in bounded blocks and print the wall time: the reader measurement of issue 10.
//! `cargo run --profile ci -p zarrs-node-core --example h5ad_read_x -- FILE.h5ad...`

use zarrs_node_core::source::h5ad::H5adSource;
use zarrs_node_core::source::Source;

/// Elements per read: bounded, as the converter will read.
const BLOCK: u64 = 1 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for path in std::env::args().skip(1) {
        let start = std::time::Instant::now();
        let src = H5adSource::open(&path)?;
        let mut elements = 0u64;
        for name in ["/X/data", "/X/indices", "/X/indptr"] {
            let n = src.array_info(name)?.shape[0];
            let mut at = 0;
            while at < n {
                let end = (at + BLOCK).min(n);
                let block = src.read_rows(name, at..end)?;
                drop(block);
                elements += end - at;
                at = end;
            }
        }
        println!(
            "{path} rust-hdf5 {:.3} s {elements} elements",
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
