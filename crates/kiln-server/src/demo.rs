//! The demo brand: a ceramic mug, a sneaker and a made-to-measure shirt,
//! made in one shared factory. `kiln serve --demo` seeds it.

use kiln_store::{Brand, CatalogFile, MaterialRow, Store, StoreError};

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
    let key = new_key();
    store
        .add_api_key(&brand.id, &hash_key(&key), "demo", at)
        .await?;
    Ok((brand, key))
}
