#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lbd::fuzzing::api_command(data));
