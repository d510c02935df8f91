//! The layer-by-layer picture of a trained CNN, as PNG files: the first
//! layer's filters, every conv stage's feature maps for a few test images,
//! and per stage the input patches that excite its units most.

use std::path::{Path, PathBuf};

use strata::nn::diagnostics::picture::{filter_tiles, map_tiles, top_patches, Palette, Picture};
use strata::prelude::*;

/// A conv stage to draw: the output of layer `after` of the `Sequential`
/// (its ReLU, say), and the stack `(kernel, stride, padding)` of every conv
/// and pool from the input up to it, which gives each unit's input window.
pub struct Stage {
    pub name: &'static str,
    pub after: usize,
    pub field: Vec<(usize, usize, usize)>,
}

/// The outputs of the layers `stages` name, for `images` (no gradients).
fn activations(model: &Sequential, images: &Tensor<f32>, stages: &[Stage]) -> Vec<Tensor<f32>> {
    let mut out = Vec::new();
    for start in (0..images.dims()[0]).step_by(500) {
        let len = 500.min(images.dims()[0] - start);
        let tape = Tape::new();
        let mut kept = Vec::new();
        tape.no_grad(|| {
            let mut h = tape.constant(images.narrow(0, start, len).contiguous());
            for (i, layer) in model.layers().iter().enumerate() {
                h = layer.forward(&tape, h);
                if stages.iter().any(|s| s.after == i) {
                    kept.push(h.value());
                }
            }
        });
        out.push(kept);
    }
    (0..stages.len()).map(|s| Tensor::concat(&out.iter().map(|k| &k[s]).collect::<Vec<_>>(), 0)).collect()
}

/// Writes `filters.png`, `feature_maps.png` and `top_patches.png` into
/// `dir`; `first_weight` is the first conv layer's weight, `images`
/// `(N, 1, H, W)` test images (the first 4 are shown, all are searched for
/// top patches). Returns the files written.
pub fn write(
    dir: &Path,
    first_weight: &Tensor<f32>,
    model: &Sequential,
    images: &Tensor<f32>,
    stages: &[Stage],
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("--pictures {}: {e}", dir.display()))?;
    let acts = activations(model, images, stages);
    let filters = Picture::grid(&filter_tiles(first_weight), 8, 8, 2, Palette::Diverging);

    let shown = 4.min(images.dims()[0]);
    let inputs: Vec<Tensor<f32>> = (0..shown).map(|n| map_tiles(images, n, 1).remove(0)).collect();
    let mut maps = vec![Picture::grid(&inputs, shown, 3, 2, Palette::Gray)];
    for a in &acts {
        let scale = (84 / a.dims()[2]).max(1);
        let tiles: Vec<Tensor<f32>> = (0..shown).flat_map(|n| map_tiles(a, n, 16)).collect();
        maps.push(Picture::grid(&tiles, 16.min(a.dims()[1]), scale, 2, Palette::Gray));
    }
    let feature_maps = Picture::stack(&maps, 8);

    let mut patches = Vec::new();
    for (s, a) in stages.iter().zip(&acts) {
        let tiles = top_patches(images, a, &s.field, 16, 8);
        let scale = (48 / tiles[0].dims()[0]).max(1);
        patches.push(Picture::grid(&tiles, 8, scale, 2, Palette::Gray));
    }
    let top = Picture::stack(&patches, 12);

    let mut written = Vec::new();
    for (name, pic) in [("filters.png", filters), ("feature_maps.png", feature_maps), ("top_patches.png", top)] {
        let path = dir.join(name);
        pic.save_png(&path).map_err(|e| e.to_string())?;
        written.push(path);
    }
    Ok(written)
}
