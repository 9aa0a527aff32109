//! Segments as time passes: a sweep each minute re-checks the members of
//! segments with a time window (who no longer did it "in the last 7 days"
//! leaves), and once an hour looks for profiles entering one because a
//! window ran out ("bought a mug, and nothing in the 90 days since").

use kiln_domain::{Brand, BrandId, ProfileId, Segment, SegmentRule, Timestamp};

use crate::error::Result;
use crate::{App, time};

/// How often the sweep looks for profiles entering a segment as time
/// passes, and how far back it looks the first time for a brand.
const ENTRY_SWEEP: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);
const FIRST_ENTRY_SWEEP: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 7);

/// The periodic jobs the sweep claims per brand, and how long a claim of
/// the minute's sweep holds: a little under the sweeper's minute, so the
/// server that swept last claims its next minute even when its tick comes a
/// little early, and another takes over within two minutes of it stopping.
const SWEEP_JOB: &str = "segments.sweep";
const ENTRY_JOB: &str = "segments.entries";
const SWEEP_CLAIM: std::time::Duration = std::time::Duration::from_secs(50);

impl App {
    /// The sweeper's minute: each brand's segments with a time window
    /// re-checked (who no longer did it "in the last 7 days" leaves) by one
    /// of the servers sharing the database, whichever claims the minute
    /// first (`claim_brand_job`), and its hourly look for entries likewise.
    /// Returns how many brands this server swept.
    pub async fn sweep_due_segments(&self) -> Result<usize> {
        let mut swept = 0;
        for brand in self.store.brands().await? {
            match self.sweep_due_brand(&brand).await {
                Ok(true) => swept += 1,
                Ok(false) => {}
                // The others are swept all the same.
                Err(e) => {
                    tracing::warn!(error = %e.chain(), "{}: segments not swept", brand.slug);
                }
            }
        }
        Ok(swept)
    }

    /// Sweeps `brand`'s segments if this server claims the minute; false if
    /// another did. A failed sweep gives its claim of the hour's look for
    /// entries back, so the next sweep looks from where this one would have.
    async fn sweep_due_brand(&self, brand: &Brand) -> Result<bool> {
        let now = time::now();
        let store = &self.store;
        if store
            .claim_brand_job(&brand.id, SWEEP_JOB, SWEEP_CLAIM, now)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        let entries = store
            .claim_brand_job(&brand.id, ENTRY_JOB, ENTRY_SWEEP.unsigned_abs(), now)
            .await?;
        let since = entries.map(|c| c.previous.unwrap_or(now - FIRST_ENTRY_SWEEP));
        if let Err(e) = self.sweep_brand_segments(brand, since, now).await {
            if let Some(claim) = entries {
                let returned = store
                    .return_brand_job(&brand.id, ENTRY_JOB, now, claim.previous)
                    .await;
                if let Err(r) = returned {
                    tracing::warn!(error = %crate::Error::from(r).chain(), "{}: the hour's look for segment entries was not given back", brand.slug);
                }
            }
            return Err(e);
        }
        Ok(true)
    }

    /// One brand's sweep: every segment with a time window re-checked, and
    /// profiles that may have entered one since `since`, if given.
    async fn sweep_brand_segments(
        &self,
        brand: &Brand,
        since: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        let segments: Vec<Segment> = self
            .store
            .segments(&brand.id)
            .await?
            .into_iter()
            .filter(|s| {
                s.rules.iter().any(|r| {
                    matches!(
                        r,
                        SegmentRule::Did {
                            within_days: Some(_),
                            ..
                        } | SegmentRule::DidNot {
                            within_days: Some(_),
                            ..
                        }
                    )
                })
            })
            .collect();
        for s in &segments {
            let mut profiles = self.store.segment_members(&brand.id, &s.id).await?;
            if let Some(since) = since {
                profiles.extend(self.entering_by_time(&brand.id, s, since, now).await?);
                profiles.sort();
                profiles.dedup();
            }
            let _held = self.profiles.hold(&brand.id).await?;
            self.profiles
                .refresh_segments(&brand.id, &profiles, Some(std::slice::from_ref(s)))
                .await?;
        }
        Ok(())
    }

    /// Profiles that may have entered `s` because time passed since `since`:
    /// whose event of a `did_not ... within_days` rule fell out of its window
    /// ("bought a mug, and nothing in the 90 days since").
    async fn entering_by_time(
        &self,
        brand: &BrandId,
        s: &Segment,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<ProfileId>> {
        let mut out = Vec::new();
        for r in &s.rules {
            if let SegmentRule::DidNot {
                event,
                within_days: Some(days),
                ..
            } = r
            {
                let window = jiff::SignedDuration::from_hours(24 * i64::from(*days));
                out.extend(
                    self.store
                        .profiles_with_events_between(
                            brand,
                            std::slice::from_ref(event),
                            since - window,
                            now - window,
                        )
                        .await?,
                );
            }
        }
        Ok(out)
    }

    /// Sweeps segments once a minute, for the life of the process; with
    /// other servers on the database, each brand's minute is swept by one.
    pub fn start_segment_sweeper(self: &std::sync::Arc<App>) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                if let Err(e) = app.sweep_due_segments().await {
                    tracing::warn!(error = %e.chain(), "segments were not swept");
                }
            }
        });
    }
}
