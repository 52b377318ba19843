//! What people (and attackers) type, shared by the HTTP and import
//! fuzzers: dates typed in every odd way, hostile text, ids and period
//! keys near the valid ones, and byte-level mutations.
//!
//! Typed text carries three markers ([`MARKERS`]) that a page must never
//! show raw: an element, a double-quoted and a single-quoted attribute
//! breaker ([`assert_escaped`]).

use jiff::civil::Date;
use proptest::prelude::*;
use proptest::sample::Index;

use super::one_of;

/// What must never appear raw in a page: each is what a typed marker
/// (in [`ODD_TEXT`]) becomes unless it is escaped.
pub const MARKERS: [&str; 3] = ["<fz-", "\"fz-q", "'fz-a"];

/// A page shows typed text as text.
#[track_caller]
pub fn assert_escaped(html: &str, what: &dyn std::fmt::Debug) {
    for m in MARKERS {
        if let Some(at) = html.find(m) {
            let around: String = html[at..].chars().take(200).collect();
            panic!("{m:?} unescaped in the page of {what:?}: …{around}…");
        }
    }
}

/// Dates typed in every odd way: each front end reads one or two forms
/// (YYYY-MM-DD in JSON; dd/mm/yyyy or YYYY-MM-DD in forms and CSV); the
/// rest must be refused cleanly.
pub const ODD_DATES: &[&str] = &[
    "-009999-01-01",
    "+002026-06-01",
    "+2026-06-01",
    "-2026-06-01",
    "0000-01-01",
    "0001-01-01",
    "1899-12-31",
    "1900-01-01",
    "2100-12-31",
    "2101-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-29",
    "2024-02-29",
    "2026-13-01",
    "2026-00-10",
    "2026-04-31",
    "2026-1-5",
    "26-03-20",
    "20260320",
    "2026-03-20T00:00:00",
    "2026-03-20T00:00:00Z",
    "2026-03-20Z",
    "2026-03-20 ",
    " 2026-03-20",
    "2026/03/20",
    "2026-03-20-",
    "2026--03-20",
    "20/03/2026",
    "20-03-2026",
    "20.03.2026",
    "20/3/2026",
    "20/03/26",
    "20/03/02026",
    "020/03/2026",
    "31/02/2026",
    "29/02/2100",
    "29/02/2000",
    "00/00/0000",
    "31/12/9999",
    "01/01/-2026",
    "01/01/+2026",
    "+1/+1/2026",
    "-1/01/2026",
    "1/1/1",
    "01/01/1900",
    "01/01/1899",
    "31/12/2100",
    "01/01/2101",
    "20//03/2026",
    "20/03/2026/",
    "20 / 03 / 2026",
    "２０/０３/２０２６",
    "٢٠/٠٣/٢٠٢٦",
    "２０２６-０３-２０",
    "20/03/2026\0",
    "20/03/2026\r\n",
    "20/03/2026\u{1b}[2J",
    "20\u{2044}03\u{2044}2026",
    "20/03/2026<fz-i>",
    "",
    " ",
    "hôm nay",
    "today",
    "null",
    "9223372036854775807",
    "99999999999999999999",
    "-1",
    "1e3",
    "4294967296/4294967296/4294967296",
];

/// Text that breaks parsers, pages, terminals and spreadsheets.
pub const ODD_TEXT: &[&str] = &[
    "",
    " ",
    "<fz-i>",
    "\"fz-q\" onmouseover=\"x\"",
    "'fz-a' onfocus='x'",
    "</textarea><fz-i>",
    "&amp;&lt;",
    "{{ 7*7 }}",
    "{% raw %}",
    "\0",
    "a\0b",
    "\u{1}\u{7f}",
    "\r",
    "\r\n",
    "\n\n",
    "\t",
    "\u{1b}[31mđỏ\u{1b}[0m",
    "\u{202e}txt.exe",
    "\u{feff}",
    "\u{200b}",
    "\u{fffd}",
    "\u{ffff}",
    "😀",
    "Sở Y tế",
    "Tiếng Việt có dấu",
    "=HYPERLINK(\"http://evil.example\")",
    "+1",
    "-1",
    "@SUM(A1)",
    "../../etc/passwd",
    "%00",
    "%zz",
    "%",
    "+",
    "&",
    "=",
    "a=b&c=d",
    ";",
    ",",
    "\"",
    "\"\"",
    "'",
    "\\",
    "\\u0000",
    "15/BC-UBND",
    "CV 12/2026",
    "x",
];

/// Odd ids, period keys and path segments.
pub const ODD_IDS: &[&str] = &[
    "",
    " ",
    "so-yte ",
    " so-yte",
    "SO-YTE",
    "so_yte",
    "so-yte\0",
    "so-yte\n",
    "so-ytế",
    "bc-quy ",
    "BC-QUY",
    "2026-q1",
    "2026-Q0",
    "2026-Q5",
    "2026-Q1 ",
    "2026-q2",
    "2026-H3",
    "2026-h1",
    "2026-13",
    "2026-00",
    "2026-1",
    "2026-9M",
    "2026-9m",
    "2026",
    "26-Q1",
    "02026-Q1",
    "+2026-Q1",
    "-2026-Q1",
    "1899-Q1",
    "2101-Q1",
    "9999-Q4",
    "99999999999999999999-Q1",
    "all",
    "all.ics",
    "ubnd-tinh",
    "..",
    ".",
    "<fz-i>",
    "\"fz-q\"",
    "'fz-a'",
    "😀",
];

/// `X-Forwarded-For` values: none, addresses of every form, trusted
/// proxies among them, and junk.
pub fn forwarded_for() -> BoxedStrategy<Option<String>> {
    proptest::option::weighted(
        0.2,
        prop_oneof![
            one_of(&[
                "203.0.113.7",
                "203.0.113.7, 10.0.0.1",
                "10.0.0.1, 10.0.0.2",
                "2001:db8::1",
                "[2001:db8::1]:443",
                "203.0.113.7:8080",
                "::ffff:203.0.113.7",
                "unknown",
                "",
                ",,,",
                "203.0.113.7, junk, 10.0.0.1",
                "999.1.1.1",
                "1.2.3.4\t5.6.7.8",
            ])
            .prop_map(str::to_string),
            odd_text(),
        ],
    )
    .boxed()
}

/// A long text around the limits (200 and 2,000 characters) or far over.
pub fn long_text() -> impl Strategy<Value = String> + Clone {
    (
        one_of(&["x", "đ", "<fz-i>", "😀", " ", "\0", "a,b;\"c\"\n"]),
        proptest::sample::select(vec![199usize, 200, 201, 1999, 2000, 2001, 10_000]),
    )
        .prop_map(|(unit, n)| {
            let mut s = unit.repeat(n / unit.chars().count().max(1) + 1);
            let cut = s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len());
            s.truncate(cut);
            s
        })
}

thread_local! {
    /// Built once per thread: a regex strategy is compiled when it is made,
    /// and generators that make strategies per case would spend their time
    /// compiling.
    static ODD_TEXT_STRATEGY: BoxedStrategy<String> = make_odd_text();
    static DIGITS_AND_SEPARATORS: BoxedStrategy<String> = regex("[0-9+\\-/. ]{0,12}");
    static PRINTABLE: BoxedStrategy<String> = regex("\\PC{0,30}");
}

/// Hostile or odd text, sometimes around a length limit.
pub fn odd_text() -> BoxedStrategy<String> {
    ODD_TEXT_STRATEGY.with(Clone::clone)
}

/// A regex strategy, compiled now (a `&str` strategy compiles on every case).
fn regex(re: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(re).unwrap().boxed()
}

fn make_odd_text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => one_of(ODD_TEXT).prop_map(str::to_string),
        2 => (one_of(ODD_TEXT), one_of(ODD_TEXT)).prop_map(|(a, b)| format!("{a}{b}")),
        2 => PRINTABLE.with(Clone::clone),
        1 => any::<String>(),
        1 => long_text(),
    ]
    .boxed()
}

/// A date as a person might type it: `valid` ones (today, yesterday, the
/// start of the year, tomorrow...) most of the time, else an odd one.
pub fn typed_date(valid: Vec<String>) -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(valid),
        2 => one_of(ODD_DATES).prop_map(str::to_string),
        1 => DIGITS_AND_SEPARATORS.with(Clone::clone),
    ]
    .boxed()
}

/// Days around `today`, in both forms a person types.
#[derive(Debug, Clone)]
pub struct Days {
    /// YYYY-MM-DD.
    pub iso: Vec<String>,
    /// dd/mm/yyyy.
    pub dmy: Vec<String>,
    /// Period keys of this year and the last, of every shape.
    pub periods: Vec<String>,
    /// The quarters and the months among them.
    quarters: Vec<String>,
    months: Vec<String>,
}

impl Days {
    pub fn new(today: Date) -> Days {
        let days: Vec<Date> = [0i64, 0, 1, 2, 10, 40, 100, 400, -1, -30]
            .iter()
            .filter_map(|d| today.checked_sub(jiff::Span::new().days(*d)).ok())
            .chain([today.first_of_year(), today.first_of_month()])
            .collect();
        let year = today.year();
        let (mut quarters, mut months) = (Vec::new(), Vec::new());
        for y in [year - 1, year] {
            quarters.extend((1..=4).map(|q| format!("{y}-Q{q}")));
            months.extend([1, 6, 11, 12].map(|m| format!("{y}-{m:02}")));
        }
        let mut periods = [quarters.clone(), months.clone()].concat();
        for y in [year - 1, year] {
            periods.push(format!("{y}-H1"));
            periods.push(format!("{y}"));
        }
        Days {
            iso: days.iter().map(|d| d.to_string()).collect(),
            dmy: days
                .iter()
                .map(|d| d.strftime("%d/%m/%Y").to_string())
                .collect(),
            periods,
            quarters,
            months,
        }
    }

    /// An (obligation, period) of the test configuration (`bc-quy` is
    /// quarterly, `bc-thang` monthly) most of the time, else any pair.
    pub fn owed(&self) -> BoxedStrategy<(String, String)> {
        let of = |o: &'static str, periods: &[String]| {
            proptest::sample::select(periods.to_vec()).prop_map(move |p| (o.to_string(), p))
        };
        prop_oneof![
            3 => of("bc-quy", &self.quarters),
            3 => of("bc-thang", &self.months),
            1 => (id(&["bc-quy", "bc-thang"]), self.period()),
        ]
        .boxed()
    }

    /// A period key: one of this year's and last year's most of the time,
    /// else an odd one.
    pub fn period(&self) -> BoxedStrategy<String> {
        prop_oneof![
            4 => proptest::sample::select(self.periods.clone()),
            1 => one_of(ODD_IDS).prop_map(str::to_string),
        ]
        .boxed()
    }
}

/// One of `valid` most of the time, else an odd id.
pub fn id(valid: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        5 => one_of(valid).prop_map(str::to_string),
        1 => one_of(ODD_IDS).prop_map(str::to_string),
    ]
    .boxed()
}

/// A unit: one of the reporters most of the time, else the unit that
/// reports nothing, else an odd id.
pub fn unit() -> BoxedStrategy<String> {
    prop_oneof![
        8 => one_of(&["so-yte", "so-taichinh"]).prop_map(str::to_string),
        1 => Just("ubnd-tinh".to_string()),
        1 => one_of(ODD_IDS).prop_map(str::to_string),
    ]
    .boxed()
}

/// A change to the bytes of a request body or a file.
#[derive(Debug, Clone)]
pub enum ByteMutation {
    Truncate(Index),
    FlipBit(Index, u8),
    Insert(Index, &'static [u8]),
    /// The bytes in `[a, b)` once more, at `b`.
    Repeat(Index, Index),
}

/// Bytes that mean something to the formats fuzzed here.
const INSERTS: &[&[u8]] = &[
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\r",
    b"\n",
    b"\"",
    b",",
    b";",
    b"&",
    b"=",
    b"%",
    b"%zz",
    b"+",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\\",
    b"\\u0000",
    b"<fz-i>",
];

pub fn byte_mutation() -> BoxedStrategy<ByteMutation> {
    let idx = any::<Index>;
    prop_oneof![
        idx().prop_map(ByteMutation::Truncate),
        (idx(), 0u8..8).prop_map(|(i, b)| ByteMutation::FlipBit(i, b)),
        (idx(), proptest::sample::select(INSERTS)).prop_map(|(i, s)| ByteMutation::Insert(i, s)),
        (idx(), idx()).prop_map(|(a, b)| ByteMutation::Repeat(a, b)),
    ]
    .boxed()
}

impl ByteMutation {
    pub fn apply(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        match self {
            ByteMutation::Truncate(i) => {
                bytes.truncate(i.index(bytes.len() + 1));
            }
            ByteMutation::FlipBit(i, bit) => {
                if !bytes.is_empty() {
                    let k = i.index(bytes.len());
                    bytes[k] ^= 1 << bit;
                }
            }
            ByteMutation::Insert(i, s) => {
                let k = i.index(bytes.len() + 1);
                bytes.splice(k..k, s.iter().copied());
            }
            ByteMutation::Repeat(a, b) => {
                let (x, y) = (a.index(bytes.len() + 1), b.index(bytes.len() + 1));
                let (x, y) = (x.min(y), x.max(y));
                let copy = bytes[x..y].to_vec();
                bytes.splice(y..y, copy);
            }
        }
        bytes
    }
}

/// `application/x-www-form-urlencoded`, every byte but the unreserved
/// ones percent-encoded (as browsers may).
pub fn form(fields: &[(String, String)]) -> Vec<u8> {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                hanbao::primitives::percent(k),
                hanbao::primitives::percent(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}
