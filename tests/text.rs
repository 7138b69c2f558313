//! The tokenizer against the shared data: every stored review, decoded to words with the shared
//! word index and tokenized again, gives back its ids (`start_char`, then `rank + index_from`).
//! Skipped loudly when `../shared/data/` is absent (a fresh clone), a failure in CI (`CI=true`),
//! where the data is always present; the splitting rules
//! themselves are unit-tested on a committed fixture index in `src/text/tests.rs`.

use std::collections::HashMap;
use std::path::PathBuf;

use fusedrnn::text::{Tokenizer, TokenizerConfig, to_padded};
use fusedrnn_data_tools::ImdbArrays;

use crate::common;

fn shared_data() -> Option<(PathBuf, PathBuf)> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data"));
    let npz = dir.join("imdb.npz");
    let index = dir.join("imdb_word_index.json");
    if npz.is_file() && index.is_file() {
        Some((npz, index))
    } else {
        common::skip_or_fail_in_ci(&format!(
            "{} or its imdb_word_index.json is absent",
            npz.display()
        ));
        None
    }
}

#[test]
fn every_shared_review_round_trips_through_text() {
    let Some((npz, index_path)) = shared_data() else {
        return;
    };
    let arrays = ImdbArrays::read(&npz).expect("read imdb.npz");
    let index: HashMap<String, u32> =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut by_rank: Vec<&str> = vec![""; index.len() + 1];
    for (word, &rank) in &index {
        by_rank[rank as usize] = word;
    }
    let config = TokenizerConfig {
        num_words: None,
        ..TokenizerConfig::default()
    };
    let tokenizer = Tokenizer::from_file(&index_path, config).expect("load the word index");
    assert_eq!(tokenizer.words_kept(), index.len());

    let mut text = String::new();
    let mut got = Vec::new();
    let mut want = Vec::new();
    let mut reviews = 0;
    for split in [&arrays.x_train, &arrays.x_test] {
        for r in 0..split.rows() {
            let ranks = split.row(r);
            text.clear();
            want.clear();
            want.push(1u32);
            for &rank in ranks {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(by_rank[rank as usize]);
                want.push(rank as u32 + 3);
            }
            tokenizer.tokenize_wide_into(&text, &mut got);
            assert_eq!(got, want, "review {r} of its split: {text:?}");
            reviews += 1;
        }
    }
    assert_eq!(reviews, 50_000);
}

/// With the notebook's `num_words = 500`, ranks above 496 become oov (2), as `load_data` does;
/// `Tokenizer::padded` (tokenizing only the last 100 words) agrees with `to_padded`.
#[test]
fn shared_reviews_with_the_notebook_vocabulary() {
    let Some((npz, index_path)) = shared_data() else {
        return;
    };
    let arrays = ImdbArrays::read(&npz).expect("read imdb.npz");
    let index: HashMap<String, u32> =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut by_rank: Vec<&str> = vec![""; index.len() + 1];
    for (word, &rank) in &index {
        by_rank[rank as usize] = word;
    }
    let tokenizer = Tokenizer::from_file(&index_path, TokenizerConfig::default()).unwrap();
    assert_eq!(tokenizer.words_kept(), 496);
    let mut got = Vec::new();
    for r in (0..arrays.x_test.rows()).step_by(97) {
        let ranks = arrays.x_test.row(r);
        let text: Vec<&str> = ranks.iter().map(|&k| by_rank[k as usize]).collect();
        tokenizer.tokenize_into(&text.join(" "), &mut got);
        let want: Vec<u16> = std::iter::once(1)
            .chain(
                ranks
                    .iter()
                    .map(|&k| if k + 3 < 500 { k as u16 + 3 } else { 2 }),
            )
            .collect();
        assert_eq!(got, want);
        // The tail-only path gives `pad_sequences` of the same ids.
        assert_eq!(
            tokenizer.padded(&text.join(" ")),
            to_padded(&want),
            "review {r}"
        );
    }
}
