//! `zarrs-node-bench-raw read <store dir> <array path> <repeats>`: read a whole array with zarrs
//! directly (filesystem store, decode into one preallocated buffer, rayon with
//! `RAYON_NUM_THREADS` threads) and print per-repeat wall times in ms as JSON. This is what a
//! Rust user of zarrs gets, so zarrs-node's overhead is measured against it.

use std::sync::Arc;
use std::time::Instant;

use zarrs::array::{Array, ArrayBytesFixedDisjointView, ArraySubset, CodecOptions};
use zarrs::filesystem::FilesystemStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 || args[1] != "read" {
        return Err("usage: zarrs-node-bench-raw read <store dir> <array path> <repeats>".into());
    }
    let store = Arc::new(FilesystemStore::new(&args[2])?);
    let array = Array::open(store, &format!("/{}", args[3].trim_matches('/')))?;
    let repeats: usize = args[4].parse()?;
    let threads = rayon::current_num_threads();
    let mut options = CodecOptions::default();
    options.set_concurrent_target(threads);
    let elem = array
        .data_type()
        .fixed_size()
        .ok_or("fixed-size data types only")?;
    let shape = array.shape().to_vec();
    let n = usize::try_from(shape.iter().product::<u64>())?;
    let mut times = Vec::with_capacity(repeats);
    let mut checksum = 0u64;
    for _ in 0..repeats {
        let t = Instant::now();
        let mut out = vec![0u8; n * elem];
        {
            let mut view = unsafe {
                // SAFETY: a single view over the whole output buffer.
                ArrayBytesFixedDisjointView::new(
                    unsafe_cell_slice::UnsafeCellSlice::new(&mut out),
                    elem,
                    &shape,
                    ArraySubset::new_with_shape(shape.clone()),
                )?
            };
            array.retrieve_array_subset_into_opt(
                &array.subset_all(),
                (&mut view).into(),
                &options,
            )?;
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
        checksum =
            checksum.wrapping_add(out.iter().step_by(4099).map(|&b| u64::from(b)).sum::<u64>());
    }
    println!(
        "{}",
        serde_json::json!({ "threads": threads, "ms": times, "checksum": checksum })
    );
    Ok(())
}
