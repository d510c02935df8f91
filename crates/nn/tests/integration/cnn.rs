//! Convolutional layers as modules: PyTorch's names and init, a small CNN
//! in a Sequential through gradcheck_module, its summary, and a checkpoint
//! round trip.

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, GradCheck, Tape};
use strata_nn::{checkpoint, gradcheck_module, Conv2d, Flatten, Linear, MaxPool2d, Module, Sequential};
use strata_tensor::{ConvParams, Pool2d, Tensor};

fn cnn(rng: &mut StdRng) -> Sequential<f64> {
    Sequential::new()
        .push(Conv2d::new_typed(1, 3, 3, ConvParams::default().padding(1), rng))
        .push(Activation::Tanh)
        .push(MaxPool2d(Pool2d::new(2)))
        .push(Conv2d::new_typed(3, 4, 3, ConvParams::default(), rng))
        .push(Activation::Tanh)
        .push(Flatten)
        .push(Linear::new_typed(4 * 2 * 2, 3, rng))
}

#[test]
fn a_small_cnn_passes_gradcheck_and_summarises_its_layers() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut model = cnn(&mut rng);
    let names: Vec<String> = model.named_params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"]);
    let x = Tensor::rand_normal([2, 1, 8, 8], 0.0, 1.0, &mut rng);
    gradcheck_module(
        &mut model,
        |tape, m: &Sequential<f64>| m.forward(tape, tape.constant(x.clone())).cross_entropy(&[0, 2]),
        GradCheck::default(),
    )
    .unwrap();
    let summary = model.summary(&[2, 1, 8, 8]);
    let shapes: Vec<Vec<usize>> = summary.rows.iter().map(|r| r.output.clone()).collect();
    assert_eq!(shapes[0], [2, 3, 8, 8]);
    assert_eq!(shapes[2], [2, 3, 4, 4]);
    assert_eq!(shapes[3], [2, 4, 2, 2]);
    assert_eq!(shapes[5], [2, 16]);
    assert_eq!(shapes[6], [2, 3]);
}

#[test]
fn pytorch_init_bounds_and_a_checkpoint_round_trip() {
    let mut rng = StdRng::seed_from_u64(3);
    let conv = Conv2d::new(4, 16, 3, ConvParams::default().groups(2), &mut rng);
    assert_eq!(conv.weight.value().dims(), [16, 2, 3, 3]);
    let bound = 1.0 / (2.0f32 * 9.0).sqrt();
    for p in [conv.weight.value(), conv.bias.as_ref().unwrap().value()] {
        let v = p.to_vec();
        assert!(v.iter().all(|x| x.abs() <= bound), "within ±1/√fan_in");
        assert!(v.iter().any(|x| x.abs() > 0.5 * bound), "and spread over it");
    }
    let path = std::env::temp_dir().join(format!("strata-cnn-{}.safetensors", std::process::id()));
    let model = cnn(&mut StdRng::seed_from_u64(1));
    checkpoint::save(&path, &model).unwrap();
    let mut other = cnn(&mut StdRng::seed_from_u64(2));
    checkpoint::load(&path, &mut other).unwrap();
    let values = |m: &Sequential<f64>| m.named_params().iter().map(|(_, p)| p.value().to_vec()).collect::<Vec<_>>();
    assert_eq!(values(&model), values(&other));
    assert!(checkpoint::architecture(&path).unwrap().unwrap().starts_with(
        "Sequential(Conv2d(1 → 3, 3×3, stride [1, 1], padding [1, 1], dilation [1, 1], groups 1), tanh, MaxPool2d(2×2"
    ));
    std::fs::remove_file(&path).unwrap();
}

#[test]
#[should_panic(expected = "Conv2d(3 → 4, 3×3): conv2d: [1, 2, 5, 5] x [4, 3, 3, 3]: input has 2 channels")]
fn a_conv_fed_the_wrong_channels_names_itself() {
    let conv = Conv2d::new(3, 4, 3, ConvParams::default(), &mut StdRng::seed_from_u64(1));
    let tape = Tape::new();
    let _ = conv.forward(&tape, tape.constant(Tensor::zeros([1, 2, 5, 5])));
}
