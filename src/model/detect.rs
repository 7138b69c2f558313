//! Which model a weights file holds, from its tensor names: the naming ([`Naming`], Keras' or
//! PyTorch's), the architecture ([`Arch`]), and the optional metadata checked against both.
//! See [`super::safetensors_io`] for the metadata keys.

use std::collections::HashMap;

use super::names::Naming;
use super::safetensors_io::{META_ARCH, META_NAMES, META_NUM_WORDS, META_SEQ_LEN};
use super::{Arch, Model, ModelError};
use crate::shape::SEQ_LEN;

/// The naming of `names`: all known names must belong to one naming, and there must be one.
pub(super) fn detect_naming(file: &str, names: &[&str]) -> Result<Naming, ModelError> {
    let of = |naming: Naming| -> Vec<&str> {
        let known = naming.all_names();
        names
            .iter()
            .copied()
            .filter(|n| known.contains(n))
            .collect()
    };
    let (k, t) = (of(Naming::Keras), of(Naming::Torch));
    match (k.is_empty(), t.is_empty()) {
        (false, true) => Ok(Naming::Keras),
        (true, false) => Ok(Naming::Torch),
        (true, true) => Err(ModelError::UnknownNames {
            file: file.to_owned(),
            found: list(names),
        }),
        (false, false) => Err(ModelError::MixedNaming {
            file: file.to_owned(),
            keras: list(&k),
            torch: list(&t),
        }),
    }
}

/// The architecture: LSTM or SimpleRNN from the known names' prefixes; for SimpleRNN, embedding or
/// one-hot from the metadata when it says, else from whether there is an embedding tensor.
pub(super) fn detect_arch(
    file: &str,
    names: &[&str],
    naming: Naming,
    meta: &HashMap<String, String>,
) -> Result<Arch, ModelError> {
    let all = naming.all_names();
    let known: Vec<&str> = names.iter().copied().filter(|n| all.contains(n)).collect();
    let (lstm_prefix, rnn_prefix) = naming.recurrent_prefixes();
    let lstm: Vec<&str> = known
        .iter()
        .copied()
        .filter(|n| n.starts_with(lstm_prefix))
        .collect();
    let rnn: Vec<&str> = known
        .iter()
        .copied()
        .filter(|n| n.starts_with(rnn_prefix))
        .collect();
    let recurrent_err = |problem: String| ModelError::RecurrentLayer {
        file: file.to_owned(),
        problem,
    };
    let is_lstm = match (lstm.is_empty(), rnn.is_empty()) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => {
            return Err(recurrent_err(format!(
                "no recurrent layer: expected `{lstm_prefix}*` or `{rnn_prefix}*` tensors, found [{}]",
                list(names)
            )));
        }
        (false, false) => {
            return Err(recurrent_err(format!(
                "both an LSTM ([{}]) and a SimpleRNN ([{}]); a model has one recurrent layer",
                list(&lstm),
                list(&rnn)
            )));
        }
    };

    let meta_arch = match meta.get(META_ARCH) {
        None => None,
        Some(value) => Some(Arch::from_name(value).ok_or_else(|| ModelError::Metadata {
            file: file.to_owned(),
            key: META_ARCH.to_owned(),
            problem: format!("expected \"lstm\", \"rnn\" or \"rnn-onehot\", found {value:?}"),
        })?),
    };
    let mismatch = |value: Arch, tensors: &str| ModelError::Metadata {
        file: file.to_owned(),
        key: META_ARCH.to_owned(),
        problem: format!("says {:?} but the tensors are {tensors}", value.name()),
    };
    match (is_lstm, meta_arch) {
        (true, None | Some(Arch::Lstm)) => Ok(Arch::Lstm),
        (true, Some(other)) => Err(mismatch(other, &format!("an LSTM's (`{lstm_prefix}*`)"))),
        (false, Some(Arch::Lstm)) => Err(mismatch(
            Arch::Lstm,
            &format!("a SimpleRNN's (`{rnn_prefix}*`)"),
        )),
        (false, Some(arch)) => Ok(arch),
        (false, None) if names.contains(&naming.embedding()) => Ok(Arch::Rnn),
        (false, None) => Ok(Arch::RnnOneHot),
    }
}

/// Checks the optional metadata against the loaded model.
pub(super) fn check_metadata(
    file: &str,
    meta: &HashMap<String, String>,
    model: &Model,
    naming: Naming,
) -> Result<(), ModelError> {
    let err = |key: &str, problem: String| ModelError::Metadata {
        file: file.to_owned(),
        key: key.to_owned(),
        problem,
    };
    if let Some(value) = meta.get(META_SEQ_LEN)
        && value.trim().parse::<usize>().ok() != Some(SEQ_LEN)
    {
        return Err(err(
            META_SEQ_LEN,
            format!("expected \"{SEQ_LEN}\", found {value:?}"),
        ));
    }
    if let Some(value) = meta.get(META_NUM_WORDS)
        && value.trim().parse::<usize>().ok() != Some(model.vocab())
    {
        return Err(err(
            META_NUM_WORDS,
            format!(
                "expected \"{}\" (the rows of the input lookup), found {value:?}",
                model.vocab()
            ),
        ));
    }
    if let Some(value) = meta.get(META_NAMES)
        && Naming::from_name(value) != Some(naming)
    {
        return Err(err(
            META_NAMES,
            format!(
                "says {value:?} but the tensors have {} names",
                naming.name()
            ),
        ));
    }
    Ok(())
}

/// `names` as a list for messages: `` `a`, `b` ``.
pub(super) fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
