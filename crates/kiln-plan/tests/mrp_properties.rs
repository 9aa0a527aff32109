//! Property tests on netting: quantities balance and suggestions cover shortages.

use jiff::{
    ToSpan,
    civil::{Date, date},
};
use kiln_plan::{GrossRequirement, MaterialPosition, material_release, net_requirements};
use proptest::prelude::*;
use rust_decimal::Decimal;

const TODAY: Date = date(2025, 6, 2);

fn qty() -> impl Strategy<Value = Decimal> {
    (0i64..10_000).prop_map(|cents| Decimal::new(cents, 2))
}

proptest! {
    #[test]
    fn netting_balances(
        positions in proptest::collection::vec((qty(), qty(), qty(), 0u32..30, qty()), 1..4),
        gross in proptest::collection::vec((0usize..4, qty(), 0i64..40), 0..8),
    ) {
        let positions: Vec<_> = positions
            .into_iter()
            .enumerate()
            .map(|(i, (on_hand, allocated, on_order, lead_days, moq))| MaterialPosition {
                material: format!("m{i}"),
                on_hand,
                allocated,
                on_order,
                lead_days,
                moq,
                ..MaterialPosition::default()
            })
            .collect();
        let gross: Vec<_> = gross
            .into_iter()
            .map(|(m, qty, offset)| GrossRequirement {
                material: format!("m{}", m % positions.len()),
                qty,
                need_by: TODAY.checked_add(offset.days()).unwrap(),
            })
            .collect();
        let net = net_requirements(&positions, &gross, TODAY).unwrap();
        for n in &net {
            let p = positions.iter().find(|p| p.material == n.material).unwrap();
            let total: Decimal = gross.iter().filter(|g| g.material == n.material).map(|g| g.qty).sum();
            prop_assert_eq!(n.gross, total);
            prop_assert!(n.available >= Decimal::ZERO);
            prop_assert!(n.allocated_now <= n.available);
            prop_assert_eq!(n.allocated_now + n.shortage, n.gross);
            prop_assert!(n.shortage >= Decimal::ZERO);
            match &n.suggestion {
                None => prop_assert_eq!(n.shortage, Decimal::ZERO),
                Some(s) => {
                    prop_assert!(n.shortage > Decimal::ZERO);
                    prop_assert!(s.qty >= n.shortage && s.qty >= p.moq);
                    prop_assert!(s.order_by >= TODAY);
                    prop_assert_eq!(s.arrives, TODAY.checked_add(i64::from(p.lead_days).days()).unwrap());
                    prop_assert!(material_release(&net, TODAY) >= s.arrives);
                }
            }
        }
        prop_assert!(material_release(&net, TODAY) >= TODAY);
    }
}
