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

/// A small program with a table of each key type, for [`api_command`].
const API_CFG: &str = "global\n    stats socket /nonexistent/admin.sock level admin\n\
defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
frontend www\n    bind 127.0.0.1:1\n    stick-table type ip size 16 expire 1m store gpc0,conn_rate(10s)\n    default_backend app\n\
backend app\n    server a 127.0.0.1:2 weight 10 check\n    server b 127.0.0.1:3 backup\n\
backend st_str\n    stick-table type string len 8 size 16 store gpc0,http_req_cnt\n\
backend st_bin\n    stick-table type binary len 4 size 16 store gpc0\n";

/// Runs arbitrary bytes as runtime-API request lines (admin level, prompt
/// mode as the input toggles it) against a small fixed program, built
/// once; commands change its live state from one input to the next.
pub fn api_command(data: &[u8]) {
    use std::sync::{Arc, OnceLock};
    static CTX: OnceLock<Option<crate::api::Ctx>> = OnceLock::new();
    let ctx = CTX.get_or_init(|| {
        let loaded = crate::config::parse_str("api.cfg", API_CFG);
        let program = crate::compile::compile_with(&loaded.config, &loaded.source_map, false)
            .program
            .map(Arc::new)?;
        let tables = Arc::new(crate::stick::Tables::new(program.tables.clone()));
        Some(crate::api::Ctx::new(program, tables))
    });
    let Some(ctx) = ctx else {
        debug_assert!(false, "the fuzzing config compiles");
        return;
    };
    let mut session = crate::api::command::Session {
        level: crate::compile::program::Level::Admin,
        prompt: false,
        timeout_ms: 1_000,
    };
    for line in String::from_utf8_lossy(data).split('\n') {
        let (out, open) = crate::api::command::answer_line(ctx, &mut session, line);
        debug_assert!(out.ends_with('\n') || out.ends_with("> ") || !open);
        if !open {
            return;
        }
    }
}
