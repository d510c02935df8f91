//! The `hidden_features` example writes PNGs of the right size.

#[allow(dead_code)]
#[path = "../../examples/hidden_features.rs"]
mod hidden_features;

use clap::Parser;

fn png_size(path: &std::path::Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    (info.width, info.height)
}

#[test]
fn pictures_are_written_with_the_right_dimensions() {
    let out = std::env::temp_dir().join(format!("strata-hidden-{}", std::process::id()));
    let args = hidden_features::Args::parse_from([
        "hidden_features",
        "--hidden",
        "12,10",
        "--epochs",
        "8",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (pictures, acc) = hidden_features::run(&args).unwrap();
    assert!(acc > 0.75, "{acc}");
    let names: Vec<String> =
        pictures.iter().map(|p| p.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["first_layer_weights.png", "class_activations_layer0.png", "class_activations_layer1.png"]);
    // 12 tiles in rows of 8: 8 × (64 + 4) + 4 wide, 2 × (64 + 4) + 4 high.
    assert_eq!(png_size(&pictures[0].path), (8 * 68 + 4, 2 * 68 + 4));
    // 10 classes × units, 14 pixels a cell.
    assert_eq!(png_size(&pictures[1].path), (12 * 14, 10 * 14));
    assert_eq!(png_size(&pictures[2].path), (10 * 14, 10 * 14));
    for p in &pictures {
        assert_eq!(png_size(&p.path), p.size);
    }
}

#[test]
fn an_unwritable_directory_is_an_error() {
    let args = hidden_features::Args::parse_from(["hidden_features", "--epochs", "1", "--out", "/proc/no-such-place"]);
    let e = hidden_features::run(&args).err().unwrap();
    assert!(e.contains("/proc/no-such-place"), "{e}");
}
