//! `kiln passport verify`: checks a unit's passport with no network, given
//! the brand's public keys (its JWK set, saved from
//! `GET /api/v1/brands/{brand}/passport-keys`). It takes the passport's JWS,
//! the label's URI (which carries a signed summary), or a PNG image of the
//! label's QR code, and prints what the unit is when the signature holds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum PassportCommand {
    /// Check a passport offline: a JWS, a label's URI, or a PNG of its QR code.
    Verify {
        /// The passport's compact JWS, the URI its QR code holds, or a PNG file of the QR code.
        passport: String,
        /// The brand's public keys: a JWK set (JSON) file.
        #[arg(long)]
        keys: PathBuf,
    },
}

pub fn run(cmd: PassportCommand) -> anyhow::Result<ExitCode> {
    let PassportCommand::Verify { passport, keys } = cmd;
    let keys = std::fs::read_to_string(&keys)
        .with_context(|| format!("cannot read the keys file {}", keys.display()))?;
    let (source, text) = if Path::new(&passport).is_file() {
        ("QR code", read_qr(Path::new(&passport))?)
    } else if passport.contains("://") {
        ("URI", passport.clone())
    } else {
        ("JWS", passport.clone())
    };
    let jws = kiln_app::passport::find_jws(&text)
        .ok_or_else(|| anyhow!("the {source} holds no passport (no compact JWS)"))?;
    match kiln_app::passport::verify(&jws, &keys) {
        Ok(payload) => {
            let serial = payload["serial"].as_str().unwrap_or("?");
            println!("verified: unit {serial}, signed by the brand's key");
            println!("{}", serde_json::to_string_pretty(&payload)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("refused: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// The text of the first QR code in a PNG image.
fn read_qr(path: &Path) -> anyhow::Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .with_context(|| format!("{} is not a PNG image", path.display()))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| anyhow!("{} is too large an image", path.display()))?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf)?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let channels = frame.color_type.samples();
    let pixels = &buf[..frame.buffer_size()];
    // Grey, over white where the image is transparent.
    let luma = |x: usize, y: usize| -> u8 {
        let p = &pixels[(y * w + x) * channels..][..channels];
        let (v, alpha) = match channels {
            1 => (u32::from(p[0]), 255),
            2 => (u32::from(p[0]), u32::from(p[1])),
            3 => (
                (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000,
                255,
            ),
            _ => (
                (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000,
                u32::from(p[3]),
            ),
        };
        ((v * alpha + 255 * (255 - alpha)) / 255) as u8
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    for grid in image.detect_grids() {
        if let Ok((_, content)) = grid.decode() {
            return Ok(content);
        }
    }
    bail!("no QR code could be read in {}", path.display())
}
