//! Entry points for the fuzz targets in `fuzz/`: each target is one call here.

use crate::config::parse_bytes;

/// Parses arbitrary bytes as a configuration file. The environment lookup
/// answers every name (with a value holding blanks, so `[*]` splits), so
/// that expansion paths are exercised without reading the real environment.
pub fn config(data: &[u8]) {
    let loaded = parse_bytes("fuzz.cfg", data, &|name| Some(format!("{name} \tv")));
    for line in loaded.config.sections.iter().flat_map(|s| &s.lines) {
        debug_assert!(!line.words.is_empty(), "a line has a keyword");
    }
    for diagnostic in &loaded.diagnostics {
        let rendered = crate::config::diag::render(diagnostic, &loaded.source_map);
        debug_assert!(!rendered.is_empty());
    }
    let compiled = crate::compile::compile_with(&loaded.config, &loaded.source_map, false);
    for diagnostic in &compiled.diagnostics {
        let rendered = crate::config::diag::render(diagnostic, &loaded.source_map);
        debug_assert!(!rendered.is_empty());
    }
}
