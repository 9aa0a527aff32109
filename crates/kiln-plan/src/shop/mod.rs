//! Shop scheduling: job shops and flexible job shops on the disjunctive graph.
//!
//! - [`instance`]: the instance model and the JSP / FJSP text formats.
//! - [`schedule`]: a schedule and an independent feasibility checker.
//! - [`solve`]: the tabu-search solver; [`timed`] its variant for releases, due dates and
//!   setups (weighted tardiness first, then makespan).
//! - `orders`: the representation both searches share (job arcs, machine orders).
//! - `tabu`: what the two searches share (tabu table and tenure, move choice, restarts,
//!   threads sharing the best solution).

pub mod instance;
mod orders;
pub mod schedule;
pub mod solve;
mod tabu;
pub mod timed;

pub use instance::{
    Format, Instance, JobTerms, Operation, ParseError, Setups, parse, parse_fjsp, parse_jsp,
};
pub use schedule::{Infeasible, Objective, Placed, Schedule, check, evaluate};
pub use solve::{SolveOptions, SolveStats, Solved, solve};

#[cfg(test)]
mod tests;
