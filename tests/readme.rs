//! The README's "Using it" program is `examples/using_it.rs`, byte for byte, so the example that
//! `cargo build --examples` compiles is the one a reader copies.

use std::path::Path;

/// The first ```rust block under the README's "## Using it" heading, with its final newline.
fn using_it_block(readme: &str) -> String {
    let section = readme
        .split_once("\n## Using it\n")
        .map(|(_, rest)| rest)
        .expect("README.md has a \"## Using it\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut lines = section.lines();
    lines
        .by_ref()
        .find(|l| l.trim_end() == "```rust" || l.starts_with("```rust,"))
        .expect("a ```rust block under \"## Using it\"");
    let mut block = String::new();
    for line in lines {
        if line.starts_with("```") {
            return block;
        }
        block.push_str(line);
        block.push('\n');
    }
    panic!("the ```rust block under \"## Using it\" is not closed");
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_using_it_block_is_examples_using_it_rs() {
    let block = using_it_block(&read("README.md"));
    let example = read("examples/using_it.rs");
    if block != example {
        let line = block
            .lines()
            .zip(example.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| block.lines().count().min(example.lines().count()));
        panic!(
            "README.md's \"Using it\" block and examples/using_it.rs differ from line {}:\n\
             README:  {:?}\nexample: {:?}",
            line + 1,
            block.lines().nth(line),
            example.lines().nth(line),
        );
    }
}

#[test]
fn the_block_is_a_whole_program_without_hidden_lines() {
    let block = using_it_block(&read("README.md"));
    assert!(block.contains("fn main() -> confide::Result<()> {"));
    assert!(
        !block.lines().any(|l| l.trim_start().starts_with("# ")),
        "no rustdoc hidden lines: the block is pasted as it stands"
    );
}
