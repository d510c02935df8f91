//! Checkpoints: bit-exact round trips, named mismatches, clean failures on
//! damaged files, atomic writes, optimizer state.

use proptest::prelude::*;
use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, Tape};
use strata_nn::optim::{Adam, Optimizer, Sgd};
use strata_nn::{checkpoint, Error, Mlp, Module};
use strata_tensor::Tensor;

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-ckpt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("model.safetensors")
}

fn params<T: strata_tensor::Float>(m: &Mlp<T>) -> Vec<(String, Vec<T>)> {
    m.named_params().into_iter().map(|(n, p)| (n, p.value().to_vec())).collect()
}

#[test]
fn round_trip_is_bit_exact_in_f32_and_f64() {
    let path = tmp("roundtrip");
    let a = Mlp::new(&[5, 7, 3], Activation::Tanh, &mut StdRng::seed_from_u64(1));
    checkpoint::save(&path, &a).unwrap();
    let mut b = Mlp::new(&[5, 7, 3], Activation::Tanh, &mut StdRng::seed_from_u64(2));
    checkpoint::load(&path, &mut b).unwrap();
    let bits = |m: &Mlp<f32>| {
        params(m).into_iter().map(|(n, v)| (n, v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())).collect::<Vec<_>>()
    };
    assert_eq!(bits(&a), bits(&b));

    let a = Mlp::<f64>::new_typed(&[5, 7, 3], Activation::Tanh, &mut StdRng::seed_from_u64(1));
    checkpoint::save(&path, &a).unwrap();
    let mut b = Mlp::<f64>::new_typed(&[5, 7, 3], Activation::Tanh, &mut StdRng::seed_from_u64(2));
    checkpoint::load(&path, &mut b).unwrap();
    assert_eq!(params(&a), params(&b));
    // An f64 file is not silently narrowed into an f32 model.
    let mut c = Mlp::new(&[5, 7, 3], Activation::Tanh, &mut StdRng::seed_from_u64(2));
    let e = checkpoint::load(&path, &mut c).unwrap_err();
    assert!(matches!(e, Error::DtypeMismatch { .. }), "{e}");
    assert!(e.to_string().contains("checkpoint dtype F64, model expects F32"), "{e}");
}

#[test]
fn the_file_is_plain_safetensors_with_state_dict_names() {
    let a = Mlp::new(&[2, 3, 1], Activation::Relu, &mut StdRng::seed_from_u64(1));
    let bytes = checkpoint::to_bytes(&a, None).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    for name in ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"] {
        assert!(header.contains(&format!("\"{name}\"")), "{header}");
    }
    assert!(header.contains("\"dtype\":\"F32\"") && header.contains("\"shape\":[3,2]"), "{header}");
}

#[test]
fn another_architecture_fails_naming_the_parameter_and_leaves_the_model_unchanged() {
    let path = tmp("mismatch");
    checkpoint::save(&path, &Mlp::new(&[4, 8, 2], Activation::Relu, &mut StdRng::seed_from_u64(1))).unwrap();
    let mut wider = Mlp::new(&[4, 9, 2], Activation::Relu, &mut StdRng::seed_from_u64(2));
    let before = params(&wider);
    let e = checkpoint::load(&path, &mut wider).unwrap_err();
    assert_eq!(e.to_string(), "tensor `layers.0.weight`: checkpoint shape [8, 4], model expects [9, 4]");
    assert_eq!(params(&wider), before);
    let mut deeper = Mlp::new(&[4, 8, 8, 2], Activation::Relu, &mut StdRng::seed_from_u64(2));
    let e = checkpoint::load(&path, &mut deeper).unwrap_err();
    assert!(e.to_string().contains("layers.1.weight"), "{e}");
    let mut shallower = Mlp::new(&[4, 2], Activation::Relu, &mut StdRng::seed_from_u64(2));
    let e = checkpoint::load(&path, &mut shallower).unwrap_err();
    assert!(e.to_string().contains("layers.0.weight"), "{e}");
}

#[test]
fn a_checkpoint_records_its_architecture_and_rejects_another() {
    let path = tmp("arch");
    let gelu = Mlp::new(&[4, 8, 2], Activation::GELU, &mut StdRng::seed_from_u64(1));
    checkpoint::save(&path, &gelu).unwrap();
    assert_eq!(
        checkpoint::architecture(&path).unwrap().as_deref(),
        Some("Mlp(Dense(4 → 8, gelu), Dense(8 → 2, identity))")
    );
    // Same shapes, another activation: the weights would load, and mean nothing.
    let mut relu = Mlp::new(&[4, 8, 2], Activation::Relu, &mut StdRng::seed_from_u64(2));
    let before = params(&relu);
    let e = checkpoint::load(&path, &mut relu).unwrap_err();
    assert!(matches!(e, Error::ArchitectureMismatch { .. }), "{e}");
    assert!(
        e.to_string().ends_with(
            "holds a Mlp(Dense(4 → 8, gelu), Dense(8 → 2, identity)), \
             not this model's Mlp(Dense(4 → 8, relu), Dense(8 → 2, identity))"
        ),
        "{e}"
    );
    assert_eq!(params(&relu), before, "nothing applied");
    // The model can be built from the file alone.
    let back = Mlp::from_checkpoint(&path).unwrap();
    assert_eq!(back.architecture(), gelu.architecture());
    assert_eq!(params(&back), params(&gelu));
}

#[test]
fn from_checkpoint_explains_files_it_cannot_build_from() {
    let path = tmp("foreign");
    // A file as PyTorch writes it: tensors and `format` only, no architecture.
    let w = vec![0u8; 4 * 6];
    let b = vec![0u8; 4 * 3];
    let views = vec![
        ("layers.0.weight", safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3, 2], &w).unwrap()),
        ("layers.0.bias", safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3], &b).unwrap()),
    ];
    safetensors::serialize_to_file(views, None, &path).unwrap();
    assert_eq!(checkpoint::architecture(&path).unwrap(), None);
    let e = Mlp::from_checkpoint(&path).unwrap_err().to_string();
    assert!(e.contains("records no architecture"), "{e}");
    // ... but it still loads into a model built by hand (shapes are checked).
    let mut m = Mlp::new(&[2, 3], Activation::Relu, &mut StdRng::seed_from_u64(1));
    checkpoint::load(&path, &mut m).unwrap();
    assert!(m.layers[0].linear.weight.value().to_vec().iter().all(|&x| x == 0.0));
    // A file of another kind of model.
    let seq = strata_nn::Sequential::new().push(strata_nn::Linear::new(2, 3, &mut StdRng::seed_from_u64(1)));
    checkpoint::save(&path, &seq).unwrap();
    let e = Mlp::from_checkpoint(&path).unwrap_err().to_string();
    assert!(e.contains("holds a Sequential(Linear(2 → 3)), not an Mlp"), "{e}");
}

#[test]
fn the_same_state_saves_to_the_same_bytes() {
    // Model and optimizer state with several metadata keys: the header is
    // written in a fixed order (it used to follow a HashMap's).
    let mut rng = StdRng::seed_from_u64(3);
    let mut model = Mlp::new(&[3, 5, 2], Activation::Tanh, &mut rng);
    let mut opt = Adam::new(1e-2);
    let x = Tensor::rand_normal([6, 3], 0.0, 1.0, &mut rng);
    for _ in 0..3 {
        let tape = Tape::new();
        let loss = model.forward(&tape, tape.constant(x.clone())).cross_entropy(&[0, 1, 0, 1, 1, 0]);
        let grads = loss.backward();
        drop(tape);
        opt.step(&mut model, &grads);
    }
    let first = checkpoint::to_bytes(&model, Some(&opt)).unwrap();
    for _ in 0..8 {
        assert_eq!(checkpoint::to_bytes(&model, Some(&opt)).unwrap(), first);
    }
    // And safetensors reads it back as written.
    let st = safetensors::SafeTensors::deserialize(&first).unwrap();
    assert_eq!(st.len(), 4 + 4 * 3, "4 params, each with step, exp_avg and exp_avg_sq");
}

#[test]
fn truncated_and_missing_files_are_errors() {
    let path = tmp("truncated");
    let a = Mlp::new(&[4, 8, 2], Activation::Relu, &mut StdRng::seed_from_u64(1));
    let bytes = checkpoint::to_bytes(&a, None).unwrap();
    let mut b = a.clone();
    for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = checkpoint::load(&path, &mut b).unwrap_err();
        assert!(matches!(e, Error::Checkpoint { .. }), "cut at {cut}: {e}");
        assert!(e.to_string().contains("model.safetensors"), "{e}");
    }
    let e = checkpoint::load(path.with_file_name("nope.safetensors"), &mut b).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("nope.safetensors"), "{e}");
}

#[test]
fn save_replaces_atomically_and_leaves_no_temporary_file() {
    let path = tmp("atomic");
    let a = Mlp::new(&[3, 3], Activation::Relu, &mut StdRng::seed_from_u64(1));
    checkpoint::save(&path, &a).unwrap();
    checkpoint::save(&path, &a).unwrap();
    let mut files: Vec<_> =
        std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    files.sort();
    // No temporary file; the (empty) lock file that serialises saves stays.
    assert_eq!(files, [".model.safetensors.strata-lock", "model.safetensors"]);
    assert_eq!(std::fs::metadata(path.with_file_name(".model.safetensors.strata-lock")).unwrap().len(), 0);
    // A directory that does not exist: an error, and the old file elsewhere is untouched.
    let e = checkpoint::save(path.parent().unwrap().join("no/such/dir/m.safetensors"), &a).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
}

#[test]
fn optimizer_state_is_saved_and_resumed() {
    let path = tmp("optim");
    let mut rng = StdRng::seed_from_u64(3);
    let x = Tensor::<f32>::rand_normal([8, 4], 0.0, 1.0, &mut rng);
    let y = [0, 1, 0, 1, 1, 0, 1, 0];
    let train = |m: &mut Mlp<f32>, opt: &mut dyn Optimizer<f32>, steps: usize| {
        for _ in 0..steps {
            let tape = Tape::new();
            let loss = m.forward(&tape, tape.constant(x.clone())).cross_entropy(&y);
            opt.step(m, &loss.backward());
        }
    };
    let mut a = Mlp::new(&[4, 6, 2], Activation::Relu, &mut rng);
    let mut opt_a = Adam::new(1e-2);
    train(&mut a, &mut opt_a, 3);
    checkpoint::save_with_optimizer(&path, &a, &opt_a).unwrap();
    let mut b = Mlp::new(&[4, 6, 2], Activation::Relu, &mut rng);
    let mut opt_b = Adam::new(1e-2);
    checkpoint::load_with_optimizer(&path, &mut b, &mut opt_b).unwrap();
    train(&mut a, &mut opt_a, 2);
    train(&mut b, &mut opt_b, 2);
    assert_eq!(params(&a), params(&b), "resumed training matches uninterrupted training");
    // The plain loader ignores optimizer tensors; another algorithm's loader refuses them.
    checkpoint::load(&path, &mut b).unwrap();
    let e = checkpoint::load_with_optimizer(&path, &mut b, &mut Sgd::new(0.1)).unwrap_err();
    assert!(e.to_string().contains("\"adam\""), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), prefix in any::<bool>()) {
        // Half the cases start with a plausible header length, to get past the first check.
        let mut data = bytes;
        if prefix && data.len() >= 8 {
            let n = (data.len() - 8) as u64;
            data[..8].copy_from_slice(&n.to_le_bytes());
        }
        let path = tmp("fuzz");
        std::fs::write(&path, &data).unwrap();
        let mut m = Mlp::new(&[2, 2], Activation::Relu, &mut StdRng::seed_from_u64(1));
        prop_assert!(checkpoint::load(&path, &mut m).is_err());
    }
}
