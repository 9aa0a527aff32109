//! The factory floor, live: machine events in, replanned promises out.
//!
//! Machines and operators' terminals report events (a machine down or up,
//! an operation started or completed) over HTTP or through the message
//! broker. Whatever server receives them keeps them in the brand's inbox
//! (`machine_events`), a duplicate (same machine, same `seq`) dropped there;
//! only then is the message acknowledged, so nothing is lost across a
//! restart. The server holding the brand's lease applies the inbox: each
//! machine's events in `seq` order, each once, under the brand's floor lock
//! so one applier runs at a time. A machine's state (down or up) follows its
//! latest event: one older than the last applied (it came late, say through
//! another server) is stale and changes nothing; an operation's event is
//! applied whenever it comes, the operation keeping its own order (started
//! before completed). A machine's `seq` must therefore grow across its own
//! restarts (milliseconds since the epoch do). A machine down replans the work it hits and tells the orders whose
//! promise moved (timeline, `order.promise_moved`), in the same transaction
//! that marks the event applied.

mod machines;

use std::collections::HashMap;

use kiln_domain::{EventOutcome, FloorEvent, MachineEvent, MachineState};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, FieldError, Result};
use crate::runtime::BrandRuntime;
use crate::{App, time};

/// Events one request may carry.
pub const MAX_EVENTS: usize = 1000;
/// A repair's expected length when the machine does not say.
pub const DEFAULT_REPAIR_MINUTES: u32 = 60;
/// The longest repair one `machine.down` may announce: a week.
pub const MAX_REPAIR_MINUTES: u32 = 7 * 24 * 60;
/// How old an event may be when it arrives.
pub const MAX_EVENT_AGE_DAYS: i64 = 30;
/// Pending events read from the inbox at a time.
const APPLY_BATCH: i64 = 500;

/// The brand's machines as the applier knows them (loaded from the store on
/// first use, then kept in step with it).
#[derive(Default)]
pub struct FloorState {
    loaded: bool,
    machines: HashMap<(String, u16), MachineState>,
}

/// What receiving a batch of events did.
#[derive(Debug, Serialize, ToSchema)]
pub struct FloorReceipt {
    /// Events new to the inbox.
    pub received: u64,
    /// Events the inbox had already (same machine and `seq`): ignored.
    pub duplicates: u64,
    /// Every event applied by this call, in the order applied, with what it
    /// did (`applied`, or why it changed nothing).
    pub applied: Vec<EventOutcome>,
}

/// An error that may pass (the database, the lease, a plan being replaced):
/// the event stays in the inbox and is applied on a later look. Any other
/// is the event's outcome.
fn retry_later(e: &Error) -> bool {
    matches!(
        e,
        Error::Elsewhere { .. } | Error::Unavailable { .. } | Error::Internal { .. }
    )
}

/// Checks each event's own fields; every problem is reported at once, by
/// its path in the request (`/events/3/seq`).
pub fn check_events(events: &[MachineEvent]) -> Result<()> {
    if events.is_empty() {
        return Err(Error::invalid("/events", "at least one event"));
    }
    if events.len() > MAX_EVENTS {
        return Err(Error::invalid(
            "/events",
            format!("at most {MAX_EVENTS} events at a time"),
        ));
    }
    let mut errors = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let at = |field: &str| format!("/events/{i}/{field}");
        if e.seq < 1 {
            errors.push(FieldError::new(
                at("seq"),
                "a machine numbers its events from 1",
            ));
        }
        let now = time::now();
        let (past, ahead) = (
            now - jiff::SignedDuration::from_hours(24 * MAX_EVENT_AGE_DAYS),
            now + jiff::SignedDuration::from_hours(24),
        );
        if e.at < past || e.at > ahead {
            errors.push(FieldError::new(
                at("at"),
                format!("an event of the last {MAX_EVENT_AGE_DAYS} days, at most a day ahead of the server's clock"),
            ));
        }
        let wc = e.work_center.trim();
        if wc.is_empty() || wc.len() > 100 || wc.chars().any(char::is_control) {
            errors.push(FieldError::new(
                at("work_center"),
                "a work centre's id, 1 to 100 characters",
            ));
        }
        match &e.what {
            FloorEvent::MachineDown {
                reason,
                expected_minutes,
            } => {
                if reason.chars().count() > 200 {
                    errors.push(FieldError::new(at("reason"), "at most 200 characters"));
                } else if reason.chars().any(char::is_control) {
                    errors.push(FieldError::new(
                        at("reason"),
                        "one line of text, no control characters",
                    ));
                }
                if expected_minutes.is_some_and(|m| m == 0 || m > MAX_REPAIR_MINUTES) {
                    errors.push(FieldError::new(
                        at("expected_minutes"),
                        format!("from 1 to {MAX_REPAIR_MINUTES} minutes"),
                    ));
                }
            }
            FloorEvent::MachineUp => {}
            FloorEvent::OperationStarted { operation, .. } => {
                if *operation < 1 {
                    errors.push(FieldError::new(at("operation"), "operations count from 1"));
                }
            }
            FloorEvent::OperationCompleted {
                operation, scrap, ..
            } => {
                if *operation < 1 {
                    errors.push(FieldError::new(at("operation"), "operations count from 1"));
                }
                if *scrap < 0 {
                    errors.push(FieldError::new(at("scrap"), "zero or more units"));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_fields(errors))
    }
}

impl App {
    /// Receives events from the floor over HTTP, on the server holding the
    /// brand: keeps the new ones and applies everything pending.
    pub async fn receive_machine_events(
        &self,
        slug: &str,
        events: &[MachineEvent],
    ) -> Result<FloorReceipt> {
        check_events(events)?;
        let rt = self.brand(slug).await?;
        let received = self
            .store
            .receive_machine_events(&rt.brand.id, events, time::now())
            .await?;
        let applied = self.apply_floor(&rt).await?;
        Ok(FloorReceipt {
            received,
            duplicates: events.len() as u64 - received,
            applied,
        })
    }

    /// Keeps events from the message broker, on any server: once this
    /// returns they are in the brand's inbox and the message may be
    /// acknowledged. [`App::apply_machine_events`] applies them.
    pub async fn keep_machine_events(&self, slug: &str, events: &[MachineEvent]) -> Result<u64> {
        check_events(events)?;
        let brand = self.brand_record(slug).await?;
        Ok(self
            .store
            .receive_machine_events(&brand.id, events, time::now())
            .await?)
    }

    /// Applies the brand's pending events if this server holds the brand;
    /// otherwise its holder does on its next look at the inbox
    /// ([`App::apply_held_floors`]). Failures are logged: the events stay
    /// pending.
    pub async fn apply_machine_events(&self, slug: &str) {
        let applied = match self.brand(slug).await {
            Ok(rt) => self.apply_floor(&rt).await.map(drop),
            Err(Error::Elsewhere { .. }) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = applied {
            tracing::warn!(error = %e.chain(), "{slug}: machine events kept, not applied yet");
        }
    }

    /// Applies whatever is pending for every brand this server holds (other
    /// servers may have put events in their inbox).
    pub async fn apply_held_floors(&self) {
        for rt in self.runtimes.loaded().await {
            if let Some(leases) = self.store.leases()
                && !leases.valid(&rt.brand.id)
            {
                continue;
            }
            if let Err(e) = self.apply_floor(&rt).await {
                tracing::warn!(error = %e.chain(), "{}: machine events not applied yet", rt.brand.slug);
            }
        }
    }

    /// Looks at the inbox of every brand this server plans, four times a
    /// second, for events another server kept.
    pub fn start_floor_applier(self: &std::sync::Arc<App>) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(250));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                app.apply_held_floors().await;
            }
        });
    }

    /// The brand's machines as the floor last reported them.
    pub async fn machine_states(&self, slug: &str) -> Result<Vec<MachineState>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.machine_states(&brand.id).await?)
    }

    /// Applies the brand's pending events, each machine's in `seq` order.
    async fn apply_floor(&self, rt: &BrandRuntime) -> Result<Vec<EventOutcome>> {
        let b = &rt.brand.id;
        let mut floor = rt.floor.lock().await;
        if !floor.loaded {
            for s in self.store.machine_states(b).await? {
                floor.machines.insert((s.work_center.clone(), s.machine), s);
            }
            floor.loaded = true;
        }
        let mut all = Vec::new();
        loop {
            let pending = self.store.pending_machine_events(b, APPLY_BATCH).await?;
            if pending.is_empty() {
                break;
            }
            // Operations are recorded by their own use case as they come;
            // their outcomes are marked together (or with the next replan).
            let mut done: Vec<EventOutcome> = Vec::new();
            let mut changed: Vec<MachineState> = Vec::new();
            for e in pending {
                let key = (e.work_center.clone(), e.machine);
                let mut state = floor.machines.get(&key).cloned().unwrap_or(MachineState {
                    work_center: e.work_center.clone(),
                    machine: e.machine,
                    last_seq: 0,
                    down: None,
                });
                let outcome = |what: String| EventOutcome {
                    work_center: e.work_center.clone(),
                    machine: e.machine,
                    seq: e.seq,
                    outcome: what,
                };
                // A machine's state follows its latest event: a down or up
                // older than one applied is stale. An operation's event
                // counts whenever it comes (the operation keeps its own order).
                let is_state = matches!(
                    e.what,
                    FloorEvent::MachineDown { .. } | FloorEvent::MachineUp
                );
                if is_state && e.seq <= state.last_seq {
                    done.push(outcome(format!(
                        "late: seq {} of this machine was applied already",
                        state.last_seq
                    )));
                    continue;
                }
                let known = rt
                    .catalog
                    .factory
                    .work_center(&e.work_center)
                    .map(|w| w.machines);
                let problem = match known {
                    None => Some(format!("no work centre `{}`", e.work_center)),
                    Some(n) if u32::from(e.machine) >= n => Some(format!(
                        "work centre `{}` has machines 0 to {}",
                        e.work_center,
                        n.saturating_sub(1)
                    )),
                    Some(_) => None,
                };
                if let Some(p) = problem {
                    done.push(outcome(p));
                    continue;
                }
                if is_state {
                    state.last_seq = e.seq;
                }
                if let Some((work_order, operation, action)) = e.what.operation() {
                    let slug = rt.brand.slug.as_str();
                    let what = match self
                        .record_operation(slug, work_order, operation, action)
                        .await
                    {
                        Ok(_) => "applied".to_string(),
                        Err(err) if retry_later(&err) => return Err(err),
                        Err(err) => err.to_string(),
                    };
                    done.push(outcome(what));
                    changed.push(state.clone());
                    floor.machines.insert(key, state);
                    continue;
                }
                match &e.what {
                    FloorEvent::MachineUp if state.down.is_none() => {
                        // Running, as it was: nothing to replan or record
                        // but the event.
                        done.push(outcome("already up".into()));
                        changed.push(state.clone());
                        floor.machines.insert(key, state);
                    }
                    FloorEvent::MachineDown { .. } | FloorEvent::MachineUp => {
                        // What came before is written first, in order.
                        self.mark_applied(rt, &mut done, &mut changed, &mut all)
                            .await?;
                        let applied = match &e.what {
                            FloorEvent::MachineDown {
                                reason,
                                expected_minutes,
                            } => {
                                let repair = expected_minutes.unwrap_or(DEFAULT_REPAIR_MINUTES);
                                machines::down(self, rt, &e, state.clone(), reason, repair).await
                            }
                            _ => machines::up(self, rt, &e, state.clone()).await,
                        };
                        match applied {
                            Ok(applied) => {
                                floor.machines.insert(key, applied.state);
                                all.push(applied.outcome);
                            }
                            Err(err) if retry_later(&err) => return Err(err),
                            Err(err) => {
                                done.push(outcome(format!("not applied: {err}")));
                                changed.push(state.clone());
                                floor.machines.insert(key, state);
                            }
                        }
                    }
                    // Recorded above.
                    FloorEvent::OperationStarted { .. } | FloorEvent::OperationCompleted { .. } => {
                    }
                }
            }
            self.mark_applied(rt, &mut done, &mut changed, &mut all)
                .await?;
        }
        Ok(all)
    }

    /// Marks events applied with their outcomes, and the machines' states;
    /// the outcomes move to `all`.
    async fn mark_applied(
        &self,
        rt: &BrandRuntime,
        done: &mut Vec<EventOutcome>,
        changed: &mut Vec<MachineState>,
        all: &mut Vec<EventOutcome>,
    ) -> Result<()> {
        if done.is_empty() {
            return Ok(());
        }
        // A machine's last state wins.
        let mut last: HashMap<(String, u16), MachineState> = HashMap::new();
        for s in changed.drain(..) {
            last.insert((s.work_center.clone(), s.machine), s);
        }
        let states: Vec<MachineState> = last.into_values().collect();
        self.store
            .record_floor(&rt.brand.id, done, &states, None, &[], time::now())
            .await?;
        all.append(done);
        Ok(())
    }
}
