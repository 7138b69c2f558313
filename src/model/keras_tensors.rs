//! A model's weights as Keras' `model.get_weights()` lists them: one row-major f32 array per
//! variable, in layer order, with Keras' shapes. The inverse is [`Model::from_keras_tensors`].

use super::{Arch, Model};
use crate::shape::HIDDEN;
use crate::train::{Layout, Params};

/// One weight: Keras-style name (`lstm.kernel`), shape, row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct KerasTensor {
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

impl Model {
    /// The weights in `get_weights()` order: `[embedding.embeddings [V, 16]]` (not for one-hot),
    /// the recurrent layer's `kernel [in, G]`, `recurrent_kernel [8, G]`, `bias [G]` (G = 32 for
    /// LSTM, 8 for SimpleRNN), then `dense.kernel [8, 1]` and `dense.bias [1]`.
    pub fn keras_weights(&self) -> Vec<KerasTensor> {
        let params = Params::from_model(self);
        let l: Layout = params.layout;
        let g = l.gates();
        l.tensors()
            .into_iter()
            .map(|(name, range)| {
                let shape = match name {
                    "embedding.embeddings" => vec![self.vocab(), l.in_dim()],
                    "lstm.kernel" | "simple_rnn.kernel" => vec![range.len() / g, g],
                    "lstm.recurrent_kernel" | "simple_rnn.recurrent_kernel" => vec![HIDDEN, g],
                    "dense.kernel" => vec![HIDDEN, 1],
                    _ => vec![range.len()],
                };
                KerasTensor {
                    name,
                    shape,
                    values: params.values[range].to_vec(),
                }
            })
            .collect()
    }

    /// Builds a model of `arch` from arrays in `get_weights()` order (see
    /// [`Model::keras_weights`]), through [`Model::from_keras_tensors`]'s checks. `file` labels
    /// errors.
    pub fn from_keras_weights(
        arch: Arch,
        weights: &[(&[usize], &[f32])],
        file: &str,
    ) -> Result<Model, super::ModelError> {
        let names = super::Naming::Keras.names_for(arch);
        if weights.len() != names.len() {
            return Err(super::ModelError::Metadata {
                file: file.to_owned(),
                key: "weights".to_owned(),
                problem: format!(
                    "a {arch} model has {} weight arrays ({}), got {}",
                    names.len(),
                    names.join(", "),
                    weights.len()
                ),
            });
        }
        let tensors = names
            .iter()
            .zip(weights)
            .map(|(&name, &(shape, values))| (name, shape, values));
        Model::from_keras_tensors(arch, tensors, file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::init_params;

    #[test]
    fn round_trip_through_keras_order_for_every_arch() {
        for (arch, n, shapes) in [
            (
                Arch::Lstm,
                6,
                vec![
                    vec![40, 16],
                    vec![16, 32],
                    vec![8, 32],
                    vec![32],
                    vec![8, 1],
                    vec![1],
                ],
            ),
            (
                Arch::Rnn,
                6,
                vec![
                    vec![40, 16],
                    vec![16, 8],
                    vec![8, 8],
                    vec![8],
                    vec![8, 1],
                    vec![1],
                ],
            ),
            (
                Arch::RnnOneHot,
                5,
                vec![vec![40, 8], vec![8, 8], vec![8], vec![8, 1], vec![1]],
            ),
        ] {
            let model = init_params(Layout::new(arch, 40), 9).to_model();
            let t = model.keras_weights();
            assert_eq!(t.len(), n, "{arch}");
            let got: Vec<_> = t.iter().map(|t| t.shape.clone()).collect();
            assert_eq!(got, shapes, "{arch}");
            for t in &t {
                assert_eq!(
                    t.shape.iter().product::<usize>(),
                    t.values.len(),
                    "{}",
                    t.name
                );
            }
            let w: Vec<(&[usize], &[f32])> = t
                .iter()
                .map(|t| (t.shape.as_slice(), t.values.as_slice()))
                .collect();
            assert_eq!(Model::from_keras_weights(arch, &w, "m").unwrap(), model);
        }
    }

    #[test]
    fn wrong_count_shape_or_nan_is_refused_by_name() {
        let model = init_params(Layout::new(Arch::Lstm, 10), 1).to_model();
        let mut t = model.keras_weights();
        let w: Vec<(&[usize], &[f32])> = t[..5]
            .iter()
            .map(|t| (t.shape.as_slice(), t.values.as_slice()))
            .collect();
        let e = Model::from_keras_weights(Arch::Lstm, &w, "m").unwrap_err();
        assert!(e.to_string().contains("6 weight arrays"), "{e}");
        t[1].values[3] = f32::NAN;
        let w: Vec<(&[usize], &[f32])> = t
            .iter()
            .map(|t| (t.shape.as_slice(), t.values.as_slice()))
            .collect();
        let e = Model::from_keras_weights(Arch::Lstm, &w, "m").unwrap_err();
        assert!(e.to_string().contains("lstm.kernel"), "{e}");
        let bad_shape = [16usize, 31];
        let mut w = w.clone();
        w[1] = (&bad_shape, &t[1].values[..16 * 31]);
        let e = Model::from_keras_weights(Arch::Lstm, &w, "m").unwrap_err();
        assert!(e.to_string().contains("lstm.kernel"), "{e}");
    }
}
