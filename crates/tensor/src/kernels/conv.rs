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

/// `cols[(c·kH + i)·kW + j][oh·W_out + ow] = image[c][oh·s − p + i·d][ow·s − p + j·d]`
/// (zero outside the image), for the `C/groups` channels in `image`.
pub(crate) fn im2col<T: Copy + num_traits::Zero>(geo: &Geometry, image: &[T], cols: &mut [T]) {
    let (l, cg) = (geo.l(), geo.c / geo.groups);
    debug_assert!(image.len() == cg * geo.h * geo.w && cols.len() == geo.k() * l);
    for c in 0..cg {
        let plane = &image[c * geo.h * geo.w..][..geo.h * geo.w];
        for i in 0..geo.kh {
            for j in 0..geo.kw {
                let row = &mut cols[((c * geo.kh + i) * geo.kw + j) * l..][..l];
                for oh in 0..geo.ho {
                    let dst = &mut row[oh * geo.wo..][..geo.wo];
                    match Geometry::source(oh, i, geo.stride[0], geo.dilation[0], geo.padding[0], geo.h) {
                        None => dst.iter_mut().for_each(|v| *v = T::zero()),
                        Some(y) => {
                            let src = &plane[y * geo.w..][..geo.w];
                            for (ow, v) in dst.iter_mut().enumerate() {
                                *v = match Geometry::source(
                                    ow,
                                    j,
                                    geo.stride[1],
                                    geo.dilation[1],
                                    geo.padding[1],
                                    geo.w,
                                ) {
                                    Some(x) => src[x],
                                    None => T::zero(),
                                };
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
    for c in 0..cg {
        let plane = &mut image[c * geo.h * geo.w..][..geo.h * geo.w];
        for i in 0..geo.kh {
            for j in 0..geo.kw {
                let row = &cols[((c * geo.kh + i) * geo.kw + j) * l..][..l];
                for oh in 0..geo.ho {
                    let Some(y) = Geometry::source(oh, i, geo.stride[0], geo.dilation[0], geo.padding[0], geo.h) else {
                        continue;
                    };
                    let dst = &mut plane[y * geo.w..][..geo.w];
                    for (ow, &v) in row[oh * geo.wo..][..geo.wo].iter().enumerate() {
                        if let Some(x) = Geometry::source(ow, j, geo.stride[1], geo.dilation[1], geo.padding[1], geo.w)
                        {
                            dst[x] += v;
                        }
                    }
                }
            }
        }
    }
}
