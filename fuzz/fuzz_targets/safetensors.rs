#![no_main]
//! The weights reader (Keras and PyTorch names).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fusedrnn::model::Model::from_bytes(data, "fuzz.safetensors");
});
