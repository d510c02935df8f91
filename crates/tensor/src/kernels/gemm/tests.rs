//! Every micro-kernel this CPU supports, through the full blocked loop,
//! against a naive f64 triple loop — including edge tiles, 1-wide and 0-sized
//! dimensions, transposed operands and several `kc` slices. These run in debug
//! builds too, so the kernels' bounds asserts fire.

use proptest::prelude::*;

use super::*;

/// Naive reference in f64: `Σ_p A[i,p]·B[p,j]`.
fn reference(m: usize, n: usize, k: usize, a: &MatRef<'_, f64>, b: &MatRef<'_, f64>) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a.at(i, p) * b.at(p, j)).sum();
        }
    }
    c
}

/// Values that are exact in f32 and whose products and sums stay exact, so
/// every kernel must agree with the reference to the bit.
fn exact_values(len: usize, seed: u64) -> Vec<f64> {
    (0..len).map(|i| (((i as u64 * 2_654_435_761 + seed * 97) % 17) as f64 - 8.0) / 4.0).collect()
}

fn check_all_kernels(m: usize, n: usize, k: usize, a_trans: bool, b_trans: bool, seed: u64) {
    let av = exact_values(m * k + 3, seed);
    let bv = exact_values(k * n + 5, seed + 1);
    // Row-major or column-major (transposed) storage, offset by a few elements.
    let a = if a_trans {
        MatRef { data: &av, offset: 3, rs: 1, cs: m }
    } else {
        MatRef { data: &av, offset: 3, rs: k, cs: 1 }
    };
    let b = if b_trans {
        MatRef { data: &bv, offset: 5, rs: 1, cs: k }
    } else {
        MatRef { data: &bv, offset: 5, rs: n, cs: 1 }
    };
    let want = reference(m, n, k, &a, &b);

    for kern in f64::gemm_kernels() {
        let mut c = vec![0.0f64; m * n];
        gemm_with(kern, m, n, k, a, b, &mut c, Start::Zero);
        assert_eq!(c, want, "f64 kernel {} m={m} n={n} k={k} at={a_trans} bt={b_trans}", kern.name);
    }
    let (af, bf): (Vec<f32>, Vec<f32>) =
        (av.iter().map(|&x| x as f32).collect(), bv.iter().map(|&x| x as f32).collect());
    let (a32, b32) = (MatRef { data: &af, ..unsafe_free_cast(a) }, MatRef { data: &bf, ..unsafe_free_cast(b) });
    for kern in f32::gemm_kernels() {
        let mut c = vec![0.0f32; m * n];
        gemm_with(kern, m, n, k, a32, b32, &mut c, Start::Zero);
        let got: Vec<f64> = c.iter().map(|&x| f64::from(x)).collect();
        assert_eq!(got, want, "f32 kernel {} m={m} n={n} k={k} at={a_trans} bt={b_trans}", kern.name);
    }
}

/// The strides of an f64 operand, reused for its f32 copy.
fn unsafe_free_cast(m: MatRef<'_, f64>) -> MatRef<'static, f32> {
    MatRef { data: &[], offset: m.offset, rs: m.rs, cs: m.cs }
}

#[test]
fn edge_and_degenerate_sizes() {
    for &(m, n, k) in &[
        (1, 1, 1),
        (0, 5, 3),
        (5, 0, 3),
        (4, 4, 0),
        (1, 700, 40),
        (700, 1, 40),
        (13, 33, 600),
        (37, 65, 257),
        (64, 64, 64),
        (25, 530, 70),
        // Row strides of 4 KiB in f32 (k = 1024) and in f64 (k = 512): A is
        // packed there, not read in place.
        (13, 5, 1024),
        (30, 40, 512),
    ] {
        for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
            check_all_kernels(m, n, k, at, bt, (m * 31 + n * 7 + k) as u64);
        }
    }
}

#[test]
fn every_tiny_shape_matches_reference_in_every_layout() {
    // The scalar dot-product path (m·n·k ≤ 512) and the row loops beside
    // it, with each operand row- or column-major.
    for m in 1..=9 {
        for n in 1..=9 {
            for k in 1..=9 {
                for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
                    check_all_kernels(m, n, k, at, bt, (m * 81 + n * 9 + k) as u64);
                }
            }
        }
    }
}

#[test]
fn reused_packing_buffers_never_leak_an_earlier_products_values() {
    // A large product leaves this thread's packing buffers full of its
    // values; smaller ones with edge strips (rows and columns past the
    // matrix) must read zeros there, not what was left behind.
    for &(m, n, k) in &[(130, 300, 260), (13, 7, 5), (120, 96, 300), (25, 33, 130), (11, 31, 9)] {
        for (at, bt) in [(false, false), (false, true), (true, true)] {
            check_all_kernels(m, n, k, at, bt, (m + n + k) as u64);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_shapes_match_reference(m in 0usize..80, n in 0usize..80, k in 0usize..300, at: bool, bt: bool, seed in 0u64..1000) {
        check_all_kernels(m, n, k, at, bt, seed);
    }
}

#[test]
fn simd_kernels_agree_with_portable_on_random_floats() {
    // Non-exact inputs: SIMD kernels fuse multiply-adds, so compare with a tolerance.
    let (m, n, k) = (123, 97, 301);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1013) as f32 / 1013.0) - 0.5).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729 % 2003) as f32 / 2003.0) - 0.5).collect();
    let am = MatRef { data: &a, offset: 0, rs: k, cs: 1 };
    let bm = MatRef { data: &b, offset: 0, rs: n, cs: 1 };
    let kernels = f32::gemm_kernels();
    let mut base = vec![0.0f32; m * n];
    gemm_with(kernels[0], m, n, k, am, bm, &mut base, Start::Zero);
    for kern in &kernels[1..] {
        let mut c = vec![0.0f32; m * n];
        gemm_with(*kern, m, n, k, am, bm, &mut c, Start::Zero);
        for (x, y) in c.iter().zip(&base) {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{}: {x} vs {y}", kern.name);
        }
    }
}

#[test]
fn result_is_bit_identical_on_one_and_two_threads() {
    // A short product (split by columns on several threads) and a tall one
    // (split by groups of row strips), each with A column-major (packed)
    // and row-major (read in place).
    for (m, n, k) in [(301, 517, 611), (700, 70, 130)] {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1013) as f32).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729 % 2003) as f32).cos()).collect();
        for am in [MatRef { data: &a, offset: 0, rs: 1, cs: m }, MatRef { data: &a, offset: 0, rs: k, cs: 1 }] {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| {
                    let mut c = vec![0.0f32; m * n];
                    let bm = MatRef { data: &b, offset: 0, rs: n, cs: 1 };
                    gemm(m, n, k, am, bm, &mut c);
                    c
                })
            };
            let one = run(1);
            for threads in [2, 3] {
                let many = run(threads);
                let same = one.iter().zip(&many).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{m}x{n}x{k}: {threads} threads differ");
            }
        }
    }
}

#[test]
fn a_read_in_place_rounds_exactly_like_a_packed() {
    // The same A stored row-major and column-major (full strips read in
    // place, by rows or by columns) and with neither stride 1 (always
    // packed): every kernel must give the same bits, on random floats where
    // any change in the order of the sums shows.
    for &(m, n, k) in &[(64, 64, 64), (100, 70, 300), (37, 129, 45)] {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1013) as f32).sin()).collect();
        let at: Vec<f32> = (0..m * k).map(|idx| a[(idx % m) * k + idx / m]).collect();
        // Every other element of a twice-as-long buffer, column-major.
        let spaced: Vec<f32> = at.iter().flat_map(|&v| [v, f32::NAN]).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729 % 2003) as f32).cos()).collect();
        let rows = MatRef { data: &a, offset: 0, rs: k, cs: 1 };
        let cols = MatRef { data: &at, offset: 0, rs: 1, cs: m };
        let packed = MatRef { data: &spaced, offset: 0, rs: 2, cs: 2 * m };
        assert_eq!(a_in_place(&rows, 12), Some(InPlace::Rows));
        assert_eq!(a_in_place(&cols, 12), Some(InPlace::Cols));
        assert_eq!(a_in_place(&cols, 6), None, "24-byte f32 strips are packed");
        assert_eq!(a_in_place(&packed, 12), None);
        let bm = MatRef { data: &b, offset: 0, rs: n, cs: 1 };
        for kern in f32::gemm_kernels() {
            let run = |am: MatRef<'_, f32>| {
                let mut c = vec![0.0f32; m * n];
                gemm_with(kern, m, n, k, am, bm, &mut c, Start::Zero);
                c
            };
            let want = run(packed);
            for (layout, am) in [("rows", rows), ("cols", cols)] {
                let same = run(am).iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{} {m}x{n}x{k}: A by {layout}", kern.name);
            }
        }
    }
}

#[test]
fn b_read_in_place_rounds_exactly_like_b_packed() {
    // The same B stored row-major (full strips read in place, the last
    // partial one packed) and column-major (a transposed view, always
    // packed): every kernel, every start, the same bits.
    for &(m, n, k) in &[(64, 64, 64), (100, 70, 300), (37, 129, 45), (13, 800, 600)] {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1013) as f32).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729 % 2003) as f32).cos()).collect();
        let bt: Vec<f32> = (0..k * n).map(|idx| b[(idx % k) * n + idx / k]).collect();
        let am = MatRef { data: &a, offset: 0, rs: k, cs: 1 };
        let rows = MatRef { data: &b, offset: 0, rs: n, cs: 1 };
        let cols = MatRef { data: &bt, offset: 0, rs: 1, cs: k };
        assert!(b_in_place(&rows, m, k.min(512)), "{m}x{n}x{k}");
        assert!(!b_in_place(&cols, m, k.min(512)));
        let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.25 - 3.0).collect();
        for kern in f32::gemm_kernels() {
            for start in [Start::Zero, Start::Rows(&bias)] {
                let run = |bm: MatRef<'_, f32>| {
                    let mut c = vec![0.0f32; m * n];
                    gemm_with(kern, m, n, k, am, bm, &mut c, start);
                    c
                };
                let same = run(rows).iter().zip(&run(cols)).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{} {m}x{n}x{k}", kern.name);
            }
        }
    }
    // Wide rows walked by many strips are packed.
    let wide = vec![0.0f32; 1000 * 1000];
    assert!(!b_in_place(&MatRef { data: &wide, offset: 0, rs: 1000, cs: 1 }, 1000, 500));
    assert!(!b_in_place(&MatRef { data: &wide, offset: 0, rs: 1024, cs: 1 }, 64, 64), "4 KiB rows");
}

#[test]
fn accumulate_mode_adds_onto_the_initial_c_with_every_kernel() {
    // Small integers: every sum is exact, so C₀ + A·B must match bit for bit,
    // through the direct path (tiny) and the blocked one (kc-sliced).
    for &(m, n, k) in &[(3, 5, 4), (37, 45, 300)] {
        let a: Vec<f64> = (0..m * k).map(|i| (i % 7) as f64 - 3.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i % 5) as f64 - 2.0).collect();
        let c0: Vec<f64> = (0..m * n).map(|i| (i % 11) as f64).collect();
        let am = MatRef { data: &a, offset: 0, rs: k, cs: 1 };
        let bm = MatRef { data: &b, offset: 0, rs: n, cs: 1 };
        let mut want = c0.clone();
        let prod = reference(m, n, k, &am, &bm);
        want.iter_mut().zip(&prod).for_each(|(w, p)| *w += p);
        for kern in f64::gemm_kernels() {
            let mut c = c0.clone();
            gemm_with(kern, m, n, k, am, bm, &mut c, Start::Acc);
            assert_eq!(c, want, "{} {m}x{n}x{k}", kern.name);
        }
    }
}

#[test]
fn a_start_row_rounds_exactly_like_filling_c_first_on_every_path() {
    // `Start::Rows` (a bias started in each tile's write-out) against C
    // filled with the row and the product accumulated onto it: the same
    // bits on random floats, on every kernel, through the one-row, direct
    // and blocked paths (edge tiles, several kc slices, a column split and
    // a row split on 2 threads), with a row-major and a transposed B.
    for &(m, n, k) in &[(1, 37, 50), (5, 6, 7), (37, 45, 300), (128, 300, 70), (700, 70, 130), (9, 4, 0)] {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1013) as f32).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729 % 2003) as f32).cos()).collect();
        let row: Vec<f32> = (0..n).map(|j| (j as f32 * 0.37).sin()).collect();
        let am = MatRef { data: &a, offset: 0, rs: k, cs: 1 };
        for bm in [MatRef { data: &b, offset: 0, rs: n, cs: 1 }, MatRef { data: &b, offset: 0, rs: 1, cs: k }] {
            for kern in f32::gemm_kernels() {
                let mut want: Vec<f32> = row.iter().copied().cycle().take(m * n).collect();
                gemm_with(kern, m, n, k, am, bm, &mut want, Start::Acc);
                for threads in [1, 2] {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let mut c = vec![f32::NAN; m * n];
                    pool.install(|| gemm_with(kern, m, n, k, am, bm, &mut c, Start::Rows(&row)));
                    let same = c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "{} {m}x{n}x{k} on {threads} threads", kern.name);
                }
            }
        }
    }
}

#[test]
fn edge_tiles_round_exactly_like_inner_tiles() {
    // A product whose tiles are all whole, and its top-left corners of sizes
    // that end in edge strips of rows, of columns or of both: every element
    // of a corner is the same chain of multiply-adds as in the whole product
    // (same k, same slices), so it must have the same bits, on every kernel,
    // with A read in place by rows or by columns or packed, onto zero, onto C
    // and from a start row.
    for kern in f32::gemm_kernels() {
        // k large enough that the smallest corner is blocked, not a direct loop.
        let (mr, nr, k) = (kern.mr, kern.nr, 1100);
        let (mb, nb) = (3 * mr, 3 * nr);
        let a: Vec<f32> = (0..mb * k).map(|i| ((i * 7919 % 1013) as f32).sin()).collect();
        let a_cols: Vec<f32> = (0..mb * k).map(|idx| a[(idx % mb) * k + idx / mb]).collect();
        let b: Vec<f32> = (0..k * nb).map(|i| ((i * 104_729 % 2003) as f32).cos()).collect();
        let c0: Vec<f32> = (0..mb * nb).map(|i| (i as f32 * 0.11).cos()).collect();
        let row: Vec<f32> = (0..nb).map(|j| (j as f32 * 0.37).sin()).collect();
        let bm = MatRef { data: &b, offset: 0, rs: nb, cs: 1 };
        // Every second value of a doubled A: neither stride is 1, so it is packed.
        let a_spread: Vec<f32> = a.iter().flat_map(|&x| [x, 0.0]).collect();
        let layouts = [
            ("rows", MatRef { data: &a, offset: 0, rs: k, cs: 1 }),
            ("cols", MatRef { data: &a_cols, offset: 0, rs: 1, cs: mb }),
            ("packed", MatRef { data: &a_spread, offset: 0, rs: 2 * k, cs: 2 }),
        ];
        for (layout, am) in layouts {
            for start in ["zero", "acc", "rows"] {
                let run = |m: usize, n: usize| {
                    let mut c: Vec<f32> = (0..m).flat_map(|i| c0[i * nb..i * nb + n].to_vec()).collect();
                    let s = match start {
                        "zero" => Start::Zero,
                        "acc" => Start::Acc,
                        _ => Start::Rows(&row[..n]),
                    };
                    gemm_with(kern, m, n, k, am, bm, &mut c, s);
                    c
                };
                let whole = run(mb, nb);
                for (m, n) in [(mr + 1, nr + 1), (2 * mr - 1, nr + nr / 2), (mr + mr / 3, 2 * nr - 3), (2 * mr, nr + 5)]
                {
                    let corner = run(m, n);
                    for i in 0..m {
                        for j in 0..n {
                            let (got, want) = (corner[i * n + j], whole[i * nb + j]);
                            assert!(
                                got.to_bits() == want.to_bits(),
                                "{} A {layout}, start {start}, {m}x{n}: ({i}, {j}) is {got}, inner {want}",
                                kern.name
                            );
                        }
                    }
                }
            }
        }
    }
}
