//! The layer order of ARCHITECTURE.md ("## Layers"), enforced on the
//! source: every path into the library that a file of `src/` names
//! (`use crate::...`, `crate::x::y(..)` in code, `super::...` resolved to
//! where it points) must lead to its own module or to a module on a line
//! below its own; modules on one line do not use each other. So the module
//! graph has no circle, and an import that points up fails here with the
//! file, the line and the path, not in a review. rust-analyzer's tidy tests
//! are the model: the rule is written once, in ARCHITECTURE.md, and this
//! test reads it from there.
//!
//! The reader is a small lexer, not a parser: it skips comments, strings,
//! raw strings, characters and lifetimes, follows `mod name { .. }`
//! blocks (so `super::*` in a `mod tests` means the file's own module)
//! and expands `use` groups (`crate::{a::b, c}`). `src/main.rs` is the
//! binary, above every layer, and `src/lib.rs` only declares the modules.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One line of the layer order: the modules on it, each as path segments
/// (`config::model` is `["config", "model"]`).
type Line = Vec<Vec<String>>;

/// The lines of the first ```text block under "## Layers", top first.
fn layer_order(architecture: &str) -> Vec<Line> {
    let at = architecture
        .find("\n## Layers")
        .expect("ARCHITECTURE.md has a \"## Layers\" section");
    let section = &architecture[at..];
    let block = &section[section.find("```text\n").expect("a ```text block") + 8..];
    let block = &block[..block.find("```").expect("the block ends")];
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|m| m.split("::").map(String::from).collect())
                .collect()
        })
        .collect()
}

/// Where a module stands: its line (0 = top) and its entry on that line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    line: usize,
    module: Vec<String>,
}

/// The entry of the layer order that owns `path`: the longest one that
/// is a prefix of it (`config::model::Cycle` is `config::model`'s,
/// `config::load_str` is `config`'s).
fn place(order: &[Line], path: &[String]) -> Option<Place> {
    let mut best: Option<Place> = None;
    for (line, modules) in order.iter().enumerate() {
        for m in modules {
            if path.starts_with(m) && best.as_ref().is_none_or(|b| b.module.len() < m.len()) {
                best = Some(Place {
                    line,
                    module: m.clone(),
                });
            }
        }
    }
    best
}

// ---------------------------------------------------------------------------
// A lexer of just enough Rust.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// The tokens of `src` with their line numbers; comments, literals and
/// lifetimes are dropped, `$crate` reads as `crate`.
fn lex(src: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let ident_start = |ch: char| ch.is_ascii_alphabetic() || ch == '_';
    let ident_char = |ch: char| ch.is_ascii_alphanumeric() || ch == '_';
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
            }
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                line += usize::from(c[i] == '\n');
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if ch == '\'' {
            if next == Some('\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                // A lifetime or a label.
                i += 1;
                while i < c.len() && ident_char(c[i]) {
                    i += 1;
                }
            }
        } else if ident_start(ch) {
            let start = i;
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // Raw strings: r"..", r#".."#, br#".."#.
            if (word == "r" || word == "br") && matches!(c.get(i), Some('"' | '#')) {
                let mut hashes = 0;
                while c.get(i + hashes) == Some(&'#') {
                    hashes += 1;
                }
                if c.get(i + hashes) == Some(&'"') {
                    i += hashes + 1;
                    loop {
                        if i >= c.len() {
                            break;
                        }
                        if c[i] == '"' && (0..hashes).all(|h| c.get(i + 1 + h) == Some(&'#')) {
                            i += 1 + hashes;
                            break;
                        }
                        line += usize::from(c[i] == '\n');
                        i += 1;
                    }
                    continue;
                }
                // A raw identifier (r#type): the word after the `#`.
                i += 1;
                continue;
            }
            out.push((Tok::Ident(word), line));
        } else if ch.is_ascii_digit() {
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
        } else if ch == ':' && next == Some(':') {
            out.push((Tok::PathSep, line));
            i += 2;
        } else if ch == '$' && c[i + 1..].starts_with(&['c', 'r', 'a', 't', 'e']) {
            i += 1;
        } else {
            out.push((Tok::Punct(ch), line));
            i += 1;
        }
    }
    out
}

/// A path into the library named by a file, absolute from the crate root.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    line: usize,
    path: Vec<String>,
}

/// Reads one use tree at `toks[i]` under `prefix`; pushes every path it
/// names and returns the index after it.
fn tree(toks: &[(Tok, usize)], mut i: usize, prefix: Vec<String>, out: &mut Vec<Named>) -> usize {
    let line = toks.get(i).map_or(0, |t| t.1);
    match toks.get(i).map(|t| &t.0) {
        Some(Tok::Punct('{')) => {
            i += 1;
            while i < toks.len() && toks[i].0 != Tok::Punct('}') {
                i = tree(toks, i, prefix.clone(), out);
                if toks.get(i).map(|t| &t.0) == Some(&Tok::Punct(',')) {
                    i += 1;
                }
            }
            i + 1
        }
        Some(Tok::Ident(name)) => {
            let mut path = prefix;
            if name != "self" {
                path.push(name.clone());
            }
            if toks.get(i + 1).map(|t| &t.0) == Some(&Tok::PathSep) {
                tree(toks, i + 2, path, out)
            } else {
                out.push(Named { line, path });
                i + 1
            }
        }
        // `*`, a turbofish, or the end.
        _ => {
            out.push(Named { line, path: prefix });
            i
        }
    }
}

/// Every path into the library that `src` names, for a file whose module
/// is `module` (`src/http/health.rs` is `["http", "health"]`).
fn named_paths(module: &[String], src: &str) -> Vec<Named> {
    let toks = lex(src);
    let mut out = Vec::new();
    // The file's own sub-modules (`mod health;`): `health::routes()` in it
    // names `<module>::health`.
    let mut children = BTreeSet::new();
    let mut depth = 0;
    for w in toks.windows(3) {
        match (&w[0].0, &w[1].0, &w[2].0) {
            (Tok::Punct('{'), _, _) => depth += 1,
            (Tok::Punct('}'), _, _) => depth -= 1,
            (Tok::Ident(m), Tok::Ident(name), Tok::Punct(';')) if m == "mod" && depth == 0 => {
                children.insert(name.clone());
            }
            _ => {}
        }
    }
    // Inline modules open at a brace depth: (name, depth inside).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < toks.len() {
        let after = |k: usize| toks.get(i + k).map(|t| &t.0);
        match &toks[i].0 {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Punct('{'))) = (after(1), after(2)) {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Tok::Ident(w)
                if inline.is_empty()
                    && children.contains(w)
                    && after(1) == Some(&Tok::PathSep)
                    && (i == 0 || toks[i - 1].0 != Tok::PathSep) =>
            {
                let mut at = module.to_vec();
                at.push(w.clone());
                i = tree(&toks, i + 2, at, &mut out);
                continue;
            }
            Tok::Ident(w)
                if (w == "crate" || w == "super" || w == "self")
                    && after(1) == Some(&Tok::PathSep) =>
            {
                // `x::crate` does not exist; `x::self`/`x::super` are inside a
                // path already read.
                let mut at: Vec<String> = module
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(n, _)| n.clone()))
                    .collect();
                let mut j = i;
                if w == "crate" {
                    at.clear();
                    j += 2;
                } else {
                    loop {
                        match &toks[j].0 {
                            Tok::Ident(s) if s == "super" => {
                                at.pop();
                            }
                            Tok::Ident(s) if s == "self" => {}
                            _ => break,
                        }
                        if toks.get(j + 1).map(|t| &t.0) != Some(&Tok::PathSep) {
                            break;
                        }
                        j += 2;
                    }
                }
                i = tree(&toks, j, at, &mut out);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The module a source file is (`src/config/validate/mod.rs` is
/// `config::validate`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// What is wrong with one file: each path that points up or sideways.
fn violations(order: &[Line], rel: &Path, src: &str) -> Vec<String> {
    let module = module_of(rel);
    let Some(own) = place(order, &module) else {
        return vec![format!(
            "src/{}: module {} has no line in ARCHITECTURE.md's layer order",
            rel.display(),
            module.join("::")
        )];
    };
    let mut found = Vec::new();
    for named in named_paths(&module, src) {
        let Some(target) = place(order, &named.path) else {
            continue;
        };
        if target.module == own.module || target.line > own.line {
            continue;
        }
        let how = if target.line == own.line {
            "on its own line"
        } else {
            "above it"
        };
        found.push(format!(
            "src/{}:{}: {} uses {} ({}), {how}",
            rel.display(),
            named.line,
            own.module.join("::"),
            target.module.join("::"),
            named.path.join("::")
        ));
    }
    found
}

/// The circles of files: each set of two or more files of `src/` that
/// reach one another through the paths they name (`files`: each file's
/// path under `src/` and its text). A path leads to the file of the
/// longest module that begins it; a file's paths to itself and to its
/// ancestors (`super::AppState` in a sub-module of `http`) are left out:
/// a parent that declares and re-exports its children is read by them.
/// Each circle is reported with the paths that close it.
fn file_circles(files: &[(PathBuf, String)]) -> Vec<String> {
    let modules: Vec<Vec<String>> = files.iter().map(|(rel, _)| module_of(rel)).collect();
    let file_of = |path: &[String]| {
        (0..modules.len())
            .filter(|&k| path.starts_with(&modules[k]))
            .max_by_key(|&k| modules[k].len())
    };
    // edges[a]: (b, the line in a, the path).
    let mut edges: Vec<Vec<(usize, usize, String)>> = vec![Vec::new(); files.len()];
    for (a, (_, src)) in files.iter().enumerate() {
        for named in named_paths(&modules[a], src) {
            if let Some(b) = file_of(&named.path)
                && !modules[a].starts_with(&modules[b])
                && !edges[a].iter().any(|e| e.0 == b)
            {
                edges[a].push((b, named.line, named.path.join("::")));
            }
        }
    }
    let reach = |from: usize| {
        let mut seen = vec![false; files.len()];
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            for &(m, _, _) in &edges[n] {
                if !seen[m] {
                    seen[m] = true;
                    stack.push(m);
                }
            }
        }
        seen
    };
    let reached: Vec<Vec<bool>> = (0..files.len()).map(reach).collect();
    let mut done = vec![false; files.len()];
    let mut circles = Vec::new();
    for a in 0..files.len() {
        if done[a] || !reached[a][a] {
            continue;
        }
        let circle: Vec<usize> = (0..files.len())
            .filter(|&b| reached[a][b] && reached[b][a])
            .collect();
        let mut how = Vec::new();
        for &b in &circle {
            done[b] = true;
            for (c, line, path) in &edges[b] {
                if circle.contains(c) {
                    how.push(format!(
                        "  src/{}:{line} -> src/{} ({path})",
                        files[b].0.display(),
                        files[*c].0.display()
                    ));
                }
            }
        }
        circles.push(format!("a circle of files:\n{}", how.join("\n")));
    }
    circles
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn architecture() -> Vec<Line> {
    layer_order(&std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap())
}

#[test]
fn no_module_uses_a_module_above_it_or_beside_it() {
    let order = architecture();
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        if rel == Path::new("main.rs") || rel == Path::new("lib.rs") {
            continue;
        }
        found.extend(violations(
            &order,
            rel,
            &std::fs::read_to_string(file).unwrap(),
        ));
    }
    assert!(
        found.is_empty(),
        "imports against the layer order of ARCHITECTURE.md (\"## Layers\"):\n{}",
        found.join("\n")
    );
}

/// Inside a module too, files do not go round in circles (a sub-module
/// reading its parent's items excepted): two files that use each other
/// can be neither understood nor tested one at a time.
#[test]
fn no_files_use_each_other_in_a_circle() {
    let src = repo().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let files: Vec<(PathBuf, String)> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_path_buf();
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .filter(|(rel, _)| rel != Path::new("main.rs") && rel != Path::new("lib.rs"))
        .collect();
    let circles = file_circles(&files);
    assert!(circles.is_empty(), "{}", circles.join("\n"));
}

/// The circle checker finds the two file-level circles the code once had,
/// and leaves a parent and its sub-modules alone.
#[test]
fn the_circle_checker_finds_the_file_circles_the_code_once_had() {
    let files = |list: &[(&str, &str)]| -> Vec<(PathBuf, String)> {
        list.iter()
            .map(|(p, s)| (PathBuf::from(p), s.to_string()))
            .collect()
    };
    let through_health = files(&[
        ("daemon/run.rs", "use crate::http::AppState;"),
        (
            "http/mod.rs",
            "mod health;\npub struct AppState;\nfn r() { get(health::healthz) }",
        ),
        (
            "http/health.rs",
            "use super::AppState;\nuse crate::daemon::run::TICK_MAX_AGE;",
        ),
        ("daemon/mod.rs", "pub mod run;"),
    ]);
    let found = file_circles(&through_health);
    assert_eq!(found.len(), 1, "{found:?}");
    for edge in [
        "src/daemon/run.rs:1 -> src/http/mod.rs (http::AppState)",
        "src/http/mod.rs:3 -> src/http/health.rs (http::health::healthz)",
        "src/http/health.rs:2 -> src/daemon/run.rs (daemon::run::TICK_MAX_AGE)",
    ] {
        assert!(found[0].contains(edge), "{edge}: {}", found[0]);
    }

    let page_and_session = files(&[
        ("http/dashboard/mod.rs", "mod page; mod session;"),
        (
            "http/dashboard/page.rs",
            "use super::session::Admin;\nuse super::super::AppState;",
        ),
        (
            "http/dashboard/session.rs",
            "fn f(_: super::page::Frame) {}",
        ),
        ("http/mod.rs", "mod dashboard; pub struct AppState;"),
    ]);
    let found = file_circles(&page_and_session);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("src/http/dashboard/page.rs:1 -> src/http/dashboard/session.rs")
            && found[0].contains("src/http/dashboard/session.rs:1 -> src/http/dashboard/page.rs"),
        "{}",
        found[0]
    );

    // A parent that uses its children, children that read the parent,
    // one sibling that uses another: no circle.
    let tree = files(&[
        (
            "http/mod.rs",
            "mod health; mod api;\npub struct AppState;\nfn r() { health::x(); api::y(); }",
        ),
        ("http/health.rs", "use super::{AppState, api::Owed};"),
        ("http/api.rs", "use crate::http::AppState;"),
    ]);
    assert_eq!(file_circles(&tree), Vec::<String>::new());
}

/// Every module of `src/lib.rs` has its line, and every module named in
/// the order exists: a new module is placed on purpose.
#[test]
fn the_layer_order_names_every_module_once() {
    let order = architecture();
    let lib = std::fs::read_to_string(repo().join("src/lib.rs")).unwrap();
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    let named: Vec<&Vec<String>> = order.iter().flatten().collect();
    let tops: BTreeSet<String> = named.iter().map(|m| m[0].clone()).collect();
    assert_eq!(tops, declared, "the top-level modules of src/lib.rs");
    let unique: BTreeSet<&Vec<String>> = named.iter().copied().collect();
    assert_eq!(
        unique.len(),
        named.len(),
        "a module on two lines: {order:?}"
    );
    for m in named {
        let base = repo().join("src").join(m.join("/"));
        assert!(
            base.with_extension("rs").is_file() || base.join("mod.rs").is_file(),
            "{} is in the layer order but not in src/",
            m.join("::")
        );
    }
}

/// The checker itself: it reports the upward edges the module graph once
/// had (each made the graph one circle), an edge between two modules of
/// one line, and a sub-module split from its parent; it reads groups,
/// `super`, inline modules, `$crate`, and skips comments and strings.
#[test]
fn the_checker_finds_upward_edges_and_ignores_what_is_not_code() {
    let order = architecture();
    let check = |file: &str, src: &str| violations(&order, Path::new(file), src);
    for (file, src, used) in [
        (
            "config/validate/daemon.rs",
            "use crate::daemon::schedule::normalize;",
            "daemon",
        ),
        (
            "http/health.rs",
            "use crate::daemon::run::TICK_MAX_AGE;",
            "daemon",
        ),
        (
            "http/dashboard/export.rs",
            "fn f() { let b = crate::commands::status::csv(&rows); }",
            "commands",
        ),
        ("link.rs", "use crate::mail::ids::sha256_hex;", "mail"),
        ("calendar/mod.rs", "use crate::store::Store;", "store"),
        (
            "config/model.rs",
            "use super::values::parse_date;",
            "config",
        ),
        (
            "store/mod.rs",
            "use crate::{primitives, http::AppState};",
            "http",
        ),
        (
            "store/records.rs",
            "macro_rules! m { () => { $crate::outbox::x() } }",
            "outbox",
        ),
        (
            "period.rs",
            "mod a { mod b { use super::super::super::tracking; } }",
            "tracking",
        ),
    ] {
        let found = check(file, src);
        assert!(
            found.len() == 1 && found[0].contains(&format!(" uses {used} (")),
            "{file}: {src}: {found:?}"
        );
    }
    for (file, src) in [
        (
            "config/model.rs",
            "#[cfg(test)]\nmod tests { use super::*; }",
        ),
        (
            "config/values.rs",
            "use super::model::Offset; use crate::period::PeriodKey;",
        ),
        (
            "period.rs",
            "// crate::http::AppState\n/* crate::daemon /* nested */ */\nfn f() -> &'static str { \"crate::commands\" }",
        ),
        (
            "period.rs",
            "const S: &str = r#\"crate::http \"# ; fn g<'a>(c: char) { let _ = '\"'; }",
        ),
        (
            "http/health.rs",
            "use crate::heartbeat::{TICK_MAX_AGE, self};",
        ),
        ("http/dashboard/page.rs", "use super::super::AppState;"),
    ] {
        assert_eq!(check(file, src), Vec::<String>::new(), "{file}: {src}");
    }
    assert!(
        check("nothing/here.rs", "")[0].contains("has no line"),
        "a module outside the order"
    );
}
