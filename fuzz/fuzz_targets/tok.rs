#![no_main]
//! The token-file opener (versions 1 and 2: u16 and u32 ids); on success, touch every view
//! it lends.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tok) = fusedrnn::tokfile::TokFile::from_bytes(data) {
        for split in tok.splits() {
            let _ = split.stats();
            for batch in split.batches(7) {
                assert!(batch.tokens.iter().all(|t| (t as usize) < tok.num_words()));
                assert_eq!(batch.tokens.width(), tok.token_width());
            }
        }
    }
});
