//! The workspace's layout rules, read from the source itself:
//! - the core's domains import only what lib.rs says they may;
//! - no module of any crate imports, through a chain, a module that imports it
//!   (an import circle), tests aside.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each domain of the core, and the domains it may import from.
const ALLOWED: &[(&str, &[&str])] = &[
    ("format", &[]),
    ("contract", &["format"]),
    ("metrics", &["format"]),
    ("sse", &["contract", "format", "metrics"]),
    ("monitoring", &["contract", "format", "metrics"]),
    (
        "load",
        &["contract", "format", "metrics", "sse", "monitoring"],
    ),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its tests and comments.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `prefix::a::b::c` path in `code`, as its segments.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segments: Vec<String> = path
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !segments.is_empty() {
            out.push(segments);
        }
    }
    out
}

/// A module's path inside its crate (`load::report`; `` for the crate root).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The modules of the crate at `src` and the modules each one imports.
fn import_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.retain(|f| !f.strip_prefix(src).is_ok_and(|r| r.starts_with("bin")));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let known = |segments: Vec<String>| {
        (1..=segments.len())
            .rev()
            .map(|k| segments[..k].to_vec())
            .find(|m| modules.contains(m))
    };
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let code = code(file);
        let mut imports = BTreeSet::new();
        for path in paths_after(&code, "crate::") {
            imports.extend(known(path));
        }
        // `super::` from a file `a/b.rs` (module a::b) names a's items.
        let parent = module[..module.len().saturating_sub(1)].to_vec();
        for path in paths_after(&code, "super::") {
            imports.extend(known([parent.clone(), path].concat()));
        }
        imports.remove(&module);
        graph.insert(module, imports);
    }
    graph
}

/// The modules that import themselves through a chain (Tarjan's SCCs).
fn circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'g Vec<String>, usize>,
        low: BTreeMap<&'g Vec<String>, usize>,
        stack: Vec<&'g Vec<String>>,
        out: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g Vec<String>) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.graph.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.join("::"));
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.out
}

#[test]
fn the_core_domains_import_only_what_they_may() {
    let src = workspace().join("crates/sse-core/src");
    let graph = import_graph(&src);
    let mut wrong = Vec::new();
    for (module, imports) in &graph {
        let Some(domain) = module.first() else {
            continue;
        };
        let allowed = ALLOWED
            .iter()
            .find(|(d, _)| d == domain)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("{domain} is no domain of lib.rs"));
        for import in imports {
            let target = &import[0];
            if target != domain && !allowed.contains(&target.as_str()) {
                wrong.push(format!(
                    "{} imports {}",
                    module.join("::"),
                    import.join("::")
                ));
            }
        }
    }
    assert!(graph.len() > 20, "the core's modules were read");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_crate_of_the_workspace_has_an_import_circle() {
    let root = workspace();
    for src in [
        "src",
        "crates/sse-core/src",
        "crates/sse-backend/src",
        "crates/dashboard-ops/src",
        "crates/browser-tests/src",
    ] {
        let graph = import_graph(&root.join(src));
        assert!(!graph.is_empty(), "{src} was read");
        assert_eq!(circles(&graph), Vec::<Vec<String>>::new(), "in {src}");
    }
}

#[test]
fn a_circle_is_found() {
    let module = |m: &str| vec![m.to_owned()];
    let graph = BTreeMap::from([
        (module("a"), BTreeSet::from([module("b")])),
        (module("b"), BTreeSet::from([module("c")])),
        (module("c"), BTreeSet::from([module("a")])),
        (module("d"), BTreeSet::from([module("a")])),
    ]);
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
}
