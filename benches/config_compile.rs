//! Parse and compile a large generated configuration: 1,000 backends,
//! 10,000 servers and 10,000 ACL lines (the goal is under 50 ms).

use criterion::{Criterion, criterion_group, criterion_main};

/// One frontend routing on 10,000 ACLs (10 per backend) to 1,000 backends of
/// 10 servers each.
fn generated_config() -> String {
    let mut text = String::with_capacity(2 << 20);
    text.push_str("defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n");
    text.push_str("frontend www\n    bind 127.0.0.1:8080\n");
    for b in 0..1_000 {
        for a in 0..10 {
            text.push_str(&format!(
                "    acl host_{b}_{a} hdr(host) -i site{b}-{a}.example.com"
            ));
            text.push('\n');
        }
        text.push_str(&format!(
            "    use_backend app{b} if host_{b}_0 or host_{b}_1 or host_{b}_2"
        ));
        text.push('\n');
    }
    text.push_str("    default_backend app0\n\n");
    for b in 0..1_000 {
        text.push_str(&format!("backend app{b}\n    balance roundrobin"));
        text.push('\n');
        for s in 0..10 {
            let port = 10_000 + s;
            text.push_str(&format!(
                "    server s{s} 127.0.{}.{}:{port} weight {} check",
                b / 250,
                b % 250,
                s + 1
            ));
            text.push('\n');
        }
    }
    text
}

fn parse_and_compile(c: &mut Criterion) {
    let text = generated_config();
    let check = lbd::config::parse_str("big.cfg", &text);
    let compiled = lbd::compile::compile(&check.config, &check.source_map);
    let errors: Vec<_> = compiled.diagnostics.iter().take(3).collect();
    assert!(
        compiled.program.is_some(),
        "generated config must compile: {errors:?}"
    );
    let mut group = c.benchmark_group("config_compile");
    group.sample_size(10);
    group.bench_function("1k_backends_10k_servers_10k_acls", |b| {
        b.iter(|| {
            let loaded = lbd::config::parse_str("big.cfg", &text);
            lbd::compile::compile(&loaded.config, &loaded.source_map)
        })
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| lbd::config::parse_str("big.cfg", &text))
    });
    group.finish();
}

criterion_group!(benches, parse_and_compile);
criterion_main!(benches);
