//! `cargo run --release -p kiln-configure --example replay -- MODEL SALES [N]`:
//! the core of `kiln bench configurator` without the CLI: replay sales lines
//! as sessions, all valid values after every step and one explanation;
//! prints p50/p99/max in µs.

use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let source = std::fs::read_to_string(&a[1]).expect("model");
    let product = kiln_model::load_product(&a[1], &source).expect("valid model");
    let t = Instant::now();
    let c = kiln_configure::Configurator::new(&product);
    let load = t.elapsed();
    let sales = std::fs::read_to_string(&a[2]).expect("sales");
    let limit: usize = a.get(3).and_then(|x| x.parse().ok()).unwrap_or(usize::MAX);
    let mut lines = sales.lines();
    let names: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    let index: Vec<usize> = names
        .iter()
        .map(|n| c.find_option(n).expect("option"))
        .collect();
    let (mut steps, mut refused, mut ex) = (Vec::new(), 0, Vec::new());
    for line in lines.filter(|l| !l.trim().is_empty()).take(limit) {
        let mut state = c.state(&Default::default()).expect("empty");
        let mut sel = kiln_configure::Selections::new();
        let mut offered: Option<kiln_configure::Available> = None;
        for (k, (o, v)) in names.iter().zip(line.split_whitespace()).enumerate() {
            let i = index[k];
            let vi = product.options[i]
                .kind
                .values()
                .iter()
                .position(|x| x.id == v);
            if let (Some(d), Some(vi)) = (&offered, vi)
                && !d.contains(i, vi)
            {
                refused += 1;
            }
            sel.insert(o.to_string(), v.to_string());
            let t = Instant::now();
            c.set(&mut state, o, v).expect("known value");
            let d = c.available(&state);
            steps.push(t.elapsed().as_micros() as u64);
            if let (Some(d), Some(&next)) = (&d, index.get(k + 1))
                && let Some(x) =
                    (0..product.options[next].kind.values().len()).find(|&x| !d.contains(next, x))
            {
                let opt = &product.options[next];
                let t = Instant::now();
                let _ = c.explain(&sel, &opt.id, &opt.kind.values()[x].id);
                ex.push(t.elapsed().as_micros() as u64);
            }
            offered = d;
        }
    }
    steps.sort_unstable();
    ex.sort_unstable();
    let p = |v: &[u64], q: f64| {
        v.get(((v.len() as f64 * q) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "load_ms {:.1} steps {} p50 {} p99 {} max {} explain_p99 {} refused {}",
        load.as_secs_f64() * 1e3,
        steps.len(),
        p(&steps, 0.5),
        p(&steps, 0.99),
        steps.last().copied().unwrap_or(0),
        p(&ex, 0.99),
        refused
    );
}
