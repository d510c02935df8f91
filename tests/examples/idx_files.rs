//! Small MNIST-format directories made on the spot, for the examples that
//! read `--data DIR`.

use std::io::Write;
use std::path::PathBuf;

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| b.extend_from_slice(&d.to_be_bytes()));
    b.extend_from_slice(data);
    b
}

/// `train` training and `test` test "images" of `side × side` pixels, in a
/// new directory named after `name`: class k lights a bar in row band k
/// (pixel k of a 4×4 image), plus one noise pixel. The training images are
/// gzipped, the test images not.
pub fn synthetic(name: &str, side: usize, train: usize, test: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-idx-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let area = side * side;
    let make = |n: usize| {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let mut pixels = vec![0u8; n * area];
        for (i, &l) in labels.iter().enumerate() {
            let img = &mut pixels[i * area..][..area];
            if side == 4 {
                img[l as usize] = 255;
            } else {
                let band = side / 10;
                for r in l as usize * band..(l as usize + 1) * band {
                    img[r * side + 2..r * side + side - 2].fill(255);
                }
            }
            img[area - 1] = (i * 37 % 256) as u8; // noise
        }
        (idx(&[n as u32, side as u32, side as u32], &pixels), idx(&[n as u32], &labels))
    };
    let (ti, tl) = make(train);
    let (vi, vl) = make(test);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&ti).unwrap();
    std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), tl).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), vi).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), vl).unwrap();
    dir
}
