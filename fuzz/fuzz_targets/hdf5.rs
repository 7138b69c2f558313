#![no_main]
//! The Keras import path as the CLI runs it: sniff HDF5 / zip, parse the HDF5 structure and the
//! model config, read and check the weights, then build a `Model` through the library's checks;
//! and the general path (`read_net`, then `net::from_keras`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = fusedrnn_keras::from_bytes(data, "fuzz.h5") {
        let arch = fusedrnn::model::Arch::from_name(k.arch.name()).expect("a known arch");
        let tensors = k
            .tensors
            .iter()
            .map(|t| (t.name, t.shape.as_slice(), t.values.as_slice()));
        let _ = fusedrnn::model::Model::from_keras_tensors(arch, tensors, "fuzz.h5");
    }
    if let Ok(k) = fusedrnn_keras::net_from_bytes(data, "fuzz.h5") {
        let opts = fusedrnn::net::OpenOptions::default().seq_len(10);
        let _ = fusedrnn::net::from_keras(k, "fuzz.h5", &opts);
    }
});
