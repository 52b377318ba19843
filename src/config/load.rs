//! Reading the files: the main file, its includes (relative paths, `*`/`?`
//! globs in the file name, loops detected), TOML parsing and deserialising
//! each section and each `[[unit]]`/`[[group]]`/`[[obligation]]` on its own
//! into the `raw` structs.
//!
//! A syntax error stops only the file it is in. A bad key inside one element
//! is reported, removed and the element deserialised again (`de`), so that
//! one run reports every unknown key and the rest of the element is still
//! checked.
//! This is the only part of `config` that touches the file system, and only
//! through [`Source`], so tests can run from memory. It does not validate
//! values: that is `validate`'s job, except for one rule that holds for
//! every string of every file: no control characters (CR, LF, NUL, ESC,
//! ...; TAB is allowed), which would otherwise reach mail headers and
//! terminals. A file that is not UTF-8 is reported on its own path with the
//! encoding it looks like (`encoding`); parser messages are shown in
//! Vietnamese (`toml_errors`).

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Component, Path, PathBuf};

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use super::controls;
use super::de::de_item;
use super::diagnostic::{Diagnostic, Severity};
use super::encoding::{self, NotUtf8};
use super::raw::{
    RawCalendar, RawDaemon, RawDirective, RawGroup, RawIntake, RawMail, RawObligation, RawUnit,
    TOP_LEVEL_KEYS,
};
use super::report::{Loc, Problem, Reporter, SourceFile, nearest, quote};
use super::toml_errors;

/// Where configuration files come from.
pub trait Source {
    /// The bytes of a file (decoded and checked by the loader).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Files (not directories) directly in `dir`.
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// A name that is the same for the same file, for loop detection.
    fn identity(&self, path: &Path) -> PathBuf;
}

/// The real file system.
pub struct FsSource;

/// Largest configuration file read (a national directive with 4,000 units
/// is about 1 MiB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

impl Source for FsSource {
    /// Regular files only: an include of `/dev/zero`, `/dev/stdin` or a FIFO
    /// would otherwise read forever or block; larger than [`MAX_FILE_BYTES`]
    /// is refused too.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        use std::io::Read as _;
        let meta = std::fs::metadata(path)?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "không phải tệp thông thường (thư mục, thiết bị hay ống dẫn)",
            ));
        }
        let too_big = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("tệp lớn quá {} MiB", MAX_FILE_BYTES / (1024 * 1024)),
            )
        };
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        std::fs::File::open(path)?
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_big());
        }
        Ok(bytes)
    }
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                out.push(entry.path());
            }
        }
        Ok(out)
    }
    fn identity(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
    }
}

/// Files held in memory (tests, `load_str`).
pub struct MemSource(pub BTreeMap<PathBuf, String>);

impl Source for MemSource {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.0
            .get(&normalize(path))
            .map(|t| t.as_bytes().to_vec())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "không tìm thấy tệp"))
    }
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let dir = normalize(dir);
        Ok(self
            .0
            .keys()
            .filter(|p| p.parent() == Some(dir.as_path()))
            .cloned()
            .collect())
    }
    fn identity(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

/// Lexical normalisation: removes `.` and resolves `..` where possible.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A raw element and where it was written.
#[derive(Debug)]
pub struct Item<T> {
    pub loc: Loc,
    pub value: T,
}

/// Everything read from the files, before validation.
#[derive(Debug, Default)]
pub struct Collected {
    pub daemon: Option<Item<RawDaemon>>,
    pub mail: Option<Item<RawMail>>,
    pub calendar: Option<Item<RawCalendar>>,
    pub intake: Option<Item<RawIntake>>,
    pub directives: Vec<Item<RawDirective>>,
    pub groups: Vec<Item<RawGroup>>,
    pub units: Vec<Item<RawUnit>>,
    pub obligations: Vec<Item<RawObligation>>,
    /// Ids of elements that could not be read at all (their references are
    /// not reported again as unknown).
    pub broken_ids: Vec<String>,
    /// A file named by the configuration could not be read (missing, not
    /// UTF-8, ...): an id that seems unknown may be declared in it, so
    /// unknown references and unused units are not reported.
    pub incomplete: bool,
    /// Where each of `[daemon]`, `[mail]`, `[calendar]` was first seen.
    sections_seen: HashMap<&'static str, Loc>,
}

/// Reads `main` and everything it includes.
pub fn collect(source: &dyn Source, main: &Path, rep: &mut Reporter) -> Collected {
    let mut col = Collected::default();
    let mut reader = Reader {
        source,
        stack: Vec::new(),
        seen: HashMap::new(),
        incomplete: false,
    };
    reader.read_file(main, None, &mut col, rep);
    col.incomplete = reader.incomplete;
    col
}

/// One load's walk through the files.
struct Reader<'s> {
    source: &'s dyn Source,
    /// (identity, path as named) of the files being read, outermost first:
    /// a file found here again is an include loop.
    stack: Vec<(PathBuf, PathBuf)>,
    /// Identity -> path of every file read so far.
    seen: HashMap<PathBuf, PathBuf>,
    /// Some file could not be read or decoded.
    incomplete: bool,
}

impl Reader<'_> {
    /// Reads the file `path` (named by the include at `from`, or the main
    /// file), its sections and elements, then its includes.
    fn read_file(
        &mut self,
        path: &Path,
        from: Option<&Loc>,
        col: &mut Collected,
        rep: &mut Reporter,
    ) {
        let Some((id, bytes)) = self.open(path, from, rep) else {
            return;
        };
        let text = match encoding::decode(bytes) {
            Ok(text) => text,
            Err(e) => {
                not_utf8(path, e, rep);
                self.incomplete = true;
                return;
            }
        };
        let file = rep.files.len();
        rep.files.push(SourceFile::new(path.to_path_buf(), text));
        let text = rep.files[file].text.clone();
        let table = match DeTable::parse(&text) {
            Ok(t) => t,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                rep.report(
                    Problem::error(
                        &Loc { file, span },
                        "",
                        format!("lỗi cú pháp TOML: {}", toml_errors::syntax(e.message())),
                    )
                    .hint("tệp này bị bỏ qua cho đến khi sửa lỗi cú pháp"),
                );
                return;
            }
        };
        let includes = top_level(table.into_inner(), file, col, rep);
        self.stack.push((id, path.to_path_buf()));
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (pattern, loc) in includes {
            for target in expand_include(self.source, &dir, &pattern, &loc, rep) {
                self.read_file(&target, Some(&loc), col, rep);
            }
        }
        self.stack.pop();
    }

    /// The identity and bytes of `path`, or `None` after reporting an
    /// include loop, a file already read (a warning) or a file that cannot
    /// be read.
    fn open(
        &mut self,
        path: &Path,
        from: Option<&Loc>,
        rep: &mut Reporter,
    ) -> Option<(PathBuf, Vec<u8>)> {
        let no_loc = Loc {
            file: usize::MAX,
            span: 0..0,
        };
        let at = from.unwrap_or(&no_loc).clone();
        let id = self.source.identity(path);
        if let Some(pos) = self.stack.iter().position(|(i, _)| *i == id) {
            let mut chain: Vec<String> = self.stack[pos..]
                .iter()
                .map(|(_, p)| p.display().to_string())
                .collect();
            chain.push(path.display().to_string());
            rep.report(
                Problem::error(
                    &at,
                    "include",
                    format!("vòng lặp include: {}", chain.join(" → ")),
                )
                .quoted(&path.display().to_string())
                .hint("bỏ một trong các dòng include của vòng lặp"),
            );
            return None;
        }
        if self.seen.contains_key(&id) {
            rep.report(
                Problem::warning(
                    &at,
                    "include",
                    "tệp đã được nạp trước đó, bỏ qua lần nạp này",
                )
                .quoted(&path.display().to_string()),
            );
            return None;
        }
        let bytes = match self.source.read(path) {
            Ok(b) => b,
            Err(e) => {
                self.incomplete = true;
                let e = io_error(&e);
                if from.is_some() {
                    rep.report(
                        Problem::error(&at, "include", format!("không đọc được tệp: {e}"))
                            .quoted(&path.display().to_string())
                            .hint("đường dẫn include tính từ thư mục của tệp chứa nó"),
                    );
                } else {
                    rep.diags.push(Diagnostic {
                        severity: Severity::Error,
                        file: path.to_path_buf(),
                        line: 0,
                        column: 0,
                        key: String::new(),
                        value: None,
                        message: format!("không đọc được tệp: {e}"),
                        hint: Some(
                            "chỉ định tệp bằng --config PATH hoặc biến HANBAO_CONFIG".into(),
                        ),
                    });
                }
                return None;
            }
        };
        self.seen.insert(id.clone(), path.to_path_buf());
        Some((id, bytes))
    }
}

/// Reports a file that is not UTF-8 on its own path, at its first bad
/// byte, with the encoding it looks like and how to save it as UTF-8.
fn not_utf8(path: &Path, e: NotUtf8, rep: &mut Reporter) {
    let file = rep.files.len();
    rep.files.push(SourceFile::new(path.to_path_buf(), e.lossy));
    let shown = path.display().to_string();
    rep.report(
        Problem::error(
            &Loc {
                file,
                span: e.offset..e.offset,
            },
            "",
            format!(
                "tệp không được lưu ở bảng mã UTF-8; có vẻ là {}",
                e.guess.describe()
            ),
        )
        .hint(e.guess.resave_hint(&shown)),
    );
}

/// An I/O error in Vietnamese (the loader's own errors already are).
fn io_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "không tìm thấy tệp".into(),
        io::ErrorKind::PermissionDenied => {
            "không có quyền đọc (xem chủ sở hữu và quyền của tệp)".into()
        }
        io::ErrorKind::IsADirectory => "là một thư mục, không phải tệp".into(),
        _ => e.to_string(),
    }
}

/// The top-level keys of one file: sections and elements into `col`;
/// returns its includes.
fn top_level(
    table: DeTable<'_>,
    file: usize,
    col: &mut Collected,
    rep: &mut Reporter,
) -> Vec<(String, Loc)> {
    let mut includes = Vec::new();
    for (key, value) in table {
        let kloc = Loc {
            file,
            span: key.span(),
        };
        match key.get_ref().as_ref() {
            "include" => includes = include_list(value, file, rep),
            name @ ("daemon" | "mail" | "calendar" | "intake") => {
                section(name, kloc, value, col, rep)
            }
            name @ ("directive" | "group" | "unit" | "obligation") => {
                elements(name, kloc, value, col, rep)
            }
            other => {
                let hint = match nearest(other, TOP_LEVEL_KEYS) {
                    Some(n) => format!(
                        "có phải ý là `{n}`? khóa cấp cao hợp lệ: {}",
                        TOP_LEVEL_KEYS.join(", ")
                    ),
                    None => format!("khóa cấp cao hợp lệ: {}", TOP_LEVEL_KEYS.join(", ")),
                };
                rep.report(Problem::error(&kloc, other, "khóa không được hỗ trợ").hint(hint));
            }
        }
    }
    includes
}

/// `[daemon]`, `[mail]`, `[calendar]` or `[intake]` (`name`, whose key is at `kloc`):
/// once in the whole configuration.
fn section(
    name: &str,
    kloc: Loc,
    value: Spanned<DeValue<'_>>,
    col: &mut Collected,
    rep: &mut Reporter,
) {
    let name: &'static str = TOP_LEVEL_KEYS
        .iter()
        .find(|k| **k == name)
        .copied()
        .unwrap_or("daemon");
    if let Some(first) = col.sections_seen.get(name) {
        let first = rep.place(first);
        rep.report(
            Problem::error(
                &kloc,
                name,
                format!("[{name}] được khai báo lần thứ hai (lần đầu tại {first})"),
            )
            .hint(format!("chỉ giữ một bảng [{name}] trong toàn bộ cấu hình")),
        );
        return;
    }
    col.sections_seen.insert(name, kloc.clone());
    let file = kloc.file;
    controls::refuse_in(&value, file, name, rep);
    let loc = Loc {
        file,
        span: value.span(),
    };
    match name {
        "daemon" => col.daemon = de_item(value, file, name, rep).map(|v| Item { loc, value: v }),
        "mail" => col.mail = de_item(value, file, name, rep).map(|v| Item { loc, value: v }),
        "intake" => col.intake = de_item(value, file, name, rep).map(|v| Item { loc, value: v }),
        _ => col.calendar = de_item(value, file, name, rep).map(|v| Item { loc, value: v }),
    }
}

/// The `[[group]]`, `[[unit]]` or `[[obligation]]` elements (`name`) of one
/// file, each read on its own; the id of one that cannot be read is kept
/// in `broken_ids`.
fn elements(
    name: &str,
    kloc: Loc,
    value: Spanned<DeValue<'_>>,
    col: &mut Collected,
    rep: &mut Reporter,
) {
    let DeValue::Array(items) = value.into_inner() else {
        rep.report(
            Problem::error(&kloc, name, format!("`{name}` phải là mảng bảng")).hint(format!(
                "viết [[{name}]] (hai dấu ngoặc vuông) cho mỗi phần tử"
            )),
        );
        return;
    };
    let file = kloc.file;
    let base = match name {
        "directive" => col.directives.len(),
        "group" => col.groups.len(),
        "unit" => col.units.len(),
        _ => col.obligations.len(),
    };
    for (i, el) in items.into_iter().enumerate() {
        let loc = Loc {
            file,
            span: el.span(),
        };
        let id = el
            .get_ref()
            .get("id")
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_string);
        let label = match &id {
            Some(id) => format!("{name} {}", quote(id)),
            None => format!("{name}[{}]", base + i),
        };
        controls::refuse_in(&el, file, &label, rep);
        let ok =
            match name {
                "directive" => de_item(el, file, &label, rep)
                    .map(|v| col.directives.push(Item { loc, value: v })),
                "group" => {
                    de_item(el, file, &label, rep).map(|v| col.groups.push(Item { loc, value: v }))
                }
                "unit" => {
                    de_item(el, file, &label, rep).map(|v| col.units.push(Item { loc, value: v }))
                }
                _ => de_item(el, file, &label, rep)
                    .map(|v| col.obligations.push(Item { loc, value: v })),
            };
        if ok.is_none()
            && let Some(id) = id
        {
            col.broken_ids.push(id);
        }
    }
}

fn include_list(
    value: Spanned<DeValue<'_>>,
    file: usize,
    rep: &mut Reporter,
) -> Vec<(String, Loc)> {
    let span = value.span();
    let hint = Some("include = [\"tep-a.toml\", \"don-vi/*.toml\"]".to_string());
    match value.into_inner() {
        DeValue::String(s) => {
            if controls::refuse_in_text(&s, span.clone(), file, "include", rep) {
                return Vec::new();
            }
            vec![(s.into_owned(), Loc { file, span })]
        }
        DeValue::Array(a) => {
            let mut out = Vec::new();
            for (i, el) in a.into_iter().enumerate() {
                let loc = Loc {
                    file,
                    span: el.span(),
                };
                match el.into_inner() {
                    DeValue::String(s) => {
                        let key = format!("include[{i}]");
                        if !controls::refuse_in_text(&s, loc.span.clone(), file, &key, rep) {
                            out.push((s.into_owned(), loc));
                        }
                    }
                    other => rep.report(
                        Problem::error(
                            &loc,
                            format!("include[{i}]"),
                            format!(
                                "cần một đường dẫn (chuỗi), gặp {}",
                                toml_errors::type_name(other.type_str())
                            ),
                        )
                        .maybe_hint(hint.clone()),
                    ),
                }
            }
            out
        }
        other => {
            rep.report(
                Problem::error(
                    &Loc { file, span },
                    "include",
                    format!(
                        "cần danh sách đường dẫn, gặp {}",
                        toml_errors::type_name(other.type_str())
                    ),
                )
                .maybe_hint(hint),
            );
            Vec::new()
        }
    }
}

fn expand_include(
    source: &dyn Source,
    dir: &Path,
    pattern: &str,
    loc: &Loc,
    rep: &mut Reporter,
) -> Vec<PathBuf> {
    let joined = dir.join(pattern);
    let Some(name) = joined
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
    else {
        rep.report(Problem::error(loc, "include", "đường dẫn không có tên tệp").quoted(pattern));
        return Vec::new();
    };
    let parent = joined.parent().map(Path::to_path_buf).unwrap_or_default();
    if parent.to_string_lossy().contains(['*', '?']) {
        rep.report(
            Problem::error(
                loc,
                "include",
                "ký tự đại diện chỉ được dùng trong tên tệp, không trong tên thư mục",
            )
            .quoted(pattern)
            .hint("ví dụ \"don-vi/*.toml\""),
        );
        return Vec::new();
    }
    if !name.contains(['*', '?']) {
        return vec![joined];
    }
    let mut matches: Vec<PathBuf> = match source.list_dir(&parent) {
        Ok(files) => files
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| glob_match(&name, n))
            })
            .collect(),
        Err(e) => {
            rep.report(
                Problem::error(loc, "include", format!("không đọc được thư mục: {e}"))
                    .quoted(pattern),
            );
            return Vec::new();
        }
    };
    matches.sort();
    if matches.is_empty() {
        rep.report(Problem::warning(loc, "include", "không có tệp nào khớp mẫu").quoted(pattern));
    }
    matches
}

/// `*` matches any run of characters, `?` one character.
fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
