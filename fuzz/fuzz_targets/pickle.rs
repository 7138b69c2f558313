#![no_main]
//! The pickle decoder for numpy object arrays of int lists.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fusedrnn_data_tools::pickle::decode_object_array(data);
});
