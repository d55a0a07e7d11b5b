//! The layout's floors hold (DESIGN.md, "Layout"): an import never runs upward, peers do not
//! import each other, and no two files import each other.
//!
//! Floors, top to bottom:
//!
//! - top: `lib.rs`, `vault/`, `synth.rs`, `fuzzing.rs`, `decoders_robust.rs` (they compose
//!   everything; `src/bin/` sits above them, in its own crates);
//! - peers: `audit/`, `codec.rs`, `crypto/`, `db/`, `disclosure.rs`, `policy/`, side by side.
//!   They pass plain data, so each imports only its own files and the bottom floor;
//! - bottom: `error.rs`, `ids.rs`, `model.rs`, `scope.rs`, `stored.rs`, `value.rs`, importing only each
//!   other.
//!
//! Inside `vault/`, the gate (`vault/gate/`) sits below the operation modules: it imports from
//! `vault/` only what every session shares (`vault/mod.rs`: the connection, the
//! configuration; `vault/sealer.rs`: the handle that keeps the vault open), the storage helpers
//! it composes (`vault/facts.rs`, `vault/group.rs`), never an operation. The operations call
//! the gate.
//!
//! The check reads source text: every `use` declaration and every `crate::`, `super::` and
//! `self::` path outside comments, resolved to the file that defines the name (through the
//! re-exports of `mod.rs` files).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Edges between peers that are allowed, each with its reason.
const ALLOWED: &[(&str, &str, &str)] = &[
    // The verifier checks each checkpoint's Ed25519 signature as it streams the log, with no
    // key but the stored public one: signature verification is crypto's, and what is signed
    // is the audit log's.
    (
        "audit/seals.rs",
        "crypto/signing.rs",
        "checkpoint signatures",
    ),
    // The same for the witness file: each line carries a checkpoint's signature (or a
    // restore's), which verifying the witness checks.
    (
        "audit/witness.rs",
        "crypto/signing.rs",
        "witness line signatures",
    ),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Floor {
    Bottom,
    Peer,
    Top,
}

fn floor_of(file: &str) -> Floor {
    match component(file) {
        "error" | "ids" | "model" | "scope" | "stored" | "value" => Floor::Bottom,
        "audit" | "codec" | "crypto" | "db" | "disclosure" | "policy" => Floor::Peer,
        _ => Floor::Top,
    }
}

/// `audit` for `audit/entry.rs`, `codec` for `codec.rs`.
fn component(file: &str) -> &str {
    let first = file.split('/').next().unwrap_or(file);
    first.strip_suffix(".rs").unwrap_or(first)
}

fn exempt(file: &str) -> bool {
    file.starts_with("bin/")
}

struct Source {
    /// Module path: `["audit", "entry"]` for `audit/entry.rs`, `[]` for `lib.rs`.
    module: Vec<String>,
    /// The text with comments blanked out, lines kept.
    code: String,
}

fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        parts.clear();
    }
    parts
}

/// Blank out `//` comments (line and doc comments), keeping line numbers. String literals
/// holding `//` lose the rest of their line, which only hides paths, never invents them.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn collect(dir: &Path, root: &Path, out: &mut BTreeMap<String, Source>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = fs::read_to_string(&p).unwrap();
            out.insert(
                rel.clone(),
                Source {
                    module: module_of(&rel),
                    code: strip_comments(&text),
                },
            );
        }
    }
}

/// Expand a use tree (`a::{b, c::{d, self}}`, whitespace removed) into paths.
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |x| format!("{prefix}{x}")))
        .collect()
}

/// Every path a file names, with its line: the paths of its `use` declarations and every
/// `crate::`/`super::`/`self::` path in its code, each with whether it is inside the file's
/// test module (where `super` is the file itself).
fn paths(code: &str) -> Vec<(usize, Vec<String>, bool)> {
    let tests_at = code.find("#[cfg(test)]\nmod tests").unwrap_or(usize::MAX);
    let line_at = |i: usize| code[..i].matches('\n').count() + 1;
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < code.len() {
        let starts_word = i == 0 || !ident(bytes[i - 1]);
        let rest = &code[i..];
        if starts_word && rest.starts_with("use ") {
            let end = rest.find(';').map_or(code.len(), |e| i + e);
            let tree: String = code[i + 4..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            for p in expand(&tree) {
                let p = p.split(" as ").next().unwrap_or(&p).to_owned();
                let segs: Vec<String> = p.split("::").map(str::to_owned).collect();
                out.push((line_at(i), segs, i > tests_at));
            }
            i = end;
            continue;
        }
        if starts_word {
            if let Some(head) = ["crate::", "super::", "self::"]
                .iter()
                .find(|h| rest.starts_with(**h))
            {
                let len = rest
                    .char_indices()
                    .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .map_or(rest.len(), |(n, _)| n);
                let segs: Vec<String> = rest[..len]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                out.push((line_at(i), segs, i > tests_at));
                i += len.max(head.len());
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    out
}

struct Crate {
    files: BTreeMap<String, Source>,
    by_module: BTreeMap<Vec<String>, String>,
    /// For each `mod.rs` (and `lib.rs`): the names it re-exports and the file defining each.
    reexports: BTreeMap<String, BTreeMap<String, String>>,
}

impl Crate {
    fn load() -> Crate {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = BTreeMap::new();
        collect(&root, &root, &mut files);
        let by_module = files
            .iter()
            .filter(|(f, _)| !f.starts_with("bin/"))
            .map(|(f, s)| (s.module.clone(), f.clone()))
            .collect();
        let mut krate = Crate {
            files,
            by_module,
            reexports: BTreeMap::new(),
        };
        // Two rounds, so a re-export of a re-export resolves too.
        for _ in 0..2 {
            let mut reexports = BTreeMap::new();
            for (file, src) in &krate.files {
                if !(file.ends_with("mod.rs") || file == "lib.rs") {
                    continue;
                }
                let mut names = BTreeMap::new();
                for (_, segs, _) in paths(&src.code) {
                    let Some(name) = segs.last().filter(|n| n.as_str() != "*") else {
                        continue;
                    };
                    let full: Vec<String> = if segs[0] == "crate" {
                        segs[1..].to_vec()
                    } else {
                        src.module.iter().cloned().chain(segs.clone()).collect()
                    };
                    if let Some(target) = krate.resolve(&full) {
                        if &target != file {
                            names.insert(name.clone(), target);
                        }
                    }
                }
                reexports.insert(file.clone(), names);
            }
            krate.reexports = reexports;
        }
        krate
    }

    /// The file that defines what `path` (from the crate root) names.
    fn resolve(&self, path: &[String]) -> Option<String> {
        let path: Vec<String> = path
            .iter()
            .filter(|s| s.as_str() != "self" && s.as_str() != "*")
            .cloned()
            .collect();
        for n in (1..=path.len()).rev() {
            if let Some(file) = self.by_module.get(&path[..n]) {
                if n < path.len() {
                    if let Some(t) = self.reexports.get(file).and_then(|r| r.get(&path[n])) {
                        return Some(t.clone());
                    }
                }
                return Some(file.clone());
            }
        }
        None
    }

    /// Each file another file imports from, with the lines that do.
    fn edges(&self) -> BTreeMap<String, BTreeMap<String, Vec<usize>>> {
        let mut edges: BTreeMap<String, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
        for (file, src) in &self.files {
            for (line, segs, in_tests) in paths(&src.code) {
                let mut base: Vec<String> = match segs[0].as_str() {
                    "crate" => Vec::new(),
                    "super" | "self" => src.module.clone(),
                    _ => continue,
                };
                let mut rest = &segs[1..];
                if segs[0] == "super" {
                    // At a file's top level `super` is its parent module; inside its test
                    // module, the file itself.
                    if !in_tests {
                        base.pop();
                    }
                    while rest.first().is_some_and(|s| s == "super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                }
                let full: Vec<String> = base.into_iter().chain(rest.iter().cloned()).collect();
                if let Some(target) = self.resolve(&full) {
                    if &target != file {
                        edges
                            .entry(file.clone())
                            .or_default()
                            .entry(target)
                            .or_default()
                            .push(line);
                    }
                }
            }
        }
        edges
    }
}

fn lines(ls: &[usize]) -> String {
    let set: BTreeSet<_> = ls.iter().collect();
    set.into_iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn imports_never_run_upward_and_peers_pass_plain_data() {
    let krate = Crate::load();
    let mut bad = Vec::new();
    for (from, targets) in krate.edges() {
        if exempt(&from) {
            continue;
        }
        for (to, ls) in targets {
            let (f, t) = (floor_of(&from), floor_of(&to));
            let upward = match (f, t) {
                (Floor::Bottom, Floor::Bottom) => false,
                (Floor::Bottom, _) => true,
                (Floor::Peer, Floor::Top) => true,
                (Floor::Peer, Floor::Peer) => {
                    component(&from) != component(&to)
                        && !ALLOWED.iter().any(|(a, b, _)| *a == from && *b == to)
                }
                _ => false,
            };
            if upward {
                bad.push(format!(
                    "src/{from}:{} imports src/{to} ({f:?} -> {t:?})",
                    lines(&ls)
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the floors:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other() {
    let krate = Crate::load();
    let edges = krate.edges();
    let mut bad = Vec::new();
    for (a, targets) in &edges {
        for (b, ls) in targets {
            // A mod.rs (or lib.rs) re-exports its children, which may name its re-exports.
            let front = |f: &str| f.ends_with("mod.rs") || f == "lib.rs";
            if a >= b || exempt(a) || exempt(b) || front(a) || front(b) {
                continue;
            }
            if let Some(back) = edges.get(b).and_then(|t| t.get(a)) {
                bad.push(format!(
                    "src/{a}:{} and src/{b}:{} import each other",
                    lines(ls),
                    lines(back)
                ));
            }
        }
    }
    assert!(bad.is_empty(), "import cycles:\n{}", bad.join("\n"));
}

/// What the gate may import from the rest of `vault/`.
const BELOW_THE_GATE: [&str; 4] = [
    "vault/mod.rs",
    "vault/facts.rs",
    "vault/group.rs",
    "vault/sealer.rs",
];

#[test]
fn the_gate_imports_no_operation() {
    let krate = Crate::load();
    let mut bad = Vec::new();
    for (from, targets) in krate.edges() {
        if !from.starts_with("vault/gate/") {
            continue;
        }
        for (to, ls) in targets {
            if to.starts_with("vault/")
                && !to.starts_with("vault/gate/")
                && !BELOW_THE_GATE.contains(&to.as_str())
            {
                bad.push(format!("src/{from}:{} imports src/{to}", lines(&ls)));
            }
        }
    }
    assert!(bad.is_empty(), "the gate reaches up:\n{}", bad.join("\n"));
}

#[test]
fn the_vault_does_not_reach_into_the_binaries() {
    let krate = Crate::load();
    let mut bad = Vec::new();
    for (file, src) in &krate.files {
        if !file.starts_with("vault/") {
            continue;
        }
        for (n, line) in src.code.lines().enumerate() {
            if line.contains("bin/") || line.contains("crate::bin") || line.contains("mod bin") {
                bad.push(format!("src/{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the vault names the binaries:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_check_sees_imports() {
    // Guard against a check that passes because it resolves nothing.
    let edges = Crate::load().edges();
    let has = |a: &str, b: &str| edges.get(a).is_some_and(|t| t.contains_key(b));
    assert!(has("audit/entry.rs", "audit/layout.rs"));
    assert!(
        has("audit/query.rs", "audit/layout.rs"),
        "through audit/mod.rs"
    );
    assert!(has("db/ledger_rows.rs", "stored.rs"));
    assert!(has("vault/audit_log.rs", "db/rows/mod.rs"));
    assert!(has("vault/gate/facts.rs", "vault/facts.rs"));
    assert!(has("vault/records.rs", "vault/gate/mod.rs"));
    assert_eq!(
        expand("a::{b,c::{d,self}}"),
        ["a::b", "a::c::d", "a::c::self"]
    );
}
