//! PNG charts: the review-length histogram and loss curves. Rendering uses an embedded font
//! (DejaVu Sans), so no system font library is needed; files are written atomically.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

/// A chart that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write the chart: {message}", path.display())]
pub struct PlotError {
    pub path: PathBuf,
    pub message: String,
}

const SIZE: (u32, u32) = (900, 560);

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in; registering it cannot fail on well-formed bytes.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// Renders into a temporary PNG beside `path`, then renames it over `path`.
fn render_png<F>(path: &Path, draw: F) -> Result<(), PlotError>
where
    F: FnOnce(
        &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>,
{
    register_font();
    let fail = |message: String| PlotError {
        path: path.to_path_buf(),
        message,
    };
    // An exclusive, unpredictable name (see `atomic`), ending in .png for the encoder; the
    // `Temporary` removes it on every error path and when a panic unwinds.
    let (tmp, file) = crate::atomic::Temporary::create_with_suffix(path, ".png")
        .map_err(|e| fail(e.to_string()))?;
    drop(file);
    let result = (|| {
        let root = BitMapBackend::new(tmp.path(), SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
        drop(root);
        Ok(())
    })();
    result.map_err(fail)?;
    tmp.publish().map_err(|e| fail(e.to_string()))
}

/// A histogram of review lengths (the notebook's `plt.hist(lengths, bins)`), with a marker
/// at `maxlen` where padding stops and truncation starts.
pub fn length_histogram(
    path: &Path,
    lengths: &[u32],
    bins: usize,
    maxlen: u32,
    title: &str,
) -> Result<(), PlotError> {
    let bins = bins.max(1);
    let max = lengths.iter().copied().max().unwrap_or(1).max(1);
    let width = (f64::from(max) / bins as f64).max(1.0);
    let mut counts = vec![0u32; bins];
    for &l in lengths {
        counts[((f64::from(l) / width) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    render_png(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..f64::from(max) * 1.02, 0u32..top + top / 10 + 1)?;
        chart
            .configure_mesh()
            .x_desc("review length (tokens, before padding)")
            .y_desc("reviews")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 15))
            .draw()?;
        chart.draw_series(counts.iter().enumerate().map(|(i, &c)| {
            let x0 = i as f64 * width;
            Rectangle::new([(x0, 0), (x0 + width, c)], RGBColor(70, 110, 180).filled())
        }))?;
        let marker = f64::from(maxlen);
        chart
            .draw_series(LineSeries::new(
                [(marker, 0), (marker, top)],
                RED.stroke_width(2),
            ))?
            .label(format!("maxlen = {maxlen}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], RED.stroke_width(2)));
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .label_font(("sans-serif", 15))
            .draw()?;
        Ok(())
    })
}

/// Training and validation loss per epoch, as the notebook plots `history.history`.
pub fn loss_curves(path: &Path, train: &[f64], val: &[f64], title: &str) -> Result<(), PlotError> {
    let n = train.len().max(val.len()).max(1);
    let finite = train.iter().chain(val).copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.1).max(1e-3);
    render_png(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(1f64..n as f64, (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("loss")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 15))
            .draw()?;
        for (values, label, color) in [
            (train, "training loss", BLUE),
            (val, "validation loss", RED),
        ] {
            let points: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| ((i + 1) as f64, v))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .label_font(("sans-serif", 15))
            .draw()?;
        Ok(())
    })
}
