#![no_main]
//! The whole `imdb.npz` reader: zip, npy headers, pickles, labels.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fusedrnn_data_tools::ImdbArrays::from_bytes(data);
});
