//! `kiln passport verify` offline: a passport signed as a brand signs them,
//! given as its JWS, as a label's URI, and as a PNG of its QR code, checks
//! out against the brand's JWK set; a changed byte, another brand's key or a
//! revoked one (absent from the set) is refused with the reason, non-zero.

use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

fn kiln() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
}

/// A key pair and its JWK set under `kid`.
fn brand_key(kid: &str) -> (Ed25519KeyPair, String) {
    let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(der.as_ref()).unwrap();
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let jwks = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"{kid}","use":"sig","alg":"EdDSA"}}]}}"#
    );
    (pair, jwks)
}

fn sign(pair: &Ed25519KeyPair, kid: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#)),
        URL_SAFE_NO_PAD.encode(payload)
    );
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(pair.sign(input.as_bytes()).as_ref())
    )
}

/// A PNG of the QR code holding `text`, 8 pixels a module.
fn qr_png(text: &str, path: &std::path::Path) {
    let code = fast_qr::QRBuilder::new(text.as_bytes()).build().unwrap();
    let width = code.size;
    let (scale, quiet) = (8, 4);
    let side = (width + 2 * quiet) * scale;
    let mut pixels = vec![255u8; side * side];
    for y in 0..width {
        for x in 0..width {
            if code.data[y * width + x].value() {
                for dy in 0..scale {
                    for dx in 0..scale {
                        pixels[((y + quiet) * scale + dy) * side + (x + quiet) * scale + dx] = 0;
                    }
                }
            }
        }
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&pixels)
        .unwrap();
}

fn verify(passport: &str, keys: &std::path::Path) -> (i32, String, String) {
    let out = kiln()
        .args(["passport", "verify", passport, "--keys"])
        .arg(keys)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn passports_verify_offline_from_a_jws_a_uri_or_a_qr_png() {
    let dir = tempfile::tempdir().unwrap();
    let (pair, jwks) = brand_key("demo-1");
    let keys = dir.path().join("jwks.json");
    std::fs::write(&keys, &jwks).unwrap();
    let jws = sign(
        &pair,
        "demo-1",
        r#"{"serial":"78FA386D94D542AD","sku":"MUG-L"}"#,
    );

    let (code, out, _) = verify(&jws, &keys);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("verified: unit 78FA386D94D542AD") && out.contains("MUG-L"));

    let uri = format!("https://kiln.example/shop/demo/21/78FA386D94D542AD?pp={jws}");
    assert_eq!(verify(&uri, &keys).0, 0);
    let png = dir.path().join("qr.png");
    qr_png(&uri, &png);
    let (code, out, err) = verify(png.to_str().unwrap(), &keys);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("78FA386D94D542AD"));

    // One byte of the payload changed.
    let parts: Vec<&str> = jws.split('.').collect();
    let forged_payload = URL_SAFE_NO_PAD.encode(r#"{"serial":"78FA386D94D542AE","sku":"MUG-L"}"#);
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    let (code, _, err) = verify(&forged, &keys);
    assert_eq!(code, 2);
    assert!(err.contains("signature does not match"), "{err}");

    // Another brand's key, or one revoked (left out of the set).
    let (other, _) = brand_key("demo-1");
    let (code, _, err) = verify(&sign(&other, "demo-1", r#"{"serial":"1"}"#), &keys);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = verify(&sign(&pair, "revoked-0", r#"{"serial":"1"}"#), &keys);
    assert_eq!(code, 2);
    assert!(err.contains("not among the brand's keys"), "{err}");

    // Not a passport at all: a clear error, not a panic.
    let (code, _, err) = verify("https://kiln.example/shop/demo/21/X", &keys);
    assert_ne!(code, 0);
    assert!(err.contains("holds no passport"), "{err}");
    let (code, _, err) = verify(&jws, &dir.path().join("missing.json"));
    assert_ne!(code, 0);
    assert!(err.contains("cannot read the keys file"), "{err}");
}
