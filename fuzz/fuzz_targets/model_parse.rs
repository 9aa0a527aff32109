//! Any text as a product model and as a factory model: the checker reports
//! diagnostics (file, line, column), never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let _ = kiln_model::parse_product("product.toml", source);
    let _ = kiln_model::parse_factory("factory.toml", source);
    let report = kiln_model::check(&[("product.toml".to_string(), source.to_string())]);
    for d in &report.diagnostics {
        assert!(
            d.span.line >= 1 && d.span.column >= 1,
            "a diagnostic without its line and column: {d}"
        );
    }
});
