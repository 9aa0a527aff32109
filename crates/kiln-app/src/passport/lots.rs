//! Which purchase a unit's material came from. Stock is issued first in,
//! first out: the stock seeded when the material was first declared, then
//! each purchase in the order it was received. An order's consumption of a
//! material takes the next stretch of that sequence, so the lots it drew
//! follow from the moves alone, with no lot picked by hand.
//!
//! [`Ledger`] is pure; the passport lists its lots per material.

use std::collections::HashMap;

use kiln_domain::{Decimal, MaterialLedger, PlacedMove, Timestamp};

/// Where material came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LotSource {
    /// Stock on hand when the material was first declared.
    OpeningStock,
    /// A purchase (its suggestion's id) received at a time.
    Purchase { id: String, received_at: Timestamp },
    /// More was used than has arrived yet: it comes from a purchase still due.
    NotReceived,
}

/// A stretch of one source drawn by an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub source: LotSource,
    pub qty: Decimal,
}

/// One material's ledger, read once, to tell the lots of many orders: each
/// order's stretch of the consumption sequence and where each supply starts
/// in it. Telling an order's lots is then a lookup and a binary search,
/// not a pass over the material's whole history.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// Each order's first consumption: how much was consumed before it,
    /// and how much it took.
    consumed: HashMap<String, (Decimal, Decimal)>,
    /// All consumption so far: where an order not consumed yet begins.
    total_consumed: Decimal,
    /// The supply in the order it came: opening stock, then receipts, each
    /// with where it starts in the sequence.
    supply: Vec<(LotSource, Decimal, Decimal)>,
}

impl Ledger {
    /// A material's ledger as the store keeps it (see
    /// [`MaterialLedger`]); `opening` is its seeded stock, the first supply.
    pub fn new(opening: Decimal, ledger: &MaterialLedger) -> Ledger {
        let mut consumed = HashMap::new();
        for m in &ledger.consumption {
            consumed
                .entry(m.reference.clone())
                .or_insert((m.position, m.qty));
        }
        let mut receipts: Vec<&PlacedMove> = ledger
            .receipts
            .iter()
            .filter(|m| m.qty > Decimal::ZERO)
            .collect();
        receipts.sort_by_key(|m| m.position);
        let opening = opening.max(Decimal::ZERO);
        let mut supply = vec![(LotSource::OpeningStock, Decimal::ZERO, opening)];
        for m in receipts {
            let start = opening + m.position;
            let source = LotSource::Purchase {
                id: m.reference.clone(),
                received_at: m.at,
            };
            supply.push((source, start, start + m.qty));
        }
        Ledger {
            consumed,
            total_consumed: ledger.consumed,
            supply,
        }
    }

    /// The lots `order`'s use of the material drew. The order's consumption
    /// is its move (referenced by the order id); an order not consumed yet
    /// is taken to use `pending` after everything consumed so far.
    pub fn drawn(&self, order: &str, pending: Decimal) -> Vec<Lot> {
        let (from, qty) = self
            .consumed
            .get(order)
            .copied()
            .unwrap_or((self.total_consumed, pending));
        let to = from + qty.max(Decimal::ZERO);
        let first = self.supply.partition_point(|(_, _, end)| *end <= from);
        let mut lots = Vec::new();
        for (source, start, end) in &self.supply[first..] {
            if *start >= to {
                break;
            }
            let overlap = (*end).min(to) - (*start).max(from);
            if overlap > Decimal::ZERO {
                lots.push(Lot {
                    source: source.clone(),
                    qty: overlap,
                });
            }
        }
        let supplied = self.supply.last().map_or(Decimal::ZERO, |s| s.2);
        let short = to - supplied.max(from);
        if short > Decimal::ZERO {
            lots.push(Lot {
                source: LotSource::NotReceived,
                qty: short,
            });
        }
        lots
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_domain::StockMoveKind;
    use proptest::prelude::*;

    /// One movement of a material in or out of stock, as the reference
    /// model below replays them.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct StockMove {
        /// Positive in, negative out.
        qty: Decimal,
        kind: StockMoveKind,
        /// The purchase (suggestion id) received, or the order consumed for.
        reference: String,
        at: Timestamp,
    }

    /// The lots as first written: a pass over all the moves per order, the
    /// reference the ledger is held to. `moves` are that
    /// material's moves, oldest first; `opening` its seeded stock. The order's
    /// consumption is its move (referenced by the order id); an order not
    /// consumed yet is taken to use `pending` after everything consumed so far.
    fn drawn_by_scan(
        opening: Decimal,
        moves: &[StockMove],
        order: &str,
        pending: Decimal,
    ) -> Vec<Lot> {
        let mut before = Decimal::ZERO;
        let mut qty = pending;
        for m in moves
            .iter()
            .filter(|m| m.kind == StockMoveKind::Consumption)
        {
            if m.reference == order {
                qty = -m.qty;
                break;
            }
            before += -m.qty;
        }
        let (from, to) = (before, before + qty.max(Decimal::ZERO));
        let supply = sources(opening, moves);
        let mut lots = Vec::new();
        let mut start = Decimal::ZERO;
        for (source, len) in supply {
            let end = start + len;
            let overlap = end.min(to) - start.max(from);
            if overlap > Decimal::ZERO {
                lots.push(Lot {
                    source,
                    qty: overlap,
                });
            }
            start = end;
            if start >= to {
                break;
            }
        }
        let short = to - start.max(from);
        if short > Decimal::ZERO {
            lots.push(Lot {
                source: LotSource::NotReceived,
                qty: short,
            });
        }
        lots
    }

    /// Where stock came from, in the order it came, with how much each
    /// gave: the opening stock, then each purchase received.
    fn sources(
        opening: Decimal,
        moves: &[StockMove],
    ) -> impl Iterator<Item = (LotSource, Decimal)> + '_ {
        let receipts = moves
            .iter()
            .filter(|m| m.kind == StockMoveKind::Receipt && m.qty > Decimal::ZERO)
            .map(|m| {
                (
                    LotSource::Purchase {
                        id: m.reference.clone(),
                        received_at: m.at,
                    },
                    m.qty,
                )
            });
        std::iter::once((LotSource::OpeningStock, opening.max(Decimal::ZERO))).chain(receipts)
    }

    /// The ledger the store keeps for `moves` in this order: each move
    /// placed after those before it of its kind. Receipts are handed over
    /// newest first, as a store may list them.
    fn ledger_of(moves: &[StockMove]) -> MaterialLedger {
        let mut ledger = MaterialLedger::default();
        let mut supplied = Decimal::ZERO;
        for m in moves {
            let placed = |position, qty| PlacedMove {
                reference: m.reference.clone(),
                at: m.at,
                position,
                qty,
            };
            match m.kind {
                StockMoveKind::Consumption => {
                    ledger.consumption.push(placed(ledger.consumed, -m.qty));
                    ledger.consumed += -m.qty;
                }
                StockMoveKind::Receipt => {
                    ledger.receipts.push(placed(supplied, m.qty));
                    supplied += m.qty.max(Decimal::ZERO);
                }
            }
        }
        ledger.receipts.reverse();
        ledger
    }

    fn drawn(opening: Decimal, moves: &[StockMove], order: &str, pending: Decimal) -> Vec<Lot> {
        Ledger::new(opening, &ledger_of(moves)).drawn(order, pending)
    }

    fn mv(kind: StockMoveKind, qty: i64, reference: &str, at: i64) -> StockMove {
        StockMove {
            qty: Decimal::from(qty),
            kind,
            reference: reference.into(),
            at: Timestamp::from_second(at).unwrap(),
        }
    }

    #[test]
    fn an_order_draws_the_oldest_stock_first() {
        use StockMoveKind::*;
        let moves = [
            mv(Consumption, -6, "ord_a", 1),
            mv(Receipt, 10, "sug_1", 2),
            mv(Consumption, -7, "ord_b", 3),
        ];
        // 10 seeded: ord_a takes 6 of it; ord_b the last 4 and 3 of sug_1.
        let b = drawn(Decimal::from(10), &moves, "ord_b", Decimal::ZERO);
        assert_eq!(b.len(), 2);
        assert_eq!(
            (&b[0].source, b[0].qty),
            (&LotSource::OpeningStock, Decimal::from(4))
        );
        assert!(matches!(&b[1].source, LotSource::Purchase { id, .. } if id == "sug_1"));
        assert_eq!(b[1].qty, Decimal::from(3));
        // Not consumed yet: after everything consumed so far.
        let c = drawn(Decimal::from(10), &moves, "ord_c", Decimal::from(9));
        assert_eq!(c[0].qty, Decimal::from(7));
        assert_eq!(
            (&c[1].source, c[1].qty),
            (&LotSource::NotReceived, Decimal::from(2))
        );
    }

    proptest! {
        /// Whatever the moves, the lots add up to what the order used, each
        /// within its source, in the order the sources came.
        #[test]
        fn lots_add_up_to_the_use(
            opening in 0i64..50,
            flow in prop::collection::vec((any::<bool>(), 1i64..30), 0..20),
            which in 0usize..20,
            pending in 0i64..40,
        ) {
            let mut moves = Vec::new();
            let mut orders = Vec::new();
            for (i, (receipt, q)) in flow.iter().enumerate() {
                if *receipt {
                    moves.push(mv(StockMoveKind::Receipt, *q, &format!("sug_{i}"), i as i64));
                } else {
                    moves.push(mv(StockMoveKind::Consumption, -q, &format!("ord_{i}"), i as i64));
                    orders.push((format!("ord_{i}"), *q));
                }
            }
            let (order, used) = orders
                .get(which)
                .cloned()
                .unwrap_or(("ord_new".into(), pending));
            let lots = drawn(Decimal::from(opening), &moves, &order, Decimal::from(pending));
            let scanned =
                drawn_by_scan(Decimal::from(opening), &moves, &order, Decimal::from(pending));
            prop_assert_eq!(&lots, &scanned);
            let total: Decimal = lots.iter().map(|l| l.qty).sum();
            prop_assert_eq!(total, Decimal::from(used));
            prop_assert!(lots.iter().all(|l| l.qty > Decimal::ZERO));
            prop_assert!(lots.iter().filter(|l| l.source == LotSource::NotReceived).count() <= 1);
            if let Some(at) = lots.iter().position(|l| l.source == LotSource::NotReceived) {
                prop_assert_eq!(at, lots.len() - 1, "what has not arrived comes last");
            }
        }
    }
}
