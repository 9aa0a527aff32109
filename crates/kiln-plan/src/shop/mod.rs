//! Shop scheduling: job shops and flexible job shops on the disjunctive graph.
//!
//! - [`instance`]: the instance model and the JSP / FJSP text formats.
//! - [`schedule`]: a schedule and an independent feasibility checker.
//! - [`solve`]: the tabu-search solver.

pub mod instance;
pub mod schedule;
pub mod solve;

pub use instance::{Format, Instance, Operation, ParseError, parse, parse_fjsp, parse_jsp};
pub use schedule::{Infeasible, Placed, Schedule, check};
pub use solve::{SolveOptions, SolveStats, Solved, solve};

#[cfg(test)]
mod tests;
