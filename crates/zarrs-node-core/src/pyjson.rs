//! JSON spelled the way zarr-python 3 writes zarr v2 documents (Python's `json.dumps`):
//! non-ASCII escaped as `\uXXXX`; `.zarray`/`.zattrs`/`.zgroup` indented by 2, `.zmetadata` on
//! one line with `", "` and `": "` separators. Readers such as tensorstore compare nothing
//! byte-wise, but tools that diff stores do, and one spelling is easier to reason about.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::Value;

use crate::error::Result;

/// Python `json.dumps` layout: `indent=2`, or the one-line default.
struct PyFormatter {
    pretty: Option<PrettyFormatter<'static>>,
}

impl PyFormatter {
    /// Run the pretty layout's step, or write the one-line layout's `compact` text.
    fn layout<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        pretty: impl FnOnce(&mut PrettyFormatter<'static>, &mut W) -> io::Result<()>,
        compact: &[u8],
    ) -> io::Result<()> {
        match &mut self.pretty {
            Some(p) => pretty(p, w),
            None => w.write_all(compact),
        }
    }
}

/// `", "` between items of the one-line layout.
fn separator(first: bool) -> &'static [u8] {
    if first {
        b""
    } else {
        b", "
    }
}

impl Formatter for PyFormatter {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.layout(w, |p, w| p.begin_array(w), b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.layout(w, |p, w| p.end_array(w), b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.layout(w, |p, w| p.begin_array_value(w, first), separator(first))
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.layout(w, |p, w| p.end_array_value(w), b"")
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.layout(w, |p, w| p.begin_object(w), b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.layout(w, |p, w| p.end_object(w), b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.layout(w, |p, w| p.begin_object_key(w, first), separator(first))
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        // both Python layouts put a space after the colon
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.layout(w, |p, w| p.end_object_value(w), b"")
    }
    /// `ensure_ascii`: everything outside printable ASCII becomes `\uXXXX` (UTF-16 units,
    /// lower-case hex, as Python writes them). serde has already escaped quotes, backslashes
    /// and control characters.
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        for c in s.chars() {
            if (' '..='~').contains(&c) {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Serialise `v` as Python's `json.dumps(v, indent=2)` (`pretty`) or `json.dumps(v)`.
///
/// # Errors
/// Serialisation errors (none for a `Value`).
pub fn to_vec(v: &Value, pretty: bool) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let fmt = PyFormatter {
        pretty: pretty.then(|| PrettyFormatter::with_indent(b"  ")),
    };
    v.serialize(&mut serde_json::Serializer::with_formatter(&mut out, fmt))?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spells_like_python() {
        let v = json!({ "b": [1, 2.5], "a": "é😀\u{7f}\"\n", "e": {}, "l": [] });
        // json.dumps(v)
        assert_eq!(
            String::from_utf8(to_vec(&v, false).unwrap()).unwrap(),
            r#"{"b": [1, 2.5], "a": "\u00e9\ud83d\ude00\u007f\"\n", "e": {}, "l": []}"#
        );
        // json.dumps(v, indent=2)
        assert_eq!(
            String::from_utf8(to_vec(&json!({ "s": [4], "o": {} }), true).unwrap()).unwrap(),
            "{\n  \"s\": [\n    4\n  ],\n  \"o\": {}\n}"
        );
    }
}
