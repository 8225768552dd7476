//! `zarrs-node-bench-raw <spec.json>`: the benchmark's raw zarrs peer, zarrs called directly from
//! Rust with `RAYON_NUM_THREADS` threads, speaking the JSON protocol of `bench/README.md`.
//! This is what a Rust user of zarrs gets, so zarrs-node's overhead is measured against it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Map, Value};
use zarrs::array::{
    Array, ArrayShardedReadableExt, ArrayShardedReadableExtCache, ArraySubset, CodecOptions,
};
use zarrs::filesystem::FilesystemStore;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
type Arr = Array<FilesystemStore>;

/// The parts of the spec the operations need (the driver writes it; see the protocol README).
struct Spec {
    shape: Vec<u64>,
    chunk: Vec<u64>,
    inner: Vec<u64>,
    block: u64,
    random: Vec<Vec<u64>>,
    points: Vec<Vec<u64>>,
    repeats: usize,
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn open(path: &str) -> Res<Arr> {
    Ok(Array::open(Arc::new(FilesystemStore::new(path)?), "/")?)
}

/// Peak resident set size (KiB) since the last reset.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn reset_peak_rss() {
    // Best effort: the peak then covers the whole process where this is not Linux.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn sum(data: &[u16]) -> u64 {
    data.iter().map(|&v| u64::from(v)).sum()
}

/// Origins and shapes of the cells of a regular grid of `cell` over `shape`, in C order.
fn grid_cells(shape: &[u64], cell: &[u64]) -> Vec<ArraySubset> {
    let counts: Vec<u64> = shape
        .iter()
        .zip(cell)
        .map(|(s, c)| s.div_ceil(*c))
        .collect();
    let total: u64 = counts.iter().product();
    (0..total)
        .map(|i| {
            let mut r = i;
            let mut start = vec![0; shape.len()];
            for d in (0..shape.len()).rev() {
                start[d] = (r % counts[d]) * cell[d];
                r /= counts[d];
            }
            let extent = (0..shape.len())
                .map(|d| cell[d].min(shape[d] - start[d]))
                .collect();
            ArraySubset::new_with_start_shape(start, extent).expect("same dimensionality")
        })
        .collect()
}

struct Peer {
    opts: CodecOptions,
    spec: Spec,
}

impl Peer {
    fn read(
        &self,
        a: &Arr,
        cache: &ArrayShardedReadableExtCache,
        s: &ArraySubset,
    ) -> Res<Vec<u16>> {
        // The shard-index cache is what zarrs offers for partial reads of sharded arrays.
        Ok(a.retrieve_array_subset_sharded_opt::<Vec<u16>>(cache, s, &self.opts)?)
    }

    /// Read every cell of the grid, `concurrency` requests in flight (one thread each).
    fn cells(&self, a: &Arr, cell: &[u64], concurrency: usize, check: bool) -> Res<u64> {
        let cells = grid_cells(&self.spec.shape, cell);
        let cache = ArrayShardedReadableExtCache::new(a);
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..concurrency)
                .map(|_| {
                    scope.spawn(|| -> Res<u64> {
                        let mut s = 0;
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(c) = cells.get(i) else { return Ok(s) };
                            let data = self.read(a, &cache, c)?;
                            if check {
                                s += sum(&data);
                            }
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().map_err(|_| "reader thread panicked")?)
                .sum()
        })
    }

    fn each(&self, a: &Arr, subsets: &[ArraySubset], check: bool, lat: &mut Vec<f64>) -> Res<u64> {
        let cache = ArrayShardedReadableExtCache::new(a);
        let mut s = 0;
        for sub in subsets {
            let t = Instant::now();
            let data = self.read(a, &cache, sub)?;
            lat.push(t.elapsed().as_secs_f64());
            if check {
                s += sum(&data);
            }
        }
        Ok(s)
    }

    fn run(
        &self,
        op: &str,
        a: &Arr,
        target: Option<&Arr>,
        input: &[u16],
        check: bool,
        lat: &mut Vec<f64>,
    ) -> Res<u64> {
        let spec = &self.spec;
        let all = a.subset_all();
        let at = |starts: &[Vec<u64>], extent: u64| -> Vec<ArraySubset> {
            starts
                .iter()
                .map(|p| ArraySubset::new_with_start_shape(p.clone(), vec![extent; p.len()]))
                .collect::<Result<_, _>>()
                .expect("points of the array's dimensionality")
        };
        Ok(match op {
            "write" => {
                a.store_array_subset_opt(&all, input, &self.opts)?;
                if check {
                    sum(input)
                } else {
                    0
                }
            }
            "read_all" => {
                let data: Vec<u16> = a.retrieve_array_subset_opt(&all, &self.opts)?;
                if check {
                    sum(&data)
                } else {
                    0
                }
            }
            "round_trip" => {
                let data: Vec<u16> = a.retrieve_array_subset_opt(&all, &self.opts)?;
                target
                    .ok_or("no round-trip target")?
                    .store_array_subset_opt(&all, &data, &self.opts)?;
                if check {
                    sum(&data)
                } else {
                    0
                }
            }
            "chunks_1" => self.cells(a, &spec.chunk, 1, check)?,
            "chunks_2" => self.cells(a, &spec.chunk, 2, check)?,
            "inner_1" => self.cells(a, &spec.inner, 1, check)?,
            "inner_2" => self.cells(a, &spec.inner, 2, check)?,
            "random" => self.each(a, &at(&spec.random, spec.block), check, lat)?,
            "single" => self.each(a, &at(&spec.points, 1), true, lat)?,
            _ => return Err(format!("unknown operation '{op}'").into()),
        })
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    // Truncation is the intended floor of the rank.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((q * sorted.len() as f64) as usize).min(sorted.len() - 1);
    sorted[i]
}

fn op_result(peer: &Peer, op: &str, v: &Value) -> Res<Value> {
    let input = if op == "write" {
        let bytes = std::fs::read(v["input"].as_str().ok_or("spec.input")?)?;
        bytes
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect()
    } else {
        Vec::new()
    };
    reset_peak_rss();
    let key = if op == "write" {
        "writeTarget"
    } else {
        "store"
    };
    let a = open(v[key].as_str().ok_or("spec store path")?)?;
    let target = match op {
        "round_trip" => Some(open(
            v["roundTripTarget"]
                .as_str()
                .ok_or("spec.roundTripTarget")?,
        )?),
        _ => None,
    };
    let once = v["once"].as_bool() == Some(true);
    let mut lat = Vec::new();
    // `once` (whole-process timing): the one run does only the operation, no checksum pass.
    let checksum = peer.run(op, &a, target.as_ref(), &input, !once, &mut lat)?;
    lat.clear();
    let repeats = if once { 0 } else { peer.spec.repeats };
    let mut ms = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        peer.run(op, &a, target.as_ref(), &input, false, &mut lat)?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut r = json!({ "ms": ms, "checksum": checksum.to_string(), "peakRssKiB": peak_rss_kib() });
    if !lat.is_empty() {
        lat.sort_by(f64::total_cmp);
        r["p50Us"] = json!(quantile(&lat, 0.5) * 1e6);
        r["p99Us"] = json!(quantile(&lat, 0.99) * 1e6);
    }
    Ok(r)
}

/// The output floor of a full read: place a fresh C-order output of `shape` (`elem`-byte
/// elements) from one hot, already decoded chunk per cell of the `chunk` grid, on the pool's
/// threads, with no decoding and no I/O: the page faults of a new output and the scattered
/// copies of chunk rows into it, which every read into one output pays on top of decoding.
/// The output asks for huge pages, as zarrs-node's allocator does. Milliseconds per round,
/// fresh output each time.
fn output_floor(shape: &[u64], chunk: &[u64], elem: usize, rounds: usize) -> Res<Vec<f64>> {
    use rayon::prelude::*;
    let n = usize::try_from(shape.iter().product::<u64>())? * elem;
    let cells = grid_cells(shape, chunk);
    let run_bytes = usize::try_from(*chunk.last().ok_or("empty shape")?)? * elem;
    let chunk_bytes = usize::try_from(chunk.iter().product::<u64>())? * elem;
    let mut out_ms = Vec::with_capacity(rounds);
    for round in 0..=rounds {
        let t = Instant::now();
        let mut out = vec![0u8; n];
        #[cfg(target_os = "linux")]
        {
            // The whole 2 MiB pages inside the buffer (madvise wants aligned ranges).
            const HUGE: usize = 2 << 20;
            let lo = (out.as_ptr() as usize).next_multiple_of(HUGE);
            let hi = (out.as_ptr() as usize + n) & !(HUGE - 1);
            if hi > lo {
                // SAFETY: advice over whole pages of the buffer just allocated; no contents change.
                unsafe {
                    libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
                }
            }
        }
        let target = unsafe_cell_slice::UnsafeCellSlice::new(&mut out);
        cells.par_iter().for_each_init(
            || vec![1u8; chunk_bytes],
            |src, cell| {
                // Rows of the cell (all dimensions but the last) in C order, an odometer over
                // them carrying the output offset (no divisions per row).
                let (start, len) = (cell.start(), cell.shape());
                let outer = shape.len() - 1;
                let strides: Vec<usize> = (0..shape.len())
                    .map(|d| shape[d + 1..].iter().product::<u64>() as usize * elem)
                    .collect();
                let row = len[outer] as usize * elem;
                let mut at: usize = (0..shape.len())
                    .map(|d| start[d] as usize * strides[d])
                    .sum();
                let mut pos = vec![0u64; outer];
                let mut from = 0;
                let rows: u64 = len[..outer].iter().product();
                for _ in 0..rows {
                    // SAFETY: grid cells are disjoint, so each row is written by one thread.
                    unsafe { target.index_mut(at..at + row) }
                        .copy_from_slice(&src[from..from + row]);
                    from += run_bytes;
                    for d in (0..outer).rev() {
                        pos[d] += 1;
                        at += strides[d];
                        if pos[d] < len[d] {
                            break;
                        }
                        at -= strides[d] * len[d] as usize;
                        pos[d] = 0;
                    }
                }
            },
        );
        drop(out);
        // Round 0 warms the pool and the allocator.
        if round > 0 {
            out_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(out_ms)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "--output-floor" {
        // `--output-floor <spec.json> <element bytes>`: see `output_floor`.
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&args[2])?)?;
        let ms = output_floor(
            &u64s(&v["shape"]),
            &u64s(&v["chunk"]),
            args[3].parse()?,
            usize::try_from(v["repeats"].as_u64().unwrap_or(5))?,
        )?;
        println!(
            "{}",
            json!({ "ms": ms, "threads": rayon::current_num_threads() })
        );
        return Ok(());
    }
    if args.len() != 2 {
        return Err(
            "usage: zarrs-node-bench-raw <spec.json> | --output-floor <spec.json> <element bytes>"
                .into(),
        );
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&args[1])?)?;
    let threads = rayon::current_num_threads();
    let mut opts = CodecOptions::default();
    opts.set_concurrent_target(threads);
    let chunk = u64s(&v["chunk"]);
    let inner = if v["inner"].is_array() {
        u64s(&v["inner"])
    } else {
        chunk.clone()
    };
    let spec = Spec {
        shape: u64s(&v["shape"]),
        chunk,
        inner,
        block: v["block"].as_u64().unwrap_or(64),
        random: v["random"]
            .as_array()
            .map(|a| a.iter().map(u64s).collect())
            .unwrap_or_default(),
        points: v["points"]
            .as_array()
            .map(|a| a.iter().map(u64s).collect())
            .unwrap_or_default(),
        repeats: usize::try_from(v["repeats"].as_u64().unwrap_or(5))?,
    };
    let peer = Peer { opts, spec };
    let mut ops = Map::new();
    for op in v["ops"]
        .as_array()
        .ok_or("spec.ops")?
        .iter()
        .filter_map(Value::as_str)
    {
        let r = op_result(&peer, op, &v).unwrap_or_else(|e| json!({ "error": e.to_string() }));
        ops.insert(op.to_owned(), r);
    }
    let out = json!({
        "peer": "raw-zarrs", "version": "zarrs 0.23.14", "threads": threads, "ops": ops,
    });
    println!("{out}");
    Ok(())
}
