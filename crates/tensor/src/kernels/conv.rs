//! im2col and col2im for [`Tensor::conv2d`](crate::Tensor::conv2d): the
//! patches of one image (one group's channels) as the columns of a matrix,
//! and the adjoint that adds such columns back onto the image.

/// The sizes of one convolution, checked by the caller.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub ho: usize,
    pub wo: usize,
    pub groups: usize,
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
}

impl Geometry {
    /// Rows of the column matrix: one group's channels × kernel taps.
    pub fn k(&self) -> usize {
        self.c / self.groups * self.kh * self.kw
    }

    /// Columns: output positions.
    pub fn l(&self) -> usize {
        self.ho * self.wo
    }

    /// The input row (or column) a tap reads for an output position, if it
    /// is inside the image (padding reads zeros).
    #[inline(always)]
    fn source(out: usize, tap: usize, stride: usize, dilation: usize, padding: usize, size: usize) -> Option<usize> {
        (out * stride + tap * dilation).checked_sub(padding).filter(|&i| i < size)
    }
}

/// The output columns `ow` whose tap `j` reads inside the image, and the
/// image column the first of them reads: `ow·s + j·d − p ∈ [0, W)`.
#[inline]
fn valid_columns(geo: &Geometry, j: usize) -> (std::ops::Range<usize>, usize) {
    let (s, off) = (geo.stride[1], j * geo.dilation[1]);
    let p = geo.padding[1];
    let lo = if p > off { (p - off).div_ceil(s) } else { 0 };
    let hi = if geo.w + p > off { ((geo.w + p - off - 1) / s + 1).min(geo.wo) } else { 0 };
    if lo >= hi {
        return (0..0, 0);
    }
    (lo..hi, lo * s + off - p)
}

/// `cols[(c·kH + i)·kW + j][oh·W_out + ow] = image[c][oh·s − p + i·d][ow·s − p + j·d]`
/// (zero outside the image), for the `C/groups` channels in `image`. Each
/// row segment is a slice copy at stride 1 (the common case) and a strided
/// gather otherwise; only the padding's columns are zeroed.
pub(crate) fn im2col<T: Copy + num_traits::Zero>(geo: &Geometry, image: &[T], cols: &mut [T]) {
    let (l, cg) = (geo.l(), geo.c / geo.groups);
    debug_assert!(image.len() == cg * geo.h * geo.w && cols.len() == geo.k() * l);
    let s = geo.stride[1];
    for c in 0..cg {
        let plane = &image[c * geo.h * geo.w..][..geo.h * geo.w];
        for i in 0..geo.kh {
            for j in 0..geo.kw {
                let row = &mut cols[((c * geo.kh + i) * geo.kw + j) * l..][..l];
                let (valid, first) = valid_columns(geo, j);
                for oh in 0..geo.ho {
                    let dst = &mut row[oh * geo.wo..][..geo.wo];
                    match Geometry::source(oh, i, geo.stride[0], geo.dilation[0], geo.padding[0], geo.h) {
                        None => dst.fill(T::zero()),
                        Some(y) => {
                            dst[..valid.start].fill(T::zero());
                            dst[valid.end..].fill(T::zero());
                            let src = &plane[y * geo.w + first..];
                            let dst = &mut dst[valid.clone()];
                            if s == 1 {
                                dst.copy_from_slice(&src[..dst.len()]);
                            } else {
                                dst.iter_mut().zip(src.iter().step_by(s)).for_each(|(d, &v)| *d = v);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds each column entry onto the image
/// position it was read from (entries read from padding are dropped).
pub(crate) fn col2im<T: Copy + std::ops::AddAssign>(geo: &Geometry, cols: &[T], image: &mut [T]) {
    let (l, cg) = (geo.l(), geo.c / geo.groups);
    debug_assert!(image.len() == cg * geo.h * geo.w && cols.len() == geo.k() * l);
    let s = geo.stride[1];
    for c in 0..cg {
        let plane = &mut image[c * geo.h * geo.w..][..geo.h * geo.w];
        for i in 0..geo.kh {
            for j in 0..geo.kw {
                let row = &cols[((c * geo.kh + i) * geo.kw + j) * l..][..l];
                let (valid, first) = valid_columns(geo, j);
                for oh in 0..geo.ho {
                    let Some(y) = Geometry::source(oh, i, geo.stride[0], geo.dilation[0], geo.padding[0], geo.h) else {
                        continue;
                    };
                    let src = &row[oh * geo.wo..][valid.clone()];
                    let dst = &mut plane[y * geo.w + first..];
                    if s == 1 {
                        dst[..src.len()].iter_mut().zip(src).for_each(|(d, &v)| *d += v);
                    } else {
                        dst.iter_mut().step_by(s).zip(src).for_each(|(d, &v)| *d += v);
                    }
                }
            }
        }
    }
}
