//! Ids: opaque text behind a type per kind of thing.
//!
//! New ids are a prefix naming the kind (`ord_`, `wo_`, ...) and a UUIDv7,
//! so they sort by creation time and a stray id in a log says what it is.
//! Ids read back from the store or a URL are taken as they are: an id that
//! names nothing is simply not found, which the lookup reports.

use std::fmt;

/// Declares an id type: `new()` mints one, `from(text)` takes one as given.
macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(String);

        impl $name {
            /// The prefix of ids this platform mints.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id.
            pub fn new() -> $name {
                $name(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> $name {
                $name::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_string())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id!(
    /// A brand: one tenant of the platform.
    BrandId,
    "brd"
);
id!(
    /// An API key's public id (the secret itself is never stored).
    ApiKeyId,
    "key"
);
id!(
    /// A customer of one brand, found again by email.
    CustomerId,
    "cus"
);
id!(
    /// An order.
    OrderId,
    "ord"
);
id!(
    /// A work order: one batch of one SKU through its routing.
    WorkOrderId,
    "wo"
);
id!(
    /// A shipment of an order.
    ShipmentId,
    "shp"
);
id!(
    /// An entry of an order's timeline.
    TimelineEntryId,
    "evt"
);
id!(
    /// A purchase suggestion from material planning.
    SuggestionId,
    "pur"
);
id!(
    /// A recorded downtime of a work centre.
    DowntimeId,
    "dwn"
);
id!(
    /// A person who works for a brand, with a role.
    StaffId,
    "stf"
);
id!(
    /// A return or warranty claim on one unit.
    ClaimId,
    "clm"
);
id!(
    /// A webhook endpoint: a URL and the events it subscribes to.
    WebhookId,
    "wh"
);
id!(
    /// An event of the platform, as webhooks deliver it (`webhook-id`).
    EventId,
    "msg"
);
id!(
    /// One event on its way to one webhook endpoint.
    DeliveryId,
    "dlv"
);
id!(
    /// An entry of the audit log.
    AuditId,
    "aud"
);

/// One line of one order: where the live schedule and the bookings meet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineRef {
    pub order: OrderId,
    pub line_no: i64,
}

impl LineRef {
    pub fn new(order: OrderId, line_no: i64) -> LineRef {
        LineRef { order, line_no }
    }
}

impl fmt::Display for LineRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.order, self.line_no)
    }
}

/// A brand's slug: what URLs name it by (`/brands/{slug}`).
///
/// 2 to 40 characters of lowercase ASCII letters, digits and single
/// hyphens, starting with a letter and not ending with a hyphen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slug(String);

impl Slug {
    pub fn parse(text: &str) -> Result<Slug, String> {
        let ok_chars = text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !(2..=40).contains(&text.len()) {
            return Err("a slug is 2 to 40 characters".into());
        }
        if !ok_chars {
            return Err("a slug has only lowercase letters a-z, digits and hyphens".into());
        }
        if !text.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("a slug starts with a letter".into());
        }
        if text.ends_with('-') || text.contains("--") {
            return Err("a slug has no double hyphen and does not end with one".into());
        }
        Ok(Slug(text.to_string()))
    }

    /// A slug as the store kept it.
    pub fn from_stored(text: String) -> Slug {
        Slug(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Slug {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Slug {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_carry_their_prefix_and_sort_by_time() {
        let a = OrderId::new();
        let b = OrderId::new();
        assert!(a.as_str().starts_with("ord_"));
        assert!(a < b);
    }

    #[test]
    fn slugs_parse() {
        for good in ["acme", "acme-works", "a1", "demo"] {
            assert!(Slug::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "A",
            "Bad Slug!",
            "-x",
            "x-",
            "a--b",
            "1abc",
            "",
            &"a".repeat(41),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
id!(
    /// A bulk quote: the priced and promised good rows of one upload.
    QuoteId,
    "quo"
);
id!(
    /// A business customer of a brand: a company that orders in bulk.
    BusinessCustomerId,
    "biz"
);
id!(
    /// One person as the brand knows them across channels: their
    /// identities, traits, events and orders.
    ProfileId,
    "prf"
);
id!(
    /// A write key of the tracking API (a Segment "source").
    WriteKeyId,
    "wk"
);
id!(
    /// One merge of two profiles, kept so that it can be undone.
    MergeId,
    "mrg"
);
id!(
    /// A segment of a brand's profiles, defined by rules.
    SegmentId,
    "seg"
);
