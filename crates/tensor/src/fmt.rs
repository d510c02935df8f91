//! `Display` and `Debug` in NumPy's style: nested brackets, one common number
//! format, and the middle of long dimensions elided past 1,000 elements.

use std::fmt;

use crate::float::Float;
use crate::tensor::Tensor;

/// Tensors with more elements than this are summarised.
const THRESHOLD: usize = 1000;
/// Entries kept at each end of a summarised dimension.
const EDGE: usize = 3;

impl<T: Float> fmt::Display for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = self.to_vec();
        let summarise = values.len() > THRESHOLD;
        let finite: Vec<f64> = values.iter().map(|v| v.as_f64()).filter(|v| v.is_finite()).collect();
        let max = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let min_nonzero = finite.iter().filter(|v| **v != 0.0).fold(f64::INFINITY, |m, v| m.min(v.abs()));
        let scientific = max >= 1e8 || (min_nonzero < 1e-4 && min_nonzero.is_finite());
        let integral = finite.iter().all(|v| v.fract() == 0.0) && max < 1e8;
        let fmt_one = |v: T| -> String {
            let x = v.as_f64();
            if !x.is_finite() {
                format!("{x}")
            } else if integral {
                format!("{x:.0}.")
            } else if scientific {
                format!("{x:.4e}")
            } else {
                format!("{x:.4}")
            }
        };
        let width = values.iter().map(|&v| fmt_one(v).len()).max().unwrap_or(0);
        write!(f, "tensor(")?;
        if self.rank() == 0 {
            write!(f, "{}", fmt_one(values[0]))?;
        } else {
            let strides = self.shape().contiguous_strides();
            let ctx =
                Ctx { values: &values, dims: self.dims(), strides: &strides, width, summarise, fmt_one: &fmt_one };
            ctx.write(f, 0, 0)?;
        }
        write!(f, ", shape={:?}, dtype={})", self.shape(), T::DTYPE)
    }
}

impl<T: Float> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

struct Ctx<'a, T> {
    values: &'a [T],
    dims: &'a [usize],
    strides: &'a [usize],
    width: usize,
    summarise: bool,
    fmt_one: &'a dyn Fn(T) -> String,
}

impl<T: Float> Ctx<'_, T> {
    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize, base: usize) -> fmt::Result {
        let n = self.dims[depth];
        let shown: Vec<Option<usize>> = if self.summarise && n > 2 * EDGE {
            (0..EDGE).map(Some).chain(std::iter::once(None)).chain((n - EDGE..n).map(Some)).collect()
        } else {
            (0..n).map(Some).collect()
        };
        write!(f, "[")?;
        let last_dim = depth + 1 == self.dims.len();
        for (pos, item) in shown.iter().enumerate() {
            if pos > 0 {
                if last_dim {
                    write!(f, ", ")?;
                } else {
                    let blank_lines = self.dims.len() - depth - 1;
                    write!(f, ",{}{}", "\n".repeat(blank_lines), " ".repeat(8 + depth))?;
                }
            }
            match item {
                None => write!(f, "...")?,
                Some(i) if last_dim => {
                    write!(f, "{:>w$}", (self.fmt_one)(self.values[base + i * self.strides[depth]]), w = self.width)?
                }
                Some(i) => self.write(f, depth + 1, base + i * self.strides[depth])?,
            }
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn prints_like_numpy() {
        let t = Tensor::from_vec(vec![1.5f32, -2.0, 3.25, 4.0], [2, 2]).unwrap();
        assert_eq!(t.to_string(), "tensor([[ 1.5000, -2.0000],\n        [ 3.2500,  4.0000]], shape=[2, 2], dtype=f32)");
        assert_eq!(Tensor::<f64>::eye(2).to_string(), "tensor([[1., 0.],\n        [0., 1.]], shape=[2, 2], dtype=f64)");
        assert_eq!(Tensor::scalar(2.5f32).to_string(), "tensor(2.5000, shape=[], dtype=f32)");
    }

    #[test]
    fn elides_large_tensors() {
        let t = Tensor::<f32>::arange(0.0, 2000.0, 1.0);
        assert_eq!(t.to_string(), "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.], shape=[2000], dtype=f32)");
        let big = Tensor::<f32>::zeros([100, 100]).to_string();
        assert!(big.contains("...") && big.lines().count() < 10, "{big}");
    }
}
