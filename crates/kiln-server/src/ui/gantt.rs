//! The console's Gantt chart, drawn as SVG on the server: one row per work
//! centre, one lane per machine, one column per day.

use std::fmt::Write as _;

use super::console::{DAYS, tail};
use super::xml;

/// The schedule as an SVG Gantt chart: one row per work centre, one lane
/// per machine, one column per day; each bar is one order's operation,
/// placed by its minutes within the working day. Down days are marked.
pub(super) fn gantt_svg(schedule: &[kiln_app::planning::WorkCenterSchedule]) -> String {
    let (label_w, cell, lane_h, head, gap) = (170, 56, 12, 34, 8);
    // Room for the two label lines even with one machine.
    let inner = |w: &kiln_app::planning::WorkCenterSchedule| {
        (lane_h * w.machines.clamp(1, 6) as i32).max(26)
    };
    let rows: Vec<i32> = schedule.iter().map(|w| inner(w) + gap).collect();
    let width = label_w + cell * DAYS;
    let height = head + rows.iter().sum::<i32>() + 4;
    let mut svg = format!(
        "<svg class=\"gantt\" style=\"min-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         role=\"img\" aria-label=\"Schedule: each work centre's machines, day by day, with the operations booked on them\" \
         font-size=\"11\" font-family=\"system-ui, sans-serif\"><title>Schedule by work centre</title>"
    );
    if let Some(first) = schedule.first() {
        for (d, day) in first.days.iter().enumerate() {
            let x = label_w + d as i32 * cell + cell / 2;
            let _ = write!(
                svg,
                "<text x=\"{x}\" y=\"14\" text-anchor=\"middle\">{}</text><text x=\"{x}\" y=\"28\" text-anchor=\"middle\" fill=\"#5b6470\">{}</text>",
                day.day.strftime("%a"),
                day.day.strftime("%-d %b")
            );
        }
    }
    let mut y = head;
    for (w, row_h) in schedule.iter().zip(&rows) {
        let lanes = w.machines.clamp(1, 6);
        let lane_h = inner(w) / lanes as i32;
        let _ = write!(
            svg,
            "<text x=\"4\" y=\"{}\">{}</text><text x=\"4\" y=\"{}\" fill=\"#5b6470\" font-size=\"9\">{} machine{}</text>",
            y + 11,
            xml(&w.name),
            y + 22,
            w.machines,
            if w.machines == 1 { "" } else { "s" }
        );
        for (d, day) in w.days.iter().enumerate() {
            let x = label_w + d as i32 * cell;
            let lane_w = (cell - 4) as f64;
            let (fill, tip) = if day.down {
                ("url(#down)", format!("{}, {}: down", w.name, day.day))
            } else if day.capacity_minutes == 0 {
                ("#eceef1", format!("{}, {}: closed", w.name, day.day))
            } else {
                (
                    "#f6f8fa",
                    format!(
                        "{}, {}: {} of {} machine minutes booked",
                        w.name, day.day, day.booked_minutes, day.capacity_minutes
                    ),
                )
            };
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" stroke=\"#d0d7de\" stroke-width=\"0.5\"><title>{}</title></rect>",
                x + 2,
                y + 1,
                cell - 4,
                lanes as i32 * lane_h,
                xml(&tip)
            );
            if day.down {
                let _ = write!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#b42318\" font-weight=\"600\">down</text>",
                    x + cell / 2,
                    y + 11
                );
            }
            let len = f64::from(w.minutes_per_day.max(1));
            for down in &day.machines_down {
                let lane = down.machine.min(lanes - 1) as i32;
                let (bx, bw) = span(x, lane_w, len, down.start_minute, down.end_minute);
                let _ = write!(
                    svg,
                    "<rect class=\"machine-down\" x=\"{bx:.1}\" y=\"{}\" width=\"{bw:.1}\" height=\"{}\" fill=\"url(#down)\" stroke=\"#b42318\" stroke-width=\"0.5\"><title>{}</title></rect>",
                    y + 2 + lane * lane_h,
                    lane_h - 2,
                    xml(&format!(
                        "{} machine {} down until {} UTC",
                        w.name,
                        down.machine + 1,
                        clock(down.until)
                    ))
                );
            }
            for bar in &day.bars {
                let lane = bar.machine.min(lanes - 1) as i32;
                let (bx, bw) = span(x, lane_w, len, bar.start_minute, bar.end_minute);
                let _ = write!(
                    svg,
                    "<rect x=\"{bx:.1}\" y=\"{}\" width=\"{bw:.1}\" height=\"{}\" rx=\"2\" fill=\"{}\"><title>{}</title></rect>",
                    y + 2 + lane * lane_h,
                    lane_h - 2,
                    colour(bar.order_id.as_str()),
                    xml(&format!(
                        "order …{} line {} · {} · machine {} · {}{} to {} UTC · {}",
                        tail(bar.order_id.as_str()),
                        bar.line_no,
                        bar.operation,
                        bar.machine + 1,
                        if bar.setup_minutes > 0 {
                            format!(
                                "setup {} min from {}, ",
                                bar.setup_minutes,
                                clock(bar.setup_start)
                            )
                        } else {
                            String::new()
                        },
                        clock(bar.start),
                        clock(bar.end),
                        status(bar.status)
                    ))
                );
            }
        }
        y += row_h;
    }
    svg.push_str(
        "<defs><pattern id=\"down\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#fde8e7\"/><rect width=\"2\" height=\"6\" fill=\"#f5b5b0\"/></pattern></defs></svg>",
    );
    svg
}

/// Where minutes `start..end` of a working day of `len` minutes fall in the
/// day's column at `x`, `lane_w` wide: `(x, width)`, at least 1 px wide.
fn span(x: i32, lane_w: f64, len: f64, start: u64, end: u64) -> (f64, f64) {
    let bx = f64::from(x) + 2.0 + lane_w * (start as f64 / len).min(1.0);
    let bw = (lane_w * ((end - start) as f64 / len))
        .min(f64::from(x) + 2.0 + lane_w - bx)
        .max(1.0);
    (bx, bw)
}

/// A chart's version for `ETag`: a hash of its drawing and length, quoted
/// (only this server's pages compare it, to skip redrawing the same chart).
pub(super) fn etag(svg: &str) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::hash::DefaultHasher::new();
    svg.hash(&mut h);
    format!("\"{:016x}-{:x}\"", h.finish(), svg.len())
}

/// What the chart's colours mean, and every bar as a list that keyboard,
/// touch and screen readers reach (a bar's hover text is for mice only).
pub(super) fn gantt_key(schedule: &[kiln_app::planning::WorkCenterSchedule]) -> String {
    let mut orders: Vec<&str> = Vec::new();
    let mut rows = String::new();
    for w in schedule {
        for day in &w.days {
            for bar in &day.bars {
                let id = bar.order_id.as_str();
                if !orders.contains(&id) {
                    orders.push(id);
                }
                let _ = write!(
                    rows,
                    "<tr><td>{}</td><td>{}</td><td>order …{} line {}</td><td>{}</td><td>{} to {}</td><td>{}</td></tr>",
                    xml(&w.name),
                    bar.machine + 1,
                    tail(id),
                    bar.line_no,
                    xml(&bar.operation),
                    clock(bar.start),
                    clock(bar.end),
                    status(bar.status)
                );
            }
        }
    }
    let mut out =
        String::from("<ul class=\"legend\" aria-label=\"What the chart's colours mean\">");
    for id in &orders {
        let _ = write!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\" aria-hidden=\"true\"></span>order …{}</li>",
            colour(id),
            tail(id)
        );
    }
    out.push_str(
        "<li><span class=\"swatch down\" aria-hidden=\"true\"></span>down</li>\
         <li><span class=\"swatch closed\" aria-hidden=\"true\"></span>closed</li>\
         <li><span class=\"swatch open\" aria-hidden=\"true\"></span>open, no work booked</li></ul>",
    );
    if rows.is_empty() {
        return out;
    }
    let _ = write!(
        out,
        "<details><summary>Every booked operation as a list ({} order{})</summary><div class=\"scroll\"><table>\
         <thead><tr><th scope=\"col\">Work centre</th><th scope=\"col\">Machine</th><th scope=\"col\">Order</th>\
         <th scope=\"col\">Operation</th><th scope=\"col\">When (UTC)</th><th scope=\"col\">Status</th></tr></thead>\
         <tbody>{rows}</tbody></table></div></details>",
        orders.len(),
        if orders.len() == 1 { "" } else { "s" }
    );
    out
}

fn status(s: kiln_plan::live::OperationStatus) -> &'static str {
    match s {
        kiln_plan::live::OperationStatus::Planned => "planned",
        kiln_plan::live::OperationStatus::Started => "started",
        kiln_plan::live::OperationStatus::Done => "done",
    }
}

/// `Mon 23 Nov 08:30` in UTC, for hover text.
fn clock(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a %-d %b %H:%M")
        .to_string()
}

/// A stable colour per order, so one order's bars read as one across the chart.
fn colour(id: &str) -> String {
    let h = id.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    format!("hsl({}, 55%, 52%)", h % 360)
}
