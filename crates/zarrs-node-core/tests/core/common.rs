//! Helpers the modules share (one binary: temp dirs carry the module's name so tests running in
//! parallel never share one).

use serde_json::Value;
use zarrs_node_core::{CreateArrayOptions, Store, StoreOptions, ZArray};

/// A fresh filesystem store at `<tmp>/zn-<module>-<name>-<pid>`.
pub fn store(module: &str, name: &str) -> Store {
    let d = std::env::temp_dir().join(format!("zn-{module}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    Store::open(&d.display().to_string(), &StoreOptions::default()).unwrap()
}

/// An array created from options given as JSON (the shape the binding passes).
pub fn create(store: &Store, path: &str, opts: Value) -> ZArray {
    let opts: CreateArrayOptions = serde_json::from_value(opts).unwrap();
    ZArray::create(store, path, &opts).unwrap()
}
