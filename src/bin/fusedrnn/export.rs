//! `fusedrnn export`: a model's weights under PyTorch's `state_dict` names (or our Keras names).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use fusedrnn::model::Naming;

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
    /// Model weights (.safetensors with either naming, or a Keras .h5 / .keras).
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
    let model = fusedrnn::model::open(&args.model)?;
    let naming = match args.to {
        ExportNames::Torch => Naming::Torch,
        ExportNames::Keras => Naming::Keras,
    };
    match naming {
        Naming::Torch => model.save_torch(&args.out)?,
        Naming::Keras => model.save(&args.out)?,
    }
    eprintln!(
        "exported {} from {} to {} ({} names)",
        model.arch(),
        args.model.display(),
        args.out.display(),
        naming.name()
    );
    Ok(())
}
