//! The whole `imdb-pack` pipeline: read `imdb.npz`, apply the notebook's preprocessing, write
//! the token file.

use std::io::Read;
use std::path::Path;

use fusedrnn::tokfile::{PackParams, SplitData, write_atomic};
use rayon::prelude::*;

use crate::Error;
use crate::keras::{WordFilter, effective_num_words, load_data_order, pad_row, train_test_split};
use crate::npy::{self, Dtype};
use crate::npz::Npz;
use crate::pickle::{RaggedInts, decode_object_array};

/// The four arrays of an `imdb.npz`, as stored (word ranks before `load_data`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImdbArrays {
    pub x_train: RaggedInts,
    pub y_train: Vec<u8>,
    pub x_test: RaggedInts,
    pub y_test: Vec<u8>,
}

impl ImdbArrays {
    /// Reads an `imdb.npz` file: a regular file (a device such as `/dev/zero`, which never
    /// ends, or a pipe, which may never open, is refused by its kind), read up to the length
    /// it had when opened.
    pub fn read(path: &Path) -> Result<ImdbArrays, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let (file, len) = fusedrnn::files::open_regular(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(len).read_to_end(&mut bytes).map_err(io)?;
        ImdbArrays::from_bytes(&bytes).map_err(|problem| Error::Input {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// Parses an `imdb.npz` held in memory. The two review arrays are decoded in parallel.
    pub fn from_bytes(bytes: &[u8]) -> Result<ImdbArrays, String> {
        let read_x = |key: &str| -> Result<RaggedInts, String> {
            let member = Npz::new(bytes)
                .map_err(|e| e.to_string())?
                .read(key)
                .map_err(|e| e.to_string())?;
            read_reviews(&member).map_err(|e| format!("{key}: {e}"))
        };
        let read_y = |key: &str| -> Result<Vec<u8>, String> {
            let member = Npz::new(bytes)
                .map_err(|e| e.to_string())?
                .read(key)
                .map_err(|e| e.to_string())?;
            read_labels(&member).map_err(|e| format!("{key}: {e}"))
        };
        // Fail fast on a bad archive before spawning work.
        Npz::new(bytes).map_err(|e| e.to_string())?;
        let (x_train, x_test) = rayon::join(|| read_x("x_train"), || read_x("x_test"));
        let arrays = ImdbArrays {
            x_train: x_train?,
            y_train: read_y("y_train")?,
            x_test: x_test?,
            y_test: read_y("y_test")?,
        };
        for (x, y, name) in [
            (&arrays.x_train, &arrays.y_train, "train"),
            (&arrays.x_test, &arrays.y_test, "test"),
        ] {
            if x.rows() != y.len() {
                return Err(format!(
                    "x_{name} has {} reviews but y_{name} has {} labels",
                    x.rows(),
                    y.len()
                ));
            }
        }
        Ok(arrays)
    }
}

/// An object-array `.npy` member of int lists.
fn read_reviews(member: &[u8]) -> Result<RaggedInts, String> {
    let header = npy::parse_header(member).map_err(|e| e.to_string())?;
    if header.dtype != Dtype::Object {
        return Err(format!(
            "dtype {:?}: expected an object array of lists of ints",
            header.descr
        ));
    }
    if header.shape.len() != 1 {
        return Err(format!(
            "shape {:?}: expected a 1-D array of reviews",
            header.shape
        ));
    }
    let reviews = decode_object_array(&member[header.data_offset..]).map_err(|e| e.to_string())?;
    if reviews.rows() != header.shape[0] {
        return Err(format!(
            "header says {} reviews, the pickle holds {}",
            header.shape[0],
            reviews.rows()
        ));
    }
    Ok(reviews)
}

/// An integer `.npy` member of 0/1 labels.
fn read_labels(member: &[u8]) -> Result<Vec<u8>, String> {
    let labels = npy::read_int_vector(member).map_err(|e| e.to_string())?;
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            u8::try_from(l)
                .ok()
                .filter(|&l| l <= 1)
                .ok_or_else(|| format!("label {l} at index {i} is not 0 or 1"))
        })
        .collect()
}

/// One split, packed: `[rows, maxlen]` tokens, labels, unpadded lengths. The ids are held as
/// `u32` whatever the vocabulary; the writer stores them as `u16` when `num_words` allows
/// (token file version 1, byte for byte what this packer always wrote) and as `u32` beyond.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackedSplit {
    pub tokens: Vec<u32>,
    pub labels: Vec<u8>,
    pub lengths: Vec<u32>,
}

impl PackedSplit {
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    pub fn as_data(&self) -> SplitData<'_, u32> {
        SplitData {
            tokens: &self.tokens,
            labels: &self.labels,
            lengths: &self.lengths,
        }
    }
}

/// The packed data set: parameters (with the effective `num_words`) and train, val, test.
#[derive(Clone, Debug, PartialEq)]
pub struct Packed {
    pub params: PackParams,
    pub splits: [PackedSplit; 3],
}

impl Packed {
    /// Writes the token file atomically.
    pub fn write(&self, path: &Path) -> Result<u64, Error> {
        let [a, b, c] = &self.splits;
        Ok(write_atomic(
            path,
            &self.params,
            [a.as_data(), b.as_data(), c.as_data()],
        )?)
    }
}

/// Applies `load_data`, `train_test_split` and `pad_sequences` to the arrays, with the settings
/// of `request` ([`PackParams::NOTEBOOK`] for the notebook's), the one description of those
/// settings that the token file also records.
///
/// As a request, `num_words == 0` is Keras' `num_words=None` (`load_data` tests `if not
/// num_words`): every word is kept, and the packed file records the vocabulary that gives (on
/// IMDB 88,587, so its ids are stored as `u32`: token file version 2). Any `num_words` up to
/// `u32::MAX` is accepted, exactly as Keras applies it. The seeds seed numpy's `RandomState`, so
/// they must be below 2^32.
pub fn pack(arrays: &ImdbArrays, request: &PackParams) -> Result<Packed, Error> {
    let config = |m: String| Error::Config(m);
    let seed32 = |name: &str, v: u64| {
        u32::try_from(v).map_err(|_| {
            config(format!(
                "{name} {v} is outside numpy's RandomState seeds (0..2^32)"
            ))
        })
    };
    let (seed, split_seed) = (
        seed32("seed", request.seed)?,
        seed32("split_seed", request.split_seed)?,
    );
    let num_words = effective_num_words(
        (request.num_words != 0).then_some(request.num_words),
        request.start_char,
        request.index_from,
        &[&arrays.x_train, &arrays.x_test],
    )
    .map_err(config)?;
    // Keras' None takes the largest id; ids up to u32::MAX - 1 are stored (u32::MAX means None
    // in the header's start_char / oov_char).
    let num_words = u32::try_from(num_words)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| {
            config(format!(
                "num_words {num_words} is outside what a token file stores (1..={})",
                u32::MAX
            ))
        })?;
    let params = PackParams {
        num_words,
        ..*request
    };
    params.validate().map_err(|e| config(e.to_string()))?;
    let filter = WordFilter {
        start_char: params.start_char,
        index_from: params.index_from,
        skip_top: params.skip_top,
        num_words,
        oov_char: params.oov_char,
    };

    let (train_order, test_order) =
        load_data_order(arrays.x_train.rows(), arrays.x_test.rows(), seed);
    // Compose load_data's shuffle with train_test_split's choice, so each output row is built
    // once, straight from the stored review.
    let (train_rows, val_rows) = if params.val_split == 0.0 {
        (train_order, Vec::new())
    } else {
        let (train_idx, val_idx) =
            train_test_split(train_order.len(), params.val_split, split_seed).map_err(config)?;
        (
            train_idx.iter().map(|&i| train_order[i]).collect(),
            val_idx.iter().map(|&i| train_order[i]).collect(),
        )
    };
    let build =
        |x: &RaggedInts, y: &[u8], rows: &[usize]| build_split(x, y, rows, &filter, &params);
    let train = build(&arrays.x_train, &arrays.y_train, &train_rows);
    let val = build(&arrays.x_train, &arrays.y_train, &val_rows);
    let test = build(&arrays.x_test, &arrays.y_test, &test_order);
    Ok(Packed {
        params,
        splits: [train, val, test],
    })
}

/// Builds one split from the stored reviews `rows` (in output order), in parallel.
fn build_split(
    x: &RaggedInts,
    y: &[u8],
    rows: &[usize],
    filter: &WordFilter,
    params: &PackParams,
) -> PackedSplit {
    let maxlen = params.seq_len as usize;
    let mut out = PackedSplit {
        tokens: vec![0; rows.len() * maxlen],
        labels: rows.iter().map(|&r| y[r]).collect(),
        lengths: vec![0; rows.len()],
    };
    out.tokens
        .par_chunks_mut(maxlen)
        .zip(out.lengths.par_iter_mut())
        .zip(rows.par_iter())
        .with_min_len(256)
        .for_each_init(Vec::new, |seq, ((tokens, length), &r)| {
            seq.clear();
            filter.apply(x.row(r), seq);
            *length = u32::try_from(seq.len()).unwrap_or(u32::MAX);
            pad_row(seq, tokens, params.padding, params.truncating);
        });
    out
}
