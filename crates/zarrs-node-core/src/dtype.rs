//! The data types the public API exposes, their zarr v2/v3 spellings, and [`TypedVec`]: an
//! output buffer of the right element type, so decoded bytes land in memory the binding can
//! hand to JS as the matching TypedArray without a copy.

use zarrs::array::DataType as ZDataType;

use crate::error::{Error, ErrorCode, Result};

/// Element types of the public API (`DataType` in TypeScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// bool, one byte 0/1.
    Bool,
    /// int8.
    Int8,
    /// int16.
    Int16,
    /// int32.
    Int32,
    /// int64.
    Int64,
    /// uint8.
    UInt8,
    /// uint16.
    UInt16,
    /// uint32.
    UInt32,
    /// uint64.
    UInt64,
    /// IEEE half precision, exposed as raw u16 bits.
    Float16,
    /// float32.
    Float32,
    /// float64.
    Float64,
    /// Variable-length UTF-8 strings.
    String,
    /// Variable-length byte strings (v3 `variable_length_bytes`, v2 `|O` + `vlen-bytes`).
    Bytes,
}

impl DType {
    /// Every type, for tests and docs.
    pub const ALL: [DType; 14] = [
        DType::Bool,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::UInt8,
        DType::UInt16,
        DType::UInt32,
        DType::UInt64,
        DType::Float16,
        DType::Float32,
        DType::Float64,
        DType::String,
        DType::Bytes,
    ];

    /// Parse the public name (`'float32'`, ...).
    ///
    /// # Errors
    /// [`ErrorCode::Unsupported`] for unknown names.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "bool" => Self::Bool,
            "int8" => Self::Int8,
            "int16" => Self::Int16,
            "int32" => Self::Int32,
            "int64" => Self::Int64,
            "uint8" => Self::UInt8,
            "uint16" => Self::UInt16,
            "uint32" => Self::UInt32,
            "uint64" => Self::UInt64,
            "float16" => Self::Float16,
            "float32" => Self::Float32,
            "float64" => Self::Float64,
            "string" | "str" => Self::String,
            "bytes" | "variable_length_bytes" => Self::Bytes,
            other => {
                return Err(Error::unsupported(format!(
                    "unsupported data type '{other}' (supported: bool, int8..int64, uint8..uint64, float16, float32, float64, string, bytes)"
                )))
            }
        })
    }

    /// The public (and zarr v3) name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::UInt8 => "uint8",
            Self::UInt16 => "uint16",
            Self::UInt32 => "uint32",
            Self::UInt64 => "uint64",
            Self::Float16 => "float16",
            Self::Float32 => "float32",
            Self::Float64 => "float64",
            Self::String => "string",
            Self::Bytes => "bytes",
        }
    }

    /// The numpy-style zarr v2 dtype string (little endian).
    #[must_use]
    pub fn v2_name(self) -> &'static str {
        match self {
            Self::Bool => "|b1",
            Self::Int8 => "|i1",
            Self::Int16 => "<i2",
            Self::Int32 => "<i4",
            Self::Int64 => "<i8",
            Self::UInt8 => "|u1",
            Self::UInt16 => "<u2",
            Self::UInt32 => "<u4",
            Self::UInt64 => "<u8",
            Self::Float16 => "<f2",
            Self::Float32 => "<f4",
            Self::Float64 => "<f8",
            Self::String | Self::Bytes => "|O",
        }
    }

    /// Bytes per element; `None` for strings.
    #[must_use]
    pub fn size(self) -> Option<usize> {
        Some(match self {
            Self::Bool | Self::Int8 | Self::UInt8 => 1,
            Self::Int16 | Self::UInt16 | Self::Float16 => 2,
            Self::Int32 | Self::UInt32 | Self::Float32 => 4,
            Self::Int64 | Self::UInt64 | Self::Float64 => 8,
            Self::String | Self::Bytes => return None,
        })
    }

    /// Whether elements are variable-length (strings, bytes).
    #[must_use]
    pub fn is_variable(self) -> bool {
        matches!(self, Self::String | Self::Bytes)
    }

    /// Element size used for chunk-size policies (strings: a typical 16 bytes).
    #[must_use]
    pub fn nominal_size(self) -> usize {
        self.size().unwrap_or(16)
    }

    /// Whether the type is a float.
    #[must_use]
    pub fn is_float(self) -> bool {
        matches!(self, Self::Float16 | Self::Float32 | Self::Float64)
    }

    /// Map a zarrs data type (from any v2/v3 metadata spelling) to ours.
    ///
    /// # Errors
    /// [`ErrorCode::Unsupported`] for types outside the public set.
    pub fn from_zarrs(dt: &ZDataType) -> Result<Self> {
        let name = dt.name_v3().map(|n| n.into_owned()).unwrap_or_default();
        match name.as_str() {
            "bool" | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32"
            | "uint64" | "float16" | "float32" | "float64" | "string" | "bytes" => {
                Self::parse(&name)
            }
            _ => Err(Error::new(
                ErrorCode::Unsupported,
                format!("data type '{name}' is not supported by zarrs-node"),
            )),
        }
    }
}

/// A decoded buffer with the element type of its data type.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum TypedVec {
    Bool(Vec<u8>),
    Int8(Vec<i8>),
    Int16(Vec<i16>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    UInt8(Vec<u8>),
    UInt16(Vec<u16>),
    UInt32(Vec<u32>),
    UInt64(Vec<u64>),
    Float16(Vec<u16>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    String(Vec<String>),
    Bytes(Vec<Vec<u8>>),
}

/// A zero-filled vector from `alloc_zeroed`: the OS hands out zero pages lazily, so the decode
/// that follows is the first and only pass over the memory (a `resize` would write it twice).
/// Allocation failure is an error, not an abort.
fn zeroed<T: bytemuck::Zeroable>(n: usize) -> Result<Vec<T>> {
    if n == 0 || std::mem::size_of::<T>() == 0 {
        return Ok(Vec::new());
    }
    let oom = || {
        Error::new(
            ErrorCode::InvalidInput,
            format!("cannot allocate {n} elements: out of memory"),
        )
    };
    let layout = std::alloc::Layout::array::<T>(n).map_err(|_| oom())?;
    // SAFETY: `layout` has non-zero size; the pointer is checked for null; the memory is
    // zeroed, which is a valid `T` (`Zeroable`); length and capacity are both `n`, matching the
    // layout the global allocator will free it with.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout).cast::<T>();
        if ptr.is_null() {
            return Err(oom());
        }
        Ok(Vec::from_raw_parts(ptr, n, n))
    }
}

/// Empty strings or byte strings (no zeroed-memory shortcut for them).
fn empty_strings<T: Default + Clone>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("cannot allocate {n} strings: out of memory"),
        )
    })?;
    v.resize(n, T::default());
    Ok(v)
}

impl TypedVec {
    /// A zero-filled buffer of `n` elements (strings: empty strings).
    ///
    /// # Errors
    /// When the allocation fails.
    pub fn zeroed(dtype: DType, n: usize) -> Result<Self> {
        Ok(match dtype {
            DType::Bool => Self::Bool(zeroed(n)?),
            DType::Int8 => Self::Int8(zeroed(n)?),
            DType::Int16 => Self::Int16(zeroed(n)?),
            DType::Int32 => Self::Int32(zeroed(n)?),
            DType::Int64 => Self::Int64(zeroed(n)?),
            DType::UInt8 => Self::UInt8(zeroed(n)?),
            DType::UInt16 => Self::UInt16(zeroed(n)?),
            DType::UInt32 => Self::UInt32(zeroed(n)?),
            DType::UInt64 => Self::UInt64(zeroed(n)?),
            DType::Float16 => Self::Float16(zeroed(n)?),
            DType::Float32 => Self::Float32(zeroed(n)?),
            DType::Float64 => Self::Float64(zeroed(n)?),
            DType::String => Self::String(empty_strings(n)?),
            DType::Bytes => Self::Bytes(empty_strings(n)?),
        })
    }

    /// The raw bytes of a fixed-size buffer (`None` for strings).
    pub fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        use bytemuck::cast_slice_mut as c;
        Some(match self {
            Self::Bool(v) | Self::UInt8(v) => v.as_mut_slice(),
            Self::Int8(v) => c(v.as_mut_slice()),
            Self::Int16(v) => c(v.as_mut_slice()),
            Self::Int32(v) => c(v.as_mut_slice()),
            Self::Int64(v) => c(v.as_mut_slice()),
            Self::UInt16(v) | Self::Float16(v) => c(v.as_mut_slice()),
            Self::UInt32(v) => c(v.as_mut_slice()),
            Self::UInt64(v) => c(v.as_mut_slice()),
            Self::Float32(v) => c(v.as_mut_slice()),
            Self::Float64(v) => c(v.as_mut_slice()),
            Self::String(_) | Self::Bytes(_) => return None,
        })
    }

    /// The raw bytes of a fixed-size buffer (`None` for strings).
    #[must_use]
    pub fn bytes(&self) -> Option<&[u8]> {
        use bytemuck::cast_slice as c;
        Some(match self {
            Self::Bool(v) | Self::UInt8(v) => v.as_slice(),
            Self::Int8(v) => c(v.as_slice()),
            Self::Int16(v) => c(v.as_slice()),
            Self::Int32(v) => c(v.as_slice()),
            Self::Int64(v) => c(v.as_slice()),
            Self::UInt16(v) | Self::Float16(v) => c(v.as_slice()),
            Self::UInt32(v) => c(v.as_slice()),
            Self::UInt64(v) => c(v.as_slice()),
            Self::Float32(v) => c(v.as_slice()),
            Self::Float64(v) => c(v.as_slice()),
            Self::String(_) | Self::Bytes(_) => return None,
        })
    }
}
