//! Writes of whole chunks, encoded here: each chunk (each inner chunk of an exclusively sharded
//! array) is cut from the caller's buffer one `memcpy` per contiguous run, encoded, and a shard
//! is assembled with its index here. zarrs cuts a region into chunks, and a shard into inner
//! chunks, through its per-run index iterator (~120 ns a run, see [`ZArray::read_chunks_into`]):
//! a 512^3 uint16 write with 64^3 chunks is 2 million runs of 128 bytes, and a sharded one went
//! through it twice (once per shard, once per inner chunk).

use std::num::NonZeroU64;

use rayon::prelude::*;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::codec::api::ArrayToBytesCodecTraits;
use zarrs::array::{ArrayBytes, ArraySubset, CodecOptions, FillValue};
use zarrs_storage::Bytes;

use super::grid::{copy_block, nonzero, per_shard, unravel, Placed, Sharding};
use super::{codec_err, Inner, ZArray, ZArrayInner};
use crate::error::{Error, ErrorCode, Result};
use crate::runtime::CancelToken;

impl ZArray {
    /// Store `bytes`, the C-order elements of `region`, which covers whole chunks (clipped to
    /// the array at its end), without reading anything: chunks that are all fill value are
    /// erased, as zarrs does; edge chunks are padded with the fill value.
    pub(super) fn write_whole_chunks(
        inner: &Inner,
        region: &ArraySubset,
        bytes: &[u8],
        elem: usize,
        cancel: &CancelToken,
    ) -> Result<()> {
        let array = &inner.array;
        let chunks = array
            .chunks_in_array_subset(region)?
            .ok_or_else(|| Error::invalid_selection("the region is outside the array"))?;
        let list: Vec<Vec<u64>> = chunks.indices().into_iter().map(|c| c.to_vec()).collect();
        let source = Source {
            region,
            bytes,
            elem,
            fill: array.fill_value(),
        };
        let mut opts = Self::options();
        if let Some(sharding) = inner.sharding.as_deref() {
            let sub = inner.unit_shape()?;
            // Inner chunks share the threads (a write of one shard still uses all of them).
            opts.set_concurrent_target(1);
            return list.par_iter().try_for_each(|idx| {
                cancel.check()?;
                sharding.store_shard(array, idx, &sub, &source, &opts, cancel)
            });
        }
        if list.len() >= opts.concurrent_target() {
            opts.set_concurrent_target(1);
        }
        list.par_iter().try_for_each(|idx| {
            cancel.check()?;
            let chunk = array.chunk_subset(idx)?;
            let cut = source.cut(chunk.start(), chunk.shape())?;
            array.store_chunk_opt(idx, ArrayBytes::new_flen(cut), &opts)?;
            Ok(())
        })
    }
}

/// The caller's buffer: the C-order elements of `region`.
struct Source<'a> {
    region: &'a ArraySubset,
    bytes: &'a [u8],
    elem: usize,
    fill: &'a FillValue,
}

impl Source<'_> {
    /// The C-order bytes of the block of `shape` at `origin` (array coordinates): what of it
    /// the region holds, the fill value elsewhere (past the array's end).
    fn cut(&self, origin: &[u64], shape: &[u64]) -> Result<Vec<u8>> {
        let block = ArraySubset::new_with_start_shape(origin.to_vec(), shape.to_vec())
            .map_err(codec_err)?;
        let part = block.overlap(self.region).map_err(codec_err)?;
        let n = usize::try_from(block.num_elements())
            .map_err(|_| Error::invalid_input("chunk too large"))?;
        let mut out = if part.shape() == shape {
            // Every byte is copied over: zeroed pages cost nothing until then.
            vec![0u8; n * self.elem]
        } else {
            self.fill.as_ne_bytes().repeat(n)
        };
        let relative = |from: &[u64]| -> Vec<u64> {
            part.start().iter().zip(from).map(|(p, f)| p - f).collect()
        };
        let (at_dst, at_src) = (relative(origin), relative(self.region.start()));
        let dst = Placed { shape, at: &at_dst };
        let src = Placed {
            shape: self.region.shape(),
            at: &at_src,
        };
        // SAFETY: `out` is this call's own buffer; `copy_block` checks every range.
        unsafe {
            copy_block(
                &UnsafeCellSlice::new(&mut out),
                &dst,
                self.bytes,
                &src,
                part.shape(),
                self.elem,
            )?;
        }
        Ok(out)
    }
}

impl Sharding {
    /// Encode the shard `idx` from `source`, which covers it (clipped to the array), and store
    /// it: inner chunks encoded in parallel, laid out in C order (as zarrs lays them out with
    /// the options this crate gives it), the index after or before them as the codec says.
    /// A shard of nothing but the fill value is erased.
    fn store_shard(
        &self,
        array: &ZArrayInner,
        idx: &[u64],
        sub: &[u64],
        source: &Source<'_>,
        opts: &CodecOptions,
        cancel: &CancelToken,
    ) -> Result<()> {
        let shard = array.chunk_subset(idx)?;
        let per = per_shard(shard.shape(), sub);
        let sub_nz = nonzero(sub)?;
        let n: u64 = per.iter().product();
        let encoded: Vec<Option<Vec<u8>>> = (0..n)
            .into_par_iter()
            .map(|k| -> Result<Option<Vec<u8>>> {
                cancel.check()?;
                // An inner chunk past the array's end cuts to the fill value, so it is left out.
                let corner = unravel(k, &per, shard.start(), sub);
                let cut = source.cut(&corner, sub)?;
                if source.fill.equals_all(&cut) {
                    return Ok(None);
                }
                let bytes = self
                    .inner_codecs
                    .encode(
                        ArrayBytes::new_flen(cut),
                        &sub_nz,
                        array.data_type(),
                        source.fill,
                        opts,
                    )
                    .map_err(codec_err)?;
                // zstd hands back its output in a buffer of the worst-case size: held until the
                // shard is assembled, 64 of those kept the allocator from reusing memory, and
                // every compression faulted its tables in afresh (sharded write 237 -> 177 ms).
                let mut bytes = bytes.into_owned();
                bytes.shrink_to_fit();
                Ok(Some(bytes))
            })
            .collect::<Result<_>>()?;
        if encoded.iter().all(Option::is_none) {
            array.erase_chunk(idx)?;
            return Ok(());
        }
        let assembled = self.assemble(&encoded, &per, opts)?;
        // SAFETY: `assemble` lays out a shard as the array's sharding codec decodes it.
        unsafe { array.store_encoded_chunk(idx, Bytes::from(assembled)) }?;
        Ok(())
    }

    /// One shard's bytes: the encoded inner chunks (`None`: absent) in C order and the index.
    fn assemble(
        &self,
        encoded: &[Option<Vec<u8>>],
        per: &[u64],
        opts: &CodecOptions,
    ) -> Result<Vec<u8>> {
        let mut index_shape = nonzero(per)?;
        index_shape.push(NonZeroU64::MIN.saturating_add(1));
        let index_type = zarrs::array::data_type::uint64();
        let index_fill = FillValue::from(u64::MAX);
        let index_size = match self
            .index_codecs
            .encoded_representation(&index_shape, &index_type, &index_fill)
            .map_err(codec_err)?
        {
            zarrs::array::BytesRepresentation::FixedSize(n) => {
                usize::try_from(n).map_err(|_| codec_err("shard index too large"))?
            }
            _ => return Err(codec_err("a shard index codec of variable size")),
        };
        let body: usize = encoded.iter().flatten().map(Vec::len).sum();
        let mut out = Vec::with_capacity(body + index_size);
        if self.index_at_start {
            out.resize(index_size, 0);
        }
        let mut index = vec![u64::MAX; 2 * encoded.len()];
        for (k, chunk) in encoded.iter().enumerate() {
            if let Some(chunk) = chunk {
                index[2 * k] = out.len() as u64;
                index[2 * k + 1] = chunk.len() as u64;
                out.extend_from_slice(chunk);
            }
        }
        let index_bytes: Vec<u8> = index.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let index_encoded = self
            .index_codecs
            .encode(
                ArrayBytes::new_flen(index_bytes),
                &index_shape,
                &index_type,
                &index_fill,
                opts,
            )
            .map_err(codec_err)?;
        if index_encoded.len() != index_size {
            return Err(Error::new(
                ErrorCode::Internal,
                format!(
                    "a shard index encoded to {} bytes, {index_size} expected",
                    index_encoded.len()
                ),
            ));
        }
        if self.index_at_start {
            out[..index_size].copy_from_slice(&index_encoded);
        } else {
            out.extend_from_slice(&index_encoded);
        }
        Ok(out)
    }
}
