//! `fusedrnn summary`: a Keras-style table of a model's layers and parameter counts.

use std::path::Path;

use crate::CliResult;

pub fn run(model: &Path) -> CliResult {
    let m = fusedrnn::net::open_any(model, None)?;
    fusedrnn::outln!("{}", m.summary().trim_end());
    Ok(())
}
