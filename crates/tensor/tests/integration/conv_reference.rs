//! conv2d against a direct seven-loop convolution in f64, over random
//! shapes, strides, paddings, dilations and groups (batch 1, 1×1 kernels and
//! kernels as large as the padded input included); and its two backward
//! products against the definition of an adjoint: for every `g`,
//! `⟨conv(x, W), g⟩ = ⟨x, dX(g)⟩ = ⟨W, dW(g)⟩` (the convolution is linear
//! in each argument, so these are exactly its gradients).

use proptest::prelude::*;
use strata_tensor::{ConvParams, Tensor};

#[derive(Clone, Debug)]
struct Case {
    n: usize,
    groups: usize,
    cg: usize,
    og: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    p: ConvParams,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..3, 1usize..3, 1usize..3, 1usize..3, 1usize..7, 1usize..7, 1usize..4, 1usize..4)
        .prop_flat_map(|(n, groups, cg, og, h, w, kh, kw)| {
            (Just((n, groups, cg, og, h, w, kh, kw)), 1usize..3, 1usize..3, 0usize..3, 0usize..3, 1usize..3, 1usize..3)
        })
        .prop_map(|((n, groups, cg, og, h, w, kh, kw), sh, sw, ph, pw, dh, dw)| Case {
            n,
            groups,
            cg,
            og,
            h,
            w,
            k: [kh, kw],
            p: ConvParams { stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw], groups },
        })
        .prop_filter("the kernel fits the padded input", |c| {
            c.p.dilation[0] * (c.k[0] - 1) < c.h + 2 * c.p.padding[0]
                && c.p.dilation[1] * (c.k[1] - 1) < c.w + 2 * c.p.padding[1]
        })
}

fn values(dims: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::from_fn(dims, |ix| {
        let h = ix
            .iter()
            .fold(seed, |a, &i| a.wrapping_mul(6364136223846793005).wrapping_add(i as u64 + 1442695040888963407));
        ((h >> 33) % 2001) as f64 / 1000.0 - 1.0
    })
}

/// The definition, one output element at a time.
fn direct(x: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>, c: &Case) -> (Vec<f64>, [usize; 4]) {
    let (ci, o) = (c.cg * c.groups, c.og * c.groups);
    let ho = (c.h + 2 * c.p.padding[0] - c.p.dilation[0] * (c.k[0] - 1) - 1) / c.p.stride[0] + 1;
    let wo = (c.w + 2 * c.p.padding[1] - c.p.dilation[1] * (c.k[1] - 1) - 1) / c.p.stride[1] + 1;
    let (xv, wv, bv) = (x.to_vec(), w.to_vec(), b.to_vec());
    let mut out = vec![0.0; c.n * o * ho * wo];
    for n in 0..c.n {
        for oc in 0..o {
            let g = oc / c.og;
            for oh in 0..ho {
                for ow in 0..wo {
                    let mut s = bv[oc];
                    for cc in 0..c.cg {
                        let ic = g * c.cg + cc;
                        for i in 0..c.k[0] {
                            for j in 0..c.k[1] {
                                let y = (oh * c.p.stride[0] + i * c.p.dilation[0]) as isize - c.p.padding[0] as isize;
                                let xx = (ow * c.p.stride[1] + j * c.p.dilation[1]) as isize - c.p.padding[1] as isize;
                                if y >= 0 && xx >= 0 && (y as usize) < c.h && (xx as usize) < c.w {
                                    let xi = ((n * ci + ic) * c.h + y as usize) * c.w + xx as usize;
                                    let wi = ((oc * c.cg + cc) * c.k[0] + i) * c.k[1] + j;
                                    s += xv[xi] * wv[wi];
                                }
                            }
                        }
                    }
                    out[((n * o + oc) * ho + oh) * wo + ow] = s;
                }
            }
        }
    }
    (out, [c.n, o, ho, wo])
}

fn dot(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    a.to_vec().iter().zip(b.to_vec()).map(|(x, y)| x * y).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn forward_matches_the_definition_and_backward_is_its_adjoint(c in case(), seed in 0u64..1000) {
        let (ci, o) = (c.cg * c.groups, c.og * c.groups);
        let x = values(&[c.n, ci, c.h, c.w], seed);
        let w = values(&[o, c.cg, c.k[0], c.k[1]], seed + 1);
        let b = values(&[o], seed + 2);
        let y = x.conv2d(&w, Some(&b), c.p);
        let (want, dims) = direct(&x, &w, &b, &c);
        prop_assert_eq!(y.dims(), &dims[..]);
        for (a, e) in y.to_vec().iter().zip(&want) {
            prop_assert!((a - e).abs() < 1e-12 * (1.0 + e.abs()), "{a} vs {e} in {c:?}");
        }
        let g = values(&dims, seed + 3);
        let y0 = x.conv2d(&w, None, c.p);
        let dx = g.conv2d_backward_input(&w, x.dims(), c.p);
        let dw = g.conv2d_backward_weight(&x, w.dims(), c.p);
        let lhs = dot(&y0, &g);
        prop_assert!((lhs - dot(&x, &dx)).abs() < 1e-10 * (1.0 + lhs.abs()), "dX adjoint in {c:?}");
        prop_assert!((lhs - dot(&w, &dw)).abs() < 1e-10 * (1.0 + lhs.abs()), "dW adjoint in {c:?}");
    }
}

#[test]
fn f32_agrees_with_f64_and_shape_errors_name_both_shapes() {
    let x = values(&[2, 3, 9, 7], 5);
    let w = values(&[4, 3, 3, 3], 6);
    let p = ConvParams::default().padding(1).stride(2);
    let y64 = x.conv2d(&w, None, p).to_vec();
    let y32 = x.cast::<f32>().conv2d(&w.cast::<f32>(), None, p).to_vec();
    for (a, b) in y64.iter().zip(&y32) {
        assert!((a - f64::from(*b)).abs() < 1e-5, "{a} vs {b}");
    }
    let e = Tensor::<f32>::zeros([1, 3, 8, 8])
        .try_conv2d(&Tensor::zeros([4, 2, 3, 3]), None, ConvParams::default())
        .unwrap_err()
        .to_string();
    assert_eq!(e, "conv2d: [1, 3, 8, 8] x [4, 2, 3, 3]: input has 3 channels, weight expects 2 × groups 1");
    let e = Tensor::<f32>::zeros([1, 1, 2, 2])
        .try_conv2d(&Tensor::zeros([1, 1, 3, 3]), None, ConvParams::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not fit the padded input 2×2"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    // Pooling against the definitions: max over the window's in-image
    // elements (padding never wins), average over the whole window with
    // padding counted as zeros; the avg backward is the forward's adjoint.
    #[test]
    fn pooling_matches_the_definition(n in 1usize..3, c in 1usize..3, h in 1usize..8, w in 1usize..8,
                                      k in 1usize..4, s in 1usize..4, pad in 0usize..2, seed in 0u64..1000) {
        prop_assume!(2 * pad <= k && k <= h + 2 * pad && k <= w + 2 * pad);
        let pool = strata_tensor::Pool2d::new(k).stride(s).padding(pad);
        let x = values(&[n, c, h, w], seed);
        let (mx, idx) = x.try_max_pool2d(pool).unwrap();
        let avg = x.try_avg_pool2d(pool).unwrap();
        let (ho, wo) = ((h + 2 * pad - k) / s + 1, (w + 2 * pad - k) / s + 1);
        prop_assert_eq!(mx.dims(), &[n, c, ho, wo][..]);
        let xv = x.to_vec();
        for p in 0..n * c {
            for oh in 0..ho {
                for ow in 0..wo {
                    let (mut best, mut sum) = (f64::NEG_INFINITY, 0.0);
                    for i in 0..k {
                        for j in 0..k {
                            let (y, xx) = ((oh * s + i) as isize - pad as isize, (ow * s + j) as isize - pad as isize);
                            if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                let v = xv[(p * h + y as usize) * w + xx as usize];
                                best = best.max(v);
                                sum += v;
                            }
                        }
                    }
                    let o = (p * ho + oh) * wo + ow;
                    prop_assert_eq!(mx.to_vec()[o], best);
                    prop_assert_eq!(xv[idx[o]], best);
                    prop_assert!((avg.to_vec()[o] - sum / (k * k) as f64).abs() < 1e-12);
                }
            }
        }
        let g = values(&[n, c, ho, wo], seed + 9);
        let dx = g.try_avg_pool2d_backward(x.dims(), pool).unwrap();
        let lhs = dot(&avg, &g);
        prop_assert!((lhs - dot(&x, &dx)).abs() < 1e-10 * (1.0 + lhs.abs()));
    }
}

/// A convolution large enough to run its images in parallel (11 images, so
/// the weight gradient's chunks of 4 do not divide them): the definition
/// still holds, and all three products are bit-identical on 1, 2 and 3
/// threads.
#[test]
fn parallel_convolutions_match_the_definition_whatever_the_thread_count() {
    let c =
        Case { n: 11, groups: 2, cg: 4, og: 8, h: 20, w: 19, k: [3, 3], p: ConvParams::default().padding(1).groups(2) };
    let (ci, o) = (c.cg * c.groups, c.og * c.groups);
    let x = values(&[c.n, ci, c.h, c.w], 1);
    let w = values(&[o, c.cg, 3, 3], 2);
    let b = values(&[o], 3);
    let (want, dims) = direct(&x, &w, &b, &c);
    let g = values(&dims, 4);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            (
                x.conv2d(&w, Some(&b), c.p).to_vec(),
                g.conv2d_backward_input(&w, x.dims(), c.p).to_vec(),
                g.conv2d_backward_weight(&x, w.dims(), c.p).to_vec(),
            )
        })
    };
    let one = run(1);
    for (a, e) in one.0.iter().zip(&want) {
        assert!((a - e).abs() < 1e-12 * (1.0 + e.abs()), "{a} vs {e}");
    }
    let y0 = x.conv2d(&w, None, c.p);
    let lhs = dot(&y0, &g);
    let as_tensor = |v: &[f64], d: &[usize]| Tensor::from_vec(v.to_vec(), d.to_vec()).unwrap();
    assert!((lhs - dot(&x, &as_tensor(&one.1, x.dims()))).abs() < 1e-10 * (1.0 + lhs.abs()));
    assert!((lhs - dot(&w, &as_tensor(&one.2, w.dims()))).abs() < 1e-10 * (1.0 + lhs.abs()));
    for threads in [2, 3] {
        assert!(run(threads) == one, "{threads} threads differ from one");
    }
}
