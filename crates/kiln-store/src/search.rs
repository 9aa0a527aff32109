//! How a clerk's search for a customer becomes SQL parameters: the same on
//! every backend, so only `LIKE`, `LOWER` and `REPLACE` are used.

/// A search typed at the counter: an email or phone as it is stored, part
/// of a name or an email, or a phone number in any common format (spaces,
/// dashes, brackets, dots, `+44` or a national `0`).
pub(crate) struct CustomerQuery {
    pub exact_email: String,
    pub exact_phone: String,
    /// `%part%`, lower-case, with `%`, `_` and `\` escaped; empty for a
    /// search shorter than two characters.
    pub contains: String,
    /// `%` and the number's last nine digits (a national `07700 900123` and
    /// an international `+44 7700 900123` end alike); empty below six digits.
    pub phone_suffix: String,
}

impl CustomerQuery {
    pub(crate) fn new(query: &str) -> CustomerQuery {
        let q = query.trim();
        let lower = q.to_lowercase();
        let contains = if lower.chars().count() >= 2 {
            let mut pattern = String::from("%");
            for c in lower.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            pattern
        } else {
            String::new()
        };
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let phone_suffix = if digits.len() >= 6 {
            format!("%{}", &digits[digits.len().saturating_sub(9)..])
        } else {
            String::new()
        };
        CustomerQuery {
            exact_email: lower,
            exact_phone: q.to_string(),
            contains,
            phone_suffix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_phone_formats() {
        let q = CustomerQuery::new("  Ada ");
        assert_eq!(
            (q.exact_email.as_str(), q.contains.as_str()),
            ("ada", "%ada%")
        );
        assert_eq!(q.phone_suffix, "");
        assert_eq!(
            CustomerQuery::new("+44 (0)7700-900.123").phone_suffix,
            "%700900123"
        );
        assert_eq!(
            CustomerQuery::new("07700 900123").phone_suffix,
            "%700900123"
        );
        assert_eq!(
            CustomerQuery::new("50%_off\\").contains,
            "%50\\%\\_off\\\\%"
        );
        assert_eq!(CustomerQuery::new("a").contains, "");
    }
}
