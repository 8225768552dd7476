//! Shared set-up of the fuzz targets: one in-memory store, emptied for every input, and a
//! small allocation limit so an absurd shape fails as an error instead of exhausting memory.

use zarrs_node_core::{Store, StoreOptions};

/// The fuzz store, empty.
///
/// # Panics
/// Never for a memory store (opening and clearing one cannot fail).
#[must_use]
pub fn fresh_store() -> Store {
    zarrs_node_core::set_max_alloc_bytes(1 << 24);
    let store = Store::open("memory://fuzz", &StoreOptions::default()).expect("memory store");
    store.delete_prefix("").expect("clear memory store");
    store
}

/// Put a value, ignoring invalid keys (the input chose them).
pub fn put(store: &Store, key: &str, value: &[u8]) {
    let _ = store.set(key, value.to_vec());
}

/// A failure must carry a code other than `Internal` (an internal error is a bug: a caught
/// panic or a broken invariant).
///
/// # Panics
/// On an `Internal` error, so libFuzzer records the input.
pub fn check<T>(r: zarrs_node_core::Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) if e.code == zarrs_node_core::ErrorCode::Internal => {
            panic!("internal error: {} (key {:?})", e.message, e.key)
        }
        Err(_) => None,
    }
}

/// Read a corner of `a` (two elements per dimension) three ways: region, orthogonal and
/// points, which between them take every read path (whole chunks, sharded partial, gathers).
pub fn read_corner(a: &zarrs_node_core::ZArray) {
    use zarrs_node_core::{CancelToken, DimSpec};
    let Some(shape) = check(a.shape()) else {
        return;
    };
    let never = CancelToken::never();
    let region: Vec<DimSpec> = shape
        .iter()
        .map(|_| DimSpec::Slice {
            start: Some(0),
            stop: Some(2),
            step: None,
        })
        .collect();
    check(a.get(&region, &never));
    let picks: Vec<DimSpec> = shape.iter().map(|_| DimSpec::Indices(vec![1, 0])).collect();
    check(a.get_orthogonal(&picks, &never));
    let points: Vec<Vec<i64>> = shape.iter().map(|_| vec![0, 1]).collect();
    check(a.get_coordinates(&points, &never));
    check(a.metadata_json());
    check(a.chunks());
    check(a.shards());
}
