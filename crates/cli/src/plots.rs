//! PNG plots of training runs: curves over epochs and bars per layer.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (`assets/fonts`, with its licence),
//! so that plotting needs no system font library.

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, Result, anyhow};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

/// One line of a chart: its legend and its `(x, y)` points.
pub struct Series {
    /// Legend text.
    pub label: String,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// How the y axis is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YScale {
    /// Linear, from the data's range padded by 5 %.
    Linear,
    /// Logarithmic (for losses that span decades, as in a first epoch that jumps).
    Log,
}

/// Draws `series` against the epoch into the PNG `path` (written beside it, then renamed).
pub fn line_chart(
    path: &Path,
    title: &str,
    y_label: &str,
    scale: YScale,
    series: &[Series],
) -> Result<()> {
    let points = || series.iter().flat_map(|s| s.points.iter());
    let x_max = points().map(|p| p.0).fold(1.0, f64::max);
    let (y_min, y_max) = points()
        .map(|p| p.1)
        .filter(|y| y.is_finite() && (scale == YScale::Linear || *y > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
    match scale {
        YScale::Linear => {
            let (y_min, y_max) = if y_min < y_max {
                let pad = 0.05 * (y_max - y_min);
                ((y_min - pad).max(0.0), y_max + pad)
            } else {
                (0.0, y_max.max(0.0) + 1.0)
            };
            let legend = legend_position(series, |y| y > (y_min + y_max) / 2.0);
            render(path, |root| {
                let y = y_min..y_max;
                draw_lines(root, title, y_label, 0.0..x_max, y, legend, series)
            })
        }
        YScale::Log => {
            let (y_min, y_max) = if y_min < y_max {
                (y_min / 1.2, y_max * 1.2)
            } else {
                (1e-3, 1.0)
            };
            let legend = legend_position(series, |y| y > (y_min * y_max).sqrt());
            render(path, |root| {
                let y = (y_min..y_max).log_scale();
                draw_lines(root, title, y_label, 0.0..x_max, y, legend, series)
            })
        }
    }
}

/// The legend's corner: at the bottom right where most series end in the upper half
/// (`upper`), so that it covers no line's end; at the top right otherwise.
fn legend_position(series: &[Series], upper: impl Fn(f64) -> bool) -> SeriesLabelPosition {
    let ends = series.iter().filter_map(|s| s.points.last().map(|p| p.1));
    let (high, all) = ends.fold((0, 0), |(high, all), y| {
        (high + usize::from(upper(y)), all + 1)
    });
    if 2 * high > all {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    }
}

/// The line chart on a chosen y coordinate.
fn draw_lines<Y>(
    root: &Area,
    title: &str,
    y_label: &str,
    x: std::ops::Range<f64>,
    y: Y,
    legend: SeriesLabelPosition,
    series: &[Series],
) -> std::result::Result<(), Box<dyn std::error::Error>>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_desc(y_label)
        .y_label_formatter(&|v| format!("{}", (v * 1e4).round() / 1e4))
        .draw()?;
    for (index, line) in series.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        chart
            .draw_series(LineSeries::new(
                line.points.iter().copied().filter(|p| p.1.is_finite()),
                color.stroke_width(2),
            ))?
            .label(line.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Draws one bar per `(name, value)` into the PNG `path`.
pub fn bar_chart(path: &Path, title: &str, y_label: &str, bars: &[(String, f64)]) -> Result<()> {
    let y_max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-3) * 1.15;
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(
                (0..bars.len().saturating_sub(1)).into_segmented(),
                0.0..y_max,
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(y_label)
            .x_label_formatter(&|segment| match segment {
                SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.0.clone()).unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, value))| {
            let color = Palette99::pick(i).to_rgba();
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *value),
                ],
                color.filled(),
            );
            bar.set_margin(0, 0, 24, 24);
            bar
        }))?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, value))| {
            Text::new(
                format!("{value:.4}"),
                (SegmentValue::CenterOf(i), *value + 0.03 * y_max),
                (FONT, 18),
            )
        }))?;
        Ok(())
    })
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// The font of every text in the plots.
const FONT: &str = "sans-serif";

/// Registers the embedded font as [`FONT`] (once per process).
fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        let bytes = include_bytes!("../assets/fonts/DejaVuSans.ttf");
        plotters::style::register_font(FONT, FontStyle::Normal, bytes)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans is a valid font"));
    });
}

/// Renders into a temporary PNG beside `path`, then renames it into place.
fn render(
    path: &Path,
    draw: impl FnOnce(&Area) -> std::result::Result<(), Box<dyn std::error::Error>>,
) -> Result<()> {
    register_font();
    let name = path.file_name().context("a plot needs a file name")?;
    let temporary = path.with_file_name(format!(".{}.partial.png", name.to_string_lossy()));
    {
        let root = BitMapBackend::new(&temporary, (960, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        draw(&root).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
        root.present()
            .map_err(|e| anyhow!("writing {}: {e}", temporary.display()))?;
    }
    std::fs::rename(&temporary, path)
        .with_context(|| format!("renaming {} to {}", temporary.display(), path.display()))
}
