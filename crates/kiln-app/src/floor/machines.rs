//! A machine down or up: its own downtime on the live schedule, the replan
//! a breakdown causes, and the record of both with the event, in one
//! transaction.

use jiff::SignedDuration;
use kiln_domain::{DowntimeId, EventOutcome, MachineDowntime, MachineEvent, MachineState};
use kiln_plan::live::Period;

use crate::error::{Error, Result};
use crate::planning::disruption::{Replanned, repromise};
use crate::runtime::BrandRuntime;
use crate::{App, time};

/// A machine event applied: the machine's new state and what it did.
pub(super) struct Applied {
    pub state: MachineState,
    pub outcome: EventOutcome,
}

fn outcome(e: &MachineEvent, what: String) -> EventOutcome {
    EventOutcome {
        work_center: e.work_center.clone(),
        machine: e.machine,
        seq: e.seq,
        outcome: what,
    }
}

/// The machine's downtime still open, if the store has it.
async fn open_downtime(
    app: &App,
    rt: &BrandRuntime,
    state: &MachineState,
) -> Result<Option<MachineDowntime>> {
    let Some(id) = &state.down else {
        return Ok(None);
    };
    // A downtime ends at most a repair's length after it began; one that
    // ended over a day before the longest repair is not open any more.
    let since =
        time::now() - SignedDuration::from_mins(i64::from(super::MAX_REPAIR_MINUTES) + 24 * 60);
    Ok(app
        .store
        .machine_downtimes(&rt.brand.id, since)
        .await?
        .into_iter()
        .find(|d| &d.id == id))
}

/// Records an event that changed only the machine's state.
async fn record_state(
    app: &App,
    rt: &BrandRuntime,
    e: &MachineEvent,
    state: MachineState,
    what: String,
    downtime: Option<&MachineDowntime>,
) -> Result<Applied> {
    let outcome = outcome(e, what);
    app.store
        .record_floor(
            &rt.brand.id,
            std::slice::from_ref(&outcome),
            std::slice::from_ref(&state),
            downtime,
            &[],
            time::now(),
        )
        .await?;
    Ok(Applied { state, outcome })
}

/// `machine.down`: the machine is down from the event's time for the repair
/// it expects (a second one while down extends it). Its planned work moves
/// to other machines or after the repair; orders whose promise moved are
/// told, and the event is marked applied, in the replan's transaction.
pub(super) async fn down(
    app: &App,
    rt: &BrandRuntime,
    e: &MachineEvent,
    mut state: MachineState,
    reason: &str,
    repair_minutes: u32,
) -> Result<Applied> {
    let b = &rt.brand.id;
    let until =
        e.at.checked_add(SignedDuration::from_mins(i64::from(repair_minutes)))
            .map_err(|err| Error::internal_from("a repair's end", err))?;
    let open = open_downtime(app, rt, &state).await?;
    let (downtime, replan_from) = match open {
        Some(d) if d.to >= until => {
            let what = format!("already down until {}", d.to);
            return record_state(app, rt, e, state, what, None).await;
        }
        Some(d) if d.to >= e.at => {
            let from = d.to;
            (MachineDowntime { to: until, ..d }, from)
        }
        _ => (
            MachineDowntime {
                id: DowntimeId::new(),
                work_center: e.work_center.clone(),
                machine: e.machine,
                from: e.at,
                to: until,
                reason: reason.trim().to_string(),
            },
            e.at,
        ),
    };
    state.down = Some(downtime.id.clone());

    let mut plan = rt.plan_settled().await;
    retired(&plan)?;
    // The replan rewrites orders' bookings: every order planned so far must
    // be in the store first, or its own write would come after and clash.
    app.orders.flush().await;
    plan.tick();
    let from = plan.clock.at_ms(replan_from.as_millisecond());
    let to = plan.clock.at_ms(until.as_millisecond() + 59_999);
    let before = plan.schedule.clone();
    let report = match plan
        .schedule
        .mark_machine_down(&e.work_center, e.machine, from, to)
    {
        Ok(report) => report,
        Err(err) => {
            // An engine error may come half-way through the replan.
            plan.schedule = before;
            return Err(Error::Conflict(format!("cannot replan: {err}")));
        }
    };
    let name = rt
        .catalog
        .factory
        .work_center(&e.work_center)
        .map_or(e.work_center.as_str(), |w| w.name.as_str());
    let written = async {
        let at = time::now();
        let why = format!("a machine in {name} broke down");
        let Replanned {
            repromises, moved, ..
        } = repromise(app, b, &plan, &before, &report.orders, &why, at).await?;
        let outcome = outcome(
            e,
            format!(
                "applied: down until {until}, {} operations moved, {} promises moved",
                report.operations_moved,
                moved.len()
            ),
        );
        app.store
            .record_floor(
                b,
                std::slice::from_ref(&outcome),
                std::slice::from_ref(&state),
                Some(&downtime),
                &repromises,
                at,
            )
            .await?;
        Ok::<_, Error>(outcome)
    }
    .await;
    match written {
        Ok(outcome) => {
            crate::planning::live_mrp::follow_schedule(&mut plan, crate::time::today());
            drop(plan);
            app.outbox.notify_one();
            Ok(Applied { state, outcome })
        }
        Err(err) => {
            // Memory must not hold a replan the store does not.
            plan.schedule = before;
            Err(err)
        }
    }
}

/// `machine.up`: the rest of the repair time is capacity again. Nothing
/// moves and no promise changes (a re-sequence pulls work forward).
pub(super) async fn up(
    app: &App,
    rt: &BrandRuntime,
    e: &MachineEvent,
    mut state: MachineState,
) -> Result<Applied> {
    let open = open_downtime(app, rt, &state).await?;
    state.down = None;
    let Some(d) = open else {
        return record_state(app, rt, e, state, "already up".into(), None).await;
    };
    if d.to <= e.at {
        let what = "applied: up after the repair time it expected".to_string();
        return record_state(app, rt, e, state, what, None).await;
    }
    let ended = MachineDowntime {
        to: e.at.max(d.from),
        ..d.clone()
    };
    let mut plan = rt.plan_settled().await;
    retired(&plan)?;
    plan.tick();
    let cut = plan.clock.at_ms(e.at.as_millisecond() + 59_999);
    let end = plan.clock.at_ms(d.to.as_millisecond() + 59_999);
    let before = plan.schedule.clone();
    let lifted = plan
        .schedule
        .machine_down(&e.work_center)
        .map(|all| without(&all[usize::from(e.machine)], cut, end))
        .and_then(|left| {
            plan.schedule
                .set_machine_down(&e.work_center, e.machine, left)
        });
    if let Err(err) = lifted {
        tracing::warn!("machine {} of `{}` up: {err}", e.machine, e.work_center);
    }
    let back = (d.to.as_millisecond() - ended.to.as_millisecond()) / 60_000;
    let what = format!("applied: up, {back} minutes of repair time given back");
    match record_state(app, rt, e, state, what, Some(&ended)).await {
        Ok(applied) => Ok(applied),
        Err(err) => {
            plan.schedule = before;
            Err(err)
        }
    }
}

/// Refuses to change a plan a newer runtime replaced (a catalog published,
/// the lease taken again) while this applier waited for it: the event stays
/// in the inbox for the new runtime's applier.
fn retired(plan: &crate::runtime::PlanState) -> Result<()> {
    if plan.retired {
        return Err(Error::Unavailable {
            what: "the brand's plan (being replaced)",
            source: None,
        });
    }
    Ok(())
}

/// `periods` less `[from, to)`.
fn without(periods: &[Period], from: i64, to: i64) -> Vec<Period> {
    let mut out = Vec::with_capacity(periods.len() + 1);
    for p in periods {
        if p.to <= from || p.from >= to {
            out.push(*p);
            continue;
        }
        if p.from < from {
            out.push(Period {
                from: p.from,
                to: from,
            });
        }
        if p.to > to {
            out.push(Period { from: to, to: p.to });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repair_cut_short_keeps_only_the_time_before() {
        let p = |from, to| Period { from, to };
        assert_eq!(without(&[p(10, 100)], 40, 100), vec![p(10, 40)]);
        assert_eq!(without(&[p(10, 100)], 5, 100), vec![]);
        assert_eq!(
            without(&[p(0, 5), p(10, 100)], 40, 100),
            vec![p(0, 5), p(10, 40)]
        );
        assert_eq!(without(&[p(10, 100)], 40, 60), vec![p(10, 40), p(60, 100)]);
    }
}
