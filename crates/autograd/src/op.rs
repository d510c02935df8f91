//! The closed set of recorded ops. Each variant holds its parents' node
//! indices and whatever its backward needs beyond the parents' and its own
//! values (which the tape keeps). `Custom` is the one open door.
//!
//! Rare, large payloads (a loss's targets) are boxed: every node holds an
//! `Op`, and a small node keeps the tape's buffer small (a measured share of a
//! tiny-op tape's time went to moving ~230-byte nodes).

use std::rc::Rc;
use std::sync::Arc;

use strata_tensor::{ConvParams, Float, Pool2d, Tensor};

use crate::activation::Activation;
use crate::custom::CustomOp;
use crate::unary::UnaryFn;

/// A recorded operation.
pub(crate) enum Op<T: Float> {
    /// An input whose gradient is wanted; the tag lets `Grads::by_tag` find it.
    Leaf(Option<u64>),
    /// An input with no gradient.
    Constant,
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Matmul(usize, usize),
    /// `x·Wᵀ + b`: input, weight, optional bias.
    Linear(usize, usize, Option<usize>),
    /// `act(x·Wᵀ + b)` as one node, for an activation whose slope follows
    /// from its output ([`Activation::slope_from_output`]): the
    /// pre-activation is neither kept nor a node of its own.
    LinearAct(usize, usize, Option<usize>, Activation),
    AddScalar(usize),
    MulScalar(usize, T),
    PowScalar(usize, T),
    Neg(usize),
    Exp(usize),
    Log(usize),
    Sqrt(usize),
    Abs(usize),
    /// An elementwise map with its derivative beside it (`sin`, `recip`, …).
    Map(usize, UnaryFn),
    SumAll(usize),
    MeanAll(usize),
    /// Sum over `axis`; the flag is `keepdim`.
    SumAxis(usize, usize, bool),
    MeanAxis(usize, usize, bool),
    Reshape(usize),
    Permute(usize, Vec<usize>),
    /// Two axes swapped (its own inverse; `t()` records this, not a `Permute`).
    Transpose(usize, usize, usize),
    IndexSelect(usize, usize, Arc<[usize]>),
    /// Parts joined along an axis.
    Concat(Vec<usize>, usize),
    /// `narrow(axis, start, len)`.
    Narrow(usize, usize, usize),
    Act(usize, Activation),
    /// Softmax along an axis.
    Softmax(usize, usize),
    /// Log-softmax along an axis.
    LogSoftmax(usize, usize),
    /// Mean softmax cross-entropy; keeps the softmax probabilities and labels.
    CrossEntropy(usize, Box<(Tensor<T>, Arc<[usize]>)>),
    /// Mean binary cross-entropy on logits; keeps the targets.
    BceWithLogits(usize, Box<Tensor<T>>),
    /// Mean squared error; keeps the targets.
    Mse(usize, Box<Tensor<T>>),
    /// 2-D convolution: input, weight, optional bias and the parameters
    /// (boxed: every node holds an `Op`, and this one is rare and large).
    Conv2d(Box<(usize, usize, Option<usize>, ConvParams)>),
    /// Max pooling: the input and, per output, the flat index it took.
    MaxPool2d(usize, Arc<Vec<usize>>),
    /// Max (`true`) or min over an axis: the input and, per output, the flat
    /// index of the element it took.
    PickAxis(usize, Arc<Vec<usize>>, bool),
    /// Average pooling (padding counted, as PyTorch's default).
    AvgPool2d(Box<(usize, Pool2d)>),
    /// Elementwise maximum and minimum (broadcasting; ties share the gradient).
    Maximum(usize, usize),
    /// See [`Op::Maximum`].
    Minimum(usize, usize),
    /// Elementwise `a^b` (broadcasting).
    Pow(usize, usize),
    /// `mask ? a : b`; keeps the (constant) mask.
    Where(usize, usize, Box<Tensor<T>>),
    /// The adjoints that graph-mode backward records (each linear in its
    /// first operand, and their backward products are each other):
    /// `conv2d_backward_input(g, w)` for an input of the given dims.
    Conv2dBackInput(Box<(usize, usize, [usize; 4], ConvParams)>),
    /// `conv2d_backward_weight(g, x)` for a weight of the given dims.
    Conv2dBackWeight(Box<(usize, usize, [usize; 4], ConvParams)>),
    /// Zeros of the input's shape with `out[taken[j]] += src[j]` (the
    /// adjoint of max pooling's and `max_axis`'s pick).
    Scatter(usize, Arc<Vec<usize>>),
    /// `out[j] = src[taken[j]]` (the adjoint of [`Op::Scatter`]).
    Gather(usize, Arc<Vec<usize>>),
    /// Average pooling's adjoint for an input of the given dims.
    AvgPool2dBack(Box<(usize, Pool2d, [usize; 4])>),
    /// Zeros with `len` along `axis`, and `src` added at `indices` (the
    /// adjoint of `index_select`).
    IndexAdd(Box<(usize, usize, Arc<[usize]>, usize)>),
    /// A user's op and its inputs (shared, so graph-mode backward can call
    /// it while it records onto the tape).
    Custom(Rc<dyn CustomOp<T>>, Box<[usize]>),
}

impl<T: Float> Op<T> {
    /// The op's name, for anomaly reports and errors.
    pub(crate) fn name(&self) -> String {
        let s = match self {
            Op::Leaf(_) => "leaf",
            Op::Constant => "constant",
            Op::Add(..) => "add",
            Op::Sub(..) => "sub",
            Op::Mul(..) => "mul",
            Op::Div(..) => "div",
            Op::Matmul(..) => "matmul",
            Op::Linear(..) => "linear",
            Op::LinearAct(.., a) => return format!("linear+{}", a.name()),
            Op::AddScalar(_) => "add_scalar",
            Op::MulScalar(..) => "mul_scalar",
            Op::PowScalar(..) => "powf",
            Op::Neg(_) => "neg",
            Op::Exp(_) => "exp",
            Op::Log(_) => "log",
            Op::Sqrt(_) => "sqrt",
            Op::Abs(_) => "abs",
            Op::Map(_, f) => f.name(),
            Op::SumAll(_) => "sum",
            Op::MeanAll(_) => "mean",
            Op::SumAxis(..) => "sum_axis",
            Op::MeanAxis(..) => "mean_axis",
            Op::Reshape(_) => "reshape",
            Op::Permute(..) => "permute",
            Op::Transpose(..) => "transpose",
            Op::IndexSelect(..) => "index_select",
            Op::Concat(..) => "concat",
            Op::Narrow(..) => "narrow",
            Op::Act(_, a) => a.name(),
            Op::Softmax(..) => "softmax",
            Op::LogSoftmax(..) => "log_softmax",
            Op::CrossEntropy(..) => "cross_entropy",
            Op::BceWithLogits(..) => "bce_with_logits",
            Op::Mse(..) => "mse",
            Op::Conv2d(_) => "conv2d",
            Op::Maximum(..) => "maximum",
            Op::Minimum(..) => "minimum",
            Op::Pow(..) => "pow",
            Op::Where(..) => "where_mask",
            Op::MaxPool2d(..) => "max_pool2d",
            Op::PickAxis(_, _, true) => "max_axis",
            Op::PickAxis(_, _, false) => "min_axis",
            Op::AvgPool2d(_) => "avg_pool2d",
            Op::Conv2dBackInput(_) => "conv2d_backward_input",
            Op::Conv2dBackWeight(_) => "conv2d_backward_weight",
            Op::Scatter(..) => "scatter",
            Op::Gather(..) => "gather",
            Op::AvgPool2dBack(_) => "avg_pool2d_backward",
            Op::IndexAdd(_) => "index_add",
            Op::Custom(op, _) => return op.name().to_string(),
        };
        s.to_string()
    }

    /// Calls `f` on each parent index.
    pub(crate) fn for_each_parent(&self, mut f: impl FnMut(usize)) {
        match self {
            Op::Leaf(_) | Op::Constant => {}
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Matmul(a, b)
            | Op::Maximum(a, b)
            | Op::Minimum(a, b)
            | Op::Pow(a, b)
            | Op::Where(a, b, _) => {
                f(*a);
                f(*b);
            }
            Op::AddScalar(a)
            | Op::MulScalar(a, _)
            | Op::PowScalar(a, _)
            | Op::Neg(a)
            | Op::Exp(a)
            | Op::Log(a)
            | Op::Sqrt(a)
            | Op::Abs(a)
            | Op::Map(a, _)
            | Op::SumAll(a)
            | Op::MeanAll(a)
            | Op::SumAxis(a, ..)
            | Op::MeanAxis(a, ..)
            | Op::Reshape(a)
            | Op::Permute(a, _)
            | Op::Transpose(a, ..)
            | Op::IndexSelect(a, ..)
            | Op::Narrow(a, ..)
            | Op::Act(a, _)
            | Op::Softmax(a, _)
            | Op::LogSoftmax(a, _)
            | Op::CrossEntropy(a, ..)
            | Op::BceWithLogits(a, _)
            | Op::Mse(a, _)
            | Op::MaxPool2d(a, _)
            | Op::PickAxis(a, ..)
            | Op::Scatter(a, _)
            | Op::Gather(a, _) => f(*a),
            Op::AvgPool2d(p) => f(p.0),
            Op::AvgPool2dBack(p) => f(p.0),
            Op::IndexAdd(p) => f(p.0),
            Op::Conv2dBackInput(c) | Op::Conv2dBackWeight(c) => {
                f(c.0);
                f(c.1);
            }
            Op::Linear(x, w, b) | Op::LinearAct(x, w, b, _) => {
                f(*x);
                f(*w);
                if let Some(b) = b {
                    f(*b);
                }
            }
            Op::Conv2d(c) => {
                f(c.0);
                f(c.1);
                if let Some(b) = c.2 {
                    f(b);
                }
            }
            Op::Concat(parts, _) => parts.iter().copied().for_each(f),
            Op::Custom(_, parts) => parts.iter().copied().for_each(f),
        }
    }
}
