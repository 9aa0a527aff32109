//! Signing secrets and signatures, as the Standard Webhooks 1.0 specification says.
//!
//! Every endpoint gets its own random secret. It is shown to the receiver once, in the
//! form `whsec_<base64 of the key bytes>`; the `whsec_` prefix only tells people and
//! tools what the string is, and the key is the base64-decoded part after it. The
//! specification wants 24 to 64 random bytes; [`Secret::generate`] makes 24.
//!
//! For each delivery the sender signs the text `{msg_id}.{timestamp}.{body}` with
//! HMAC-SHA256 under that key, and sends three headers (see [`headers`]):
//!
//! - `webhook-id`: the message id, the same on every retry, so the receiver can drop
//!   duplicates. It must not be user-controlled and must not contain a `.`: the dot is
//!   the separator in the signed text.
//! - `webhook-timestamp`: the time of this attempt, in unix seconds. Because it is
//!   signed, a receiver that refuses old timestamps (5 minutes is usual) is safe from
//!   replays.
//! - `webhook-signature`: `v1,<base64 of the HMAC>`; `v1` names the scheme. During a key
//!   rotation a sender may put several signatures here, separated by spaces.
//!
//! The body must be sent byte for byte as it was signed: a receiver that re-serializes
//! JSON before checking will fail to verify.
//!
//! ```
//! use kiln_webhooks::secret::Secret;
//!
//! let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
//! assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The prefix that marks a Standard Webhooks symmetric secret.
pub const PREFIX: &str = "whsec_";
/// The scheme tag in front of an HMAC-SHA256 signature.
const VERSION: &str = "v1";
/// Bytes of key made by [`Secret::generate`]; also the least [`Secret::parse`] accepts.
pub const MIN_KEY_BYTES: usize = 24;
/// The most key bytes the specification allows (512 bits).
pub const MAX_KEY_BYTES: usize = 64;

/// Standard base64 that accepts the text with or without its trailing `=` padding,
/// as the reference libraries do.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An endpoint's signing key: the decoded bytes, never printed by `Debug`.
#[derive(Clone)]
pub struct Secret {
    key: Vec<u8>,
}

/// Why a text is not a usable `whsec_` secret. The messages can be shown to a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with \"whsec_\"")]
    MissingPrefix,
    #[error("the part of the webhook secret after \"whsec_\" is not valid base64")]
    NotBase64,
    #[error("the webhook secret holds {0} bytes of key; it must hold between 24 and 64 bytes")]
    WrongLength(usize),
}

impl Secret {
    /// A new random secret of 24 bytes from the operating system's generator.
    ///
    /// # Panics
    /// If the operating system cannot give random bytes, which on the platforms Kiln
    /// runs on does not happen in practice.
    pub fn generate() -> Secret {
        let mut key = vec![0u8; MIN_KEY_BYTES];
        getrandom::fill(&mut key).expect("the operating system's random generator failed");
        Secret { key }
    }

    /// Reads a secret written as `whsec_<base64>` (padding optional). Anything else,
    /// and keys shorter than 24 or longer than 64 bytes, are errors.
    pub fn parse(s: &str) -> Result<Secret, SecretError> {
        let encoded = s.strip_prefix(PREFIX).ok_or(SecretError::MissingPrefix)?;
        let key = LENIENT
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if !(MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&key.len()) {
            return Err(SecretError::WrongLength(key.len()));
        }
        Ok(Secret { key })
    }

    /// The secret as the receiver is given it: `whsec_` and the padded base64 of the key.
    pub fn as_whsec(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The `webhook-signature` value for one attempt: `v1,<base64 of HMAC-SHA256>` over
    /// `{msg_id}.{timestamp}.{body}`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(msg_id, timestamp, body).finalize().into_bytes();
        format!("{VERSION},{}", STANDARD.encode(tag))
    }

    /// Whether `signature_header` (a space-separated list such as `v1,abc= v1,def=`)
    /// holds a `v1` signature of this message made with this secret. Each candidate is
    /// compared in constant time. Entries of other schemes are skipped.
    ///
    /// This checks the signature only: a receiver must also refuse timestamps far from
    /// its own clock, or an old delivery could be replayed.
    pub fn verify(
        &self,
        msg_id: &str,
        timestamp: i64,
        body: &[u8],
        signature_header: &str,
    ) -> bool {
        signature_header
            .split(' ')
            .filter_map(|entry| entry.split_once(','))
            .filter(|(version, _)| *version == VERSION)
            .filter_map(|(_, encoded)| STANDARD.decode(encoded).ok())
            .any(|tag| self.mac(msg_id, timestamp, body).verify_slice(&tag).is_ok())
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.key).expect("HMAC accepts a key of any length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(whsec_…, {} bytes)", self.key.len())
    }
}

/// The three Standard Webhooks headers of one attempt, names in lower case.
pub fn headers(msg_id: &str, timestamp: i64, signature: &str) -> [(&'static str, String); 3] {
    [
        ("webhook-id", msg_id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector of the specification's reference libraries (Python `test_sign_function`).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_specification_vector() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        assert_eq!(secret.sign(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
    }

    #[test]
    fn signs_the_rust_reference_library_vector() {
        let secret = Secret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            secret.sign("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn verifies_good_signatures_and_refuses_changed_ones() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        assert!(secret.verify(SPEC_ID, SPEC_TS, SPEC_BODY, SPEC_SIG));
        // The same signature among others, as during a key rotation.
        let rotating =
            format!("v1a,AAAA v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {SPEC_SIG}");
        assert!(secret.verify(SPEC_ID, SPEC_TS, SPEC_BODY, &rotating));
        assert!(!secret.verify(SPEC_ID, SPEC_TS, br#"{"test": 2432232315}"#, SPEC_SIG));
        assert!(!secret.verify("msg_other", SPEC_TS, SPEC_BODY, SPEC_SIG));
        assert!(!secret.verify(SPEC_ID, SPEC_TS + 1, SPEC_BODY, SPEC_SIG));
        assert!(!secret.verify(
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
        ));
        assert!(!secret.verify(
            SPEC_ID,
            SPEC_TS,
            SPEC_BODY,
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        ));
        assert!(!secret.verify(SPEC_ID, SPEC_TS, SPEC_BODY, ""));
        assert!(!secret.verify(SPEC_ID, SPEC_TS, SPEC_BODY, "v1,not base64!"));
        let other = Secret::generate();
        assert!(!other.verify(SPEC_ID, SPEC_TS, SPEC_BODY, SPEC_SIG));
    }

    #[test]
    fn generated_secrets_are_random_and_round_trip() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_ne!(a.as_whsec(), b.as_whsec());
        assert!(a.as_whsec().starts_with("whsec_"));
        let again = Secret::parse(&a.as_whsec()).unwrap();
        assert_eq!(again.as_whsec(), a.as_whsec());
        assert_eq!(again.key.len(), MIN_KEY_BYTES);
    }

    #[test]
    fn parse_refuses_anything_but_whsec_base64() {
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::MissingPrefix
        );
        assert_eq!(Secret::parse("").unwrap_err(), SecretError::MissingPrefix);
        assert_eq!(
            Secret::parse("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::MissingPrefix
        );
        assert_eq!(
            Secret::parse("whsec_not base64!").unwrap_err(),
            SecretError::NotBase64
        );
        assert_eq!(
            Secret::parse(" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::MissingPrefix
        );
        assert_eq!(
            Secret::parse("whsec_").unwrap_err(),
            SecretError::WrongLength(0)
        );
        assert_eq!(
            Secret::parse("whsec_c2hvcnQ=").unwrap_err(),
            SecretError::WrongLength(5)
        );
        let long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        assert_eq!(
            Secret::parse(&long).unwrap_err(),
            SecretError::WrongLength(65)
        );
        // Padding is optional, as in the reference libraries.
        let padded = format!("whsec_{}", STANDARD.encode([1u8; 25]));
        assert!(padded.ends_with('='));
        assert!(Secret::parse(&padded).is_ok());
        assert!(Secret::parse(padded.trim_end_matches('=')).is_ok());
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("MfKQ9r8"), "{shown}");
        assert_eq!(shown, "Secret(whsec_…, 24 bytes)");
    }

    #[test]
    fn headers_carry_the_three_values() {
        let [id, ts, sig] = headers(SPEC_ID, SPEC_TS, SPEC_SIG);
        assert_eq!(id, ("webhook-id", SPEC_ID.to_owned()));
        assert_eq!(ts, ("webhook-timestamp", "1614265330".to_owned()));
        assert_eq!(sig, ("webhook-signature", SPEC_SIG.to_owned()));
    }
}
