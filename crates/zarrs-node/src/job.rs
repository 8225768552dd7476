//! One generic libuv task: run a closure on the libuv pool (the core runs rayon inside it),
//! map core errors to JS errors, and never let a panic escape.

use napi::bindgen_prelude::*;
use zarrs_node_core::error::catch_panic;

use crate::marshal::to_napi_err;

type Work<T> = Box<dyn FnOnce() -> zarrs_node_core::Result<T> + Send>;

/// A closure run off the JS thread whose result resolves a Promise.
pub struct Job<T: Send + 'static> {
    work: Option<Work<T>>,
}

/// Wrap `f` as an `AsyncTask` (the JS side sees a Promise).
pub fn job<T, F>(f: F) -> AsyncTask<Job<T>>
where
    T: Send + 'static + ToNapiValue + TypeName,
    F: FnOnce() -> zarrs_node_core::Result<T> + Send + 'static,
{
    AsyncTask::new(Job {
        work: Some(Box::new(f)),
    })
}

impl<T: Send + 'static + ToNapiValue + TypeName> Task for Job<T> {
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::new(Status::GenericFailure, "task already ran"))?;
        catch_panic(work).map_err(to_napi_err)
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}

/// Run `f` synchronously with the same error and panic handling.
pub fn sync<T>(f: impl FnOnce() -> zarrs_node_core::Result<T>) -> Result<T> {
    catch_panic(f).map_err(to_napi_err)
}
