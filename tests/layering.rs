//! Import layering, checked as an ordinary test (in the spirit of rust-analyzer's
//! `xtask/src/tidy.rs`). Every module under `src/` sits in one layer and may name, through a
//! `crate::` or `super::` path, only what sits in its own layer or below. The rules live here,
//! in code, so that `cargo test` keeps them instead of a reviewer's memory. std only: the
//! source is read with a small tokenizer, not a parser, which is enough for paths.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Plain types and pure checks; no I/O.
const VALUES: Layer = Layer(0, "values");
/// The operating system (processes, the terminal, files, logs); nothing of AWS.
const PLATFORM: Layer = Layer(1, "platform");
/// Where things come from: the environment, file locations, the tool's own settings.
const INPUTS: Layer = Layer(2, "inputs");
/// What the user configured and stored: profiles, plans, keys at rest.
const MODEL: Layer = Layer(3, "model");
/// The wire: AWS calls and their shapes, no policy.
const AWS: Layer = Layer(4, "aws");
/// What survives between runs.
const STATE: Layer = Layer(5, "state");
/// Turning a plan into credentials.
const ENGINE: Layer = Layer(6, "engine");
/// One capability each.
const FEATURES: Layer = Layer(7, "features");
/// Arguments, stdout, exit codes.
const SURFACE: Layer = Layer(8, "surface");
/// `lib.rs`'s own items: above every layer (the root may import anything, nothing imports it).
const ROOT: Layer = Layer(9, "crate root");

/// THE table: module path → layer. The longest matching prefix wins, so one submodule can be
/// moved to another layer with one more row (`("cache::id", VALUES)`); submodules inherit.
#[rustfmt::skip] // a table: one line per layer reads better than one line per row
const LAYERS: &[(&str, Layer)] = &[
    ("secret", VALUES), ("duration", VALUES), ("time", VALUES), ("rules", VALUES),
    ("env_vars", VALUES), ("credentials", VALUES), ("exit", VALUES),
    ("process", PLATFORM), ("terminal", PLATFORM), ("fsx", PLATFORM), ("logging", PLATFORM),
    ("env", INPUTS), ("paths", INPUTS), ("settings", INPUTS), ("context", INPUTS),
    ("config", MODEL), ("keystore", MODEL),
    ("aws", AWS),
    ("cache", STATE), ("sso", STATE),
    ("mfa", ENGINE), ("assume", ENGINE), ("obtain", ENGINE), ("audit", ENGINE),
    ("console", FEATURES), ("server", FEATURES), ("onboard", FEATURES), ("fanout", FEATURES),
    ("rotate", FEATURES), ("diagnose", FEATURES), ("shell", FEATURES), ("output", FEATURES),
    ("sso_login", FEATURES), ("registry", FEATURES),
    ("cli", SURFACE), ("commands", SURFACE), ("error", SURFACE),
];

/// Upward imports tolerated for now: (importing module, target path, why). Kept tiny on
/// purpose (the test caps it at 3); an entry that matches nothing any more is an error.
const ALLOWED_UP: &[(&str, &str, &str)] = &[];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Layer(u8, &'static str);

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

/// One `crate::`/`super::` path: (file, line, importing module, target), both modules as
/// segments from the crate root (the root itself has none).
type Import<'a> = (&'a str, usize, Vec<String>, Vec<String>);

/// What the checker found, by kind, so that a self-test can look at one kind only.
#[derive(Default)]
struct Findings {
    /// Modules without a row, rows without a module, exceptions that match nothing.
    table: Vec<String>,
    /// Upward imports, sorted by file and line.
    upward: Vec<String>,
    /// One cycle between top-level modules, if there is any.
    cycle: Option<String>,
}

/// The row for `path` (longest prefix of its segments) and its layer.
fn layer_of(path: &[String]) -> Option<(&'static str, Layer)> {
    let rows = LAYERS.iter().filter(|(row, _)| starts_with(path, row));
    rows.max_by_key(|(row, _)| row.split("::").count()).copied()
}

/// Whether `path` starts with the segments of `prefix` (`a::b` starts with `a`, not `a::bc`).
fn starts_with(path: &[String], prefix: &str) -> bool {
    let prefix: Vec<&str> = prefix.split("::").collect();
    path.len() >= prefix.len() && path.iter().zip(&prefix).all(|(a, b)| a == b)
}

/// `src/a/b/mod.rs` → `a::b`; `src/lib.rs` → the root (no segments); `src/main.rs` and
/// `src/bin/*.rs` → `None`: the binaries use the library by its name, never through `crate::`.
fn module_of(file: &str) -> Option<Vec<String>> {
    let rel = file.strip_prefix("src/")?.strip_suffix(".rs")?;
    let rel = rel.strip_suffix("/mod").unwrap_or(rel);
    match rel {
        "main" => None,
        _ if rel.starts_with("bin/") => None,
        "lib" => Some(Vec::new()),
        _ => Some(rel.split('/').map(String::from).collect()),
    }
}

/// The checker: every rule, over (path relative to the crate, source text) pairs.
fn check(files: &[(String, String)]) -> Findings {
    let mut found = Findings::default();
    let (mut modules, mut imports) = (BTreeSet::new(), Vec::new());
    let sources = files
        .iter()
        .filter_map(|(f, t)| Some((f, module_of(f)?, t)));
    for (file, module, text) in sources {
        if !module.is_empty() && layer_of(&module).is_none() {
            let name = module.join("::");
            let problem = format!(
                "{file}: module `{name}` has no layer: add a row to LAYERS in tests/layering.rs"
            );
            found.table.push(problem);
        }
        let paths = paths_in(&module, text, &mut modules).into_iter();
        imports.extend(paths.map(|(line, from, to)| (file.as_str(), line, from, to)));
        modules.insert(module);
    }
    for (row, _) in LAYERS {
        if !modules.iter().any(|m| m.join("::") == *row) {
            let problem = format!("LAYERS row `{row}` names no module in src/: stale row");
            found.table.push(problem);
        }
    }
    let top: BTreeSet<&str> = modules
        .iter()
        .filter_map(|m| Some(m.first()?.as_str()))
        .collect();
    found.upward = upward(&imports, &top, &mut found.table);
    found.cycle = cycle(&imports, &top);
    found
}

/// The upward imports, as messages sorted by file and line; stale exceptions go to `stale`.
fn upward(imports: &[Import], top: &BTreeSet<&str>, stale: &mut Vec<String>) -> Vec<String> {
    let mut used = [false; ALLOWED_UP.len()];
    let mut upward = Vec::new();
    for (file, line, from, to) in imports {
        // The root is above all; within one top-level module, sideways is its own business.
        let Some((_, from_layer)) = layer_of(from).filter(|_| from.first() != to.first()) else {
            continue;
        };
        let (row, to_layer) = match layer_of(to) {
            Some((row, layer)) => (format!("`{row}`"), layer),
            // A module with no row is reported already; anything else is a root item.
            None if to.first().is_some_and(|t| top.contains(t.as_str())) => continue,
            None => ("the crate root".to_string(), ROOT),
        };
        let allowed = |e: &(&str, &str, &str)| starts_with(from, e.0) && starts_with(to, e.1);
        if to_layer <= from_layer {
            continue;
        }
        if let Some(k) = ALLOWED_UP.iter().position(allowed) {
            used[k] = true;
            continue;
        }
        let (from, to, n) = (from.join("::"), to.join("::"), from_layer.0);
        let message = format!(
            "{file}:{line}: {from} ({from_layer}) imports {to} ({to_layer}): move what `{from}` \
             needs from {row} down into layer {n} or below, or pass it in as an argument; \
             see ARCHITECTURE.md"
        );
        upward.push((file, line, message));
    }
    for ((from, to, why), _) in ALLOWED_UP.iter().zip(used).filter(|(_, used)| !used) {
        stale.push(format!(
            "ALLOWED_UP ({from} → {to}: {why}) matches no import: stale"
        ));
    }
    upward.sort();
    upward.into_iter().map(|(_, _, message)| message).collect()
}

/// Top-level module → top-level module, with the first file and line of each edge.
type Graph<'a> = BTreeMap<&'a str, BTreeMap<&'a str, (&'a str, usize)>>;

/// One cycle between top-level modules, with a file:line per edge. Layering alone lets one
/// hide inside a layer, where sideways imports are allowed.
fn cycle(imports: &[Import], top: &BTreeSet<&str>) -> Option<String> {
    let mut graph = Graph::new();
    for &(file, line, ref from, ref to) in imports {
        if let (Some(a), Some(b)) = (from.first(), to.first())
            && a != b
            && top.contains(b.as_str())
        {
            let edge = graph.entry(a.as_str()).or_default().entry(b.as_str());
            let first = edge.or_insert((file, line));
            *first = (*first).min((file, line));
        }
    }
    let cycle = find_cycle(&graph)?;
    let mut lines = vec![format!("import cycle: {}", cycle.join(" → "))];
    for pair in cycle.windows(2) {
        let (file, line) = graph[pair[0]][pair[1]];
        lines.push(format!("{} → {}: {file}:{line}", pair[0], pair[1]));
    }
    Some(lines.join("\n    "))
}

/// A cycle as `[a, b, …, a]`, by depth-first search: an edge back into the stack closes one.
fn find_cycle<'a>(graph: &Graph<'a>) -> Option<Vec<&'a str>> {
    type Seen<'a> = BTreeSet<&'a str>;
    fn visit<'a>(
        n: &'a str,
        g: &Graph<'a>,
        stack: &mut Vec<&'a str>,
        done: &mut Seen<'a>,
    ) -> Option<Vec<&'a str>> {
        if let Some(start) = stack.iter().position(|&m| m == n) {
            return Some([&stack[start..], &[n]].concat());
        }
        if !done.insert(n) {
            return None; // explored already, with no cycle through it
        }
        stack.push(n);
        let cycle = g
            .get(n)
            .into_iter()
            .flat_map(BTreeMap::keys)
            .find_map(|&m| visit(m, g, stack, done));
        stack.pop();
        cycle
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|&n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// The `crate::` and `super::` paths of one module's file, as (line, importing module,
/// target). The importer is the file's module or an inline one in it (`mod tests { … }`),
/// which `super::` counts from. Inline modules also go to `modules`, for the stale-row check.
fn paths_in(
    module: &[String],
    text: &str,
    modules: &mut BTreeSet<Vec<String>>,
) -> Vec<(usize, Vec<String>, Vec<String>)> {
    let toks = tokens(&strip(text));
    let word = |k: usize| toks.get(k).map_or("", |t| t.1.as_str());
    let (mut paths, mut here, mut opened, mut depth) = (vec![], module.to_vec(), vec![], 0);
    let mut i = 0;
    while i < toks.len() {
        match word(i) {
            "{" => depth += 1,
            "}" => {
                if opened.last() == Some(&depth) {
                    opened.pop();
                    here.pop();
                }
                depth -= 1;
            }
            "mod" if is_ident(word(i + 1)) && word(i + 2) == "{" => {
                here.push(word(i + 1).to_string());
                modules.insert(here.clone());
                opened.push(depth + 1); // the `{` two tokens on opens it
            }
            _ => {}
        }
        let prev = if i == 0 { "" } else { word(i - 1) };
        // Where a path starts, and the module its next segment is looked up in.
        let start = match word(i) {
            // `$crate` is a macro's; `pub(crate)`, a visibility, has no `::` after it.
            "crate" if word(i + 1) == "::" && prev != "$" => Some((i + 2, Vec::new())),
            "super" if word(i + 1) == "::" && prev != "::" => {
                let supers = |&k: &usize| word(k) == "super" && word(k + 1) == "::";
                let n = (i..).step_by(2).take_while(supers).count();
                // Past the root is rustc's error to report, not ours.
                Some((i + 2 * n, here[..here.len().saturating_sub(n)].to_vec()))
            }
            _ => None,
        };
        if let Some((start, base)) = start {
            let mut found = Vec::new();
            i = tree(&toks, start, base, &mut found);
            paths.extend(found.into_iter().map(|(line, to)| (line, here.clone(), to)));
        } else {
            i += 1;
        }
    }
    paths
}

/// Reads one use-tree or expression path at `toks[i]`, below `prefix`, into `out` as
/// (line, segments): `a::{b, c::*}` gives `a::b` and `a::c`. Returns where it stopped.
fn tree(
    toks: &[(usize, String)],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<(usize, Vec<String>)>,
) -> usize {
    while let Some((line, word)) = toks.get(i) {
        match word.as_str() {
            // A group: each member is a tree of its own, below the same prefix.
            "{" => {
                i += 1;
                while let Some((_, word)) = toks.get(i)
                    && word != "}"
                {
                    i = match word.as_str() {
                        "," => i + 1,
                        "as" => i + 2, // `b as c`, `self as s`: the alias names nothing
                        _ => tree(toks, i, prefix.clone(), out),
                    };
                }
                return i + 1;
            }
            // A glob or `{self}` names the prefix itself.
            "*" | "self" => {
                out.push((*line, prefix));
                return i + 1;
            }
            word if is_ident(word) => {
                prefix.push(word.to_string());
                if toks.get(i + 1).is_none_or(|t| t.1 != "::") {
                    out.push((*line, prefix));
                    return i + 1;
                }
                i += 2;
            }
            _ => break, // `crate::x::<T>`: what is named is the path so far
        }
    }
    if !prefix.is_empty() {
        out.push((toks[i - 1].0, prefix));
    }
    i
}

fn is_ident(word: &str) -> bool {
    word.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// Words, `::`, and single punctuation characters, each with its line number.
fn tokens(code: &str) -> Vec<(usize, String)> {
    let (mut out, mut line) = (Vec::new(), 1);
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        let word = |c: &char| c.is_alphanumeric() || *c == '_';
        if c == '\n' {
            line += 1;
        } else if word(&c) {
            let rest: String = std::iter::from_fn(|| chars.next_if(word)).collect();
            out.push((line, format!("{c}{rest}")));
        } else if c == ':' && chars.next_if_eq(&':').is_some() {
            out.push((line, "::".to_string()));
        } else if !c.is_whitespace() {
            out.push((line, c.to_string()));
        }
    }
    out
}

/// The source with comments (doc comments too) and string and char literals blanked out,
/// line breaks kept so that line numbers still hold: a `crate::x` in prose is no import.
fn strip(src: &str) -> String {
    let s: Vec<char> = src.chars().collect();
    let ident = |k: usize| s[k].is_alphanumeric() || s[k] == '_';
    let find = |from: usize, what: &dyn Fn(usize) -> bool| (from..s.len()).find(|&k| what(k));
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < s.len() {
        let at = |k: usize| s.get(i + k).copied().unwrap_or('\0');
        let hashes = s[i + 1..].iter().take_while(|&&c| c == '#').count();
        // `r"…"`, `r#"…"#`, `br"…"`; not the `r` ending a word (`for`), nor `r#ident`.
        let raw = at(0) == 'r'
            && at(1 + hashes) == '"'
            && (i == 0 || !ident(i - 1) || (s[i - 1] == 'b' && (i < 2 || !ident(i - 2))));
        let end = match (at(0), at(1), at(2)) {
            ('/', '/', _) => find(i, &|k| s[k] == '\n'),
            ('/', '*', _) => {
                // Block comments nest: count openings and closings up to the outermost one.
                let mut depth = 0;
                let opens = |k: usize| s[k] == '/' && s.get(k + 1) == Some(&'*');
                let closes = |k: usize| s[k] == '*' && s.get(k + 1) == Some(&'/');
                let mut k = i;
                while k + 1 < s.len() && (depth > 0 || k == i) {
                    depth += i32::from(opens(k)) - i32::from(closes(k));
                    k += if opens(k) || closes(k) { 2 } else { 1 };
                }
                Some(k)
            }
            _ if raw => {
                let closes =
                    |k: usize| s[k] == '"' && (1..=hashes).all(|n| s.get(k + n) == Some(&'#'));
                find(i + 2 + hashes, &closes).map(|k| k + 1 + hashes)
            }
            ('"', _, _) => {
                // The first quote not escaped by an odd run of backslashes.
                let escaped = |k: usize| {
                    s[i + 1..k].iter().rev().take_while(|&&c| c == '\\').count() % 2 == 1
                };
                find(i + 1, &|k| s[k] == '"' && !escaped(k)).map(|k| k + 1)
            }
            ('\'', '\\', _) => find(i + 3, &|k| s[k] == '\'').map(|k| k + 1), // '\n', '\''
            ('\'', _, '\'') => Some(i + 3), // 'x'; a lifetime ('a, 'static) has no closing quote
            _ => {
                out.push(at(0));
                i += 1;
                continue;
            }
        };
        let end = end.unwrap_or(s.len()).min(s.len());
        out.extend(s[i..end].iter().map(|&c| if c == '\n' { c } else { ' ' }));
        i = end;
    }
    out
}

/// Every `.rs` file under `dir`, as (path relative to `root` with `/`, text).
fn read_sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("read src/").path();
        if path.is_dir() {
            read_sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .expect("under the crate")
                .to_string_lossy();
            let text = std::fs::read_to_string(&path).expect("read a source file");
            out.push((rel.replace('\\', "/"), text));
        }
    }
}

#[test]
fn layering() {
    assert!(
        ALLOWED_UP.len() <= 3,
        "ALLOWED_UP is for a few exceptions, not a second table"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_sources(&root.join("src"), root, &mut files);
    files.sort();
    let found = check(&files);
    let problems: Vec<_> = found
        .table
        .into_iter()
        .chain(found.upward)
        .chain(found.cycle)
        .collect();
    let count = problems.len();
    assert!(
        count == 0,
        "{count} layering problem(s):\n{}",
        problems.join("\n")
    );
}

// The checker's own tests: synthetic sources, nothing read from disk.

fn check_sources(files: &[(&str, &str)]) -> Findings {
    check(
        &files
            .iter()
            .map(|&(f, t)| (f.to_string(), t.to_string()))
            .collect::<Vec<_>>(),
    )
}

/// The upward imports found in one file, which must be exactly `count`.
fn upward_in(file: &str, text: &str, count: usize) -> Vec<String> {
    let upward = check_sources(&[(file, text)]).upward;
    assert_eq!(upward.len(), count, "{upward:#?}");
    upward
}

#[test]
fn upward_import_is_reported_with_file_line_and_layers() {
    let message = &upward_in("src/secret.rs", "use crate::commands;\n", 1)[0];
    for part in [
        "src/secret.rs:1:",
        "secret (0 values)",
        "commands (8 surface)",
        "layer 0 or below",
    ] {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
}

#[test]
fn grouped_use_flags_only_the_upward_leaf() {
    let upward = upward_in("src/secret.rs", "use crate::{duration, cli::Cli};\n", 1);
    assert!(
        upward[0].contains("imports cli::Cli (8 surface)"),
        "{}",
        upward[0]
    );
}

#[test]
fn comments_and_literals_are_not_paths() {
    let text = "// use crate::commands;\n/// [`crate::cli`]\n/* a /* nested */ crate::cli */\n\
                const S: &str = \"crate::commands \\\" crate::cli\\\\\";\n\
                const R: &str = r#\"crate::commands \"# ;\n\
                fn f<'a>(x: &'a str) -> char { let _ = b'\\''; 'c' }\n\
                use crate::error;\n";
    // Only the real import on line 7 is left: nothing above swallowed the code after it.
    let upward = upward_in("src/secret.rs", text, 1);
    assert!(
        upward[0].starts_with("src/secret.rs:7: secret (0 values) imports error"),
        "{}",
        upward[0]
    );
}

#[test]
fn super_paths_resolve_from_the_module() {
    // In `config::plan`, `super::super` is the crate root.
    let upward = upward_in("src/config/plan/mod.rs", "use super::super::commands;\n", 1);
    assert!(upward[0].contains("config::plan (3 model) imports commands (8 surface)"));
    // In `config::plan::x`, `super::super` is `config` (sideways), one more is the root.
    let text = "use super::super::edit;\nfn f() { super::super::super::commands::run(); }\n";
    let upward = upward_in("src/config/plan/x.rs", text, 1);
    assert!(
        upward[0]
            .starts_with("src/config/plan/x.rs:2: config::plan::x (3 model) imports commands::run")
    );
}

#[test]
fn visibility_macros_and_inline_test_modules_are_not_paths_up() {
    let text = "pub(crate) fn f() {}\nmacro_rules! m { () => { $crate::cli::x() } }\n\
                mod tests { use super::*; use super::super::secret::Secret; }\n";
    upward_in("src/secret.rs", text, 0);
}

#[test]
fn a_two_module_cycle_is_found() {
    // Both in one layer (engine): layering allows either import, only the cycle check objects.
    let mfa = ("src/mfa.rs", "use crate::source::Source;\n");
    let source = ("src/source.rs", "\nfn f() { crate::mfa::code(); }\n");
    let found = check_sources(&[mfa, source]);
    assert!(found.upward.is_empty(), "{:?}", found.upward);
    let cycle = found.cycle.expect("a cycle");
    assert!(cycle.contains("mfa → source → mfa"), "{cycle}");
    assert!(
        cycle.contains("src/mfa.rs:1") && cycle.contains("src/source.rs:2"),
        "{cycle}"
    );
}

/// Size, checked like the layers: a source file past 600 lines before its tests holds more than
/// one concern (ARCHITECTURE.md). Functions are held to 80 lines by clippy (`clippy.toml`).
#[test]
fn source_files_stay_under_600_lines_before_their_tests() {
    const MAX: usize = 600;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                // A `tests.rs` is a test module whole (`#[cfg(test)] mod tests;`).
                && path.file_name().is_some_and(|n| n != "tests.rs")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                let lines = text
                    .lines()
                    .take_while(|line| !line.starts_with("#[cfg(test)]"))
                    .count();
                if lines > MAX {
                    long.push(format!(
                        "{}: {lines} lines before its tests (at most {MAX}): split it by concern",
                        path.strip_prefix(&root).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(long.is_empty(), "{}", long.join("\n"));
}
