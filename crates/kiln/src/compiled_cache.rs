//! Compiled models kept on disk, so that a second `kiln model domains` on
//! the same file pays nothing for compiling.
//!
//! A model's compilation is saved under a name made of the SHA-256 of this
//! binary's version, the file's format and its exact text: an edited file or
//! a new `kiln` gets a new entry, never a stale one. The directory is
//! `$KILN_CACHE_DIR` (empty: keep nothing), else `$XDG_CACHE_HOME/kiln/models`,
//! else `~/.cache/kiln/models`. An entry that cannot be read or does not fit
//! the model is compiled again and replaced; failing to write one only costs
//! the next call a compile. Only models with tables (imported XCSP/DIMACS)
//! are kept: native products compile in milliseconds.

use std::path::{Path, PathBuf};

use kiln_configure::Configurator;
use kiln_model::{Format, Product};
use sha2::{Digest, Sha256};

/// The configurator for `product`, read from `file`'s text `source`.
pub fn configurator(file: &Path, source: &str, product: &Product) -> Configurator {
    if product.tables.is_empty() {
        return Configurator::new(product);
    }
    let Some(path) = entry(file, source) else {
        return Configurator::new(product);
    };
    if let Ok(bytes) = std::fs::read(&path)
        && let Some(c) = Configurator::with_compiled(product, &bytes)
    {
        return c;
    }
    let c = Configurator::new(product);
    if let Some(bytes) = c.compiled_bytes()
        && let Err(e) = save(&path, &bytes)
    {
        eprintln!(
            "note: could not keep the compiled model in {}: {e}",
            path.display()
        );
    }
    c
}

fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KILN_CACHE_DIR") {
        return (!d.is_empty()).then(|| PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("kiln").join("models"))
}

fn entry(file: &Path, source: &str) -> Option<PathBuf> {
    let format = match Format::of(&file.to_string_lossy()) {
        Format::Toml => "toml",
        Format::Xcsp => "xcsp",
        Format::Dimacs => "dimacs",
    };
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    h.update([0]);
    h.update(format);
    h.update([0]);
    h.update(source);
    Some(dir()?.join(format!("{}.kcd", hex::encode(h.finalize()))))
}

/// Writes to a temporary file and renames it, so a reader never sees half.
fn save(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("entries live in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
