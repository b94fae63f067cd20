#![no_main]
//! The port-spec parser never panics, and its output round-trips.
use libfuzzer_sys::fuzz_target;
use portplan::portset::PortSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match PortSet::parse(text) {
        Ok(set) if !set.is_empty() => assert_eq!(PortSet::parse(&set.to_string()).unwrap(), set),
        Ok(_) => {}
        Err(e) => assert!(e.offset() <= text.len()),
    }
});
