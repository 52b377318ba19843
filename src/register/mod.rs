//! Unit registers from spreadsheets: what `hanbao units import` turns
//! into a TOML units file.
//!
//! A register is a table whose first non-empty row names the columns, in
//! Vietnamese or English (`Mã`/`id`, `Tên đơn vị`/`name`, `Email`/`Hộp
//! thư`, `Thủ trưởng`/`head`, `Email thủ trưởng`/`head email`, `Cấp
//! trên`/`supervisor`, `HĐND`/`council`, `Nhóm`/`groups`; `STT` and `Ghi
//! chú` are ignored). [`parse`] checks every row (ids, mailboxes,
//! supervisors, councils, groups) and either returns the whole register
//! or every problem, each with its cell ("C7"); [`to_toml`] writes the
//! register as `[[group]]` and `[[unit]]` tables. `sheet` reads the file.
//!
//! Must not: write files, or accept a register with any bad row (nothing
//! is half imported).

pub mod sheet;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use crate::config::values::{is_valid_email, is_valid_id};

/// The cells of a sheet: (row, first column, texts), rows and columns
/// from 0 as the sheet numbers them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grid {
    pub rows: Vec<(usize, usize, Vec<String>)>,
}

/// Why a register could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(
        "không đọc được tệp đuôi \"{0}\": dùng .xlsx, .ods (LibreOffice, Excel) hoặc .csv (UTF-8)"
    )]
    Format(String),
    #[error("không đọc được tệp: {0}")]
    Read(String),
    #[error("không có trang tính \"{wanted}\"; có: {}", found.join(", "))]
    NoSheet { wanted: String, found: Vec<String> },
    #[error("trang tính trống")]
    Empty,
    #[error(
        "tệp CSV không phải UTF-8: trong LibreOffice chọn \"Lưu dạng\" CSV, bộ ký tự Unicode (UTF-8)"
    )]
    NotUtf8,
    #[error("{} dòng có lỗi, không ghi gì:\n{}", .0.len(), .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<Problem>),
}

/// One problem, at one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// "C7".
    pub cell: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.cell, self.message)
    }
}

/// A column of the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Id,
    Name,
    Email,
    Head,
    HeadEmail,
    Supervisor,
    Council,
    Groups,
    Ignored,
}

/// The headers each column is known by (compared lower-case, spaces
/// collapsed, without a trailing `*` or `(...)`).
const HEADERS: &[(Column, &[&str])] = &[
    (
        Column::Id,
        &[
            "mã",
            "mã đơn vị",
            "ma",
            "ma don vi",
            "id",
            "unit id",
            "code",
        ],
    ),
    (
        Column::Name,
        &[
            "tên",
            "tên đơn vị",
            "ten",
            "ten don vi",
            "đơn vị",
            "don vi",
            "name",
            "unit",
            "unit name",
        ],
    ),
    (
        Column::Email,
        &[
            "email",
            "e-mail",
            "emails",
            "hộp thư",
            "hop thu",
            "thư điện tử",
            "thu dien tu",
            "địa chỉ email",
            "dia chi email",
            "mailbox",
        ],
    ),
    (
        Column::Head,
        &[
            "thủ trưởng",
            "thu truong",
            "người đứng đầu",
            "nguoi dung dau",
            "lãnh đạo",
            "lanh dao",
            "head",
            "head name",
        ],
    ),
    (
        Column::HeadEmail,
        &[
            "email thủ trưởng",
            "email thu truong",
            "email người đứng đầu",
            "email lãnh đạo",
            "email lanh dao",
            "head email",
        ],
    ),
    (
        Column::Supervisor,
        &[
            "cấp trên",
            "cap tren",
            "mã cấp trên",
            "ma cap tren",
            "đơn vị cấp trên",
            "supervisor",
        ],
    ),
    (
        Column::Council,
        &[
            "hđnd",
            "hdnd",
            "hội đồng nhân dân",
            "hoi dong nhan dan",
            "council",
        ],
    ),
    (
        Column::Groups,
        &[
            "nhóm",
            "nhom",
            "nhóm đơn vị",
            "nhom don vi",
            "groups",
            "group",
        ],
    ),
    (
        Column::Ignored,
        &[
            "stt", "tt", "số tt", "so tt", "ghi chú", "ghi chu", "note", "notes",
        ],
    ),
];

/// One unit of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    /// The head's name and mailbox.
    pub head: Option<(String, String)>,
    pub supervisor: Option<String>,
    pub council: Option<String>,
    pub groups: Vec<String>,
}

/// A register every row of which passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub units: Vec<UnitRow>,
    /// Groups named by the units and not among the known ones, in order.
    pub new_groups: Vec<String>,
}

/// "A", "B", ... "Z", "AA" for a column from 0.
pub fn column_letters(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// "C7" for row 6, column 2 (from 0).
pub fn cell(row: usize, col: usize) -> String {
    format!("{}{}", column_letters(col), row + 1)
}

fn normalise(header: &str) -> String {
    let mut h = header.trim().trim_end_matches('*').trim().to_lowercase();
    if let Some(i) = h.find('(') {
        h.truncate(i);
    }
    h.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn column_of(header: &str) -> Option<Column> {
    let h = normalise(header);
    HEADERS
        .iter()
        .find(|(_, names)| names.contains(&h.as_str()))
        .map(|(c, _)| *c)
}

/// Splits a cell holding several values (`a@x.vn; b@x.vn`, `nhom-1, nhom-2`).
fn list(text: &str) -> Vec<String> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The columns of the header row (at `hrow`, from column `hcol`): each
/// known meaning once, the required ones present.
fn header(
    hrow: usize,
    hcol: usize,
    headers: &[String],
) -> Result<HashMap<Column, usize>, RegisterError> {
    let mut problems = Vec::new();
    let mut columns: HashMap<Column, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if h.trim().is_empty() {
            continue;
        }
        match column_of(h) {
            Some(Column::Ignored) => {}
            Some(c) => {
                if let Some(first) = columns.insert(c, i) {
                    problems.push(Problem {
                        cell: cell(hrow, hcol + i),
                        message: format!(
                            "cột \"{}\" trùng ý nghĩa với cột {}",
                            h.trim(),
                            cell(hrow, hcol + first)
                        ),
                    });
                }
            }
            None => problems.push(Problem {
                cell: cell(hrow, hcol + i),
                message: format!(
                    "không biết cột \"{}\"; dùng: Mã, Tên đơn vị, Email, Thủ trưởng, Email thủ \
                     trưởng, Cấp trên, HĐND, Nhóm (hoặc tiếng Anh: id, name, email, head, head \
                     email, supervisor, council, groups); STT và Ghi chú được bỏ qua",
                    h.trim()
                ),
            }),
        }
    }
    for (required, name) in [
        (Column::Id, "Mã"),
        (Column::Name, "Tên đơn vị"),
        (Column::Email, "Email"),
    ] {
        if !columns.contains_key(&required) {
            problems.push(Problem {
                cell: cell(hrow, hcol),
                message: format!("thiếu cột \"{name}\" ở dòng tiêu đề"),
            });
        }
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(RegisterError::Rows(problems))
    }
}

/// A head needs both a name and a valid mailbox (escalations go there).
fn check_head(
    head_name: &Option<(String, String)>,
    head_email: &Option<(String, String)>,
    bad: &mut impl FnMut(String, String),
) {
    if let Some((place, e)) = head_email {
        if !is_valid_email(e) {
            bad(
                place.clone(),
                format!("hộp thư thủ trưởng \"{e}\" không hợp lệ (dạng ten@coquan.gov.vn)"),
            );
        }
        if head_name.is_none() {
            bad(
                place.clone(),
                "có email thủ trưởng nhưng thiếu tên thủ trưởng".into(),
            );
        }
    } else if let Some((place, _)) = head_name {
        bad(
            place.clone(),
            "có tên thủ trưởng nhưng thiếu email thủ trưởng (cột Email thủ trưởng): \
             thư leo thang gửi đến hộp thư này"
                .into(),
        );
    }
}

/// The groups of one row (the cell at `place`): valid ids, none a unit's
/// (`is_unit`); those not seen before (`seen.0`, configured or earlier
/// rows) are added to `seen.1`, the groups the import creates.
fn row_groups(
    place: &str,
    text: &str,
    is_unit: impl Fn(&str) -> bool,
    seen: (&mut BTreeSet<String>, &mut Vec<String>),
    bad: &mut impl FnMut(String, String),
) -> Vec<String> {
    let (seen_groups, new_groups) = seen;
    let mut groups = Vec::new();
    for g in list(text) {
        if !is_valid_id(&g) {
            bad(
                place.to_string(),
                format!(
                    "mã nhóm \"{g}\" không hợp lệ: chỉ chữ thường không dấu, chữ số, '-' \
                     và '_' (ví dụ \"ubnd-xa\")"
                ),
            );
        } else if is_unit(&g) {
            bad(
                place.to_string(),
                format!("nhóm \"{g}\" trùng mã với một đơn vị"),
            );
        } else {
            if seen_groups.insert(g.clone()) {
                new_groups.push(g.clone());
            }
            groups.push(g);
        }
    }
    groups
}

/// Checks every row of `grid`. `known_units` and `known_groups` are the
/// ids the configuration already has (supervisors, councils and groups
/// may name them).
pub fn parse(
    grid: &Grid,
    known_units: &[String],
    known_groups: &[String],
    mut each_row: impl FnMut(),
) -> Result<Register, RegisterError> {
    let mut rows = grid
        .rows
        .iter()
        .filter(|(_, _, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((hrow, hcol, headers)) = rows.next() else {
        return Err(RegisterError::Empty);
    };
    let columns = header(*hrow, *hcol, headers)?;
    let mut problems = Vec::new();

    struct Raw<'a> {
        row: usize,
        col0: usize,
        cells: &'a [String],
    }
    let data: Vec<Raw<'_>> = rows
        .map(|(r, c, cells)| Raw {
            row: *r,
            col0: *c,
            cells,
        })
        .collect();
    let at = |raw: &Raw<'_>, c: Column| -> (String, String) {
        // Every row of a sheet starts at the same column as its header.
        let i = columns[&c];
        let text = raw
            .cells
            .get(i)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        (cell(raw.row, raw.col0 + i), text)
    };
    let get = |raw: &Raw<'_>, c: Column| -> Option<(String, String)> {
        columns.contains_key(&c).then(|| at(raw, c))
    };

    // Ids first: references may point forward.
    let mut ids: HashMap<String, String> = HashMap::new();
    for raw in &data {
        let (place, id) = at(raw, Column::Id);
        if let Some(first) = ids.get(&id) {
            if !id.is_empty() {
                problems.push(Problem {
                    cell: place,
                    message: format!("mã \"{id}\" trùng với {first}"),
                });
            }
        } else {
            ids.insert(id, place);
        }
    }
    let unit_known = |id: &str| ids.contains_key(id) || known_units.iter().any(|k| k == id);

    let mut units = Vec::new();
    let mut new_groups: Vec<String> = Vec::new();
    let mut seen_groups: BTreeSet<String> = known_groups.iter().cloned().collect();
    for raw in &data {
        each_row();
        let before = problems.len();
        let mut bad = |cell: String, message: String| problems.push(Problem { cell, message });
        let (place, id) = at(raw, Column::Id);
        if id.is_empty() {
            bad(place.clone(), "thiếu mã đơn vị".into());
        } else if !is_valid_id(&id) {
            bad(
                place.clone(),
                format!(
                    "mã \"{id}\" không hợp lệ: chỉ chữ thường không dấu, chữ số, '-' và '_', \
                     tối đa 64 ký tự (ví dụ \"xa-an-phu\")"
                ),
            );
        }
        let (place, name) = at(raw, Column::Name);
        if name.is_empty() {
            bad(place, "thiếu tên đơn vị".into());
        }
        let (place, emails) = at(raw, Column::Email);
        let emails = list(&emails);
        if emails.is_empty() {
            bad(place.clone(), "thiếu hộp thư (email) của đơn vị".into());
        }
        for e in &emails {
            if !is_valid_email(e) {
                bad(
                    place.clone(),
                    format!("hộp thư \"{e}\" không hợp lệ (dạng ten@coquan.gov.vn)"),
                );
            }
        }
        let head_name = get(raw, Column::Head).filter(|(_, t)| !t.is_empty());
        let head_email = get(raw, Column::HeadEmail).filter(|(_, t)| !t.is_empty());
        check_head(&head_name, &head_email, &mut bad);
        let mut reference = |c: Column, what: &str| -> Option<String> {
            let (place, target) = get(raw, c).filter(|(_, t)| !t.is_empty())?;
            if target == id {
                bad(place, format!("{what} không thể là chính đơn vị \"{id}\""));
            } else if !unit_known(&target) {
                bad(
                    place,
                    format!(
                        "{what} \"{target}\" không có trong danh sách (cột Mã) hay trong cấu hình"
                    ),
                );
            }
            Some(target)
        };
        let supervisor = reference(Column::Supervisor, "cấp trên");
        let council = reference(Column::Council, "HĐND");
        let groups = match get(raw, Column::Groups) {
            Some((place, text)) => {
                let is_unit = |g: &str| ids.contains_key(g) || known_units.iter().any(|k| k == g);
                let seen = (&mut seen_groups, &mut new_groups);
                row_groups(&place, &text, is_unit, seen, &mut bad)
            }
            None => Vec::new(),
        };
        if problems.len() == before {
            units.push(UnitRow {
                id,
                name,
                emails,
                head: head_name.zip(head_email).map(|((_, n), (_, e))| (n, e)),
                supervisor,
                council,
                groups,
            });
        }
    }
    if problems.is_empty() && units.is_empty() {
        return Err(RegisterError::Empty);
    }
    if problems.is_empty() {
        Ok(Register { units, new_groups })
    } else {
        Err(RegisterError::Rows(problems))
    }
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The register as a units file; `source` is named in its first comment.
pub fn to_toml(reg: &Register, source: &str) -> String {
    let mut out = format!(
        "# Danh sách đơn vị nhập từ {source} bằng `hanbao units import`.\n\
         # Thêm tệp này vào include của tệp cấu hình chính, rồi chạy hanbao check.\n"
    );
    if !reg.new_groups.is_empty() {
        out += "\n# Nhóm đơn vị có trong bảng tính (đặt tên cho từng nhóm).\n";
        for g in &reg.new_groups {
            out += &format!("\n[[group]]\nid = {}\n", quoted(g));
        }
    }
    for u in &reg.units {
        out += &format!(
            "\n[[unit]]\nid = {}\nname = {}\n",
            quoted(&u.id),
            quoted(&u.name)
        );
        out += &match u.emails.as_slice() {
            [one] => format!("email = {}\n", quoted(one)),
            many => format!(
                "email = [{}]\n",
                many.iter()
                    .map(|e| quoted(e))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        if let Some((name, email)) = &u.head {
            out += &format!(
                "head = {{ name = {}, email = {} }}\n",
                quoted(name),
                quoted(email)
            );
        }
        if !u.groups.is_empty() {
            out += &format!(
                "groups = [{}]\n",
                u.groups
                    .iter()
                    .map(|g| quoted(g))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if let Some(s) = &u.supervisor {
            out += &format!("supervisor = {}\n", quoted(s));
        }
        if let Some(c) = &u.council {
            out += &format!("council = {}\n", quoted(c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&[&str]]) -> Grid {
        Grid {
            rows: rows
                .iter()
                .enumerate()
                .map(|(r, cells)| (r, 0, cells.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn cells_are_named_as_spreadsheets_name_them() {
        assert_eq!(cell(0, 0), "A1");
        assert_eq!(cell(6, 2), "C7");
        assert_eq!(cell(9, 25), "Z10");
        assert_eq!(cell(0, 26), "AA1");
        assert_eq!(cell(0, 27), "AB1");
        assert_eq!(cell(0, 52), "BA1");
    }

    #[test]
    fn vietnamese_and_english_headers_map_to_the_same_units() {
        let vi = grid(&[
            &["STT", "Mã", "Tên đơn vị", "Email", "Cấp trên", "Nhóm"],
            &["1", "so", "Sở Y tế", "vt@so.example", "", ""],
            &[
                "2",
                "xa-a",
                "UBND xã A",
                "a@x.example; b@x.example",
                "so",
                "ubnd-xa",
            ],
        ]);
        let en = grid(&[
            &["id", "name", "EMAIL", "supervisor", "groups"],
            &["so", "Sở Y tế", "vt@so.example", "", ""],
            &[
                "xa-a",
                "UBND xã A",
                "a@x.example, b@x.example",
                "so",
                "ubnd-xa",
            ],
        ]);
        let a = parse(&vi, &[], &[], || {}).unwrap();
        let b = parse(&en, &[], &[], || {}).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.new_groups, ["ubnd-xa"]);
        assert_eq!(a.units[1].emails, ["a@x.example", "b@x.example"]);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_cell() {
        let g = grid(&[
            &["Mã", "Tên đơn vị", "Email", "Cấp trên", "Nhóm"],
            &["so", "Sở", "vt@so.example", "", ""],
            &["Xã A", "UBND xã A", "a@x.example", "", ""],
            &["xa-b", "", "khong-phai-email", "so-khac", "Nhóm 1"],
            &["so", "Trùng", "c@x.example", "so", ""],
        ]);
        let Err(RegisterError::Rows(p)) = parse(&g, &[], &[], || {}) else {
            panic!("accepted")
        };
        let cells: Vec<&str> = p.iter().map(|p| p.cell.as_str()).collect();
        assert_eq!(cells, ["A5", "A3", "B4", "C4", "D4", "E4", "D5"], "{p:?}");
    }
}
