//! Keras 3's default initializers for any [`Spec`], with the notebook trainer's generators and
//! streams ([`crate::train::init`]): on the notebook's shapes the draw is the same bits as
//! [`crate::train::init_params`].
//!
//! | tensor             | Keras default                                  |
//! |--------------------|------------------------------------------------|
//! | `embedding`        | `uniform(-0.05, 0.05)`                         |
//! | `kernel`           | `glorot_uniform` (`fan_in` = input width, `fan_out` = `G·H`) |
//! | `recurrent_kernel` | `orthogonal` (orthonormal rows of `[H, G·H]`)  |
//! | `bias`             | zeros; LSTM `unit_forget_bias=True`: forget block 1 |
//! | `dense.kernel`     | `glorot_uniform` (`[H, 1]`); `dense.bias` zero |

use crate::net::{Cell, Input, NetWeights, Spec, SpecError};
use crate::train::init::{SplitMix64, glorot_uniform, hash_words, orthogonal};

/// Fresh weights for `spec` from `seed`, each tensor from its own stream `hash(seed, tensor)`.
pub fn keras_init(spec: Spec, seed: u64) -> Result<NetWeights, SpecError> {
    spec.validate()?;
    let stream = |k: u64| SplitMix64::new(hash_words(&[seed, k]));
    let (h, gh) = (spec.units, spec.gate_width());
    let embedding = match spec.input {
        Input::Embedding { width } => {
            let mut rng = stream(1);
            (0..spec.vocab * width)
                .map(|_| rng.uniform(-0.05, 0.05))
                .collect()
        }
        Input::OneHot => Vec::new(),
    };
    let mut kernel = vec![0.0; spec.input_width() * gh];
    glorot_uniform(&mut stream(2), &mut kernel, spec.input_width(), gh);
    let recurrent_kernel = orthogonal(&mut stream(3), h, gh);
    let mut bias = vec![0.0; spec.cell.bias_rows() * gh];
    if spec.cell == Cell::Lstm {
        bias[h..2 * h].fill(1.0);
    }
    let mut dense_kernel = vec![0.0; h];
    glorot_uniform(&mut stream(4), &mut dense_kernel, h, 1);
    Ok(NetWeights {
        spec,
        embedding,
        kernel,
        recurrent_kernel,
        bias,
        dense_kernel,
        dense_bias: 0.0,
    })
}
