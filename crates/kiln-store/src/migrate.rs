//! Schema migrations, embedded in the binary and applied at start on both
//! backends. A hand-rolled list rather than sqlx's migrator: that one needs
//! sqlx's proc-macros, a heavy build for a few files of plain SQL.

/// `(version, name, sql)`, in order. Never edit an applied migration; add one.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "spine", include_str!("../migrations/0001_spine.sql")),
    (
        2,
        "storefront",
        include_str!("../migrations/0002_storefront.sql"),
    ),
    (
        3,
        "disruptions",
        include_str!("../migrations/0003_disruptions.sql"),
    ),
    (
        4,
        "stock moves",
        include_str!("../migrations/0004_stock_moves.sql"),
    ),
    (
        5,
        "sales history",
        include_str!("../migrations/0005_sales_history.sql"),
    ),
    (
        6,
        "live schedule",
        include_str!("../migrations/0006_live_schedule.sql"),
    ),
    (
        7,
        "platform",
        include_str!("../migrations/0007_platform.sql"),
    ),
    (
        8,
        "shipping and tax",
        include_str!("../migrations/0008_shipping_and_tax.sql"),
    ),
    (
        9,
        "passports",
        include_str!("../migrations/0009_passports.sql"),
    ),
    (10, "claims", include_str!("../migrations/0010_claims.sql")),
    (
        11,
        "after-sales orders",
        include_str!("../migrations/0011_after_sales_orders.sql"),
    ),
    (12, "staff", include_str!("../migrations/0012_staff.sql")),
    (
        13,
        "staff tokens",
        include_str!("../migrations/0013_staff_tokens.sql"),
    ),
    (
        14,
        "unverified orders",
        include_str!("../migrations/0014_unverified_orders.sql"),
    ),
    (
        15,
        "bulk quotes",
        include_str!("../migrations/0015_bulk.sql"),
    ),
    (
        16,
        "cancelled lines",
        include_str!("../migrations/0016_cancelled_lines.sql"),
    ),
    (
        17,
        "units by serial",
        include_str!("../migrations/0017_units_by_serial.sql"),
    ),
    (
        18,
        "shipment lines",
        include_str!("../migrations/0018_shipment_lines.sql"),
    ),
    (
        19,
        "business customers",
        include_str!("../migrations/0019_business_customers.sql"),
    ),
    (
        20,
        "profiles",
        include_str!("../migrations/0020_profiles.sql"),
    ),
    (
        21,
        "segments",
        include_str!("../migrations/0021_segments.sql"),
    ),
    (
        22,
        "store_sales",
        include_str!("../migrations/0022_store_sales.sql"),
    ),
    (
        23,
        "segment_mail",
        include_str!("../migrations/0023_segment_mail.sql"),
    ),
    (
        24,
        "till_sales",
        include_str!("../migrations/0024_till_sales.sql"),
    ),
    (
        25,
        "brand_leases",
        include_str!("../migrations/0025_brand_leases.sql"),
    ),
    (
        26,
        "order_keys",
        include_str!("../migrations/0026_order_keys.sql"),
    ),
    (27, "floor", include_str!("../migrations/0027_floor.sql")),
    (
        28,
        "logistics",
        include_str!("../migrations/0028_logistics.sql"),
    ),
    (
        29,
        "staged_orders",
        include_str!("../migrations/0029_staged_orders.sql"),
    ),
    (
        30,
        "bookings_by_operation",
        include_str!("../migrations/0030_bookings_by_operation.sql"),
    ),
    (
        31,
        "brand_jobs",
        include_str!("../migrations/0031_brand_jobs.sql"),
    ),
    (
        32,
        "material_ledgers",
        include_str!("../migrations/0032_material_ledgers.sql"),
    ),
    (
        33,
        "work_order_indexes",
        include_str!("../migrations/0033_work_order_indexes.sql"),
    ),
    (
        34,
        "open_work_indexes",
        include_str!("../migrations/0034_open_work_indexes.sql"),
    ),
    (
        35,
        "sign_in_failures",
        include_str!("../migrations/0035_sign_in_failures.sql"),
    ),
    (
        36,
        "staged_work_orders",
        include_str!("../migrations/0036_staged_work_orders.sql"),
    ),
    (
        37,
        "made_on_machine",
        include_str!("../migrations/0037_made_on_machine.sql"),
    ),
];

/// The migration after which existing stock moves are given their
/// positions (`material_ledgers`), by Rust in the same transaction: the
/// quantities are decimals, which SQLite would sum as floats.
pub(crate) const MATERIAL_LEDGERS: i64 = 32;
