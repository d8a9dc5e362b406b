//! The README's keyword list is generated from the keyword tables.

use std::path::Path;

const START: &str = "<!-- keywords:start -->\n";
const END: &str = "<!-- keywords:end -->";

#[test]
fn readme_keyword_list_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("read README.md");
    let start = readme
        .find(START)
        .expect("README has the keywords:start marker")
        + START.len();
    let end = readme
        .find(END)
        .expect("README has the keywords:end marker");
    let generated = lbd::compile::keywords::markdown_list();
    if std::env::var_os("LBD_BLESS").is_some() {
        let updated = format!("{}{}{}", &readme[..start], generated, &readme[end..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    assert_eq!(
        &readme[start..end],
        generated,
        "README keyword list is stale: run LBD_BLESS=1 cargo test readme"
    );
}
