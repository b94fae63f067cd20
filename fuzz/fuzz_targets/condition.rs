#![no_main]
//! The condition parser and checker never panic, and what they accept prints canonically.
use libfuzzer_sys::fuzz_target;
use portplan::catalog::Catalogs;
use portplan::condition::Expr;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(e) = Expr::parse(text) {
        let cats = Catalogs::builtin();
        for c in cats.iter() {
            let _ = e.check(&c.options);
            let _ = e.eval(&c.default_options());
        }
        let printed = e.to_string();
        let again = Expr::parse(&printed).expect("canonical form re-parses");
        assert_eq!(again.to_string(), printed);
    }
});
