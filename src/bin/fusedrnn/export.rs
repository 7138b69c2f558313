//! `fusedrnn export`: a model's weights under PyTorch's `state_dict` names (or our Keras names).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use fusedrnn::model::Naming;
use fusedrnn::net::{AnyModel, open_any};

use crate::CliResult;

/// Which naming `export` writes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportNames {
    /// PyTorch `state_dict` names and layout (`lstm.weight_ih_l0 [32, 16]`, gates i,f,g,o; Keras'
    /// bias as `bias_ih`, zeros as `bias_hh`): load with `load_state_dict`.
    Torch,
    /// Our own Keras names (`lstm.kernel [16, 32]`).
    Keras,
}

/// `fusedrnn export MODEL --to torch --out T.safetensors`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model weights of any shape (.safetensors with either naming or fusedrnn's general format,
    /// or a Keras .h5 / .keras).
    pub model: PathBuf,
    /// Which names and layout to write.
    #[arg(long)]
    pub to: ExportNames,
    /// Output .safetensors (written atomically).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: &ExportArgs) -> CliResult {
    fusedrnn::cli::paths::check_out_file(&args.out, &[("MODEL", &args.model)])?;
    // Any shape (issue 14): the notebook's writers for its shapes, the general ones otherwise (a
    // GRU with reset_after=False has no PyTorch form and is refused, writing nothing).
    let model = open_any(&args.model, None)?;
    let naming = match args.to {
        ExportNames::Torch => Naming::Torch,
        ExportNames::Keras => Naming::Keras,
    };
    let arch = match (&model, naming) {
        (AnyModel::Notebook(m), Naming::Torch) => {
            m.save_torch(&args.out).map(|()| m.arch().name())?
        }
        (AnyModel::Notebook(m), Naming::Keras) => m.save(&args.out).map(|()| m.arch().name())?,
        (AnyModel::Net(w), Naming::Torch) => {
            w.save_torch(&args.out).map(|()| w.spec.cell.name())?
        }
        (AnyModel::Net(w), Naming::Keras) => w.save(&args.out).map(|()| w.spec.cell.name())?,
    };
    eprintln!(
        "exported {} from {} to {} ({} names)",
        arch,
        args.model.display(),
        args.out.display(),
        naming.name()
    );
    Ok(())
}
