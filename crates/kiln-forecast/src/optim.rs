//! Small derivative-free optimisers: golden-section search on an interval and Nelder-Mead.

// Index loops mirror the reference algorithms (Fortran STL, textbook Nelder-Mead and
// Cholesky) line by line, which keeps them checkable against their sources.
#![allow(clippy::needless_range_loop)]

/// Minimises `f` on `[lo, hi]` (golden-section search after a coarse grid, so that a
/// non-unimodal objective still lands near its best grid point).
pub fn minimise_1d(f: impl Fn(f64) -> f64, lo: f64, hi: f64, tol: f64) -> f64 {
    const GRID: usize = 6;
    let step = (hi - lo) / GRID as f64;
    let (mut best_i, mut best) = (0, f64::INFINITY);
    for i in 0..=GRID {
        let v = f(lo + step * i as f64);
        if v < best {
            best = v;
            best_i = i;
        }
    }
    let mut a = (lo + step * (best_i as f64 - 1.0)).max(lo);
    let mut b = (lo + step * (best_i as f64 + 1.0)).min(hi);
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    while (b - a).abs() > tol {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    let x = 0.5 * (a + b);
    let fx = f(x);
    let xg = lo + step * best_i as f64;
    if best < fx { xg } else { x }
}

/// Points evaluated together by [`minimise_1d_batch`].
pub const BATCH: usize = 8;

/// Minimises `f` on `[lo, hi]` by repeated grids of [`BATCH`] points, each grid spanning
/// the neighbours of the previous grid's best point, until the span is below `tol`. `f`
/// evaluates a whole grid at once, which lets it run the points' recursions side by side
/// (about the cost of one sequential evaluation when that is latency-bound).
pub fn minimise_1d_batch(
    f: impl Fn(&[f64; BATCH]) -> [f64; BATCH],
    lo: f64,
    hi: f64,
    tol: f64,
) -> f64 {
    let (mut a, mut b) = (lo, hi);
    let (mut best_x, mut best) = (lo, f64::INFINITY);
    loop {
        let step = (b - a) / (BATCH - 1) as f64;
        let xs: [f64; BATCH] = std::array::from_fn(|i| {
            if i == BATCH - 1 {
                b
            } else {
                a + step * i as f64
            }
        });
        let vs = f(&xs);
        let mut i = 0;
        for k in 1..BATCH {
            if vs[k] < vs[i] {
                i = k;
            }
        }
        if vs[i] < best {
            best = vs[i];
            best_x = xs[i];
        }
        if b - a <= tol || !vs[i].is_finite() {
            return best_x;
        }
        a = xs[i.saturating_sub(1)];
        b = xs[(i + 1).min(BATCH - 1)];
    }
}

/// Nelder-Mead simplex minimisation from `x0` with initial steps `step`.
pub fn nelder_mead(
    f: impl Fn(&[f64]) -> f64,
    x0: &[f64],
    step: &[f64],
    max_evals: usize,
    tol: f64,
) -> (Vec<f64>, f64) {
    let n = x0.len();
    let mut pts: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    pts.push(x0.to_vec());
    for i in 0..n {
        let mut p = x0.to_vec();
        p[i] += step[i];
        pts.push(p);
    }
    let mut vals: Vec<f64> = pts.iter().map(|p| sanitize(f(p))).collect();
    let mut evals = n + 1;
    let mut centroid = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut trial2 = vec![0.0; n];
    while evals < max_evals {
        // order
        let mut idx: Vec<usize> = (0..=n).collect();
        idx.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        let pts2: Vec<Vec<f64>> = idx.iter().map(|&i| pts[i].clone()).collect();
        let vals2: Vec<f64> = idx.iter().map(|&i| vals[i]).collect();
        pts = pts2;
        vals = vals2;
        if (vals[n] - vals[0]).abs() <= tol * (vals[0].abs() + tol) {
            break;
        }
        centroid.iter_mut().for_each(|c| *c = 0.0);
        for p in &pts[..n] {
            for (c, v) in centroid.iter_mut().zip(p) {
                *c += v / n as f64;
            }
        }
        for i in 0..n {
            trial[i] = centroid[i] + (centroid[i] - pts[n][i]);
        }
        let fr = sanitize(f(&trial));
        evals += 1;
        if fr < vals[0] {
            for i in 0..n {
                trial2[i] = centroid[i] + 2.0 * (centroid[i] - pts[n][i]);
            }
            let fe = sanitize(f(&trial2));
            evals += 1;
            if fe < fr {
                pts[n].copy_from_slice(&trial2);
                vals[n] = fe;
            } else {
                pts[n].copy_from_slice(&trial);
                vals[n] = fr;
            }
        } else if fr < vals[n - 1] {
            pts[n].copy_from_slice(&trial);
            vals[n] = fr;
        } else {
            let outside = fr < vals[n];
            for i in 0..n {
                trial2[i] = if outside {
                    centroid[i] + 0.5 * (trial[i] - centroid[i])
                } else {
                    centroid[i] + 0.5 * (pts[n][i] - centroid[i])
                };
            }
            let fc = sanitize(f(&trial2));
            evals += 1;
            if fc < vals[n].min(fr) {
                pts[n].copy_from_slice(&trial2);
                vals[n] = fc;
            } else {
                // shrink towards the best
                for j in 1..=n {
                    for i in 0..n {
                        pts[j][i] = pts[0][i] + 0.5 * (pts[j][i] - pts[0][i]);
                    }
                    vals[j] = sanitize(f(&pts[j]));
                    evals += 1;
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
        .unwrap_or(0);
    (pts[best].clone(), vals[best])
}

fn sanitize(v: f64) -> f64 {
    if v.is_finite() { v } else { f64::MAX }
}
