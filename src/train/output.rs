//! What a training run leaves in its folder, written as it goes: `best.safetensors` (the
//! lowest val_loss so far), `history.csv` (one line per epoch) and, at the end, `loss.png`.
//! Every file is written atomically, so an interrupted run leaves the last good ones.

use std::path::{Path, PathBuf};

use super::fit::{EpochRecord, Observer};
use crate::model::{Arch, Model};

/// The checkpoint, history and plot of one run.
#[derive(Debug)]
pub struct RunDir {
    out: PathBuf,
    history: Vec<EpochRecord>,
}

impl RunDir {
    /// Files go into `out`, which must exist.
    pub fn new(out: &Path) -> RunDir {
        RunDir {
            out: out.to_path_buf(),
            history: Vec::new(),
        }
    }

    pub fn history(&self) -> &[EpochRecord] {
        &self.history
    }

    pub fn best_path(&self) -> PathBuf {
        self.out.join("best.safetensors")
    }

    /// Records an epoch: the checkpoint when it improved, then the whole history.
    pub fn record(&mut self, record: &EpochRecord, improved: Option<&Model>) -> Result<(), String> {
        let best = self.best_path();
        self.record_with(
            record,
            improved.map(|m| move || m.save(best).map_err(|e| e.to_string())),
        )
    }

    /// [`Self::record`] for a network of any shape (saved in its own format, see
    /// [`crate::net::NetWeights::save`]).
    pub fn record_net(
        &mut self,
        record: &EpochRecord,
        improved: Option<&crate::net::NetWeights>,
    ) -> Result<(), String> {
        let best = self.best_path();
        self.record_with(
            record,
            improved.map(|w| move || w.save(best).map_err(|e| e.to_string())),
        )
    }

    fn record_with(
        &mut self,
        record: &EpochRecord,
        save: Option<impl FnOnce() -> Result<(), String>>,
    ) -> Result<(), String> {
        self.history.push(*record);
        if let Some(save) = save {
            save()?;
        }
        let mut csv = String::from(EpochRecord::CSV_HEADER);
        csv.push('\n');
        for r in &self.history {
            csv.push_str(&r.csv_line());
            csv.push('\n');
        }
        let path = self.out.join("history.csv");
        crate::atomic::write_bytes(&path, csv.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `loss.png`: training and validation loss per epoch, as the notebook plots them.
    pub fn write_loss_plot(&self, arch: Arch) -> Result<PathBuf, String> {
        self.write_loss_plot_named(arch.name())
    }

    /// [`Self::write_loss_plot`] titled with any model name.
    pub fn write_loss_plot_named(&self, name: &str) -> Result<PathBuf, String> {
        let (loss, val_loss): (Vec<f64>, Vec<f64>) =
            self.history.iter().map(|r| (r.loss, r.val_loss)).unzip();
        let png = self.out.join("loss.png");
        crate::plot::loss_curves(
            &png,
            &loss,
            &val_loss,
            &format!("{name}: training and validation loss"),
        )
        .map_err(|e| e.to_string())?;
        Ok(png)
    }
}

impl Observer for RunDir {
    fn epoch_done(&mut self, record: &EpochRecord, improved: Option<&Model>) -> Result<(), String> {
        self.record(record, improved)
    }
}
