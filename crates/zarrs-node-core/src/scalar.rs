//! One JSON scalar -> the little-endian bytes of one element (for broadcast writes).

use serde_json::Value;

use crate::dtype::DType;
use crate::error::{Error, Result};

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => other.parse().ok(),
        },
        _ => None,
    }
}

fn as_i128(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i128)),
        Value::Bool(b) => Some(i128::from(*b)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Encode `v` as one element of `dtype`.
///
/// # Errors
/// [`crate::ErrorCode::InvalidInput`] when `v` does not fit the type.
pub fn scalar_bytes(dtype: DType, v: &Value) -> Result<Vec<u8>> {
    let bad = || Error::invalid_input(format!("{v} is not a valid {} value", dtype.name()));
    macro_rules! int {
        ($t:ty) => {{
            let i = as_i128(v).ok_or_else(bad)?;
            <$t>::try_from(i).map_err(|_| bad())?.to_le_bytes().to_vec()
        }};
    }
    Ok(match dtype {
        DType::Bool => match v {
            Value::Bool(b) => vec![u8::from(*b)],
            _ => match as_i128(v) {
                Some(0) => vec![0],
                Some(1) => vec![1],
                _ => return Err(bad()),
            },
        },
        DType::Int8 => int!(i8),
        DType::Int16 => int!(i16),
        DType::Int32 => int!(i32),
        DType::Int64 => int!(i64),
        DType::UInt8 => int!(u8),
        DType::UInt16 => int!(u16),
        DType::UInt32 => int!(u32),
        DType::UInt64 => int!(u64),
        DType::Float16 => half::f16::from_f64(as_f64(v).ok_or_else(bad)?)
            .to_le_bytes()
            .to_vec(),
        DType::Float32 => (as_f64(v).ok_or_else(bad)? as f32).to_le_bytes().to_vec(),
        DType::Float64 => as_f64(v).ok_or_else(bad)?.to_le_bytes().to_vec(),
        DType::String | DType::Bytes => return Err(bad()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes() {
        assert_eq!(
            scalar_bytes(DType::UInt16, &json!(258)).unwrap(),
            vec![2, 1]
        );
        assert_eq!(
            scalar_bytes(DType::Int64, &json!("-9223372036854775808")).unwrap(),
            i64::MIN.to_le_bytes()
        );
        assert_eq!(
            scalar_bytes(DType::Float16, &json!(1.0)).unwrap(),
            vec![0x00, 0x3c]
        );
        assert!(scalar_bytes(DType::UInt8, &json!(-1)).is_err());
        assert!(scalar_bytes(DType::Bool, &json!(2)).is_err());
        assert!(f64::from_le_bytes(
            scalar_bytes(DType::Float64, &json!("NaN"))
                .unwrap()
                .try_into()
                .unwrap()
        )
        .is_nan());
    }
}
