//! The hit-ratio table as a dot plot: one row per workload, one dot per
//! cache at its distance from the row's best, so the caches that matter
//! (the ones near zero) stand apart however far the rest trail.

use plotters::prelude::*;

use crate::caches::CacheKind;
use crate::hit_ratio::HitTable;

/// Points behind the best at which the axis stops; caches further behind
/// sit on the edge, their figure in the table.
const FLOOR: f64 = -10.0;

/// The chart as an SVG document.
pub fn hit_ratios(table: &HitTable) -> Result<String, String> {
    let mut svg = String::new();
    draw(&mut svg, table).map_err(|e| format!("cannot draw the hit-ratio chart: {e}"))?;
    Ok(svg)
}

/// Each cache keeps one colour and shape: racefree-cache's default the
/// strongest (Okabe and Ito's palette, readable with colour blindness).
fn style_of(kind: CacheKind) -> (RGBColor, bool) {
    match kind {
        CacheKind::Racefree => (RGBColor(213, 94, 0), true),
        CacheKind::Lru => (RGBColor(0, 0, 0), false),
        CacheKind::Sieve => (RGBColor(86, 180, 233), false),
        CacheKind::S3Fifo => (RGBColor(230, 159, 0), false),
        CacheKind::TinyLfu => (RGBColor(204, 121, 167), false),
        CacheKind::Moka => (RGBColor(0, 158, 115), true),
        CacheKind::QuickCache => (RGBColor(0, 114, 178), true),
    }
}

fn draw(svg: &mut String, table: &HitTable) -> Result<(), Box<dyn std::error::Error>> {
    let rows = table.rows.len() as i32;
    let height = 100 + 36 * rows.max(1) as u32;
    let root = SVGBackend::with_string(svg, (960, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot, legend) = root.split_horizontally(740);
    let labels: Vec<String> = table
        .rows
        .iter()
        .map(|(workload, _)| format!("{} @ {}", workload.name, workload.capacity))
        .collect();
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "Hit ratio: points behind the best cache",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(250)
        .build_cartesian_2d(FLOOR..0.5, (0..rows - 1).into_segmented())?;
    // The table's first row at the top.
    let y_of = |row: usize| rows - 1 - row as i32;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .x_desc("percentage points (0 = the best in the row)")
        .y_label_formatter(&|position| match position {
            SegmentValue::CenterOf(i) => labels
                .get((rows - 1 - i) as usize)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    for (column, &kind) in table.caches.iter().enumerate() {
        let (color, filled) = style_of(kind);
        let style = if filled {
            color.filled()
        } else {
            color.stroke_width(2)
        };
        let dots = table.rows.iter().enumerate().map(|(row, (_, ratios))| {
            let best = ratios.iter().copied().fold(f64::MIN, f64::max);
            let behind = (100.0 * (ratios[column] - best)).max(FLOOR);
            Circle::new((behind, SegmentValue::CenterOf(y_of(row))), 6, style)
        });
        chart.draw_series(dots)?;
    }
    for (row, &kind) in table.caches.iter().enumerate() {
        let y = 60 + 24 * row as i32;
        let (color, filled) = style_of(kind);
        let style = if filled {
            color.filled()
        } else {
            color.stroke_width(2)
        };
        legend.draw(&Circle::new((16, y), 6, style))?;
        legend.draw(&Text::new(kind.name(), (30, y - 8), ("sans-serif", 14)))?;
    }
    root.present()?;
    Ok(())
}
