//! Throughput-versus-threads charts, as SVG, with plotters.

use plotters::prelude::*;

use crate::adapter::MapKind;
use crate::suite::Cell;

/// A chart of one workload's median throughput at each thread count, one
/// line per map, as an SVG document.
pub fn throughput(workload: &str, cells: &[&Cell]) -> Result<String, String> {
    let mut threads: Vec<usize> = cells.iter().map(|c| c.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    let mut maps: Vec<MapKind> = Vec::new();
    for cell in cells {
        if !maps.contains(&cell.map) {
            maps.push(cell.map);
        }
    }
    let top = cells.iter().map(|c| c.median() / 1e6).fold(0.0, f64::max);
    let mut svg = String::new();
    draw(&mut svg, workload, cells, &threads, &maps, top)
        .map_err(|e| format!("cannot draw the chart of {workload}: {e}"))?;
    Ok(svg)
}

/// Each map keeps its colour in every chart; racefree's maps take the
/// strongest (Okabe and Ito's palette, readable with colour blindness).
fn color_of(map: MapKind) -> RGBAColor {
    let (r, g, b) = match map {
        MapKind::Locked => (0, 114, 178),
        MapKind::Sharded => (213, 94, 0),
        MapKind::ReadMostly => (230, 159, 0),
        MapKind::Owned => (86, 180, 233),
        MapKind::StdRwLock => (0, 0, 0),
        MapKind::Dashmap => (0, 158, 115),
        MapKind::Papaya => (204, 121, 167),
        MapKind::Scc => (240, 228, 66),
        MapKind::Limit => (128, 128, 128),
    };
    RGBColor(r, g, b).to_rgba()
}

fn draw(
    svg: &mut String,
    workload: &str,
    cells: &[&Cell],
    threads: &[usize],
    maps: &[MapKind],
    top: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    // The legend gets its own column, so it never hides a line.
    let (plot, legend) = root.split_horizontally(680);
    // Thread counts are categories, evenly spaced: 1, 2, 8 on a linear
    // axis would squeeze the first two together.
    let positions = 0..threads.len() as i32 - 1;
    let mut chart = ChartBuilder::on(&plot)
        .caption(workload, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(positions.into_segmented(), 0.0..top * 1.1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_desc("threads")
        .y_desc("million operations per second")
        .x_label_formatter(&|position| match position {
            SegmentValue::CenterOf(i) => threads
                .get(*i as usize)
                .map_or_else(String::new, ToString::to_string),
            _ => String::new(),
        })
        .draw()?;
    for &map in maps {
        let color = color_of(map);
        let points: Vec<(SegmentValue<i32>, f64)> = threads
            .iter()
            .enumerate()
            .filter_map(|(i, &t)| {
                let cell = cells.iter().find(|c| c.map == map && c.threads == t)?;
                Some((SegmentValue::CenterOf(i as i32), cell.median() / 1e6))
            })
            .collect();
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
        chart.draw_series(
            points
                .into_iter()
                .map(|point| Circle::new(point, 4, color.filled())),
        )?;
    }
    for (row, &map) in maps.iter().enumerate() {
        let y = 60 + 24 * row as i32;
        let color = color_of(map);
        legend.draw(&PathElement::new([(8, y), (32, y)], color.stroke_width(3)))?;
        legend.draw(&Text::new(map.label(), (40, y - 8), ("sans-serif", 14)))?;
    }
    root.present()?;
    Ok(())
}
