//! The demo brand: a ceramic mug, a sneaker and a made-to-measure shirt,
//! made in one shared factory. `kiln serve --demo` seeds it.

use kiln_store::{Brand, CatalogFile, MaterialRow, Store, StoreError, StoreLocation};

use crate::auth::{hash_key, new_key};
use crate::ids::now_ms;

pub const SLUG: &str = "demo";

/// The demo catalog's model files, built into the binary.
pub const FILES: &[(&str, &str, &str)] = &[
    (
        "factory",
        "factory.toml",
        include_str!("../../../catalog/demo/factory.toml"),
    ),
    (
        "product",
        "mug.toml",
        include_str!("../../../catalog/demo/mug.toml"),
    ),
    (
        "product",
        "sneaker.toml",
        include_str!("../../../catalog/demo/sneaker.toml"),
    ),
    (
        "product",
        "shirt.toml",
        include_str!("../../../catalog/demo/shirt.toml"),
    ),
];

/// The demo brand's shops: (id, name, street, city, postal code, country).
const STORES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "london",
        "Kiln London, Covent Garden",
        "14 Floral Street",
        "London",
        "WC2E 9DH",
        "GB",
    ),
    (
        "berlin",
        "Kiln Berlin, Mitte",
        "Alte Schönhauser Str. 7",
        "Berlin",
        "10119",
        "DE",
    ),
];

/// Creates the demo brand if needed, refreshes its catalog, and returns it
/// with a fresh API key (keys are stored hashed, so an old one cannot be
/// shown again).
pub async fn seed(store: &dyn Store) -> Result<(Brand, String), StoreError> {
    let brand = match store.brand_by_slug(SLUG).await? {
        Some(b) => b,
        None => {
            let b = Brand {
                id: crate::ids::new_id("brd"),
                slug: SLUG.into(),
                name: "Kiln Demo Works".into(),
            };
            store.create_brand(&b, now_ms()).await?;
            b
        }
    };
    let at = now_ms();
    for (kind, name, source) in FILES {
        let file = CatalogFile {
            kind: kind.to_string(),
            name: name.to_string(),
            source: source.to_string(),
        };
        store.put_catalog_file(&brand.id, &file, at).await?;
    }
    let files: Vec<(String, String)> = FILES
        .iter()
        .map(|(_, n, s)| (n.to_string(), s.to_string()))
        .collect();
    let report = kiln_model::check(&files);
    let materials: Vec<MaterialRow> = report
        .factory
        .materials
        .iter()
        .map(|m| MaterialRow {
            id: m.id.clone(),
            on_hand: m.on_hand.to_string(),
        })
        .collect();
    store.seed_materials(&brand.id, &materials).await?;
    for (id, name, line1, city, postal_code, country) in STORES {
        let address = serde_json::json!({
            "name": name, "line1": line1, "city": city, "postal_code": postal_code, "country": country,
        });
        let location = StoreLocation {
            id: id.to_string(),
            name: name.to_string(),
            address: address.to_string(),
        };
        store.put_store(&brand.id, &location).await?;
    }
    let key = new_key();
    store
        .add_api_key(&brand.id, &hash_key(&key), "demo", at)
        .await?;
    Ok((brand, key))
}
