#![no_main]
//! Loading any text as a catalog returns a catalog or an error; it never panics, and error
//! reports render.
use libfuzzer_sys::fuzz_target;
use portplan::catalog::load;
use portplan::diag::SourceFile;
use portplan::i18n::Lang;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = load(SourceFile::new("fuzz.yaml", text.to_string())) {
        let _ = e.plain(Lang::Ja);
        let _ = format!("{:?}", e.to_report(Lang::En));
    }
});
