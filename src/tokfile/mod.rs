//! The packed token file (`.tok`): the notebook's preprocessed splits, ready for the kernels.
//!
//! `imdb-pack` writes it once; everything else reads it into memory once and borrows typed,
//! zero-copy views of that copy (not a memory map: see `reader.rs` for why). Opening a file validates every invariant the kernels rely on, so that after
//! [`TokFile::open`] succeeds a kernel may index an embedding table by any token without a
//! bounds check of its own.
//!
//! # Versions
//!
//! Two versions share one layout and differ only in how wide a stored token id is, which the
//! file's `num_words` decides (so each set of packing parameters has exactly one encoding):
//!
//! | version | ids   | `num_words`           | written for                                         |
//! |--------:|-------|-----------------------|-----------------------------------------------------|
//! |       1 | `u16` | `1..=65536`           | every vocabulary that fits, the notebook's 500 too  |
//! |       2 | `u32` | `65537..=4294967295`  | `imdb-pack --num-words none` on IMDB (88,587), etc. |
//!
//! A version-1 file with `num_words` above 65,536, or a version-2 file with at most 65,536, is
//! refused as a corrupt header. Version-1 files written before version 2 existed are unchanged
//! and open as they always did.
//!
//! # Layout, byte by byte
//!
//! All integers little-endian. Offsets are from the start of the file.
//!
//! **Header**, 128 bytes at offset 0:
//!
//! | offset | size | field          | meaning                                                         |
//! |-------:|-----:|----------------|-----------------------------------------------------------------|
//! |      0 |    8 | `magic`        | `b"FRNNTOK\0"`                                                  |
//! |      8 |    4 | `version`      | `1` (u16 ids) or `2` (u32 ids), see above                       |
//! |     12 |    4 | `header_bytes` | `128`, the size of this header                                  |
//! |     16 |    4 | `section_count`| `9`: three sections for each of the splits train, val, test     |
//! |     20 |    4 | `num_words`    | every token id is `< num_words` (v1: 1..=65536, v2: above)      |
//! |     24 |    4 | `seq_len`      | tokens per row after padding (`pad_sequences(maxlen)`)          |
//! |     28 |    4 | `skip_top`     | `load_data(skip_top)`                                           |
//! |     32 |    4 | `index_from`   | `load_data(index_from)`                                         |
//! |     36 |    4 | `start_char`   | `load_data(start_char)`, `0xFFFF_FFFF` for `None`               |
//! |     40 |    4 | `oov_char`     | `load_data(oov_char)`, `0xFFFF_FFFF` for `None`                 |
//! |     44 |    1 | `padding`      | `0` = `'pre'`, `1` = `'post'`                                   |
//! |     45 |    1 | `truncating`   | `0` = `'pre'`, `1` = `'post'`                                   |
//! |     46 |    2 | reserved       | zero                                                            |
//! |     48 |    8 | `seed`         | `load_data(seed)`, the `RandomState` of the shuffle             |
//! |     56 |    8 | `split_seed`   | `train_test_split(random_state)`                                |
//! |     64 |    8 | `val_split`    | `train_test_split(test_size)` as an IEEE-754 f64; `0` = no split|
//! |     72 |    8 | `file_bytes`   | the length of the whole file                                    |
//! |     80 |   44 | reserved       | zero                                                            |
//! |    124 |    4 | `header_crc32` | CRC-32 (IEEE) of bytes 0..124 followed by the section table     |
//!
//! **Section table**, `section_count` entries of 32 bytes at offset 128, in this fixed order:
//! train tokens, train labels, train lengths, val tokens, …, test lengths.
//!
//! | offset | size | field       | meaning                                                  |
//! |-------:|-----:|-------------|----------------------------------------------------------|
//! |      0 |    2 | `split`     | `0` train, `1` val, `2` test                             |
//! |      2 |    2 | `kind`      | `0` tokens, `1` labels, `2` lengths                      |
//! |      4 |    4 | `rows`      | reviews in the split (the same for its three sections)   |
//! |      8 |    8 | `offset`    | start of the payload, a multiple of 64                   |
//! |     16 |    8 | `len_bytes` | payload length: `rows·seq_len·w`, `rows`, `rows·4`       |
//! |     24 |    4 | `crc32`     | CRC-32 (IEEE) of the payload                             |
//! |     28 |    4 | reserved    | zero                                                     |
//!
//! **Payloads**, each starting on a 64-byte boundary (a cache line; enough for any SIMD load),
//! in table order, zero bytes between them:
//! - tokens: `u16[rows][seq_len]` (version 1, `w` = 2) or `u32[rows][seq_len]` (version 2,
//!   `w` = 4), row-major, the padded sequences (0 is the pad value);
//! - labels: `u8[rows]`, 0 or 1;
//! - lengths: `u32[rows]`, each review's length before padding and truncation (start char
//!   included), as `len(x)` after `load_data`.
//!
//! A split with no rows (e.g. `val` when `val_split` is 0) has three empty payloads.

mod format;
mod reader;
mod stats;
mod writer;

pub use format::{FormatError, MAX_U16_NUM_WORDS, PackParams, Side, SplitName, TokenWidth};
pub use reader::{
    Batch, Batches, Split, SplitPartsError, TokFile, TokFileError, TokenIds, TokenOutOfVocab,
};
pub use stats::SplitStats;
pub use writer::{SplitData, TokenId, encode, write_atomic};
