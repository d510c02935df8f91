//! Files made to hurt: optimizer state that would poison the next step,
//! sizes that overflow, headers that cost seconds to parse, crashed saves'
//! leftovers. Each is refused with a typed error naming what is wrong, and
//! nothing is applied. (The test profile has overflow checks on, so an
//! unchecked size computation here panics instead of wrapping.)

use std::collections::HashMap;

use proptest::prelude::*;
use rand::{rngs::StdRng, SeedableRng};
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use strata_autograd::{Activation, Tape};
use strata_nn::data::{idx, Dataset};
use strata_nn::optim::{Adagrad, Adam, RmsProp, UpdateRule};
use strata_nn::{checkpoint, Error, Mlp, Module};
use strata_tensor::Tensor;

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("strata-hostile-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A checkpoint's tensors as (name, shape, values).
type Named = Vec<(String, Vec<usize>, Vec<f32>)>;

/// A small model trained three Adam steps, and its checkpoint's tensors.
fn trained() -> (Mlp, Adam, Named) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut model = Mlp::new(&[3, 4, 2], Activation::Tanh, &mut rng);
    let mut opt = Adam::new(1e-2);
    let x = Tensor::rand_normal([5, 3], 0.0, 1.0, &mut rng);
    for _ in 0..3 {
        let tape = Tape::new();
        let g = model.forward(&tape, tape.constant(x.clone())).cross_entropy(&[0, 1, 0, 1, 1]).backward();
        drop(tape);
        opt.step(&mut model, &g);
    }
    let bytes = checkpoint::to_bytes(&model, Some(&opt)).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let tensors = st
        .tensors()
        .into_iter()
        .map(|(n, v)| {
            let vals = v.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
            (n, v.shape().to_vec(), vals)
        })
        .collect();
    (model, opt, tensors)
}

/// Writes tensors (as f32) with the metadata our checkpoints carry.
fn write(path: &std::path::Path, tensors: &Named, arch: &str) {
    let bytes: Vec<Vec<u8>> =
        tensors.iter().map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((n, s, _), b)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), b).unwrap()))
        .collect();
    let meta = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        ("optimizer".to_string(), "adam".to_string()),
        (checkpoint::ARCHITECTURE_KEY.to_string(), arch.to_string()),
    ]);
    safetensors::serialize_to_file(views, Some(meta), path).unwrap();
}

#[test]
fn optimizer_state_that_would_poison_the_next_step_is_refused_by_name() {
    let d = dir("optim");
    let path = d.join("m.safetensors");
    let (model, _, tensors) = trained();
    let arch = model.architecture();
    let cases: [(&str, f32, &str); 7] = [
        ("optimizer.layers.0.weight.step", 1e30, "is not a step count"),
        ("optimizer.layers.0.weight.step", 2f32.powi(31), "is not a step count"),
        ("optimizer.layers.0.weight.step", -1.0, "is not a step count"),
        ("optimizer.layers.0.weight.step", 2.5, "is not a step count"),
        ("optimizer.layers.1.bias.exp_avg", f32::NAN, "element 0 is NaN, not finite"),
        ("optimizer.layers.1.bias.exp_avg_sq", -1.0, "element 0 is -1: a second moment cannot be negative"),
        ("layers.0.bias", f32::NAN, "element 0 is NaN: a weight must be finite"),
    ];
    for (name, value, says) in cases {
        let mut bad = tensors.clone();
        bad.iter_mut().find(|(n, _, _)| n == name).unwrap().2[0] = value;
        write(&path, &bad, &arch);
        let mut m = Mlp::new(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(9));
        let before: Vec<Vec<f32>> = m.named_params().iter().map(|(_, p)| p.value().to_vec()).collect();
        let mut opt = Adam::new(1e-2);
        let e = checkpoint::load_with_optimizer(&path, &mut m, &mut opt).unwrap_err();
        assert!(matches!(e, Error::InvalidTensor { .. }), "{name} = {value}: {e}");
        assert!(
            e.to_string().starts_with(&format!("tensor `{}`", name.trim_start_matches("optimizer.")))
                || e.to_string().starts_with(&format!("tensor `{name}`")),
            "{e}"
        );
        assert!(e.to_string().contains(says), "{name} = {value}: {e}");
        let after: Vec<Vec<f32>> = m.named_params().iter().map(|(_, p)| p.value().to_vec()).collect();
        assert_eq!(before, after, "nothing applied");
        assert!(opt.state_tensors(&m).is_empty(), "no optimizer state taken");
    }
    // The untouched file loads, and the next step keeps the weights finite.
    write(&path, &tensors, &arch);
    let mut m = Mlp::new(&[3, 4, 2], Activation::Tanh, &mut StdRng::seed_from_u64(9));
    let mut opt = Adam::new(1e-2);
    checkpoint::load_with_optimizer(&path, &mut m, &mut opt).unwrap();
    // RMSprop's square_avg and Adagrad's sum are second moments too.
    let rms = RmsProp::new(1e-2);
    assert_eq!(rms.rule().buffers()[0], "square_avg");
    assert!(rms.rule().non_negative(0));
    assert!(Adagrad::new(1e-2).rule().non_negative(0));
}

#[test]
fn a_header_of_many_tensors_is_refused_before_it_is_parsed() {
    // 200,000 zero-size tensors: 13 MB of header that safetensors would
    // parse in seconds and hundreds of megabytes.
    let mut header = String::from("{");
    for i in 0..200_000 {
        if i > 0 {
            header.push(',');
        }
        header.push_str(&format!("\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}"));
    }
    header.push('}');
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    let path = dir("header").join("big.safetensors");
    std::fs::write(&path, &bytes).unwrap();
    let mut m = Mlp::new(&[2, 2], Activation::Relu, &mut StdRng::seed_from_u64(1));
    let start = std::time::Instant::now();
    let e = checkpoint::load(&path, &mut m).unwrap_err().to_string();
    assert!(e.contains("is over the limit of 8388608 (Limits::max_header_bytes)"), "{e}");
    assert!(start.elapsed().as_millis() < 500, "{:?}", start.elapsed());
    // Within the byte limit, the tensor count is bounded too.
    let limits = checkpoint::Limits { max_header_bytes: 64 << 20, max_tensors: 1000 };
    let e = checkpoint::load_with_limits(&path, &mut m, limits).unwrap_err().to_string();
    assert!(e.contains("200000 tensors is over the limit of 1000"), "{e}");
}

#[test]
fn a_crashed_saves_leftovers_are_removed_and_one_name_is_reused() {
    let d = dir("stale");
    let path = d.join("model.safetensors");
    for pid in [111, 222, 333] {
        std::fs::write(d.join(format!(".model.safetensors.tmp-{pid}")), vec![0u8; 1000]).unwrap();
    }
    std::fs::write(d.join(".other.safetensors.tmp-444"), b"not ours").unwrap();
    // A crash of the current scheme leaves its one temporary file behind.
    std::fs::write(d.join(".model.safetensors.strata-tmp"), b"half a file").unwrap();
    let m = Mlp::new(&[2, 3], Activation::Relu, &mut StdRng::seed_from_u64(1));
    checkpoint::save(&path, &m).unwrap();
    checkpoint::save(&path, &m).unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, [".model.safetensors.strata-lock", ".other.safetensors.tmp-444", "model.safetensors"]);
    let mut back = Mlp::new(&[2, 3], Activation::Relu, &mut StdRng::seed_from_u64(2));
    checkpoint::load(&path, &mut back).unwrap();
}

#[test]
fn sizes_from_files_use_checked_arithmetic() {
    // A zero-element tensor whose other sizes overflow: refused, not a
    // panic in shape arithmetic (or a silent wrap in release).
    let e = Tensor::<f32>::from_vec(vec![], [0, 1 << 63, 4]).unwrap_err().to_string();
    assert!(e.contains("sizes overflow"), "{e}");
    // IDX images [0, 2^32-1, 2^32-1, 2^32-1] were "0 samples × 12884901887 features".
    let d = dir("idx");
    let mut img = vec![0, 0, 8, 4];
    img.extend_from_slice(&0u32.to_be_bytes());
    for _ in 0..3 {
        img.extend_from_slice(&u32::MAX.to_be_bytes());
    }
    std::fs::write(d.join("i"), &img).unwrap();
    std::fs::write(d.join("l"), [0, 0, 8, 1, 0, 0, 0, 0]).unwrap();
    let e = Dataset::idx_pair(&d.join("i"), &d.join("l")).unwrap_err().to_string();
    assert!(e.contains("overflow") || e.contains("no images"), "{e}");
    // Empty inputs are not datasets.
    let e = Dataset::new(Tensor::<f32>::zeros([0, 3]), vec![], 2).unwrap_err().to_string();
    assert!(e.contains("a dataset needs samples, features and classes: got 0 samples"), "{e}");
    assert!(Dataset::new(Tensor::<f32>::zeros([2, 0]), vec![0, 1], 2).is_err());
    assert!(Dataset::new(Tensor::<f32>::zeros([2, 3]), vec![0, 0], 0).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // The inputs the fuzz targets take (fuzz/), as byte strings: every one
    // is an Ok or a typed error, never a panic (overflow checks on).
    #[test]
    fn idx_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), header in 0usize..4) {
        let mut b = match header {
            0 => vec![],
            1 => vec![0, 0, 8, 1],
            2 => vec![0, 0, 8, 3, 0, 0, 0, 2],
            _ => vec![0x1f, 0x8b],
        };
        b.extend_from_slice(&bytes);
        let _ = idx::parse(&b, "fuzz");
        let path = dir("idx-fuzz").join(format!("f{header}"));
        std::fs::write(&path, &b).unwrap();
        let _ = idx::read(&path);
    }

    #[test]
    fn csv_bytes_never_panic(bytes in prop::collection::vec(prop::sample::select(b"0123456789,.-e\nNaN x".to_vec()), 0..400)) {
        let _ = Dataset::from_digits_csv(&bytes, "fuzz.csv");
    }

    #[test]
    fn gzipped_idx_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).unwrap();
        let path = dir("gz-fuzz").join("f.gz");
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let _ = idx::read(&path);
    }
}
