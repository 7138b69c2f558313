#![no_main]
//! The word index parser (`imdb_word_index.json`, streamed) under the notebook's settings and
//! with every word kept; on success, tokenize a text made of the input's own bytes and check that
//! every id is one the tokenizer says it can emit.
use fusedrnn::text::{Tokenizer, TokenizerConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for num_words in [Some(500), None] {
        let config = TokenizerConfig {
            num_words,
            ..TokenizerConfig::default()
        };
        if let Ok(t) = Tokenizer::from_reader(data, config) {
            let text = String::from_utf8_lossy(data);
            let mut ids = Vec::new();
            t.tokenize_wide_into(&text, &mut ids);
            assert!(ids.iter().all(|&id| id <= t.max_id()));
            assert!(num_words.is_none_or(|n| t.max_id() < n.max(3)));
        }
    }
});
