#![no_main]
//! Both ruleset readers and the audit never panic on any input.
use libfuzzer_sys::fuzz_target;
use portplan::audit::{Kind, ipset::Sets, read};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for kind in [Kind::NftJson, Kind::IptablesSave, Kind::Ip6tablesSave] {
        if let Ok(rs) = read(text, Some(kind), &Sets::none()) {
            let _ = rs.layout();
        }
    }
});
