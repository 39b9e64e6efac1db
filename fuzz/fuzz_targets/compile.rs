//! Parse, check and (when valid) emit arbitrary input; format it and check that formatting
//! is stable and keeps the meaning. Any panic, hang or broken property is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meshc::{compile, diagnostic, syntax, Options, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sources = [Source::new("fuzz.mesh", text)];
    let options = Options::default();
    let compiled = compile(&sources, &options);
    if let Err(failure) = &compiled {
        // Rendering must cope with any span the checker produced.
        let _ = diagnostic::render(&failure.diagnostics, &sources, 100);
        let _ = diagnostic::to_json(&failure.diagnostics, &sources);
    }
    if let Ok(formatted) = syntax::format(0, text) {
        let again = syntax::format(0, &formatted).unwrap_or_else(|d| panic!("formatted text does not parse: {}", d.message));
        assert_eq!(again, formatted, "formatting is not idempotent");
        let after = compile(&[Source::new("fuzz.mesh", formatted.as_str())], &options);
        match (&compiled, &after) {
            (Ok(a), Ok(b)) => assert_eq!(a.to_yaml(), b.to_yaml(), "formatting changed the output"),
            (Err(_), Err(_)) => {}
            _ => panic!("formatting changed whether the file compiles"),
        }
    }
});
