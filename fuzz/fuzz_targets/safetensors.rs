#![no_main]
//! The weights readers: the notebook's (Keras and PyTorch names) and the general one
//! (`net::from_safetensors_bytes`: fusedrnn's general format, PyTorch state dicts).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fusedrnn::model::Model::from_bytes(data, "fuzz.safetensors");
    let opts = fusedrnn::net::OpenOptions::default().seq_len(10);
    let _ = fusedrnn::net::from_safetensors_bytes(data, "fuzz.safetensors", &opts);
});
