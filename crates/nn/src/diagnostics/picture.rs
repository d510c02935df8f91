//! Pictures of what convolutional layers learned, as PNG files: a layer's
//! filters as tiles, the feature maps a layer computes for a few inputs,
//! and, per unit, the input patches that excite it most.
//!
//! The PNG writer is the format's minimum (8-bit RGB, one zlib stream,
//! CRC-32 from `flate2`, which the data loaders already use for gzip): a
//! picture is a few dozen kilobytes and needs no image crate.

use std::io::Write;
use std::path::Path;

use strata_tensor::{Float, Tensor};

use crate::error::Error;

/// An 8-bit RGB image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height × width × 3` bytes, row by row.
    pub rgb: Vec<u8>,
}

/// How a tile's values become colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Palette {
    /// Black (the tile's minimum) to white (its maximum): activations, images.
    Gray,
    /// Blue (negative) through white (zero) to red (positive), scaled by
    /// the largest magnitude: weights, whose sign matters.
    Diverging,
}

impl Picture {
    /// A blank (gray) picture.
    #[must_use]
    pub fn new(width: usize, height: usize) -> Self {
        Picture { width, height, rgb: vec![96; width * height * 3] }
    }

    /// Tiles laid out in a grid of `columns`, each value drawn as a
    /// `scale × scale` block, tiles `gap` pixels apart. Each tile is a 2-D
    /// `(rows, columns)` array, normalised on its own (see [`Palette`]);
    /// tiles may differ in size (each takes the largest tile's cell).
    ///
    /// # Panics
    /// If a tile is not 2-D or `columns` or `scale` is 0.
    #[must_use]
    pub fn grid<T: Float>(tiles: &[Tensor<T>], columns: usize, scale: usize, gap: usize, palette: Palette) -> Self {
        assert!(columns > 0 && scale > 0, "Picture::grid: columns and scale must be positive");
        assert!(tiles.iter().all(|t| t.rank() == 2), "Picture::grid: every tile must be 2-D");
        let cell_h = tiles.iter().map(|t| t.dims()[0]).max().unwrap_or(0) * scale;
        let cell_w = tiles.iter().map(|t| t.dims()[1]).max().unwrap_or(0) * scale;
        let rows = tiles.len().div_ceil(columns);
        let mut pic = Picture::new(columns * (cell_w + gap) + gap, rows * (cell_h + gap) + gap);
        for (i, tile) in tiles.iter().enumerate() {
            let (top, left) = (gap + (i / columns) * (cell_h + gap), gap + (i % columns) * (cell_w + gap));
            pic.draw(tile, top, left, scale, palette);
        }
        pic
    }

    fn draw<T: Float>(&mut self, tile: &Tensor<T>, top: usize, left: usize, scale: usize, palette: Palette) {
        let (h, w) = (tile.dims()[0], tile.dims()[1]);
        let values: Vec<f64> = tile.to_vec().iter().map(|v| v.as_f64()).collect();
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let big = lo.abs().max(hi.abs());
        for r in 0..h {
            for c in 0..w {
                let v = values[r * w + c];
                let rgb = match palette {
                    _ if !v.is_finite() => [0, 255, 0],
                    Palette::Gray => {
                        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
                        let g = (t * 255.0).round() as u8;
                        [g, g, g]
                    }
                    Palette::Diverging => {
                        let t = if big > 0.0 { (v / big).clamp(-1.0, 1.0) } else { 0.0 };
                        let fade = (255.0 * (1.0 - t.abs())).round() as u8;
                        if t >= 0.0 {
                            [255, fade, fade]
                        } else {
                            [fade, fade, 255]
                        }
                    }
                };
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (y, x) = (top + r * scale + dy, left + c * scale + dx);
                        self.rgb[(y * self.width + x) * 3..][..3].copy_from_slice(&rgb);
                    }
                }
            }
        }
    }

    /// Stacks pictures top to bottom, `gap` pixels apart (a figure of
    /// several grids, one per layer).
    #[must_use]
    pub fn stack(parts: &[Picture], gap: usize) -> Self {
        let width = parts.iter().map(|p| p.width).max().unwrap_or(0);
        let height = parts.iter().map(|p| p.height).sum::<usize>() + gap * parts.len().saturating_sub(1);
        let mut out = Picture { width, height, rgb: vec![255; width * height * 3] };
        let mut top = 0;
        for p in parts {
            for y in 0..p.height {
                let dst = ((top + y) * width) * 3;
                out.rgb[dst..dst + p.width * 3].copy_from_slice(&p.rgb[y * p.width * 3..][..p.width * 3]);
            }
            top += p.height + gap;
        }
        out
    }

    /// The picture as PNG bytes.
    #[must_use]
    pub fn to_png(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(self.height * (1 + self.width * 3));
        for row in self.rgb.chunks(self.width * 3).take(self.height) {
            raw.push(0); // filter type: none
            raw.extend_from_slice(row);
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).expect("writing to memory");
        let idat = z.finish().expect("writing to memory");
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&u32::try_from(self.width).expect("width fits PNG").to_be_bytes());
        ihdr.extend_from_slice(&u32::try_from(self.height).expect("height fits PNG").to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit, RGB, deflate, no filter, no interlace
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [(b"IHDR", &ihdr[..]), (b"IDAT", &idat[..]), (b"IEND", &[][..])] {
            out.extend_from_slice(&u32::try_from(data.len()).expect("chunk fits PNG").to_be_bytes());
            let mut crc = flate2::Crc::new();
            crc.update(kind);
            crc.update(data);
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&crc.sum().to_be_bytes());
        }
        out
    }

    /// Writes the picture as a PNG file.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path if it cannot be written.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        std::fs::write(path, self.to_png()).map_err(|e| Error::io(path, e))
    }
}

/// A convolution weight `(C_out, C_in, kH, kW)` as one tile per output
/// channel (input channel 0 of each, which for a first layer on gray
/// images is the whole filter).
///
/// # Panics
/// If `weight` is not 4-D.
#[must_use]
pub fn filter_tiles<T: Float>(weight: &Tensor<T>) -> Vec<Tensor<T>> {
    assert!(weight.rank() == 4, "filter_tiles: weight {:?} is not (C_out, C_in, kH, kW)", weight.shape());
    let d = weight.dims();
    (0..d[0]).map(|o| weight.narrow(0, o, 1).narrow(1, 0, 1).contiguous().reshape([d[2], d[3]])).collect()
}

/// The first `channels` feature maps of image `n` of an `(N, C, H, W)`
/// activation, one tile each.
///
/// # Panics
/// If `maps` is not 4-D or `n` is out of range.
#[must_use]
pub fn map_tiles<T: Float>(maps: &Tensor<T>, n: usize, channels: usize) -> Vec<Tensor<T>> {
    assert!(maps.rank() == 4, "map_tiles: {:?} is not (N, C, H, W)", maps.shape());
    let d = maps.dims();
    assert!(n < d[0], "map_tiles: image {n} of {}", d[0]);
    (0..channels.min(d[1])).map(|c| maps.narrow(0, n, 1).narrow(1, c, 1).contiguous().reshape([d[2], d[3]])).collect()
}

/// Where a unit of a conv layer looks: the input window `(top, left,
/// size)` that an output position `(row, column)` depends on, for a stack
/// of layers given as `(kernel, stride, padding)` from the input up.
#[must_use]
pub fn receptive_field(layers: &[(usize, usize, usize)], row: usize, col: usize) -> (isize, isize, usize) {
    // Walk down: a span [lo, hi] of outputs reads [lo·s − p, hi·s − p + k − 1].
    let (mut r0, mut r1, mut c0, mut c1) = (row as isize, row as isize, col as isize, col as isize);
    for &(k, s, p) in layers.iter().rev() {
        let (k, s, p) = (k as isize, s as isize, p as isize);
        (r0, r1) = (r0 * s - p, r1 * s - p + k - 1);
        (c0, c1) = (c0 * s - p, c1 * s - p + k - 1);
    }
    (r0, c0, (r1 - r0 + 1) as usize)
}

/// For each of the first `units` channels of `maps` (an `(N, C, H, W)`
/// activation of `images`, `(N, 1, H₀, W₀)`), the `per_unit` input patches
/// where the channel responds most (at most one per image), cropped to the
/// receptive field that `layers` gives (see [`receptive_field`]; outside
/// the image reads zero). Returns `units × per_unit` tiles, unit by unit.
///
/// # Panics
/// If the shapes are not as described.
#[must_use]
pub fn top_patches<T: Float>(
    images: &Tensor<T>,
    maps: &Tensor<T>,
    layers: &[(usize, usize, usize)],
    units: usize,
    per_unit: usize,
) -> Vec<Tensor<T>> {
    assert!(images.rank() == 4 && maps.rank() == 4, "top_patches: images and maps must be (N, C, H, W)");
    let (id, md) = (images.dims().to_vec(), maps.dims().to_vec());
    assert!(id[0] == md[0], "top_patches: {} images but {} activations", id[0], md[0]);
    let (px, act) = (images.contiguous_data(), maps.contiguous_data());
    let (h0, w0, plane) = (id[2], id[3], md[2] * md[3]);
    let mut tiles = Vec::new();
    for u in 0..units.min(md[1]) {
        // The best position of this unit in each image, then the best images.
        let mut best: Vec<(f64, usize, usize)> = (0..md[0])
            .map(|n| {
                let maps = &act[(n * md[1] + u) * plane..][..plane];
                let (at, v) = maps.iter().enumerate().fold((0, f64::NEG_INFINITY), |(bi, bv), (i, v)| {
                    if v.as_f64() > bv {
                        (i, v.as_f64())
                    } else {
                        (bi, bv)
                    }
                });
                (v, n, at)
            })
            .collect();
        best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, n, at) in best.iter().take(per_unit) {
            let (top, left, size) = receptive_field(layers, at / md[3], at % md[3]);
            let patch = Tensor::from_fn([size, size], |ix| {
                let (y, x) = (top + ix[0] as isize, left + ix[1] as isize);
                if (0..h0 as isize).contains(&y) && (0..w0 as isize).contains(&x) {
                    px[n * h0 * w0 + y as usize * w0 + x as usize]
                } else {
                    T::zero()
                }
            });
            tiles.push(patch);
        }
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_bytes_have_the_signature_size_and_checksums() {
        let pic = Picture::grid(
            &[Tensor::<f32>::from_vec(vec![0.0, 1.0, -1.0, 0.5], [2, 2]).unwrap()],
            1,
            2,
            1,
            Palette::Diverging,
        );
        assert_eq!((pic.width, pic.height), (6, 6));
        // Value 1.0 (top right) is pure red, −1.0 (bottom left) pure blue, 0.0 white.
        let px = |x: usize, y: usize| &pic.rgb[(y * pic.width + x) * 3..][..3];
        assert_eq!(px(3, 1), [255, 0, 0]);
        assert_eq!(px(1, 3), [0, 0, 255]);
        assert_eq!(px(1, 1), [255, 255, 255]);
        let png = pic.to_png();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 6);
        // The IDAT stream inflates to one filter byte plus a row per line.
        let len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&png[41..41 + len]), &mut raw).unwrap();
        assert_eq!(raw.len(), 6 * (1 + 6 * 3));
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        let mut crc = flate2::Crc::new();
        crc.update(b"IEND");
        assert_eq!(png[png.len() - 4..], crc.sum().to_be_bytes());
    }

    #[test]
    fn receptive_fields_of_a_lenet_stack() {
        // conv 3×3 pad 1 → pool 2 → conv 3×3 pad 1: an 8×8 window.
        let layers = [(3, 1, 1), (2, 2, 0), (3, 1, 1)];
        assert_eq!(receptive_field(&layers, 0, 0), (-3, -3, 8));
        assert_eq!(receptive_field(&layers, 5, 2), (7, 1, 8));
        assert_eq!(receptive_field(&[(3, 1, 1)], 4, 4), (3, 3, 3));
    }

    #[test]
    fn top_patches_find_where_a_unit_fires() {
        // One 1×1 unit that copies the input: its top patch is the brightest pixel.
        let mut x = vec![0.0f32; 2 * 16];
        x[16 + 5] = 9.0;
        x[3] = 4.0;
        let images = Tensor::from_vec(x, [2, 1, 4, 4]).unwrap();
        let tiles = top_patches(&images, &images, &[(3, 1, 1)], 1, 2);
        assert_eq!(tiles.len(), 2);
        // Image 1 first (9 > 4), centred on (1, 1).
        assert_eq!(tiles[0].to_vec()[4], 9.0);
        assert_eq!(tiles[1].to_vec()[4], 4.0);
        assert_eq!(tiles[1].to_vec()[..3], [0.0, 0.0, 0.0], "row −1 is outside the image");
    }
}
