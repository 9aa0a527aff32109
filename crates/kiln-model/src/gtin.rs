//! GS1 Global Trade Item Numbers: the `gtin` of a product, the key of the
//! GS1 Digital Link URI on its units' labels (`/01/{gtin}/21/{serial}`).

/// A GTIN-8, -12, -13 or -14 with a correct check digit, as the 14 digits
/// GS1 Digital Link uses (padded on the left with zeros); otherwise a plain
/// sentence saying what is wrong.
pub fn gtin14(text: &str) -> Result<String, String> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "GTIN `{text}` must be digits only (8, 12, 13 or 14 of them)"
        ));
    }
    if ![8, 12, 13, 14].contains(&text.len()) {
        return Err(format!(
            "GTIN `{text}` has {} digits: a GTIN has 8, 12, 13 or 14",
            text.len()
        ));
    }
    let padded = format!("{text:0>14}");
    let digits: Vec<u32> = padded.bytes().map(|b| u32::from(b - b'0')).collect();
    let expected = check_digit(&digits[..13]);
    if digits[13] != expected {
        return Err(format!(
            "GTIN `{text}` has check digit {} where {expected} is right",
            digits[13]
        ));
    }
    Ok(padded)
}

/// The GS1 modulo-10 check digit of the digits before it: from the right,
/// weights 3, 1, 3, ...
fn check_digit(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::gtin14;
    use proptest::prelude::*;

    #[test]
    fn known_gtins() {
        // GS1's own examples in the Digital Link standard.
        assert_eq!(gtin14("09506000134352").unwrap(), "09506000134352");
        assert_eq!(gtin14("9506000134352").unwrap(), "09506000134352");
        // A UPC-A (GTIN-12) and an EAN-8.
        assert_eq!(gtin14("036000291452").unwrap(), "00036000291452");
        assert_eq!(gtin14("96385074").unwrap(), "00000096385074");
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            gtin14("09506000134353").unwrap_err(),
            "GTIN `09506000134353` has check digit 3 where 2 is right"
        );
        assert!(gtin14("12345").unwrap_err().contains("has 5 digits"));
        assert!(gtin14("95O6000134352").unwrap_err().contains("digits only"));
        assert!(gtin14("").unwrap_err().contains("has 0 digits"));
    }

    proptest! {
        #[test]
        fn any_text_is_a_gtin_or_a_reason(s in "\\PC{0,20}") {
            if let Ok(g) = gtin14(&s) {
                prop_assert_eq!(g.len(), 14);
                prop_assert!(g.ends_with(&s));
            }
        }

        #[test]
        fn one_changed_digit_is_caught(body in "[0-9]{13}", at in 0usize..14, by in 1u8..10) {
            let digits: Vec<u32> = body.bytes().map(|b| u32::from(b - b'0')).collect();
            let gtin = format!("{body}{}", super::check_digit(&digits));
            prop_assert!(gtin14(&gtin).is_ok());
            let mut bytes = gtin.into_bytes();
            bytes[at] = b'0' + (bytes[at] - b'0' + by) % 10;
            prop_assert!(gtin14(&String::from_utf8(bytes).unwrap()).is_err());
        }
    }
}
