//! Bill of materials explosion: per-unit BOM lines to batch quantities.

use rust_decimal::Decimal;

/// Multiplies per-unit BOM lines by `quantity`, summing repeated materials (a material can
/// appear on several lines, e.g. from different options) in first-seen order so output is
/// stable for display and tests.
pub fn explode(lines: &[(String, Decimal)], quantity: u32) -> Vec<(String, Decimal)> {
    let quantity = Decimal::from(quantity);
    let mut out: Vec<(String, Decimal)> = Vec::new();
    for (material, per_unit) in lines {
        let qty = per_unit * quantity;
        match out.iter_mut().find(|(m, _)| m == material) {
            Some((_, total)) => *total += qty,
            None => out.push((material.clone(), qty)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn aggregates_in_first_seen_order() {
        let lines = vec![
            ("clay".to_string(), dec("0.35")),
            ("glaze".to_string(), dec("0.05")),
            ("clay".to_string(), dec("0.10")),
        ];
        assert_eq!(
            explode(&lines, 4),
            vec![
                ("clay".to_string(), dec("1.80")),
                ("glaze".to_string(), dec("0.20"))
            ]
        );
    }

    #[test]
    fn zero_quantity_keeps_materials() {
        let lines = vec![("clay".to_string(), dec("0.35"))];
        assert_eq!(explode(&lines, 0), vec![("clay".to_string(), dec("0"))]);
    }
}
