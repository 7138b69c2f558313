//! The fixed shapes of the notebook's models. Kernels are written for these
//! constants; anything that varies at run time (batch, vocabulary) is a parameter.

/// Tokens per review after `pad_sequences(maxlen=100)` (Keras pads and truncates at the front).
pub const SEQ_LEN: usize = 100;
/// Embedding width (`Embedding(vocab, 16)`).
pub const EMBED: usize = 16;
/// Recurrent units (`LSTM(8)` / `SimpleRNN(8)`): exactly one `f32x8` / `__m256`.
pub const HIDDEN: usize = 8;
/// LSTM gate pre-activations per step, Keras column order i, f, c, o.
pub const GATES: usize = 4 * HIDDEN;
/// The notebook's vocabulary (`imdb.load_data(num_words=500)`).
pub const NUM_WORDS: usize = 500;
