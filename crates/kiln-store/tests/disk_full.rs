//! A full disk on SQLite: writes are refused as unavailable, every order
//! the store said it wrote can be read back, reads go on, and nothing is
//! acknowledged that is not written (a COMMIT that failed must not leave the
//! write connection inside a transaction that never ends).

// Shared with the store's suite; this file uses only its helpers.
#[allow(unused_macros)]
mod common;

use common::*;
use kiln_store::prelude::*;
use kiln_store::{Placed, SqliteStore, StoreError};

/// A small filesystem of its own (tmpfs), unmounted when dropped.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    /// None where this process may not mount (not root): the test says so.
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: the pool's connections close in the background.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0.path())
            .status();
    }
}

/// The disk fills while the WAL grows: the COMMIT itself fails.
#[tokio::test]
async fn a_disk_that_fills_at_commit_loses_nothing_acknowledged() {
    let Some(disk) = SmallDisk::mount("3m") else {
        eprintln!("skipped: cannot mount a small tmpfs here (not root)");
        return;
    };
    let store = SqliteStore::open_dir(disk.0.path()).await.expect("opens");
    fill_and_check(&store).await;
}

/// The database may not grow past a page count: a statement fails.
#[tokio::test]
async fn a_full_database_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kiln.db").display());
    // Room for the schema and a few hundred orders.
    let store = SqliteStore::open_with(&url, Some(400))
        .await
        .expect("opens");
    fill_and_check(&store).await;
}

async fn fill_and_check(store: &SqliteStore) {
    let b = brand(store, "alpha").await;
    let (mut written, mut refused) = (Vec::new(), 0);
    for n in 0..3000 {
        let id = format!("ord_{n}");
        let email = format!("buyer{n}@example.com");
        let new = order(
            &b,
            &id,
            None,
            &email,
            1,
            create_wo(&format!("wo_{n}"), "MUG-L", 1, 3),
        );
        match store
            .place_orders(std::slice::from_ref(&new))
            .await
            .remove(0)
        {
            Ok(Placed::Created { .. }) => written.push(id),
            Ok(other) => panic!("{other:?}"),
            Err(StoreError::Unavailable(_)) => {
                refused += 1;
                // Enough tries on a full disk to reach every later write.
                if refused == 50 {
                    break;
                }
            }
            Err(e) => panic!("a full disk is unavailable, not {e:?}"),
        }
    }
    assert!(refused > 0, "the disk never filled");
    assert!(!written.is_empty());
    // Everything acknowledged is there, read through the read pool.
    for id in &written {
        assert!(
            store.order(&b.id, &ord(id)).await.unwrap().is_some(),
            "{id} was acknowledged but is not stored"
        );
    }
}
