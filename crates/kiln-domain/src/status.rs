//! Statuses and other closed sets of words, as enums.
//!
//! Each has one spelling, used in the store, the API and events alike
//! (`as_str`, `FromStr`, and serde in snake_case).

/// Declares an enum of words with `as_str`, `Display`, `FromStr` and serde.
macro_rules! words {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[serde(rename = $text)]
                #[cfg_attr(feature = "openapi", schema(rename = $text))]
                $variant
            ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ParseError;

            fn from_str(s: &str) -> Result<$name, $crate::ParseError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::ParseError::new($what, other)),
                }
            }
        }
    };
}

words!(
    /// Where an order stands, in the order it moves through them.
    OrderStatus, "order status" {
        /// Work orders, materials and a promise are planned.
        Planned = "planned",
        /// An operation of one of its work orders has started.
        InProduction = "in_production",
        /// Every work order it needs is done.
        Made = "made",
        Shipped = "shipped",
        Delivered = "delivered",
        /// Every line cancelled before production.
        Cancelled = "cancelled",
    }
);

words!(
    /// Where a work order stands.
    WorkOrderStatus, "work order status" {
        /// Nothing started: new lines of the same SKU still join it.
        Planned = "planned",
        InProgress = "in_progress",
        Done = "done",
        /// Every line it was made for was cancelled before it started.
        Cancelled = "cancelled",
    }
);

words!(
    /// One operation of a work order.
    OperationStatus, "operation status" {
        Pending = "pending",
        Started = "started",
        Done = "done",
    }
);

words!(
    /// Where a shipment is.
    ShipmentStatus, "shipment status" {
        InTransit = "in_transit",
        Delivered = "delivered",
    }
);

words!(
    /// What a carrier's tracking event says of a shipment.
    TrackingStatus, "tracking status" {
        /// The carrier took it.
        PickedUp = "picked_up",
        InTransit = "in_transit",
        OutForDelivery = "out_for_delivery",
        /// Delivered: the shipment (and, with the rest, its order) is.
        Delivered = "delivered",
        /// Held up: a failed attempt, damage, a wrong address.
        Exception = "exception",
    }
);

words!(
    /// Why stock moved.
    StockMoveKind, "stock move" {
        /// A purchase arrived.
        Receipt = "receipt",
        /// A made order's materials left stock.
        Consumption = "consumption",
    }
);

words!(
    /// An order's payment, as its provider reports it.
    PaymentStatus, "payment status" {
        AwaitingPayment = "awaiting_payment",
        Paid = "paid",
        Failed = "failed",
    }
);

words!(
    /// What a customer asks of a unit: a warranty repair, or to return it.
    ClaimKind, "claim kind" {
        Warranty = "warranty",
        Return = "return",
    }
);

words!(
    /// Where a claim stands: open, or what was decided.
    ClaimStatus, "claim status" {
        Open = "open",
        Repair = "repair",
        Remake = "remake",
        Refund = "refund",
        Rejected = "rejected",
    }
);

words!(
    /// Where an order came in.
    Channel, "channel" {
        Online = "online",
        Store = "store",
        B2b = "b2b",
        Api = "api",
        /// A repair or remake a claim decided: free of charge, never placed
        /// by a client.
        AfterSales = "after_sales",
    }
);

words!(
    /// What an entry of an order's timeline tells the customer.
    TimelineStatus, "timeline entry" {
        Ordered = "ordered",
        Planned = "planned",
        PromiseMoved = "promise_moved",
        InProduction = "in_production",
        Made = "made",
        Shipped = "shipped",
        Delivered = "delivered",
        /// A claim on one of its units was opened or decided.
        AfterSales = "after_sales",
        /// A line was cancelled or changed.
        Changed = "changed",
        /// The order was cancelled.
        Cancelled = "cancelled",
    }
);

words!(
    /// What a model file declares.
    FileKind, "model file kind" {
        Factory = "factory",
        Product = "product",
    }
);

impl OrderStatus {
    /// The timeline entry that records reaching this status.
    pub fn timeline_status(self) -> TimelineStatus {
        match self {
            OrderStatus::Planned => TimelineStatus::Planned,
            OrderStatus::InProduction => TimelineStatus::InProduction,
            OrderStatus::Made => TimelineStatus::Made,
            OrderStatus::Shipped => TimelineStatus::Shipped,
            OrderStatus::Delivered => TimelineStatus::Delivered,
            OrderStatus::Cancelled => TimelineStatus::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>(), Ok(*s));
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!("shipping".parse::<OrderStatus>().is_err());
    }
}
