//! The JOSE side of passports, with no I/O: a brand's Ed25519 signing key
//! ([`Signer`]) making compact JWS (RFC 7515, `alg` `EdDSA`), its public
//! half as a JWK (RFC 8037), and [`verify`], which checks a JWS against a
//! JWK set offline, as `kiln passport verify` and the passport page do.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::{Value, json};

use super::{Jwk, Jwks};
use crate::error::{Error, Result};

/// A passport signing key: the brand's (from the store), or a fresh one
/// ([`Signer::generate`], for benchmarks and tests).
pub struct Signer {
    pub(super) kid: String,
    pair: Ed25519KeyPair,
}

impl Signer {
    /// A new Ed25519 key under `kid`, with the JWK set that publishes it.
    pub fn generate(kid: &str) -> Result<(Signer, Jwks)> {
        let (signer, _) = Signer::fresh(kid)?;
        let jwks = Jwks {
            keys: vec![jwk(kid, signer.public_key())],
        };
        Ok((signer, jwks))
    }

    /// A new key under `kid` and its private half as base64 PKCS#8, to store.
    pub(super) fn fresh(kid: &str) -> Result<(Signer, String)> {
        let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|e| Error::internal(format!("no passport key could be made: {e}")))?;
        let secret = STANDARD.encode(der.as_ref());
        Ok((Signer::load(kid, &secret)?, secret))
    }

    /// The public key, base64url: a JWK's `x`.
    pub(super) fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref())
    }

    /// A stored key: its private half as base64 PKCS#8.
    pub(super) fn load(kid: &str, secret: &str) -> Result<Signer> {
        let der = STANDARD
            .decode(secret)
            .map_err(|e| Error::internal_from("a passport key is not base64", e))?;
        let pair = Ed25519KeyPair::from_pkcs8(&der)
            .map_err(|e| Error::internal(format!("a passport key does not load: {e}")))?;
        Ok(Signer {
            kid: kid.to_string(),
            pair,
        })
    }

    /// A compact JWS of `payload`: `header.payload.signature`, base64url.
    pub fn sign(&self, payload: &Value) -> String {
        let header = json!({ "alg": "EdDSA", "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self.pair.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// An Ed25519 public key (base64url) as a JWK for signatures.
pub(super) fn jwk(kid: &str, x: String) -> Jwk {
    Jwk {
        kty: "OKP",
        crv: "Ed25519",
        x,
        kid: kid.to_string(),
        use_: "sig",
        alg: "EdDSA",
    }
}

/// Why a passport is not to be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a compact JWS (header.payload.signature in base64url)")]
    Malformed,
    #[error("the JWS uses `{0}`, not EdDSA (Ed25519)")]
    Algorithm(String),
    #[error("signed with key `{0}`, which is not among the brand's keys (unknown or revoked)")]
    UnknownKey(String),
    #[error("the signature does not match: the passport was changed or not signed by that key")]
    BadSignature,
    #[error("the key set is not a JWK set of Ed25519 keys: {0}")]
    Keys(String),
}

/// Checks a compact JWS against a JWK set (JSON), offline: EdDSA over
/// Ed25519 (`alg` `EdDSA` or `Ed25519`), a `kid` that the set holds, and the
/// signature. The payload, parsed, when all holds.
pub fn verify(jws: &str, jwks: &str) -> std::result::Result<Value, VerifyError> {
    let keys: Value = serde_json::from_str(jwks).map_err(|e| VerifyError::Keys(e.to_string()))?;
    let keys = keys["keys"]
        .as_array()
        .ok_or_else(|| VerifyError::Keys("no `keys` array".into()))?;
    let parts: Vec<&str> = jws.trim().split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(VerifyError::Malformed);
    };
    let decode = |x: &str| {
        URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| VerifyError::Malformed)
    };
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| VerifyError::Malformed)?;
    let alg = header["alg"].as_str().unwrap_or_default();
    if alg != "EdDSA" && alg != "Ed25519" {
        return Err(VerifyError::Algorithm(alg.to_string()));
    }
    let kid = header["kid"].as_str().unwrap_or_default();
    let key = keys
        .iter()
        .find(|k| k["kid"] == kid && k["kty"] == "OKP" && k["crv"] == "Ed25519")
        .ok_or_else(|| VerifyError::UnknownKey(kid.to_string()))?;
    let public = key["x"]
        .as_str()
        .and_then(|x| URL_SAFE_NO_PAD.decode(x).ok())
        .ok_or_else(|| VerifyError::Keys(format!("key `{kid}` has no base64url `x`")))?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public)
        .verify(format!("{h}.{p}").as_bytes(), &decode(s)?)
        .map_err(|_| VerifyError::BadSignature)?;
    serde_json::from_slice(&decode(p)?).map_err(|_| VerifyError::Malformed)
}

/// The first compact JWS in a text (a URI, say), percent-decoded first.
pub fn find_jws(text: &str) -> Option<String> {
    let decoded = percent_decode(text);
    decoded
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .find(|t| t.starts_with("eyJ") && t.split('.').count() == 3)
        .map(str::to_string)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) if hex.iter().all(u8::is_ascii_hexdigit) => {
                let h = std::str::from_utf8(hex).unwrap_or("00");
                out.push(u8::from_str_radix(h, 16).unwrap_or(b'?'));
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_jws_in_a_percent_encoded_uri() {
        let uri = "https://x.example/shop/demo/21/ABC?pp=eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln%20";
        assert_eq!(
            find_jws(uri).as_deref(),
            Some("eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln")
        );
        assert_eq!(find_jws("https://x.example/21/ABC"), None);
    }

    #[test]
    fn verify_refuses_what_is_not_an_eddsa_jws_under_a_known_key() {
        let keys = r#"{"keys":[]}"#;
        assert_eq!(verify("nope", keys), Err(VerifyError::Malformed));
        let hs = format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#));
        assert_eq!(
            verify(&hs, keys),
            Err(VerifyError::Algorithm("HS256".into()))
        );
        let ed = format!(
            "{}.e30.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","kid":"k1"}"#)
        );
        assert_eq!(verify(&ed, keys), Err(VerifyError::UnknownKey("k1".into())));
        assert!(matches!(verify(&ed, "[]"), Err(VerifyError::Keys(_))));
    }
}
