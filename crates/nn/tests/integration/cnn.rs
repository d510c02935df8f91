//! Convolutional layers as modules: PyTorch's names and init, a small CNN
//! in a Sequential through gradcheck_module, its summary, and a checkpoint
//! round trip; batch norm's statistics through training, evaluation and
//! checkpoints.

use rand::{rngs::StdRng, SeedableRng};
use strata_autograd::{Activation, GradCheck, Tape};
use strata_nn::{
    checkpoint, gradcheck_module, BatchNorm1d, BatchNorm2d, Buffer, Conv2d, Error, Flatten, Linear, MaxPool2d, Module,
    Sequential,
};
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

fn cnn_bn(rng: &mut StdRng) -> Sequential<f64> {
    Sequential::new()
        .push(Conv2d::new_typed(1, 3, 3, ConvParams::default().padding(1), rng))
        .push(BatchNorm2d::new_typed(3))
        .push(Activation::Relu)
        .push(MaxPool2d(Pool2d::new(2)))
        .push(Flatten)
        .push(Linear::new_typed(3 * 4 * 4, 5, rng))
        .push(BatchNorm1d::new_typed(5))
        .push(Activation::Tanh)
        .push(Linear::new_typed(5, 3, rng))
}

fn buffers(m: &dyn Module<f64>) -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    m.visit_buffers(&mut |n, b| {
        let v = match b {
            Buffer::Float(t) => t.to_vec(),
            Buffer::Count(c) => vec![*c as f64],
        };
        out.push((n.to_string(), v));
    });
    out
}

#[test]
fn batch_norm_differentiates_through_the_batch_statistics() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut model = cnn_bn(&mut rng);
    let x = Tensor::rand_normal([4, 1, 8, 8], 0.0, 1.0, &mut rng);
    gradcheck_module(
        &mut model,
        |tape, m: &Sequential<f64>| m.forward(tape, tape.constant(x.clone())).cross_entropy(&[0, 2, 1, 1]),
        GradCheck::default(),
    )
    .unwrap();
    // Evaluation: the running statistics are constants, and the gradient still checks.
    model.set_training(false);
    gradcheck_module(
        &mut model,
        |tape, m: &Sequential<f64>| m.forward(tape, tape.constant(x.clone())).cross_entropy(&[0, 2, 1, 1]),
        GradCheck::default(),
    )
    .unwrap();
}

#[test]
fn batch_norm_statistics_survive_a_checkpoint_and_are_checked() {
    let mut rng = StdRng::seed_from_u64(8);
    let model = cnn_bn(&mut rng);
    for _ in 0..3 {
        let tape = Tape::new();
        let x = Tensor::rand_normal([6, 1, 8, 8], 0.5, 2.0, &mut rng);
        let _ = model.forward(&tape, tape.constant(x));
    }
    let names: Vec<String> = buffers(&model).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "1.running_mean",
            "1.running_var",
            "1.num_batches_tracked",
            "6.running_mean",
            "6.running_var",
            "6.num_batches_tracked"
        ]
    );
    assert_eq!(buffers(&model)[2].1, [3.0]);
    let path = std::env::temp_dir().join(format!("strata-cnn-bn-{}.safetensors", std::process::id()));
    checkpoint::save(&path, &model).unwrap();
    let mut other = cnn_bn(&mut StdRng::seed_from_u64(9));
    assert_ne!(buffers(&model), buffers(&other));
    checkpoint::load(&path, &mut other).unwrap();
    assert_eq!(buffers(&model), buffers(&other));

    // The same outputs in evaluation, which reads the statistics.
    let (mut a, mut b) = (model, other);
    a.set_training(false);
    b.set_training(false);
    let x = Tensor::rand_normal([2, 1, 8, 8], 0.0, 1.0, &mut rng);
    let tape = Tape::new();
    assert_eq!(
        a.forward(&tape, tape.constant(x.clone())).value().to_vec(),
        b.forward(&tape, tape.constant(x)).value().to_vec()
    );

    // A file without the statistics (the same net without batch norm's
    // buffers) is refused, naming the first missing one.
    let plain = Sequential::<f64>::new()
        .push(Conv2d::new_typed(1, 3, 3, ConvParams::default().padding(1), &mut rng))
        .push(BatchNorm2d::new_typed(3).without_running_stats());
    checkpoint::save(&path, &plain).unwrap();
    let mut tracked = Sequential::<f64>::new()
        .push(Conv2d::new_typed(1, 3, 3, ConvParams::default().padding(1), &mut rng))
        .push(BatchNorm2d::new_typed(3));
    match checkpoint::load(&path, &mut tracked) {
        Err(Error::MissingTensor { name }) => assert_eq!(name, "1.running_mean"),
        other => panic!("expected a missing running_mean, got {other:?}"),
    }
    std::fs::remove_file(&path).unwrap();
}

/// PyTorch reads a Strata CNN checkpoint: Python's `safetensors` lists the
/// same names, dtypes and shapes, and, where torch is installed, the same
/// architecture in `torch.nn` after a strict `load_state_dict` gives the same
/// outputs in evaluation mode (running statistics included). Skipped, with a
/// message, where Python lacks those packages (`pip install safetensors
/// numpy torch`).
#[test]
fn python_reads_a_cnn_checkpoint_and_torch_computes_the_same_outputs() {
    let probe = std::process::Command::new("python3").args(["-c", "import safetensors.numpy, numpy"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with safetensors and numpy is not installed");
        return;
    }
    let mut rng = StdRng::seed_from_u64(21);
    let mut model = Sequential::<f32>::new()
        .push(Conv2d::new(1, 4, 3, ConvParams::default().padding(1), &mut rng))
        .push(BatchNorm2d::new(4))
        .push(Activation::Relu)
        .push(MaxPool2d(Pool2d::new(2)))
        .push(Flatten)
        .push(Linear::new(4 * 4 * 4, 3, &mut rng));
    for _ in 0..4 {
        let tape = Tape::new();
        let _ = model.forward(&tape, tape.constant(Tensor::rand_normal([8, 1, 8, 8], 0.3, 1.5, &mut rng)));
    }
    model.set_training(false);
    let x = Tensor::<f32>::from_fn([2, 1, 8, 8], |ix| ((ix[0] * 64 + ix[2] * 8 + ix[3]) % 13) as f32 / 6.0 - 1.0);
    let tape = Tape::new();
    let ours = model.forward(&tape, tape.constant(x)).value().to_vec();

    let path = std::env::temp_dir().join(format!("strata-cnn-py-{}.safetensors", std::process::id()));
    checkpoint::save(&path, &model).unwrap();
    let script = r#"
import sys, numpy as np
from safetensors.numpy import load_file
sd = load_file(sys.argv[1])
for k in sorted(sd):
    print("tensor", k, sd[k].dtype, list(sd[k].shape))
try:
    import torch
except ImportError:
    sys.exit(0)
from safetensors.torch import load_file as load_torch
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
    torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64, 3))
net.load_state_dict(load_torch(sys.argv[1]), strict=True)
net.eval()
n, h, w = np.meshgrid(np.arange(2), np.arange(8), np.arange(8), indexing="ij")
x = (((n * 64 + h * 8 + w) % 13) / 6.0 - 1.0).astype(np.float32).reshape(2, 1, 8, 8)
with torch.no_grad():
    y = net(torch.from_numpy(x)).numpy().ravel()
print("output", " ".join(repr(float(v)) for v in y))
"#;
    let out = std::process::Command::new("python3").args(["-c", script]).arg(&path).output().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let tensors: Vec<&str> = text.lines().filter(|l| l.starts_with("tensor")).collect();
    assert_eq!(
        tensors,
        [
            "tensor 0.bias float32 [4]",
            "tensor 0.weight float32 [4, 1, 3, 3]",
            "tensor 1.bias float32 [4]",
            "tensor 1.num_batches_tracked int64 []",
            "tensor 1.running_mean float32 [4]",
            "tensor 1.running_var float32 [4]",
            "tensor 1.weight float32 [4]",
            "tensor 5.bias float32 [3]",
            "tensor 5.weight float32 [3, 64]",
        ]
    );
    match text.lines().find_map(|l| l.strip_prefix("output ")) {
        None => eprintln!("torch is not installed: checked names, dtypes and shapes only"),
        Some(line) => {
            let theirs: Vec<f32> = line.split(' ').map(|v| v.parse().unwrap()).collect();
            assert_eq!(theirs.len(), ours.len());
            for (a, b) in ours.iter().zip(&theirs) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "ours {ours:?}\ntorch {theirs:?}");
            }
        }
    }
}
