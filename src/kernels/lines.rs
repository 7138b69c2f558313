//! Buffers that start a 64-byte cache line, so that a whole vector at a multiple of its width
//! touches one line, never two. A `Vec<f32>` starts wherever malloc puts it, on some 16-byte
//! boundary: one mapped on its own (large) right after malloc's 16-byte header, so 16 bytes past
//! a line. Safe code: the buffer is over-allocated and the slice starts at its first float on a
//! line boundary, read from the address.

/// Floats in a 64-byte cache line.
pub(crate) const LINE_FLOATS: usize = 16;

/// How many floats of `xs` precede its first float on a 64-byte line boundary (below
/// [`LINE_FLOATS`]; `xs` is at least 4-byte aligned, as every `f32` is).
pub(crate) fn line_offset(xs: &[f32]) -> usize {
    let misaligned = (xs.as_ptr() as usize) % (4 * LINE_FLOATS);
    (4 * LINE_FLOATS - misaligned) % (4 * LINE_FLOATS) / 4
}

/// The `len` floats of `buf` from its first float on a line boundary. Panics if `buf` is
/// shorter than `len + LINE_FLOATS - 1` floats (the room that always suffices).
pub(crate) fn on_line(buf: &mut [f32], len: usize) -> &mut [f32] {
    let off = line_offset(buf);
    &mut buf[off..off + len]
}

/// `len` floats that start a 64-byte cache line (the general-shape tables and scratch).
#[derive(Default)]
pub(crate) struct LineFloats {
    buf: Vec<f32>,
    off: usize,
    len: usize,
}

impl LineFloats {
    /// `len` zeros.
    pub(crate) fn zeros(len: usize) -> LineFloats {
        let buf = vec![0.0f32; len + LINE_FLOATS - 1];
        let off = line_offset(&buf);
        LineFloats { buf, off, len }
    }

    /// `Vec::resize` with zeros: the first `min(len, old)` floats kept, the rest zero; a new
    /// buffer when the length changes (a caller that resizes to the same length each batch
    /// allocates once).
    pub(crate) fn resize(&mut self, len: usize) {
        if len != self.len {
            let mut grown = LineFloats::zeros(len);
            let kept = len.min(self.len);
            grown[..kept].copy_from_slice(&self[..kept]);
            *self = grown;
        }
    }
}

impl std::ops::Deref for LineFloats {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.buf[self.off..self.off + self.len]
    }
}

impl std::ops::DerefMut for LineFloats {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buf[self.off..self.off + self.len]
    }
}

impl Clone for LineFloats {
    /// A new buffer, aligned where it lands (a `Vec`'s clone could start elsewhere on a line).
    fn clone(&self) -> LineFloats {
        let mut copy = LineFloats::zeros(self.len);
        copy.copy_from_slice(self);
        copy
    }
}

impl PartialEq for LineFloats {
    fn eq(&self, other: &LineFloats) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for LineFloats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// One 64-byte cache line of floats, on a line boundary.
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
struct Line([f32; LINE_FLOATS]);

/// Rows of [`LINE_FLOATS`] floats, each one cache line (the training shard's tape of 16-lane
/// values). Read as `[[f32; 16]]`: the same size as [`Line`] with a smaller alignment, so the
/// view is a pointer cast with nothing checked at run time.
#[derive(Clone, Debug, Default)]
pub(crate) struct LineRows(Vec<Line>);

impl LineRows {
    /// `rows` rows of zeros.
    pub(crate) fn zeros(rows: usize) -> LineRows {
        LineRows(vec![Line::default(); rows])
    }
}

impl std::ops::Deref for LineRows {
    type Target = [[f32; LINE_FLOATS]];
    fn deref(&self) -> &[[f32; LINE_FLOATS]] {
        bytemuck::cast_slice(&self.0)
    }
}

impl std::ops::DerefMut for LineRows {
    fn deref_mut(&mut self) -> &mut [[f32; LINE_FLOATS]] {
        bytemuck::cast_slice_mut(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_floats_are_their_length_of_zeros_on_a_line_boundary() {
        for len in [0, 1, 15, 16, 17, 1000] {
            let xs = LineFloats::zeros(len);
            assert_eq!(xs.len(), len);
            assert!(xs.iter().all(|&x| x == 0.0));
            if len > 0 {
                assert_eq!(xs.as_ptr() as usize % 64, 0, "len {len}");
            }
        }
    }

    #[test]
    fn line_floats_resize_as_a_vec_does_and_stay_on_a_line_boundary() {
        let mut xs = LineFloats::default();
        let mut v: Vec<f32> = Vec::new();
        for len in [5, 40, 40, 3, 0, 17] {
            xs.resize(len);
            v.resize(len, 0.0);
            assert_eq!(&*xs, &v[..]);
            if len > 0 {
                assert_eq!(xs.as_ptr() as usize % 64, 0, "len {len}");
            }
            for (i, (x, y)) in xs.iter_mut().zip(&mut v).enumerate() {
                (*x, *y) = (i as f32 + 0.5, i as f32 + 0.5);
            }
        }
    }

    #[test]
    fn line_rows_are_rows_of_zeros_on_a_line_boundary_and_so_are_their_clones() {
        for rows in [1, 3, 3200] {
            let mut xs = LineRows::zeros(rows);
            assert_eq!(xs.len(), rows);
            xs[rows - 1][15] = 2.5;
            let copy = xs.clone();
            for x in [&xs, &copy] {
                assert_eq!(x.as_ptr() as usize % 64, 0, "rows {rows}");
                assert_eq!(x[rows - 1][15], 2.5);
                assert_eq!(x.iter().flatten().filter(|&&v| v != 0.0).count(), 1);
            }
        }
    }
}
