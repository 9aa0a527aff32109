//! `cargo run --release -p kiln-configure --example model_count -- FILE`:
//! load any model format, count it, and time both (without the CLI).

fn main() {
    let path = std::env::args().nth(1).expect("usage: model_count FILE");
    let source = std::fs::read_to_string(&path).expect("readable file");
    let t = std::time::Instant::now();
    let product = kiln_model::load_product(&path, &source).unwrap_or_else(|ds| {
        ds.iter().for_each(|d| eprintln!("{d}"));
        std::process::exit(1)
    });
    eprintln!("parsed {:?}", t.elapsed());
    let c = kiln_configure::Configurator::new(&product);
    let load = t.elapsed();
    let t = std::time::Instant::now();
    match c.count() {
        Ok(n) => println!("{n}"),
        Err(e) => eprintln!("error: {e}"),
    }
    eprintln!("load {load:?}, count {:?}", t.elapsed());
}
