#![no_main]
//! The `.npy` header parser and the integer-array reader.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fusedrnn_data_tools::npy::parse_header(data);
    let _ = fusedrnn_data_tools::npy::read_int_vector(data);
});
