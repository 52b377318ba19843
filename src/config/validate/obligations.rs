//! The list of `[[obligation]]`s: ids (no duplicates), each checked by
//! `obligation`, then `depends_on` (known ids, not itself, no loops).

use std::collections::HashMap;

use super::{Validator, at};
use crate::config::model::Obligation;
use crate::config::report::{Loc, Problem, join, quote};

/// Obligation id -> (index in `Collected::obligations`, location of the id).
type Declared = HashMap<String, (usize, Loc)>;

impl Validator<'_> {
    pub(super) fn obligations(&mut self) -> Vec<Obligation> {
        let col = self.col;
        let mut out: Vec<Obligation> = Vec::new();
        let mut locs: Declared = HashMap::new();
        for (idx, item) in col.obligations.iter().enumerate() {
            let file = item.loc.file;
            let Some(id) = &item.value.id else {
                self.rep.report(
                    Problem::error(&item.loc, format!("obligation[{idx}]"), "thiếu id")
                        .hint("id = \"nq121-6thang\""),
                );
                continue;
            };
            let label = format!("obligation {}", quote(id.get_ref()));
            if !self.id_ok(file, &join(&label, "id"), id) {
                continue;
            }
            if let Some((_, first)) = locs.get(id.get_ref()) {
                let first = self.rep.place(first);
                self.rep.report(
                    Problem::error(
                        &at(file, id),
                        &label,
                        format!("trùng id: nghĩa vụ này đã khai báo tại {first}"),
                    )
                    .quoted(id.get_ref())
                    .hint("mỗi id chỉ dùng một lần"),
                );
                continue;
            }
            locs.insert(id.get_ref().clone(), (idx, at(file, id)));
            if let Some(o) = self.obligation(&item.value, file, &label, &item.loc) {
                out.push(o);
            }
        }
        self.depends_on_references(&locs);
        self.depends_on_loops(&locs, &out);
        out
    }

    /// Each `depends_on` names another declared obligation.
    fn depends_on_references(&mut self, locs: &Declared) {
        let col = self.col;
        let all: Vec<&str> = locs.keys().map(String::as_str).collect();
        for item in &col.obligations {
            let Some(id) = item.value.id.as_ref() else {
                continue;
            };
            if locs
                .get(id.get_ref())
                .is_none_or(|(i, _)| col.obligations[*i].loc != item.loc)
            {
                continue;
            }
            let label = format!("obligation {}", quote(id.get_ref()));
            for (i, d) in item.value.depends_on.iter().enumerate() {
                let key = join(&label, &format!("depends_on[{i}]"));
                if d.get_ref() == id.get_ref() {
                    self.rep.report(
                        Problem::error(
                            &at(item.loc.file, d),
                            &key,
                            "nghĩa vụ không thể phụ thuộc chính nó",
                        )
                        .quoted(d.get_ref()),
                    );
                } else if !locs.contains_key(d.get_ref()) {
                    self.unknown(
                        &at(item.loc.file, d),
                        &key,
                        d.get_ref(),
                        "obligation",
                        all.clone(),
                    );
                }
            }
        }
    }

    /// Loops among the valid obligations' `depends_on`, each reported at
    /// the first obligation of the loop.
    fn depends_on_loops(&mut self, locs: &Declared, out: &[Obligation]) {
        let col = self.col;
        for c in dependency_cycles(out) {
            let Some((idx, loc)) = locs.get(&c[0]).cloned() else {
                continue;
            };
            let item = &col.obligations[idx];
            let loc = item
                .value
                .depends_on
                .iter()
                .find(|d| *d.get_ref() == c[1])
                .map_or(loc, |d| at(item.loc.file, d));
            self.rep.report(
                Problem::error(
                    &loc,
                    format!("obligation {}: depends_on", quote(&c[0])),
                    format!("vòng lặp phụ thuộc: {}", c.join(" → ")),
                )
                .quoted(&c[1])
                .hint("một báo cáo tổng hợp không thể chờ chính nó"),
            );
        }
    }
}

/// The cycles of the `depends_on` graph found by a depth-first search in
/// declaration order, each as the ids along it with the first repeated at
/// the end.
fn dependency_cycles(out: &[Obligation]) -> Vec<Vec<String>> {
    let deps: HashMap<&str, Vec<&str>> = out
        .iter()
        .map(|o| {
            (
                o.id.as_str(),
                o.depends_on.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let mut state: HashMap<&str, u8> = HashMap::new();
    let mut cycles: Vec<Vec<String>> = Vec::new();
    fn dfs<'a>(
        n: &'a str,
        deps: &HashMap<&'a str, Vec<&'a str>>,
        state: &mut HashMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        cycles: &mut Vec<Vec<String>>,
    ) {
        state.insert(n, 1);
        stack.push(n);
        for &m in deps.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            match state.get(m).copied() {
                Some(1) => {
                    let pos = stack.iter().position(|&s| s == m).unwrap_or(0);
                    let mut c: Vec<String> = stack[pos..].iter().map(|s| s.to_string()).collect();
                    c.push(m.to_string());
                    cycles.push(c);
                }
                None if deps.contains_key(m) => dfs(m, deps, state, stack, cycles),
                _ => {}
            }
        }
        stack.pop();
        state.insert(n, 2);
    }
    for o in out {
        if !state.contains_key(o.id.as_str()) {
            let mut stack = Vec::new();
            dfs(o.id.as_str(), &deps, &mut state, &mut stack, &mut cycles);
        }
    }
    cycles
}
