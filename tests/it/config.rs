//! Configuration loading: every error message (position, key path, text),
//! includes and include loops, unknown keys, the value parsers, the samples.
//!
//! Positions: each case marks where its error must point with '‸' placed by
//! hand in the TOML text; the marker is removed before loading and its line
//! and column (1-based, in characters) are the expected position.

use std::path::{Path, PathBuf};

use hanbao::commands::check;
use hanbao::config::model::{
    Cycle, DayUnit, DueRule, EscalationTarget, Offset, Recipient, SecretSource, Transport,
    WindowStyle,
};
use hanbao::config::values::{
    self, Due, DueSpec, DueWording, PeriodKey, parse_date, parse_day_month, parse_due,
    parse_offset, parse_period_key, parse_time, parse_time_range,
};
use hanbao::config::{Diagnostic, load, load_files, load_str};
use jiff::civil::{Time, Weekday, date};

const MARK: char = '‸';

/// A small valid configuration the cases start from.
const BASE: &str = r#"
[[group]]
id = "so-nganh"

[[unit]]
id = "ubnd-tinh"
name = "UBND tỉnh"
email = "vanthu@ubnd.quangngai.example"

[[unit]]
id = "so-yte"
name = "Sở Y tế"
email = "vanthu@soyte.quangngai.example"
groups = ["so-nganh"]
supervisor = "ubnd-tinh"

[[obligation]]
id = "bc-nam"
title = "Báo cáo năm"
reporters = ["so-nganh"]
recipient = "ubnd-tinh"
cycle = "annual"
due = "ngày 20"
"#;

/// Removes the marker and returns (text, line, column) of where it was.
fn marked(text: &str) -> (String, usize, usize) {
    let byte = text
        .find(MARK)
        .unwrap_or_else(|| panic!("case has no marker:\n{text}"));
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (text.replacen(MARK, "", 1), line, col)
}

fn errors_of(name: &str, text: &str) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    match load_str(name, text) {
        Ok(l) => (Vec::new(), l.warnings),
        Err(e) => (e.errors, e.warnings),
    }
}

/// Asserts that loading `text` (with a marker) gives a diagnostic at the
/// marker with exactly `key` and a message containing `needle`.
#[track_caller]
fn expect(warning: bool, text: &str, key: &str, needle: &str) -> Diagnostic {
    let (clean, line, col) = marked(text);
    let (errors, warnings) = errors_of("t.toml", &clean);
    let pool = if warning { &warnings } else { &errors };
    let hit = pool
        .iter()
        .find(|d| d.key == key && d.message.contains(needle));
    match hit {
        Some(d) => {
            assert_eq!((d.line, d.column), (line, col), "position of {key}: {d}");
            assert_eq!(d.file, PathBuf::from("t.toml"));
            d.clone()
        }
        None => panic!(
            "no {} with key {key:?} containing {needle:?}; got errors:\n{}\nwarnings:\n{}",
            if warning { "warning" } else { "error" },
            errors
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            warnings
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

#[track_caller]
fn err(text: &str, key: &str, needle: &str) -> Diagnostic {
    expect(false, text, key, needle)
}

#[track_caller]
fn warn(text: &str, key: &str, needle: &str) -> Diagnostic {
    expect(true, text, key, needle)
}

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn base_is_valid_without_warnings() {
    let loaded = load_str("t.toml", BASE).expect("base config is valid");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert_eq!(c.units.len(), 2);
    assert_eq!(c.groups["so-nganh"], vec!["so-yte".to_string()]);
    // Without a name, a group is called by its id.
    assert_eq!(c.group_name("so-nganh"), "so-nganh");
    let o = &c.obligations[0];
    assert_eq!(o.reporters, vec!["so-yte".to_string()]);
    assert_eq!(o.recipient, Recipient::Unit("ubnd-tinh".into()));
    assert_eq!(
        o.due,
        DueRule::DayOfMonth {
            day: 20,
            next_month: false
        }
    );
    assert!(o.roll_to_working_day);
    // Defaults.
    assert_eq!(c.daemon.time_zone_name, "Asia/Ho_Chi_Minh");
    assert_eq!(c.daemon.state_dir, PathBuf::from("/var/lib/hanbao"));
    assert_eq!(c.daemon.database_url, "sqlite:///var/lib/hanbao/hanbao.db");
    assert_eq!(c.daemon.sending_hours.start, Time::constant(7, 30, 0, 0));
    assert_eq!(c.daemon.sending_hours.end, Time::constant(11, 0, 0, 0));
    assert_eq!(c.daemon.http_listen.to_string(), "127.0.0.1:8080");
    match &c.mail.transport {
        Transport::File { dir } => assert_eq!(dir, &PathBuf::from("/var/lib/hanbao/outbox-mail")),
        other => panic!("{other:?}"),
    }
    assert!(c.calendar.culture_day);
    assert!(!c.calendar.makeup_saturday_counts);
}

// ---------------------------------------------------------------- files

#[test]
fn syntax_error_stops_only_that_file() {
    let main = "include = [\"b.toml\"]\n[[unit]]\nid = \"ubnd-tinh\"\nname = \"UBND\"\nemail = \"a@b.example\"\n";
    let b = "[[unit]]\nid = \"x\"\nname = \n";
    let e = load_files("m.toml", &[("m.toml", main), ("b.toml", b)]).unwrap_err();
    assert_eq!(e.errors.len(), 1, "{e}");
    let d = &e.errors[0];
    assert_eq!(d.file, PathBuf::from("b.toml"));
    assert_eq!((d.line, d.column), (3, 8));
    assert!(d.message.contains("lỗi cú pháp TOML"), "{d}");
}

#[test]
fn missing_main_file() {
    let e = load(Path::new("/nonexistent/hanbao.toml")).unwrap_err();
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].line, 0);
    assert!(e.errors[0].message.contains("không đọc được tệp"));
    assert!(
        e.errors[0]
            .to_string()
            .starts_with("/nonexistent/hanbao.toml: lỗi: không đọc được tệp"),
        "{}",
        e.errors[0]
    );
}

#[test]
fn missing_include() {
    err(
        "include = [‸\"khong-co.toml\"]\n",
        "include",
        "không đọc được tệp",
    );
}

#[test]
fn include_not_a_list() {
    err("include = ‸3\n", "include", "cần danh sách đường dẫn");
    err("include = [‸3]\n", "include[0]", "cần một đường dẫn");
}

#[test]
fn include_wildcard_in_directory() {
    err(
        "include = [‸\"*/a.toml\"]\n",
        "include",
        "chỉ được dùng trong tên tệp",
    );
}

#[test]
fn include_loop_is_detected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/loop");
    let e = load(&dir.join("main.toml")).unwrap_err();
    assert_eq!(e.errors.len(), 1, "{e}");
    let d = &e.errors[0];
    assert_eq!(d.file, dir.join("b.toml"));
    assert_eq!((d.line, d.column), (1, 12));
    assert!(d.message.starts_with("vòng lặp include: "), "{d}");
    assert!(
        d.message.contains("a.toml → ") && d.message.contains("b.toml → "),
        "{d}"
    );
}

#[test]
fn include_in_memory_loop_and_diamond() {
    let files = [
        ("m.toml", "include = [\"a.toml\", \"c.toml\"]\n"),
        ("a.toml", "include = [\"c.toml\"]\n"),
        ("c.toml", "include = [\"m.toml\"]\n"),
    ];
    let e = load_files("m.toml", &files).unwrap_err();
    let msgs: Vec<String> = e.errors.iter().map(|d| d.to_string()).collect();
    assert_eq!(e.errors.len(), 1, "{msgs:?}");
    assert_eq!(
        msgs[0],
        "c.toml:1:12: lỗi: include = \"m.toml\": vòng lặp include: m.toml → a.toml → c.toml → m.toml; bỏ một trong các dòng include của vòng lặp"
    );
    // c.toml is reached twice (through a.toml and directly): a warning, not an error.
    assert!(
        e.warnings
            .iter()
            .any(|w| w.file == Path::new("m.toml") && w.message.contains("đã được nạp"))
    );
}

#[test]
fn include_globs_and_merge() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/glob");
    let loaded = load(&dir.join("main.toml")).unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&str> = loaded.config.units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["ubnd-tinh", "so-yte", "so-gddt"]);
    assert_eq!(loaded.config.files.len(), 4);
    assert_eq!(
        loaded.config.obligations[0].due,
        DueRule::DayOfMonth {
            day: 20,
            next_month: false
        }
    );
}

#[test]
fn glob_without_match_warns() {
    warn(
        "include = [‸\"khong-co/*.toml\"]\n",
        "include",
        "không có tệp nào khớp",
    );
}

#[test]
fn duplicate_ids_across_files_name_both_places() {
    let main = "include = [\"b.toml\"]\n[[unit]]\nid = \"ubnd-tinh\"\nname = \"UBND\"\nemail = \"a@b.example\"\n";
    let b = "\n[[unit]]\nid = \"ubnd-tinh\"\nname = \"UBND 2\"\n";
    let e = load_files("m.toml", &[("m.toml", main), ("b.toml", b)]).unwrap_err();
    assert_eq!(e.errors.len(), 1, "{e}");
    assert_eq!(
        e.errors[0].to_string(),
        "b.toml:3:6: lỗi: unit \"ubnd-tinh\" = \"ubnd-tinh\": trùng id: đã khai báo là unit tại m.toml:3:6; mỗi id chỉ dùng một lần"
    );
}

#[test]
fn duplicate_sections_across_files() {
    let main = "include = [\"b.toml\"]\n[daemon]\n";
    let b = "\n[daemon]\ntime_zone = \"Asia/Bangkok\"\n";
    let e = load_files("m.toml", &[("m.toml", main), ("b.toml", b)]).unwrap_err();
    assert_eq!(e.errors.len(), 1, "{e}");
    assert_eq!(
        e.errors[0].to_string(),
        "b.toml:2:2: lỗi: daemon: [daemon] được khai báo lần thứ hai (lần đầu tại m.toml:2:2); chỉ giữ một bảng [daemon] trong toàn bộ cấu hình"
    );
}

// ---------------------------------------------------------------- unknown keys and types

#[test]
fn unknown_top_level_key_suggests() {
    let d = err(
        &format!("‸units = 3\n{BASE}"),
        "units",
        "khóa không được hỗ trợ",
    );
    assert!(d.hint.as_deref().unwrap_or("").contains("`unit`"), "{d}");
}

#[test]
fn unknown_keys_are_all_reported_with_suggestions() {
    let text = with(
        "\n[[unit]]\nid = \"so-gddt\"\nname = \"Sở GD\"\n‸emial = \"x@y.example\"\nhead = { name = \"A\", email = \"a@b.example\", ‸phone = \"1\" }\n",
    );
    let (first, l1, c1) = marked(&text);
    let (clean, l2, c2) = marked(&first);
    let e = load_str("t.toml", &clean).unwrap_err();
    let d1 = e
        .errors
        .iter()
        .find(|d| d.key == "unit \"so-gddt\": emial")
        .expect("emial reported");
    assert_eq!((d1.line, d1.column), (l1, c1));
    assert!(
        d1.hint
            .as_deref()
            .unwrap()
            .starts_with("có phải ý là `email`?"),
        "{d1}"
    );
    let d2 = e
        .errors
        .iter()
        .find(|d| d.key == "unit \"so-gddt\": head.phone")
        .expect("phone reported");
    assert_eq!((d2.line, d2.column), (l2, c2));
    // Both in one run, and the unit itself still loads (no "unknown unit" noise).
    assert_eq!(e.errors.len(), 2, "{e}");
}

#[test]
fn unknown_key_in_nested_array_of_tables() {
    let text = with(
        "\n[[obligation.escalation]]\nafter = \"1 ngày\"\nnotify = [\"unit\"]\n‸notifi = [\"head\"]\n",
    );
    let d = err(
        &text,
        "obligation \"bc-nam\": escalation[0].notifi",
        "khóa không được hỗ trợ",
    );
    assert!(d.hint.unwrap().contains("`notify`"));
}

#[test]
fn wrong_type_is_reported_and_rest_checked() {
    let text = with(
        "\n[mail]\ntransport = \"smtp\"\nfrom = \"a@b.example\"\n[mail.smtp]\nhost = \"mail.example\"\nport = ‸\"abc\"\n",
    );
    let d = err(&text, "mail.smtp.port", "sai kiểu giá trị");
    assert!(d.hint.unwrap().contains("số nguyên"));
}

#[test]
fn unit_must_be_array_of_tables() {
    err("[‸unit]\nid = \"a\"\n", "unit", "phải là mảng bảng");
}

// ---------------------------------------------------------------- daemon and mail

/// A password holding `@` is hidden whole: splitting the URL at the first
/// `@` printed `mysql://hanbao:***@ss@db.example/hanbao`, the end of the
/// password in plain sight in `hanbao check`.
#[test]
fn database_password_with_an_at_sign_never_shows_in_a_diagnostic() {
    for (database, shown) in [
        (
            "mysql://hanbao:p@ss@db.example/hanbao",
            "\"mysql://hanbao:***@db.example/hanbao\"",
        ),
        (
            "mysql://hanbao:a@b:c@db.example:3306/hanbao",
            "\"mysql://hanbao:***@db.example:3306/hanbao\"",
        ),
        // '/' ends the authority: nothing after the scheme can be trusted.
        ("mysql://hanbao:p/ss@db.example/hanbao", "\"mysql://***\""),
    ] {
        let d = err(
            &format!("[daemon]\ndatabase = ‸\"{database}\"\n"),
            "daemon.database",
            "không phải URL",
        );
        assert_eq!(d.value.as_deref(), Some(shown), "{database}");
        let text = d.to_string();
        for part in ["p@ss", "ss@", "a@b", "b:c", "p/ss"] {
            assert!(!text.contains(part), "{part} of the password in: {text}");
        }
    }
}

#[test]
fn daemon_errors() {
    err(
        "[daemon]\ntime_zone = ‸\"Asia/Hanoi\"\n",
        "daemon.time_zone",
        "không có múi giờ IANA",
    );
    err(
        "[daemon]\nstate_dir = ‸\"var/lib\"\n",
        "daemon.state_dir",
        "đường dẫn tuyệt đối",
    );
    let d = err(
        "[daemon]\ndatabase = ‸\"mysql://u:secret@h/db\"\n",
        "daemon.database",
        "không phải URL",
    );
    assert_eq!(
        d.value.as_deref(),
        Some("\"mysql://u:***@h/db\""),
        "password must be hidden"
    );
    assert!(!d.to_string().contains("secret"));
    let d = err(
        "[daemon]\nsending_hours = ‸\"11:00-07:30\"\n",
        "daemon.sending_hours",
        "không sau giờ bắt đầu",
    );
    assert_eq!(d.message, "giờ kết thúc 07:30 không sau giờ bắt đầu 11:00");
    err(
        "[daemon]\nsending_hours = ‸\"7 giờ\"\n",
        "daemon.sending_hours",
        "cần giờ bắt đầu",
    );
    err(
        "[daemon]\nhttp_listen = ‸\"localhost\"\n",
        "daemon.http_listen",
        "không phải địa chỉ IP:cổng",
    );
}

#[test]
fn mail_errors() {
    err(
        "[mail]\nfrom = ‸\"So Y te vanthu@x.example\"\n",
        "mail.from",
        "không phải địa chỉ email",
    );
    err(
        "[mail]\nreply_to = ‸\"A <a@b.example\"\n",
        "mail.reply_to",
        "thiếu dấu",
    );
    err(
        "[mail]\ntransport = ‸\"sendmail\"\n",
        "mail.transport",
        "không có kiểu gửi thư",
    );
    err(
        "[mail]\ntransport = ‸\"smtp\"\nfrom = \"a@b.example\"\n",
        "mail.transport",
        "thiếu bảng [mail.smtp]",
    );
    err(
        "[mail.file]\ndir = ‸\"outbox\"\n",
        "mail.file.dir",
        "đường dẫn tuyệt đối",
    );
    warn(
        "[mail]\nsmtp = ‸{ host = \"h.example\" }\n",
        "mail.smtp",
        "bị bỏ qua",
    );
    err(
        "‸[mail]\ntransport = \"smtp\"\n[mail.smtp]\nhost = \"h.example\"\n",
        "mail.from",
        "cần địa chỉ người gửi",
    );
    let smtp = |body: &str| {
        format!("[mail]\ntransport = \"smtp\"\nfrom = \"a@b.example\"\n[mail.smtp]\n{body}")
    };
    err(
        &smtp("port = 25\n").replace("[mail.smtp]", "‸[mail.smtp]"),
        "mail.smtp.host",
        "thiếu tên máy chủ",
    );
    err(
        &smtp("host = ‸\" \"\n"),
        "mail.smtp.host",
        "tên máy chủ rỗng",
    );
    err(
        &smtp("host = \"h.example\"\nsecurity = ‸\"plain\"\n"),
        "mail.smtp.security",
        "không có kiểu bảo mật",
    );
    let d = err(
        &smtp("host = \"h.example\"\nsecurity = ‸\"none\"\n"),
        "mail.smtp.security",
        "chỉ được dùng với máy chủ trên chính máy này",
    );
    assert!(d.message.contains("\"h.example\""), "{d}");
    assert!(d.hint.as_deref().unwrap().contains("127.0.0.1"), "{d}");
    err(
        &smtp("host = \"10.0.0.1\"\nsecurity = ‸\"none\"\n"),
        "mail.smtp.security",
        "chỉ được dùng với máy chủ trên chính máy này",
    );
    err(
        &smtp("host = \"h.example\"\nport = ‸70000\n"),
        "mail.smtp.port",
        "không phải cổng",
    );
    for bad in ["0", "17", "-1"] {
        err(
            &smtp(&format!("host = \"h.example\"\nconnections = ‸{bad}\n")),
            "mail.smtp.connections",
            "phải từ 1 đến 16",
        );
    }
    err(
        &smtp("host = \"h.example\"\nusername = \"u\"\npassword_file = ‸\"pw.txt\"\n"),
        "mail.smtp.password_file",
        "đường dẫn tuyệt đối",
    );
    err(
        &smtp("host = \"h.example\"\nusername = \"u\"\npassword_env = ‸\"1PW\"\n"),
        "mail.smtp.password_env",
        "không phải tên biến",
    );
    err(
        &smtp("host = \"h.example\"\nusername = \"u\"\npassword_credential = ‸\"a/b\"\n"),
        "mail.smtp.password_credential",
        "không phải tên credential",
    );
    err(
        &smtp(
            "host = \"h.example\"\nusername = \"u\"\npassword_env = \"PW\"\npassword_credential = ‸\"pw\"\n",
        ),
        "mail.smtp",
        "chỉ được chọn một nguồn",
    );
    err(
        &smtp("host = \"h.example\"\nusername = \"u\"\n").replace("[mail.smtp]", "‸[mail.smtp]"),
        "mail.smtp.username",
        "không có nguồn mật khẩu",
    );
    err(
        &smtp("host = \"h.example\"\npassword_env = \"PW\"\n")
            .replace("[mail.smtp]", "‸[mail.smtp]"),
        "mail.smtp.username",
        "thiếu tên đăng nhập",
    );
}

/// `security = "none"` is accepted for a relay on this machine only; its
/// default port is 25.
#[test]
fn plain_smtp_on_loopback_is_accepted() {
    use hanbao::config::model::SmtpSecurity;
    for host in ["127.0.0.1", "::1", "[::1]", "localhost", "LOCALHOST"] {
        let text = format!(
            "[mail]\ntransport = \"smtp\"\nfrom = \"a@b.example\"\n[mail.smtp]\nhost = \"{host}\"\nsecurity = \"none\"\n"
        );
        let c = load_str("t.toml", &text)
            .unwrap_or_else(|e| panic!("{host}: {e}"))
            .config;
        let Transport::Smtp(s) = c.mail.transport else {
            panic!()
        };
        assert_eq!((s.security, s.port), (SmtpSecurity::None, 25), "{host}");
    }
}

#[test]
fn mail_templates_and_language() {
    use hanbao::config::model::Language;
    err(
        "[mail]\ntemplates = ‸\"templates\"\n",
        "mail.templates",
        "phải là đường dẫn tuyệt đối",
    );
    let d = err(
        "[mail]\nlanguage = ‸\"fr\"\n",
        "mail.language",
        "không có ngôn ngữ thư này",
    );
    assert_eq!(d.value.as_deref(), Some("\"fr\""));
    assert!(d.hint.as_deref().unwrap().contains("\"en\""), "{d}");
    let c = load_str("t.toml", BASE).unwrap().config;
    assert_eq!((c.mail.templates, c.mail.language), (None, Language::Vi));
    let c = load_str(
        "t.toml",
        "[mail]\ntemplates = \"/etc/hanbao/templates\"\nlanguage = \"en\"\n",
    )
    .unwrap()
    .config;
    assert_eq!(
        c.mail.templates.as_deref(),
        Some(Path::new("/etc/hanbao/templates"))
    );
    assert_eq!(c.mail.language, Language::En);
}

#[test]
fn daemon_digest_schedule() {
    let c = load_str("t.toml", BASE).unwrap().config;
    assert_eq!(c.daemon.digest, "0 8 * * Mon");
    for ok in ["30 7 * * Mon-Fri", "0 0 8 * * Mon", "0 8 1 * *"] {
        let text = format!("[daemon]\ndigest = \"{ok}\"\n");
        let c = load_str("t.toml", &text)
            .unwrap_or_else(|e| panic!("{ok}: {e}"))
            .config;
        assert_eq!(c.daemon.digest, ok);
    }
    let d = err(
        "[daemon]\ndigest = ‸\"8 * *\"\n",
        "daemon.digest",
        "biểu thức cron có 3 trường",
    );
    assert!(d.hint.as_deref().unwrap().contains("0 8 * * Mon"), "{d}");
    err(
        "[daemon]\ndigest = ‸\"61 8 * * Mon\"\n",
        "daemon.digest",
        "không phải biểu thức cron hợp lệ",
    );
}

#[test]
fn literal_password_is_rejected_and_never_shown() {
    let text = "[mail]\ntransport = \"smtp\"\nfrom = \"a@b.example\"\n[mail.smtp]\nhost = \"h.example\"\nusername = \"u\"\npassword = ‸\"hunter2-secret\"\n";
    let d = err(
        text,
        "mail.smtp.password",
        "không được ghi mật khẩu trực tiếp",
    );
    assert_eq!(d.value.as_deref(), Some("\"***\""));
    assert!(d.hint.as_deref().unwrap().contains("password_credential"));
    let (clean, _, _) = marked(text);
    let e = load_str("t.toml", &clean).unwrap_err();
    let all = format!("{e} {e:?} {}", check::render(&Err(e.clone())));
    assert!(!all.contains("hunter2"), "secret leaked: {all}");
    // Also with the file transport: still an error.
    err(
        "[mail.smtp]\npassword = ‸\"hunter2\"\n",
        "mail.smtp.password",
        "không được ghi mật khẩu",
    );
}

#[test]
fn smtp_is_parsed() {
    let text = "[mail]\ntransport = \"smtp\"\nfrom = \"Sở <a@b.example>\"\n[mail.smtp]\nhost = \"h.example\"\nsecurity = \"tls\"\nusername = \"u\"\npassword_credential = \"smtp-password\"\n";
    let c = load_str("t.toml", text).unwrap().config;
    let Transport::Smtp(s) = c.mail.transport else {
        panic!()
    };
    assert_eq!((s.host.as_str(), s.port), ("h.example", 465));
    assert_eq!(s.connections, 1, "one connection unless asked");
    assert_eq!(
        s.password,
        Some(SecretSource::Credential("smtp-password".into()))
    );
    let c = load_str("t.toml", &format!("{text}connections = 16\n"))
        .unwrap()
        .config;
    let Transport::Smtp(s) = c.mail.transport else {
        panic!()
    };
    assert_eq!(s.connections, 16);
}

// ---------------------------------------------------------------- calendar

#[test]
fn calendar_errors() {
    err(
        "‸[[calendar.days_off]]\ndate = \"02/01/2026\"\n",
        "calendar.days_off[0].reason",
        "thiếu lý do",
    );
    err(
        "‸[[calendar.days_off]]\nreason = \"x\"\n",
        "calendar.days_off[0].date",
        "thiếu ngày",
    );
    err(
        "[[calendar.days_off]]\ndate = ‸\"31/02/2026\"\nreason = \"x\"\n",
        "calendar.days_off[0].date",
        "không tồn tại",
    );
    err(
        "[[calendar.working_days]]\ndate = \"10/01/2026\"\nuntil = ‸\"09/01/2026\"\nreason = \"x\"\n",
        "calendar.working_days[0].until",
        "trước ngày bắt đầu",
    );
    err(
        "[[calendar.days_off]]\ndate = \"10/01/2026\"\nuntil = ‸\"10/06/2026\"\nreason = \"x\"\n",
        "calendar.days_off[0].until",
        "dài quá 60 ngày",
    );
    err(
        "[[calendar.days_off]]\ndate = \"10/01/2026\"\nreason = \"x\"\n‸[[calendar.working_days]]\ndate = \"10/01/2026\"\nreason = \"y\"\n",
        "calendar.working_days[0]",
        "đã được khai báo ở calendar.days_off[0]",
    );
}

#[test]
fn calendar_ranges_expand() {
    let c = load_str(
        "t.toml",
        "[calendar]\nculture_day = false\nmakeup_saturday_counts = true\n[[calendar.days_off]]\ndate = \"2026-02-14\"\nuntil = \"22/02/2026\"\nreason = \"Tết\"\n",
    )
    .unwrap()
    .config
    .calendar;
    // 14..=22 February: 9 days, counted by hand.
    assert_eq!(c.extra_days_off.len(), 9);
    assert_eq!(c.extra_days_off[8].date, date(2026, 2, 22));
    assert!(!c.culture_day && c.makeup_saturday_counts);
}

// ---------------------------------------------------------------- units and groups

#[test]
fn groups_keep_their_names() {
    let named = BASE.replacen(
        "id = \"so-nganh\"\n",
        "id = \"so-nganh\"\nname = \"Các sở, ban ngành tỉnh\"\n",
        1,
    );
    let c = load_str("t.toml", &named).unwrap().config;
    assert_eq!(c.group_name("so-nganh"), "Các sở, ban ngành tỉnh");
    assert_eq!(c.group_names.len(), c.groups.len());
    assert_eq!(c.group_name("khong-co"), "khong-co");
}

#[test]
fn unit_and_group_errors() {
    err("‸[[unit]]\nname = \"x\"\n", "unit[0]", "thiếu id");
    err("‸[[group]]\nname = \"x\"\n", "group", "thiếu id");
    err(
        "[[unit]]\nid = ‸\"Sở Y tế\"\nname = \"x\"\n",
        "unit \"Sở Y tế\": id",
        "id không hợp lệ",
    );
    err(
        &with("‸[[unit]]\nid = \"so-gddt\"\n"),
        "unit \"so-gddt\": name",
        "thiếu tên đơn vị",
    );
    err(
        &with(
            "[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nemail = ‸[\"a@b.example\", \"khong-phai-email\"]\n",
        ),
        "unit \"so-gddt\": email[1]",
        "không phải địa chỉ email",
    );
    err(
        &with("[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nhead = ‸{ email = \"a@b.example\" }\n"),
        "unit \"so-gddt\": head.name",
        "thiếu tên người đứng đầu",
    );
    err(
        &with("[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nhead = ‸{ name = \"A\" }\n"),
        "unit \"so-gddt\": head.email",
        "thiếu email",
    );
    err(
        &with(
            "[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nhead = { name = \"A\", email = ‸\"a\" }\n",
        ),
        "unit \"so-gddt\": head.email",
        "không phải địa chỉ email",
    );
    err(
        &with(
            "[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nactive_from = \"01/07/2025\"\nactive_until = ‸\"30/06/2025\"\n",
        ),
        "unit \"so-gddt\": active_until",
        "trước active_from",
    );
    err(
        &with("[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nactive_from = ‸\"1/13/2025\"\n"),
        "unit \"so-gddt\": active_from",
        "tháng 13 không tồn tại",
    );
    let d = err(
        &with("[[unit]]\nid = \"so-gddt\"\nname = \"x\"\ngroups = [‸\"so-ngnah\"]\n"),
        "unit \"so-gddt\": groups[0]",
        "không có group với id này",
    );
    assert_eq!(d.hint.as_deref(), Some("có phải ý là \"so-nganh\"?"));
    err(
        &with("[[group]]\nid = \"g2\"\nmembers = [‸\"so-yt\"]\n"),
        "group \"g2\": members[0]",
        "không có unit với id này",
    );
    err(
        &with("[[group]]\nid = \"g2\"\nmembers = [‸\"so-nganh\"]\n"),
        "group \"g2\": members[0]",
        "là một nhóm",
    );
    warn(
        &with("[[group]]\nid = ‸\"g2\"\n"),
        "group \"g2\"",
        "không có thành viên",
    );
    // Groups are registered first, so the unit is the duplicate; the message names the group's place.
    let d = err(
        &with("[[group]]\nid = \"so-yte\"\n")
            .replace("id = \"so-yte\"\nname", "id = ‸\"so-yte\"\nname"),
        "unit \"so-yte\"",
        "trùng id: đã khai báo là group tại t.toml:25:6",
    );
    assert_eq!(d.value.as_deref(), Some("\"so-yte\""));
}

#[test]
fn unit_reference_errors() {
    let d = err(
        &with("[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nsupervisor = ‸\"ubnd-tnh\"\n"),
        "unit \"so-gddt\": supervisor",
        "không có unit với id này",
    );
    assert_eq!(d.hint.as_deref(), Some("có phải ý là \"ubnd-tinh\"?"));
    err(
        &with("[[unit]]\nid = \"so-gddt\"\nname = \"x\"\ncouncil = ‸\"so-gddt\"\n"),
        "unit \"so-gddt\": council",
        "chính nó",
    );
    err(
        &with("[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nsuccessor = ‸\"so-yte\"\n"),
        "unit \"so-gddt\": successor",
        "thiếu active_until",
    );
    let d = err(
        &with(
            "[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nactive_until = \"30/06/2025\"\nsuccessor = ‸\"so-moi\"\n[[unit]]\nid = \"so-moi\"\nname = \"y\"\nactive_from = \"01/08/2025\"\n",
        ),
        "unit \"so-gddt\": successor",
        "không hoạt động vào 01/07/2025",
    );
    assert!(d.hint.unwrap().contains("không muộn hơn 01/07/2025"));
    // A successor active from the next day is fine.
    let ok = with(
        "[[unit]]\nid = \"so-gddt\"\nname = \"x\"\nemail = \"a@b.example\"\nsupervisor = \"ubnd-tinh\"\nactive_until = \"30/06/2025\"\nsuccessor = \"so-moi\"\n[[unit]]\nid = \"so-moi\"\nname = \"y\"\nsupervisor = \"ubnd-tinh\"\nactive_from = \"01/07/2025\"\n",
    );
    load_str("t.toml", &ok).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn supervisor_loop() {
    let text = "[[unit]]\nid = \"a\"\nname = \"A\"\nsupervisor = ‸\"b\"\n[[unit]]\nid = \"b\"\nname = \"B\"\nsupervisor = \"c\"\n[[unit]]\nid = \"c\"\nname = \"C\"\nsupervisor = \"a\"\n";
    let d = err(text, "unit \"a\": supervisor", "vòng lặp cấp trên");
    assert_eq!(d.message, "vòng lặp cấp trên: a → b → c → a");
    let (clean, _, _) = marked(text);
    let e = load_str("t.toml", &clean).unwrap_err();
    assert_eq!(e.errors.len(), 1, "the loop is reported once: {e}");
}

// ---------------------------------------------------------------- obligations

fn obl(body: &str) -> String {
    with(&format!(
        "\n[[obligation]]\nid = \"bc\"\ntitle = \"BC\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\n{body}"
    ))
}

/// Like [`obl`], with the marker on the `[[obligation]]` header (where
/// "missing key" errors point).
fn obl_h(body: &str) -> String {
    obl(body).replacen(
        "\n[[obligation]]\nid = \"bc\"",
        "\n‸[[obligation]]\nid = \"bc\"",
        1,
    )
}

#[test]
fn obligation_shape_errors() {
    err(
        &with("‸[[obligation]]\ntitle = \"x\"\n"),
        "obligation[1]",
        "thiếu id",
    );
    err(
        &with("[[obligation]]\nid = ‸\"BC 1\"\n"),
        "obligation \"BC 1\": id",
        "id không hợp lệ",
    );
    err(
        &with("[[obligation]]\nid = ‸\"bc-nam\"\n"),
        "obligation \"bc-nam\"",
        "trùng id",
    );
    err(
        &with(
            "‸[[obligation]]\nid = \"bc\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n",
        ),
        "obligation \"bc\": title",
        "thiếu tiêu đề",
    );
    err(
        &with(
            "‸[[obligation]]\nid = \"bc\"\ntitle = \"x\"\nrecipient = \"ubnd-tinh\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n",
        ),
        "obligation \"bc\": reporters",
        "thiếu danh sách",
    );
    err(
        &with(
            "[[obligation]]\nid = \"bc\"\ntitle = \"x\"\nreporters = ‸[]\nrecipient = \"ubnd-tinh\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n",
        ),
        "obligation \"bc\": reporters",
        "rỗng",
    );
    err(
        &with(
            "‸[[obligation]]\nid = \"bc\"\ntitle = \"x\"\nreporters = [\"so-yte\"]\ncycle = \"annual\"\ndue = \"ngày 20\"\n",
        ),
        "obligation \"bc\": recipient",
        "thiếu nơi nhận",
    );
    err(
        &obl_h("due = \"ngày 20\"\n"),
        "obligation \"bc\": cycle",
        "thiếu chu kỳ",
    );
    err(
        &obl_h("cycle = \"annual\"\n"),
        "obligation \"bc\": due",
        "thiếu quy tắc hạn nộp",
    );
}

#[test]
fn obligation_reference_errors() {
    let d = err(
        &with(
            "[[obligation]]\nid = \"bc\"\ntitle = \"x\"\nreporters = [‸\"so-ngành\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n",
        ),
        "obligation \"bc\": reporters[0]",
        "không có unit hay group với id này",
    );
    assert_eq!(d.hint.as_deref(), Some("có phải ý là \"so-nganh\"?"));
    err(
        &with(
            "[[obligation]]\nid = \"bc\"\ntitle = \"x\"\nreporters = [\"so-yte\"]\nrecipient = ‸\"ubnd\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n",
        ),
        "obligation \"bc\": recipient",
        "không có unit với id này",
    );
    let d = err(
        &with(
            "[[obligation]]\nid = \"bc\"\ntitle = \"x\"\nreporters = [\"so-yte\", \"ubnd-tinh\"]\nrecipient = ‸\"reporter.council\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n",
        ),
        "obligation \"bc\": recipient",
        "không có council: so-yte, ubnd-tinh",
    );
    assert!(d.hint.unwrap().contains("council = "));
    err(
        &with(
            "[[obligation]]\nid = \"bc\"\ntitle = \"x\"\nreporters = [\"ubnd-tinh\"]\nrecipient = ‸\"reporter.supervisor\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n",
        ),
        "obligation \"bc\": recipient",
        "không có supervisor: ubnd-tinh",
    );
    err(
        &obl("cycle = \"annual\"\ndue = \"ngày 20\"\ndepends_on = [‸\"bc\"]\n"),
        "obligation \"bc\": depends_on[0]",
        "chính nó",
    );
    let d = err(
        &obl("cycle = \"annual\"\ndue = \"ngày 20\"\ndepends_on = [‸\"bc-nm\"]\n"),
        "obligation \"bc\": depends_on[0]",
        "không có obligation với id này",
    );
    assert_eq!(d.hint.as_deref(), Some("có phải ý là \"bc-nam\"?"));
}

#[test]
fn depends_on_loop() {
    let text = with(
        "depends_on = [‸\"c2\"]\n[[obligation]]\nid = \"c2\"\ntitle = \"x\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"annual\"\ndue = \"ngày 20\"\ndepends_on = [\"bc-nam\"]\n",
    );
    let d = err(
        &text,
        "obligation \"bc-nam\": depends_on",
        "vòng lặp phụ thuộc",
    );
    assert_eq!(d.message, "vòng lặp phụ thuộc: bc-nam → c2 → bc-nam");
}

#[test]
fn short_cycles_and_their_vietnamese_names() {
    let cycle_of = |written: &str| {
        let text = obl(&format!(
            "cycle = \"{written}\"\ndue = \"1 ngày làm việc\"\n"
        ));
        let loaded = load_str("t.toml", &text).unwrap_or_else(|e| panic!("{written}: {e}"));
        loaded.config.obligation("bc").unwrap().cycle.clone()
    };
    let daily = Cycle::Daily {
        working_days_only: true,
    };
    let every_day = Cycle::Daily {
        working_days_only: false,
    };
    for (written, want) in [
        ("daily", daily.clone()),
        ("hàng ngày", daily.clone()),
        ("Hằng ngày", daily.clone()),
        ("daily-all-days", every_day.clone()),
        ("hàng ngày kể cả ngày nghỉ", every_day.clone()),
        ("weekly", Cycle::Weekly),
        ("hàng tuần", Cycle::Weekly),
        ("ten-day", Cycle::TenDay),
        ("3 kỳ/tháng", Cycle::TenDay),
        ("3 kỳ / tháng", Cycle::TenDay),
        ("10 ngày", Cycle::TenDay),
        ("fifteen-day", Cycle::FifteenDay),
        ("2 kỳ/tháng", Cycle::FifteenDay),
        ("nửa tháng", Cycle::FifteenDay),
    ] {
        assert_eq!(cycle_of(written), want, "{written}");
    }
    let d = err(
        &obl("cycle = ‸\"hàng giờ\"\ndue = \"1 ngày\"\n"),
        "obligation \"bc\": cycle",
        "không có chu kỳ này",
    );
    let hint = d.hint.unwrap();
    assert!(hint.contains("\"weekly\" (hàng tuần)"), "{hint}");
    assert!(hint.contains("\"ten-day\" (10 ngày, 3 kỳ/tháng)"), "{hint}");
    // Decree 09 has no cut-off window for periods shorter than a month.
    let d = err(
        &obl("cycle = \"weekly\"\nwindow = ‸\"decree09\"\ndue = \"1 ngày làm việc\"\n"),
        "obligation \"bc\": window",
        "Nghị định 09/2019 không quy định thời gian chốt số liệu cho chu kỳ \"weekly\"",
    );
    assert!(d.hint.unwrap().contains("chỉ dùng cho chu kỳ tháng"));
    err(
        &obl("cycle = \"ten-day\"\ndue = ‸\"ngày 20\"\n"),
        "obligation \"bc\": due",
        "ngắn hơn một tháng",
    );
    // Override keys of the short cycles.
    let text = obl(
        "cycle = \"weekly\"\ndue = \"1 ngày làm việc\"\n[obligation.overrides]\n\"2026-w23\" = \"09/06/2026\"\n",
    );
    let c = load_str("t.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    assert_eq!(
        c.obligation("bc").unwrap().overrides.get("2026-W23"),
        Some(&date(2026, 6, 9))
    );
    let d = err(
        &obl(
            "cycle = \"weekly\"\ndue = \"1 ngày\"\n[obligation.overrides]\n‸\"2026-05\" = \"09/06/2026\"\n",
        ),
        "obligation \"bc\": overrides.\"2026-05\"",
        "không thuộc chu kỳ",
    );
    assert!(d.hint.unwrap().contains("2026-W53"));
    err(
        &obl(
            "cycle = \"weekly\"\ndue = \"1 ngày\"\n[obligation.overrides]\n‸\"2025-W53\" = \"09/06/2026\"\n",
        ),
        "obligation \"bc\": overrides.\"2025-W53\"",
        "không phải ngày, tuần",
    );
    let d = err(
        &obl(
            "cycle = \"fifteen-day\"\ndue = \"1 ngày\"\n[obligation.overrides]\n‸\"2026-05-D1\" = \"09/06/2026\"\n",
        ),
        "obligation \"bc\": overrides.\"2026-05-D1\"",
        "không thuộc chu kỳ",
    );
    assert!(d.hint.unwrap().contains("2026-05-H2"));
}

#[test]
fn cycle_window_and_due_errors() {
    let d = err(
        &obl("cycle = ‸\"anual\"\ndue = \"ngày 20\"\n"),
        "obligation \"bc\": cycle",
        "không có chu kỳ này",
    );
    assert!(d.hint.unwrap().starts_with("có phải ý là \"annual\"?"));
    err(
        &obl("cycle = \"annual\"\nwindow = ‸\"nd-09\"\ndue = \"ngày 20\"\n"),
        "obligation \"bc\": window",
        "không có kiểu kỳ",
    );
    err(
        &obl("cycle = \"annual\"\nperiod_end = ‸\"31/12/2026\"\ndue = \"ngày 20\"\n"),
        "obligation \"bc\": period_end",
        "chỉ dùng cho cycle = \"once\"",
    );
    err(
        &obl("cycle = \"annual\"\ndue = ‸\"hai mươi\"\n"),
        "obligation \"bc\": due",
        "thiếu số ngày",
    );
    err(
        &obl("cycle = \"annual\"\ndue = ‸\"ngày 32\"\n"),
        "obligation \"bc\": due",
        "ngày 32 không có",
    );
    let d = err(
        &obl("cycle = \"six-monthly\"\ndue = ‸\"20/06\"\n"),
        "obligation \"bc\": due",
        "kết thúc vào tháng 6, 12",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some(
            "viết \"ngày 20\" (ngày 20 của tháng cuối kỳ), \"ngày 20 tháng sau\" hoặc \"ngày 20 tháng đầu quý sau\"; hạn riêng cho một kỳ ghi trong [obligation.overrides]"
        )
    );
    err(
        &obl("cycle = \"annual\"\ndue = ‸\"20/12/2026\"\n"),
        "obligation \"bc\": due",
        "chỉ dùng cho cycle = \"once\"",
    );
    err(
        &obl_h("cycle = \"once\"\ndue = \"5 ngày\"\n"),
        "obligation \"bc\": period_end",
        "nghĩa vụ một lần cần ngày cuối kỳ",
    );
    err(
        &obl(
            "cycle = \"once\"\nperiod_start = ‸\"01/10/2026\"\nperiod_end = \"30/09/2026\"\ndue = \"5 ngày\"\n",
        ),
        "obligation \"bc\": period_start",
        "sau ngày cuối kỳ",
    );
    warn(
        &obl("cycle = \"once\"\nwindow = ‸\"decree09\"\ndue = \"15/10/2026\"\n"),
        "obligation \"bc\": window",
        "bị bỏ qua",
    );
    err(
        &obl(
            "cycle = \"annual\"\ndue = \"ngày 20\"\nactive_from = \"01/01/2026\"\nactive_until = ‸\"01/01/2025\"\n",
        ),
        "obligation \"bc\": active_until",
        "trước active_from",
    );
}

#[test]
fn override_errors() {
    let d = err(
        &obl(
            "cycle = \"six-monthly-first-half\"\ndue = \"20/06\"\n[obligation.overrides]\n‸\"2026-Q1\" = \"18/03/2026\"\n",
        ),
        "obligation \"bc\": overrides.\"2026-Q1\"",
        "không thuộc chu kỳ \"six-monthly-first-half\"",
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("chu kỳ 6 tháng đầu năm chỉ có mã \"2026-H1\"")
    );
    err(
        &obl(
            "cycle = \"six-monthly-first-half\"\ndue = \"20/06\"\n[obligation.overrides]\n‸\"2026-H2\" = \"18/12/2026\"\n",
        ),
        "obligation \"bc\": overrides.\"2026-H2\"",
        "không thuộc chu kỳ",
    );
    err(
        &obl(
            "cycle = \"annual\"\ndue = \"20/12\"\n[obligation.overrides]\n‸\"2026-H3\" = \"18/12/2026\"\n",
        ),
        "obligation \"bc\": overrides.\"2026-H3\"",
        "không phải ngày, tuần, kỳ 10 ngày, kỳ 15 ngày, tháng, quý hay nửa năm",
    );
    err(
        &obl(
            "cycle = \"annual\"\ndue = \"20/12\"\n[obligation.overrides]\n\"2026\" = ‸\"18/13/2026\"\n",
        ),
        "obligation \"bc\": overrides.\"2026\"",
        "tháng 13 không tồn tại",
    );
    warn(
        &obl(
            "cycle = \"annual\"\ndue = \"20/12\"\n[obligation.overrides]\n\"2026\" = ‸\"18/12/2025\"\n",
        ),
        "obligation \"bc\": overrides.\"2026\"",
        "không nằm gần kỳ 2026 (01/01/2026–31/12/2026)",
    );
    err(
        &obl(
            "cycle = \"once\"\ndue = \"15/10/2026\"\n[obligation.overrides]\n‸\"khac\" = \"16/10/2026\"\n",
        ),
        "obligation \"bc\": overrides.\"khac\"",
        "không thuộc chu kỳ \"once\"",
    );
}

#[test]
fn reminder_errors() {
    let d = err(
        &obl("cycle = \"annual\"\ndue = \"ngày 20\"\nreminders = [\"5 ngày\", ‸\"+3d\"]\n"),
        "obligation \"bc\": reminders[1]",
        "nhắc hạn nằm sau hạn nộp",
    );
    assert_eq!(
        d.to_string(),
        format!(
            "t.toml:{}:{}: lỗi: obligation \"bc\": reminders[1] = \"+3d\": nhắc hạn nằm sau hạn nộp; reminders là khoảng thời gian trước hạn; bỏ dấu '+', ví dụ \"3d\"; việc nhắc sau hạn ghi trong [[obligation.escalation]]",
            d.line, d.column
        )
    );
    err(
        &obl("cycle = \"annual\"\ndue = \"ngày 20\"\nreminders = [‸\"-3 ngày\"]\n"),
        "obligation \"bc\": reminders[0]",
        "không ghi dấu '-'",
    );
    err(
        &obl("cycle = \"annual\"\ndue = \"ngày 20\"\nreminders = [‸\"3 tuần\"]\n"),
        "obligation \"bc\": reminders[0]",
        "không hiểu đơn vị \"tuan\"",
    );
    warn(
        &obl("cycle = \"annual\"\ndue = \"ngày 20\"\nreminders = [\"3d\", ‸\"3 ngày\"]\n"),
        "obligation \"bc\": reminders[1]",
        "lặp lại",
    );
    // Monthly, due on the 5th of the next month: 1/5–31/5 -> 5/6; 40 days before 5/6 is 26/4, before 1/5.
    warn(
        &obl(
            "cycle = \"monthly\"\ndue = \"ngày 5 tháng sau\"\nreminders = [‸\"40 ngày\", \"3 ngày\"]\n",
        ),
        "obligation \"bc\": reminders[0]",
        "trước khi kỳ báo cáo bắt đầu",
    );
}

/// Offsets in hours: reminders and `escalation.after` take them (a daily
/// report due 10:00 the next working day: "2 giờ" is 08:00 that day);
/// out of range, in a repeat, or before the period starts are explained.
#[test]
fn offsets_in_hours() {
    let daily = |extra: &str| {
        obl(&format!(
            "cycle = \"hàng ngày\"\ndue = \"chậm nhất 10 giờ, 1 ngày làm việc\"\n{extra}"
        ))
    };
    for ok in ["2 giờ", "2h", "2 tiếng", "2 hours", "24 giờ"] {
        let text = daily(&format!("reminders = [\"{ok}\"]\n"));
        let (errors, warnings) = errors_of("t.toml", &text);
        assert!(
            errors.is_empty() && warnings.is_empty(),
            "{ok}: {errors:?} {warnings:?}"
        );
    }
    err(
        &daily("reminders = [‸\"0 giờ\"]\n"),
        "obligation \"bc\": reminders[0]",
        "0 giờ nằm ngoài khoảng cho phép (1–168 giờ",
    );
    let d = err(
        &daily("reminders = [‸\"200h\"]\n"),
        "obligation \"bc\": reminders[0]",
        "200 giờ nằm ngoài khoảng cho phép",
    );
    assert!(d.to_string().contains("\"2 giờ\", \"2h\""), "{d}");
    // A day's period whose deadline is 34 hours after it opens (00:00 of
    // the day to 10:00 of the next working day): 40 hours is before it.
    warn(
        &daily("reminders = [‸\"40 giờ\"]\n"),
        "obligation \"bc\": reminders[0]",
        "trước khi kỳ báo cáo bắt đầu",
    );
    let stage = |body: &str| {
        daily(&format!(
            "[[obligation.escalation]]\nnotify = [\"unit\"]\n{body}"
        ))
    };
    let (errors, _) = errors_of("t.toml", &stage("after = \"2 giờ\"\n"));
    assert!(errors.is_empty(), "{errors:?}");
    // A repeat goes out once a working day at most: in hours, `check`
    // says why and what to write instead.
    for every in ["2 giờ", "4h", "3 tiếng"] {
        let d = err(
            &stage(&format!(
                "after = \"2 giờ\"\nrepeat = {{ every = ‸\"{every}\", limit = 3 }}\n"
            )),
            "obligation \"bc\": escalation[0].repeat.every",
            "khoảng lặp lại tính theo ngày, không theo giờ",
        );
        let text = d.to_string();
        assert!(
            text.contains("mỗi ngày nhiều nhất một thư cho mỗi kỳ"),
            "{text}"
        );
        assert!(text.contains("every = \"1 ngày làm việc\""), "{text}");
        assert!(text.contains("after = \"2 giờ\""), "{text}");
    }
    // A due rule counts days.
    err(
        &obl("cycle = \"hàng ngày\"\ndue = ‸\"2 giờ\"\n"),
        "obligation \"bc\": due",
        "",
    );
}

#[test]
fn escalation_errors() {
    let stage = |body: &str| {
        obl(&format!(
            "cycle = \"annual\"\ndue = \"ngày 20\"\n[[obligation.escalation]]\n{body}"
        ))
    };
    err(
        &stage("notify = [\"unit\"]\n")
            .replace("[[obligation.escalation]]", "‸[[obligation.escalation]]"),
        "obligation \"bc\": escalation[0].after",
        "thiếu thời điểm",
    );
    err(
        &stage("after = ‸\"sau 3 ngày\"\nnotify = [\"unit\"]\n"),
        "obligation \"bc\": escalation[0].after",
        "thiếu số ngày",
    );
    err(
        &stage("after = \"1d\"\n")
            .replace("[[obligation.escalation]]", "‸[[obligation.escalation]]"),
        "obligation \"bc\": escalation[0].notify",
        "thiếu người nhận",
    );
    err(
        &stage("after = \"1d\"\nnotify = [‸\"giamdoc@\"]\n"),
        "obligation \"bc\": escalation[0].notify[0]",
        "không phải địa chỉ email",
    );
    let d = err(
        &stage("after = \"1d\"\nnotify = [‸\"supervisr\"]\n"),
        "obligation \"bc\": escalation[0].notify[0]",
        "không phải người nhận hợp lệ",
    );
    assert!(d.hint.unwrap().starts_with("có phải ý là \"supervisor\"?"));
    warn(
        &stage("after = \"1d\"\nnotify = [‸\"head\"]\n"),
        "obligation \"bc\": escalation[0].notify[0]",
        "1 đơn vị báo cáo không có head: so-yte",
    );
    err(
        &stage("after = \"1d\"\nnotify = [\"unit\"]\nrepeat = ‸{ limit = 2 }\n"),
        "obligation \"bc\": escalation[0].repeat.every",
        "thiếu khoảng lặp lại",
    );
    err(
        &stage(
            "after = \"1d\"\nnotify = [\"unit\"]\nrepeat = { every = ‸\"0 ngày\", limit = 2 }\n",
        ),
        "obligation \"bc\": escalation[0].repeat.every",
        "lớn hơn 0",
    );
    err(
        &stage("after = \"1d\"\nnotify = [\"unit\"]\nrepeat = { every = ‸\"tuần\", limit = 2 }\n"),
        "obligation \"bc\": escalation[0].repeat.every",
        "thiếu số ngày",
    );
    err(
        &stage("after = \"1d\"\nnotify = [\"unit\"]\nrepeat = ‸{ every = \"1d\" }\n"),
        "obligation \"bc\": escalation[0].repeat.limit",
        "thiếu số lần",
    );
    err(
        &stage("after = \"1d\"\nnotify = [\"unit\"]\nrepeat = { every = \"1d\", limit = ‸0 }\n"),
        "obligation \"bc\": escalation[0].repeat.limit",
        "ngoài khoảng",
    );
    warn(
        &stage(
            "after = \"5 ngày\"\nnotify = [\"unit\"]\n[[obligation.escalation]]\nafter = ‸\"2 ngày\"\nnotify = [\"supervisor\"]\n",
        ),
        "obligation \"bc\": escalation[1].after",
        "không muộn hơn bậc trước",
    );
}

#[test]
fn usage_warnings() {
    warn(&obl("cycle = \"annual\"\ndue = \"ngày 20\"\nactive_from = \"01/01/2026\"\n[[unit]]\nid = \"x\"\nname = \"X\"\nactive_until = \"31/12/2020\"\n").replace("reporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle", "reporters = ‸[\"x\"]\nrecipient = \"ubnd-tinh\"\ncycle"), "obligation \"bc\": reporters", "không có đơn vị báo cáo nào hoạt động");
    // A reporter without a mailbox is an error (see
    // `reporter_without_mailbox_is_an_error_unless_marked`).
    err(
        &with("‸[[unit]]\nid = \"so-gddt\"\nname = \"x\"\ngroups = [\"so-nganh\"]\n"),
        "unit \"so-gddt\"",
        "không có email",
    );
    warn(
        &with("‸[[unit]]\nid = \"so-gddt\"\nname = \"x\"\n"),
        "unit \"so-gddt\"",
        "không tham gia nghĩa vụ nào",
    );
}

#[test]
fn obligation_model_mapping() {
    let text = obl(
        "cycle = \"quarterly\"\nwindow = \"decree09\"\ndue = \"5 ngày làm việc\"\nroll_to_working_day = false\nreminders = [\"1 ngày làm việc\", \"5 ngày làm việc\", \"3 ngày\"]\n\
         [obligation.overrides]\n\"2026-q3\" = \"2026-09-20\"\n\
         [[obligation.escalation]]\nafter = \"0 ngày\"\nnotify = [\"unit\", \"thanhtra@soldtbxh.quangngai.example\"]\nrepeat = { every = \"2wd\", limit = 3 }\n",
    );
    let c = load_str("t.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let o = c.obligation("bc").unwrap();
    assert_eq!(o.cycle, Cycle::Quarterly);
    assert_eq!(o.window, WindowStyle::Decree09);
    assert_eq!(
        o.due,
        DueRule::After(Offset {
            amount: 5,
            unit: DayUnit::WorkingDays
        })
    );
    assert!(!o.roll_to_working_day);
    // Sorted nearest last: 5 wd (~7 days), 3 days, 1 wd.
    let wd = |n| Offset {
        amount: n,
        unit: DayUnit::WorkingDays,
    };
    assert_eq!(
        o.reminders,
        vec![
            wd(5),
            Offset {
                amount: 3,
                unit: DayUnit::Days
            },
            wd(1)
        ]
    );
    assert_eq!(o.overrides.get("2026-Q3"), Some(&date(2026, 9, 20)));
    assert_eq!(
        o.escalation[0].notify,
        vec![
            EscalationTarget::Unit,
            EscalationTarget::Address("thanhtra@soldtbxh.quangngai.example".into())
        ]
    );
    assert_eq!(o.escalation[0].repeat.unwrap().limit, 3);
    // One-off on a date: the due date becomes the override of the obligation's own key.
    let c = load_str("t.toml", &obl("cycle = \"once\"\ndue = \"15/10/2026\"\n"))
        .unwrap()
        .config;
    let o = c.obligation("bc").unwrap();
    assert_eq!(
        o.cycle,
        Cycle::Once {
            start: None,
            end: date(2026, 10, 15)
        }
    );
    assert_eq!(o.overrides.get("bc"), Some(&date(2026, 10, 15)));
    // Day-month matching the month after the period's end.
    let c = load_str(
        "t.toml",
        &obl("cycle = \"six-monthly-first-half\"\ndue = \"05/07\"\n"),
    )
    .unwrap()
    .config;
    assert_eq!(
        c.obligation("bc").unwrap().due,
        DueRule::DayOfMonth {
            day: 5,
            next_month: true
        }
    );
    // Recipient per reporter.
    let text = with(
        "[[unit]]\nid = \"h\"\nname = \"HĐND\"\n[[unit]]\nid = \"u\"\nname = \"UBND\"\nemail = \"u@x.example\"\ncouncil = \"h\"\n[[obligation]]\nid = \"bc\"\ntitle = \"x\"\nreporters = [\"u\"]\nrecipient = \"reporter.council\"\ncycle = \"hằng năm\"\ndue = \"ngày 10\"\n",
    );
    let c = load_str("t.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    assert_eq!(
        c.obligation("bc").unwrap().recipient,
        Recipient::ReporterCouncil
    );
    assert_eq!(c.obligation("bc").unwrap().cycle, Cycle::Annual);
}

#[test]
fn every_problem_in_one_run() {
    let text = obl(
        "cycle = \"anual\"\ndue = \"x\"\n[[unit]]\nid = \"so-gddt\"\nname = \"G\"\nemail = \"bad\"\nsupervisor = \"nobody\"\n[daemon]\ntime_zone = \"Mars/Olympus\"\n",
    );
    let e = load_str("t.toml", &text).unwrap_err();
    let keys: Vec<&str> = e.errors.iter().map(|d| d.key.as_str()).collect();
    for k in [
        "obligation \"bc\": cycle",
        "unit \"so-gddt\": email",
        "unit \"so-gddt\": supervisor",
        "daemon.time_zone",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    // Sorted by position.
    let lines: Vec<usize> = e.errors.iter().map(|d| d.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

// ---------------------------------------------------------------- check output

#[test]
fn check_render_and_exit_codes() {
    let ok = load_str("t.toml", BASE);
    assert_eq!(check::exit_code(&ok), 0);
    let out = check::render(&ok);
    assert!(
        out.starts_with("Cấu hình hợp lệ: 1 tệp, 2 đơn vị, 1 nhóm, 1 nghĩa vụ báo cáo"),
        "{out}"
    );

    let bad = load_str(
        "t.toml",
        &obl(
            "cycle = \"annual\"\ndue = \"ngày 20\"\nreminders = [\"+3d\"]\n[[unit]]\nid = \"x\"\nname = \"X\"\n",
        ),
    );
    assert_eq!(check::exit_code(&bad), 78);
    let out = check::render(&bad);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Lỗi (1):");
    assert!(lines[1].starts_with("  t.toml:32:14: lỗi: obligation \"bc\": reminders[0] = \"+3d\": nhắc hạn nằm sau hạn nộp"), "{out}");
    assert_eq!(lines[3], "Cảnh báo (1):");
    assert!(
        lines[4]
            .starts_with("  t.toml:33:1: cảnh báo: unit \"x\": đơn vị không tham gia nghĩa vụ nào"),
        "{out}"
    );
    assert_eq!(
        lines.last().copied(),
        Some(
            "Cấu hình KHÔNG hợp lệ: 1 lỗi, 1 cảnh báo. Không lệnh nào chạy với cấu hình này cho đến khi sửa hết lỗi."
        )
    );
}

/// `hanbao check` renders the templates of `mail.templates`: a broken one is
/// a configuration error with its file and line; a good one passes.
#[test]
fn check_renders_the_configured_templates() {
    let dir = tempfile::tempdir().unwrap();
    let tdir = dir.path().join("templates");
    std::fs::create_dir_all(tdir.join("vi")).unwrap();
    let main = dir.path().join("hanbao.toml");
    std::fs::write(
        &main,
        format!("{BASE}\n[mail]\ntemplates = \"{}\"\n", tdir.display()),
    )
    .unwrap();
    let (out, code) = check::check(&main);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("Cấu hình hợp lệ"), "{out}");

    let file = tdir.join("vi/overdue.txt");
    std::fs::write(&file, "Kính gửi {{ unit.name }}\n{{ khong_co }}\n").unwrap();
    let (out, code) = check::check(&main);
    assert_eq!(code, 78, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Lỗi trong mẫu thư (1):", "{out}");
    assert!(
        lines[1].starts_with(&format!("  {}:2: ", file.display())),
        "{out}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("Cấu hình KHÔNG hợp lệ: 1 lỗi trong mẫu thư"),
        "{out}"
    );

    // A directory that does not exist is an error too.
    std::fs::remove_dir_all(&tdir).unwrap();
    let (out, code) = check::check(&main);
    assert_eq!(code, 78, "{out}");
    assert!(out.contains("does not exist"), "{out}");
}

// ---------------------------------------------------------------- samples

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn sample_directive_loads_cleanly() {
    let loaded = load(&repo("config/quang-ngai-4040.toml"))
        .unwrap_or_else(|e| panic!("{}", check::render(&Err(e))));
    assert!(
        loaded.warnings.is_empty(),
        "{}",
        check::render(&Ok(loaded.clone()))
    );
    let c = &loaded.config;
    // 1 provincial PC + 1 coordinator + 20 departments + 13 district PCs + 13 councils.
    assert_eq!(c.units.len(), 48);
    assert_eq!(c.groups["so-nganh"].len(), 20);
    assert_eq!(c.groups["ubnd-huyen"].len(), 13);
    assert_eq!(c.groups["hdnd-huyen"].len(), 13);
    let ids: Vec<&str> = c.obligations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "nq121-6thang",
            "nq121-nam",
            "nq121-tonghop-6thang",
            "nq121-tonghop-nam",
            "luattreem-hdnd-nam"
        ]
    );
    let six = c.obligation("nq121-6thang").unwrap();
    assert_eq!(six.reporters.len(), 33);
    assert_eq!(
        six.cycle,
        Cycle::SixMonthly {
            first_half_only: true
        }
    );
    assert_eq!(
        six.due,
        DueRule::DayOfMonth {
            day: 20,
            next_month: false
        }
    );
    assert_eq!(six.overrides.get("2026-H1"), Some(&date(2026, 6, 18)));
    assert_eq!(six.active_from, Some(date(2020, 8, 28)));
    let hdnd = c.obligation("luattreem-hdnd-nam").unwrap();
    assert_eq!(hdnd.recipient, Recipient::ReporterCouncil);
    assert_eq!(
        c.unit("ubnd-lyson").unwrap().council.as_deref(),
        Some("hdnd-lyson")
    );
    assert_eq!(
        c.obligation("nq121-tonghop-nam").unwrap().depends_on,
        vec!["nq121-nam".to_string()]
    );
    for u in &c.units {
        assert!(u.emails.iter().all(|e| e.ends_with(".example")), "{}", u.id);
    }
}

#[test]
fn sample_main_file_loads_cleanly() {
    let loaded =
        load(&repo("config/hanbao.toml")).unwrap_or_else(|e| panic!("{}", check::render(&Err(e))));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.files.len(), 3);
    assert_eq!(loaded.config.units.len(), 48);
    assert!(loaded.config.calendar.culture_day);
    assert_eq!(
        loaded.config.mail.reply_to.as_deref(),
        Some("Phòng Trẻ em - Bình đẳng giới <treem@soldtbxh.quangngai.example>")
    );
}

#[test]
fn units_and_obligations_are_found_by_id_even_after_the_lists_are_edited() {
    let mut c = load(&repo("config/hanbao.toml")).unwrap().config;
    for u in &c.units {
        assert_eq!(c.unit(&u.id).map(|x| &x.id), Some(&u.id));
    }
    for o in &c.obligations {
        assert_eq!(c.obligation(&o.id).map(|x| &x.id), Some(&o.id));
    }
    assert!(c.unit("khong-co").is_none());
    assert!(c.obligation("khong-co").is_none());
    // The index remembers positions; a list edited after validation (as
    // tests do) must still give the unit with that id, never a neighbour.
    let (first, last) = (c.units[0].id.clone(), c.units[c.units.len() - 1].id.clone());
    c.units.reverse();
    c.obligations.reverse();
    assert_eq!(c.unit(&first).map(|u| u.id.as_str()), Some(first.as_str()));
    assert_eq!(c.unit(&last).map(|u| u.id.as_str()), Some(last.as_str()));
    let o = c.obligations[0].id.clone();
    assert_eq!(c.obligation(&o).map(|x| x.id.as_str()), Some(o.as_str()));
    c.units.pop();
    assert!(c.unit(&first).is_none());
}

// ---------------------------------------------------------------- value parsers (values checked by hand)

#[test]
fn dates() {
    let ok: &[(&str, (i16, i8, i8))] = &[
        ("28/08/2020", (2020, 8, 28)),
        ("28/8/2020", (2020, 8, 28)),
        (" 1/1/2026 ", (2026, 1, 1)),
        ("28.08.2020", (2020, 8, 28)),
        ("2020-08-28", (2020, 8, 28)),
        ("29/02/2024", (2024, 2, 29)), // 2024 is a leap year
        ("31/12/2100", (2100, 12, 31)),
    ];
    for (text, (y, m, d)) in ok {
        assert_eq!(parse_date(text), Ok(date(*y, *m, *d)), "{text}");
    }
    let bad: &[(&str, &str)] = &[
        ("", "chưa ghi ngày"),
        ("29/02/2023", "không tồn tại"), // 2023 is not a leap year
        ("31/04/2026", "không tồn tại"),
        ("00/01/2026", "không tồn tại"),
        ("1/13/2026", "tháng 13"),
        ("28/08/20", "năm phải có 4 chữ số"),
        ("2020-8-28", "không đọc được"),
        ("28/08/1899", "ngoài khoảng"),
        ("08/28/2020", "tháng 28"),
        ("hôm nay", "không đọc được"),
        ("+1/1/2026", "không đọc được"),
    ];
    for (text, needle) in bad {
        let e = parse_date(text).unwrap_err();
        assert!(e.contains(needle), "{text}: {e}");
    }
}

#[test]
fn day_months() {
    type Case = (&'static str, Result<(u8, u8), &'static str>);
    let cases: &[Case] = &[
        ("20/06", Ok((20, 6))),
        ("20/6", Ok((20, 6))),
        ("5.7", Ok((5, 7))),
        ("29/02", Ok((29, 2))),
        ("30/02", Err("không tồn tại")),
        ("31/06", Err("không tồn tại")),
        ("20/13", Err("tháng 13")),
        ("20", Err("không đọc được")),
        ("20/06/2026", Err("không đọc được")),
        ("-1/06", Err("không đọc được")),
    ];
    for (text, want) in cases {
        match (parse_day_month(text), want) {
            (Ok(v), Ok(w)) => assert_eq!(v, *w, "{text}"),
            (Err(e), Err(n)) => assert!(e.contains(n), "{text}: {e}"),
            (got, _) => panic!("{text}: {got:?}"),
        }
    }
}

#[test]
fn offsets() {
    let d = |n| Offset {
        amount: n,
        unit: DayUnit::Days,
    };
    let w = |n| Offset {
        amount: n,
        unit: DayUnit::WorkingDays,
    };
    let ok = [
        ("3 ngày", d(3)),
        ("3 ngay", d(3)),
        ("3 nga\u{300}y", d(3)), // decomposed (NFD) "ngày"
        ("5 ngày làm việc", w(5)),
        ("5  Ngày  Làm  Việc", w(5)),
        ("5 ngay lam viec", w(5)),
        ("3d", d(3)),
        ("3 d", d(3)),
        ("5wd", w(5)),
        ("1 day", d(1)),
        ("3 days", d(3)),
        ("1 working day", w(1)),
        ("5 working days", w(5)),
        ("0 ngày", d(0)),
        ("1000d", d(1000)),
    ];
    for (text, want) in ok {
        assert_eq!(parse_offset(text), Ok(want), "{text}");
    }
    let bad = [
        ("", "thiếu số ngày"),
        ("ngày", "thiếu số ngày"),
        ("3", "thiếu đơn vị"),
        ("3 tuần", "không hiểu đơn vị"),
        ("+3d", "dấu"),
        ("-3d", "dấu"),
        ("1001d", "quá lớn"),
        ("99999999999 ngày", "thiếu số ngày"),
        ("3.5 ngày", "không hiểu đơn vị"),
    ];
    for (text, needle) in bad {
        let e = parse_offset(text).unwrap_err();
        assert!(e.contains(needle), "{text}: {e}");
    }
}

#[test]
fn times() {
    let ok = [
        ("07:30", (7, 30)),
        ("7:30", (7, 30)),
        ("7h30", (7, 30)),
        ("7h", (7, 0)),
        ("23:59", (23, 59)),
        ("00:00", (0, 0)),
    ];
    for (text, (h, m)) in ok {
        assert_eq!(parse_time(text), Ok(Time::constant(h, m, 0, 0)), "{text}");
    }
    for bad in ["24:00", "7:60", "7", "07:", ":30", "7:3a", "-1:00", ""] {
        assert!(parse_time(bad).is_err(), "{bad}");
    }
    assert_eq!(
        parse_time_range("07:30-11:00"),
        Ok((Time::constant(7, 30, 0, 0), Time::constant(11, 0, 0, 0)))
    );
    assert_eq!(
        parse_time_range("7h30 – 11h"),
        Ok((Time::constant(7, 30, 0, 0), Time::constant(11, 0, 0, 0)))
    );
    assert_eq!(
        parse_time_range("13:30 đến 17:00"),
        Ok((Time::constant(13, 30, 0, 0), Time::constant(17, 0, 0, 0)))
    );
    assert!(
        parse_time_range("11:00-11:00")
            .unwrap_err()
            .contains("không sau")
    );
    assert!(
        parse_time_range("07:30")
            .unwrap_err()
            .contains("cần giờ bắt đầu")
    );
}

#[test]
fn due_rules() {
    let cases = [
        (
            "5 ngày làm việc",
            DueSpec::After(Offset {
                amount: 5,
                unit: DayUnit::WorkingDays,
            }),
        ),
        (
            "10 ngày",
            DueSpec::After(Offset {
                amount: 10,
                unit: DayUnit::Days,
            }),
        ),
        (
            "ngày 20",
            DueSpec::DayOfMonth {
                day: 20,
                next_month: false,
            },
        ),
        (
            "Ngày 5 tháng sau",
            DueSpec::DayOfMonth {
                day: 5,
                next_month: true,
            },
        ),
        (
            "day 5 of next month",
            DueSpec::DayOfMonth {
                day: 5,
                next_month: true,
            },
        ),
        (
            "day 31",
            DueSpec::DayOfMonth {
                day: 31,
                next_month: false,
            },
        ),
        ("20/06", DueSpec::DayMonth { day: 20, month: 6 }),
        ("15/10/2026", DueSpec::Date(date(2026, 10, 15))),
        ("2026-10-15", DueSpec::Date(date(2026, 10, 15))),
    ];
    for (text, want) in cases {
        assert_eq!(parse_due(text).map(|d| d.spec), Ok(want), "{text}");
    }
    for (bad, needle) in [
        ("ngày 0", "không có"),
        ("ngày 5 tuần sau", "tháng sau"),
        ("31/06", "không tồn tại"),
        ("", "thiếu số ngày"),
    ] {
        let e = parse_due(bad).unwrap_err();
        assert!(e.contains(needle), "{bad}: {e}");
    }
}

/// Due rules as circulars word them: the day, a time of day before or
/// after it, and "chậm nhất" / "trước".
#[test]
fn due_rules_as_regulations_word_them() {
    use DueWording::*;
    let t = |h, m| Some(Time::constant(h, m, 0, 0));
    let dom = |day, next_month| DueSpec::DayOfMonth { day, next_month };
    let wk = |weekday, next_week| DueSpec::Weekday { weekday, next_week };
    let wd = |n| {
        DueSpec::After(Offset {
            amount: n,
            unit: DayUnit::WorkingDays,
        })
    };
    let cases: Vec<(&str, DueSpec, Option<Time>, DueWording)> = vec![
        ("chậm nhất ngày 20", dom(20, false), None, NoLaterThan),
        ("Trước ngày 20", dom(20, false), None, Before),
        ("trước ngày 5 tháng sau", dom(5, true), None, Before),
        (
            "chậm nhất 14 giờ ngày 20",
            dom(20, false),
            t(14, 0),
            NoLaterThan,
        ),
        ("ngày 20, trước 16h", dom(20, false), t(16, 0), Before),
        ("ngày 20 lúc 14:30", dom(20, false), t(14, 30), Plain),
        (
            "trước 16 giờ 00 thứ Năm",
            wk(Weekday::Thursday, false),
            t(16, 0),
            Before,
        ),
        (
            "trước 16 giờ 00 thứ Năm hằng tuần",
            wk(Weekday::Thursday, false),
            t(16, 0),
            Before,
        ),
        (
            "16 giờ 30 phút thứ 6",
            wk(Weekday::Friday, false),
            t(16, 30),
            Plain,
        ),
        (
            "2 giờ chiều thứ Sáu",
            wk(Weekday::Friday, false),
            t(14, 0),
            Plain,
        ),
        ("thứ Hai tuần sau", wk(Weekday::Monday, true), None, Plain),
        ("T2 tuần sau", wk(Weekday::Monday, true), None, Plain),
        ("Chủ nhật", wk(Weekday::Sunday, false), None, Plain),
        ("friday 10:00", wk(Weekday::Friday, false), t(10, 0), Plain),
        (
            "chậm nhất 9h30, 1 ngày làm việc",
            wd(1),
            t(9, 30),
            NoLaterThan,
        ),
        ("1 ngày làm việc sau ngày cuối kỳ", wd(1), None, Plain),
        (
            "chậm nhất 10 giờ ngày làm việc tiếp theo",
            wd(1),
            t(10, 0),
            NoLaterThan,
        ),
        ("ngày làm việc kế tiếp", wd(1), None, Plain),
        ("next working day, 10:00", wd(1), t(10, 0), Plain),
        (
            "ngày 15 tháng đầu quý sau",
            DueSpec::DayOfNextQuarter { day: 15 },
            None,
            Plain,
        ),
        (
            "day 15 of the first month of next quarter",
            DueSpec::DayOfNextQuarter { day: 15 },
            None,
            Plain,
        ),
        ("ngày 20 của tháng cuối kỳ", dom(20, false), None, Plain),
        (
            "chậm nhất ngày 25/11",
            DueSpec::DayMonth { day: 25, month: 11 },
            None,
            NoLaterThan,
        ),
        (
            "ngày 25/11 lúc 17h",
            DueSpec::DayMonth { day: 25, month: 11 },
            t(17, 0),
            Plain,
        ),
        // 24 giờ is the end of the day: the usual deadline.
        ("24 giờ ngày 20", dom(20, false), None, Plain),
        (
            "no later than 14:00 on day 20",
            dom(20, false),
            t(14, 0),
            NoLaterThan,
        ),
    ];
    for (text, spec, time, wording) in cases {
        assert_eq!(
            parse_due(text),
            Ok(Due {
                spec,
                time,
                wording,
                after_due_of: None,
            }),
            "{text}"
        );
    }
    for (bad, needle) in [
        ("chậm nhất 14 giờ", "thiếu ngày"),
        ("14 giờ ngày 20 lúc 16 giờ", "hai giờ"),
        ("25 giờ ngày 20", "không phải giờ hợp lệ"),
        ("chậm nhất trước ngày 20", "chỉ ghi một"),
        ("thứ Năm tuần trước", "tuần sau"),
        ("trước 16 giờ thứ Tám", "không có \"thứ tam\" trong tuần"),
        ("ngày 5 quý sau", "tháng đầu quý sau"),
    ] {
        let e = parse_due(bad).unwrap_err();
        assert!(e.contains(needle), "{bad}: {e}");
    }
}

/// How `check` places each form on a cycle, and what it refuses.
#[test]
fn due_rules_fitted_to_their_cycle() {
    let ob = |body: &str| {
        let loaded = load_str("t.toml", &obl(body)).unwrap_or_else(|e| panic!("{body}: {e}"));
        let o = loaded.config.obligation("bc").unwrap().clone();
        (o, loaded.warnings)
    };
    // An annual report due in late November: 25/11 of its own year.
    let (o, w) = ob("cycle = \"annual\"\ndue = \"25/11\"\n");
    assert_eq!(o.due, DueRule::DayMonth { day: 25, month: 11 });
    assert!(w.is_empty(), "{w:?}");
    // The month of the end stays "ngày D" (and the month after "tháng sau").
    let (o, _) = ob("cycle = \"annual\"\ndue = \"chậm nhất ngày 20/12\"\n");
    assert_eq!(
        o.due,
        DueRule::DayOfMonth {
            day: 20,
            next_month: false
        }
    );
    let (o, _) = ob("cycle = \"six-monthly-first-half\"\ndue = \"05/06\"\n");
    assert_eq!(
        o.due,
        DueRule::DayOfMonth {
            day: 5,
            next_month: false
        }
    );
    let (o, _) = ob("cycle = \"nine-monthly\"\ndue = \"05/09\"\n");
    assert_eq!(
        o.due,
        DueRule::DayOfMonth {
            day: 5,
            next_month: false
        }
    );
    let (o, _) = ob("cycle = \"quarterly\"\ndue = \"ngày 15 tháng đầu quý sau\"\n");
    assert_eq!(o.due, DueRule::DayOfNextQuarter { day: 15 });
    // A time of day, kept on the obligation.
    let (o, w) = ob("cycle = \"weekly\"\ndue = \"trước 16 giờ 00 thứ Năm\"\n");
    assert_eq!(
        o.due,
        DueRule::Weekday {
            weekday: Weekday::Thursday,
            next_week: false
        }
    );
    assert_eq!(o.due_time, Some(Time::constant(16, 0, 0, 0)));
    assert!(!o.due_exclusive);
    assert!(w.is_empty(), "{w:?}");
    let (o, _) = ob("cycle = \"daily\"\ndue = \"chậm nhất 14 giờ, 1 ngày làm việc\"\n");
    assert_eq!(o.due_time, Some(Time::constant(14, 0, 0, 0)));
    // "chậm nhất ngày X": X itself; "trước ngày X": the day before, with a warning.
    let (o, w) = ob("cycle = \"monthly\"\ndue = \"chậm nhất ngày 20\"\n");
    assert!(!o.due_exclusive && o.due_time.is_none() && w.is_empty());
    let d = warn(
        &obl("cycle = \"monthly\"\ndue = ‸\"trước ngày 20\"\n"),
        "obligation \"bc\": due",
        "ngày liền trước ngày X",
    );
    assert!(d.hint.unwrap().contains("chậm nhất ngày X"));
    let (o, _) = ob("cycle = \"monthly\"\ndue = \"trước ngày 20\"\n");
    assert!(o.due_exclusive);
    // A one-off "trước ngày 15/10/2026" is due on 14/10.
    let (o, _) = ob("cycle = \"once\"\ndue = \"trước ngày 15/10/2026\"\n");
    assert_eq!(o.overrides.get("bc"), Some(&date(2026, 10, 14)));
    assert!(!o.due_exclusive);
    // Refusals, each with the valid forms.
    let d = err(
        &obl("cycle = \"quarterly\"\ndue = ‸\"20/06\"\n"),
        "obligation \"bc\": due",
        "có 4 kỳ mỗi năm (kết thúc vào tháng 3, 6, 9, 12)",
    );
    assert!(d.hint.unwrap().contains("tháng đầu quý sau"));
    let d = err(
        &obl("cycle = \"monthly\"\ndue = ‸\"thứ Năm\"\n"),
        "obligation \"bc\": due",
        "chỉ dùng cho chu kỳ \"weekly\"",
    );
    assert!(d.hint.unwrap().contains("thứ Hai tuần sau"));
    let d = err(
        &obl("cycle = \"weekly\"\ndue = ‸\"ngày 20\"\n"),
        "obligation \"bc\": due",
        "ngắn hơn một tháng",
    );
    assert!(d.hint.unwrap().contains("thứ Năm"));
    err(
        &obl("cycle = \"daily\"\ndue = ‸\"chậm nhất 14 giờ\"\n"),
        "obligation \"bc\": due",
        "thiếu ngày",
    );
}

/// A second tier written relative to its first tier.
#[test]
fn second_tier_due_rules() {
    for (text, offset, id, time) in [
        (
            "3 ngày làm việc sau hạn của nq121-6thang",
            Offset {
                amount: 3,
                unit: DayUnit::WorkingDays,
            },
            "nq121-6thang",
            None,
        ),
        (
            "chậm nhất 16 giờ, 2 ngày làm việc sau hạn nộp của bc-don-vi",
            Offset {
                amount: 2,
                unit: DayUnit::WorkingDays,
            },
            "bc-don-vi",
            Some(Time::constant(16, 0, 0, 0)),
        ),
        (
            "5 days after the due day of bc",
            Offset {
                amount: 5,
                unit: DayUnit::Days,
            },
            "bc",
            None,
        ),
    ] {
        let due = parse_due(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(due.spec, DueSpec::After(offset), "{text}");
        assert_eq!(due.after_due_of.as_deref(), Some(id), "{text}");
        assert_eq!(due.time, time, "{text}");
    }
    for (bad, needle) in [
        ("3 ngày sau hạn của Sở Y tế", "không phải id"),
        ("ba ngày sau hạn của bc", "trước \"sau hạn của\" là số ngày"),
    ] {
        let e = parse_due(bad).unwrap_err();
        assert!(e.contains(needle), "{bad}: {e}");
    }
    let first = "\n[[obligation]]\nid = \"bc-dv\"\ntitle = \"BC đơn vị\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"six-monthly-first-half\"\ndue = \"20/06\"\n";
    let text = format!(
        "{}{first}",
        obl(
            "cycle = \"6 tháng đầu năm\"\ndue = \"5 ngày làm việc sau hạn của bc-dv\"\ndepends_on = [\"bc-dv\"]\n"
        )
    );
    let c = load_str("t.toml", &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    let o = c.obligation("bc").unwrap();
    assert_eq!(
        o.due,
        DueRule::AfterDue(Offset {
            amount: 5,
            unit: DayUnit::WorkingDays
        })
    );
    let base = o.due_after.as_ref().unwrap();
    assert_eq!(base.id, "bc-dv");
    assert_eq!(base.obligation.as_ref().unwrap().id, "bc-dv");
    // Not in depends_on.
    let d = err(
        &format!(
            "{}{first}",
            obl(
                "cycle = \"six-monthly-first-half\"\ndue = ‸\"5 ngày làm việc sau hạn của bc-dv\"\n"
            )
        ),
        "obligation \"bc\": due",
        "không có trong depends_on",
    );
    assert!(d.hint.unwrap().contains("depends_on = [\"bc-dv\"]"));
    // Another cycle: no period of the same key to count from.
    let d = err(
        &format!(
            "{}{first}",
            obl(
                "cycle = \"annual\"\ndue = ‸\"5 ngày làm việc sau hạn của bc-dv\"\ndepends_on = [\"bc-dv\"]\n"
            )
        ),
        "obligation \"bc\": due",
        "chu kỳ \"six-monthly-first-half\"), nhưng chu kỳ của nghĩa vụ này là \"annual\"",
    );
    assert!(d.hint.unwrap().contains("cùng chu kỳ"));
}

#[test]
fn period_keys() {
    let cases = [
        ("2026", PeriodKey::Year { year: 2026 }),
        (
            "2026-H1",
            PeriodKey::Half {
                year: 2026,
                half: 1,
            },
        ),
        (
            "2026-h2",
            PeriodKey::Half {
                year: 2026,
                half: 2,
            },
        ),
        ("2026-9M", PeriodKey::NineMonths { year: 2026 }),
        (
            "2026-Q3",
            PeriodKey::Quarter {
                year: 2026,
                quarter: 3,
            },
        ),
        (
            "2026-05",
            PeriodKey::Month {
                year: 2026,
                month: 5,
            },
        ),
        (
            "2026-12",
            PeriodKey::Month {
                year: 2026,
                month: 12,
            },
        ),
        ("nq121-dotxuat", PeriodKey::Once("nq121-dotxuat".into())),
    ];
    for (text, want) in cases {
        let got = parse_period_key(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got, want, "{text}");
    }
    let may_2026 = PeriodKey::Month {
        year: 2026,
        month: 5,
    };
    assert_eq!(may_2026.to_string(), "2026-05");
    let h2_2026 = PeriodKey::Half {
        year: 2026,
        half: 2,
    };
    assert_eq!(h2_2026.to_string(), "2026-H2");
    for bad in [
        "2026-H3", "2026-Q5", "2026-13", "2026-00", "2026-", "2026H1", "1899", "2026-5", "Q1-2026",
        "",
    ] {
        assert!(parse_period_key(bad).is_err(), "{bad}");
    }
}

#[test]
fn emails_and_ids() {
    for ok in [
        "vanthu@soldtbxh.quangngai.example",
        "a.b+c@x-y.vn",
        "A@B.CO",
    ] {
        assert!(values::is_valid_email(ok), "{ok}");
    }
    for bad in [
        "", "a", "a@", "@b.vn", "a@b", "a b@c.vn", "a@b..vn", "a@-b.vn", "a@b.v", "a@@b.vn",
        ".a@b.vn", "a@b.v1",
    ] {
        assert!(!values::is_valid_email(bad), "{bad}");
    }
    for ok in ["so-ldtbxh", "ubnd_tinh", "2026", "a"] {
        assert!(values::is_valid_id(ok), "{ok}");
    }
    for bad in ["", "So", "sở", "-a", "a b", "a.b"] {
        assert!(!values::is_valid_id(bad), "{bad}");
    }
    assert_eq!(
        values::parse_mailbox("Sở Y tế <vanthu@soyte.example>"),
        Ok("vanthu@soyte.example")
    );
    assert_eq!(values::fold("Ngày  LÀM việc đ"), "ngay lam viec d");
}

mod never_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn value_parsers_total(s in "\\PC{0,40}") {
            let _ = parse_date(&s);
            let _ = parse_day_month(&s);
            let _ = parse_offset(&s);
            let _ = parse_time(&s);
            let _ = parse_time_range(&s);
            let _ = parse_due(&s);
            let _ = parse_period_key(&s);
            let _ = values::parse_mailbox(&s);
            let _ = values::is_valid_email(&s);
        }

        #[test]
        fn structured_inputs_total(a in 0u32..5000, b in 0u32..40, c in 0u32..40, sep in "[/.:h-]") {
            let texts = [format!("{b}{sep}{c}{sep}{a}"), format!("{a}-{b:02}-{c:02}"), format!("{b}{sep}{c}"), format!("{a}-Q{b}"), format!("ngày {a} tháng sau")];
            for t in texts {
                let _ = parse_date(&t);
                let _ = parse_day_month(&t);
                let _ = parse_time(&t);
                let _ = parse_due(&t);
                let _ = parse_period_key(&t);
            }
        }

        #[test]
        fn loader_total(s in "\\PC{0,200}") {
            let _ = load_str("p.toml", &s);
        }
    }
}

#[test]
fn generated_national_config_is_valid() {
    let text = testkit::national::generate();
    let started = std::time::Instant::now();
    let loaded =
        load_str("national.toml", &text).unwrap_or_else(|e| panic!("{}", check::render(&Err(e))));
    let elapsed = started.elapsed();
    assert!(
        loaded.warnings.is_empty(),
        "{}",
        check::render(&Ok(loaded.clone()))
    );
    assert_eq!(loaded.config.units.len(), 4000);
    assert_eq!(loaded.config.obligations.len(), 22);
    let cycles: std::collections::HashSet<String> = loaded
        .config
        .obligations
        .iter()
        .map(|o| format!("{:?}", o.cycle))
        .collect();
    // Monthly to annual, plus the daily and weekly reports of every unit.
    assert_eq!(cycles.len(), 8, "mixed cycles: {cycles:?}");
    eprintln!(
        "national config: {} bytes loaded in {elapsed:?}",
        text.len()
    );
}

// ------------------------------------------- hostile text, parser messages,
// ------------------------------------------- encodings, counts, mailboxes

/// Control characters in any configured text are refused, pointing at the
/// value, with the value shown escaped (never raw on a terminal).
#[test]
fn control_characters_in_text_are_refused() {
    let unit = |field: &str| {
        with(&format!(
            "\n[[unit]]\nid = \"so-gddt\"\nname = \"Sở GD\"\nemail = \"vanthu@sogddt.example\"\ngroups = [\"so-nganh\"]\n{field}\n"
        ))
    };
    let ob = |field: &str| {
        with(&format!(
            "\n[[obligation]]\nid = \"bc-quy\"\ntitle = \"Báo cáo quý\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"quarterly\"\ndue = \"ngày 20\"\n{field}\n"
        ))
    };
    // (text with the marker on the bad value, key, escaped value shown)
    let cases: Vec<(String, &str, &str)> = vec![
        (
            with(
                "\n[[unit]]\nid = \"so-gddt\"\nname = ‸\"Sở GD\\r\\nBcc: x@evil.example\"\nemail = \"a@b.example\"\ngroups = [\"so-nganh\"]\n",
            ),
            "unit \"so-gddt\": name",
            "\"Sở GD\\r\\nBcc: x@evil.example\"",
        ),
        (
            unit("head = { name = ‸\"Ông A\\u007FB\", email = \"gd@b.example\" }"),
            "unit \"so-gddt\": head.name",
            "\"Ông A\\u007FB\"",
        ),
        (
            ob("legal_basis = ‸\"CV 4040\\u0000\""),
            "obligation \"bc-quy\": legal_basis",
            "\"CV 4040\\u0000\"",
        ),
        (
            with(
                "\n[[obligation]]\nid = \"bc-quy\"\ntitle = ‸\"Báo cáo \\u001B[31mquý\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"quarterly\"\ndue = \"ngày 20\"\n",
            ),
            "obligation \"bc-quy\": title",
            "\"Báo cáo \\e[31mquý\"",
        ),
        (
            // A multi-line string carries a real line break.
            with(
                "\n[[obligation]]\nid = \"bc-quy\"\ntitle = ‸\"\"\"Báo cáo\nquý\"\"\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"quarterly\"\ndue = \"ngày 20\"\n",
            ),
            "obligation \"bc-quy\": title",
            "\"Báo cáo\\nquý\"",
        ),
        (
            ob("[[obligation.escalation]]\nafter = \"1 ngày\"\nnotify = [‸\"unit\\r\"]"),
            "obligation \"bc-quy\": escalation[0].notify[0]",
            "\"unit\\r\"",
        ),
        (
            with("\n[mail]\nfrom = ‸\"Sở Y tế\\r\\n <baocao@soyte.example>\"\n"),
            "mail.from",
            "\"Sở Y tế\\r\\n <baocao@soyte.example>\"",
        ),
        (
            with("\n[mail]\nreply_to = ‸\"Văn phòng\\n <vp@soyte.example>\"\n"),
            "mail.reply_to",
            "\"Văn phòng\\n <vp@soyte.example>\"",
        ),
        (
            with("\n[[calendar.days_off]]\ndate = \"02/01/2026\"\nreason = ‸\"Nghỉ\\u0085bù\"\n"),
            "calendar.days_off[0].reason",
            "\"Nghỉ\\u0085bù\"",
        ),
        (
            with(
                "\n[[group]]\nid = \"khac\"\nname = ‸\"Nhóm\\u0007 khác\"\nmembers = [\"ubnd-tinh\"]\n",
            ),
            "group \"khac\": name",
            "\"Nhóm\\u0007 khác\"",
        ),
        (
            format!("include = [‸\"don-vi\\n.toml\"]\n{BASE}"),
            "include[0]",
            "\"don-vi\\n.toml\"",
        ),
        (
            with(
                "\n[mail]\ntransport = \"smtp\"\nfrom = \"a@b.example\"\n[mail.smtp]\nhost = \"h.example\"\nusername = \"u\"\npassword_env = \"P\"\npassword = ‸\"bí\\rmật\"\n",
            ),
            "mail.smtp.password",
            "\"***\"",
        ),
    ];
    for (text, key, shown) in cases {
        let d = err(&text, key, "ký tự điều khiển");
        assert_eq!(d.value.as_deref(), Some(shown), "{d}");
        let line = d.to_string();
        assert!(!line.chars().any(char::is_control), "raw control: {line:?}");
        assert!(d.hint.as_deref().unwrap().contains("một dòng"), "{d}");
        assert!(!line.contains("bí"), "secret shown: {line}");
    }
    // The message names the characters.
    let d = err(
        &with(
            "\n[[unit]]\nid = \"so-gddt\"\nname = ‸\"A\\r\\nB\"\nemail = \"a@b.example\"\ngroups = [\"so-nganh\"]\n",
        ),
        "unit \"so-gddt\": name",
        "ký tự điều khiển",
    );
    assert_eq!(
        d.message,
        "chứa ký tự điều khiển U+000D (CR, về đầu dòng), U+000A (LF, xuống dòng)"
    );
    // TAB is harmless and allowed.
    let text = unit("head = { name = \"Ông\\tA\", email = \"gd@b.example\" }");
    let loaded = load_str("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let u = loaded
        .config
        .units
        .iter()
        .find(|u| u.id == "so-gddt")
        .unwrap();
    assert_eq!(u.head.as_ref().unwrap().name, "Ông\tA");
}

/// The TOML parser's and serde's common messages are shown in Vietnamese,
/// at the same file:line:col.
#[test]
fn parser_messages_are_vietnamese() {
    // (text with marker, key, exact message)
    let cases: Vec<(String, &str, &str)> = vec![
        (
            obl("cycle = \"annual\"\ndue = \"ngày 20\"\ndepends_on = ‸\"bc-nam\""),
            "obligation \"bc\": depends_on",
            "sai kiểu giá trị: gặp chuỗi \"bc-nam\", cần một danh sách",
        ),
        (
            obl("cycle = \"annual\"\ndue = \"ngày 20\"\nroll_to_working_day = ‸\"có\""),
            "obligation \"bc\": roll_to_working_day",
            "sai kiểu giá trị: gặp chuỗi \"có\", cần true hoặc false",
        ),
        (
            obl("cycle = \"annual\"\ndue = ‸20"),
            "obligation \"bc\": due",
            "sai kiểu giá trị: gặp số nguyên 20, cần một chuỗi",
        ),
        (
            with(
                "\n[mail]\ntransport = \"smtp\"\nfrom = \"a@b.example\"\n[mail.smtp]\nhost = \"h.example\"\nconnections = ‸[4]\n",
            ),
            "mail.smtp.connections",
            "sai kiểu giá trị: gặp một danh sách, cần một số nguyên",
        ),
        (
            with("\n[[unit]]\nid = \"x\"\nname = \"X\"\nemail = ‸{ a = 1 }\n"),
            "unit \"x\": email",
            "sai kiểu giá trị: gặp một bảng, cần một chuỗi hoặc một danh sách chuỗi",
        ),
        (
            "[[unit]]\nid = \"a\"\nname ‸\"A\"\n".to_string(),
            "",
            "lỗi cú pháp TOML: khóa không có giá trị; cần `=`",
        ),
        (
            "[[unit]]\nid = \"a\"\n‸id = \"b\"\n".to_string(),
            "",
            "lỗi cú pháp TOML: khóa này đã có ở trên (trùng khóa trong cùng một bảng)",
        ),
        (
            "[[unit]]\nid = ‸so-yte\n".to_string(),
            "",
            "lỗi cú pháp TOML: giá trị chuỗi phải đặt trong dấu ngoặc kép; cần chuỗi trong ngoặc kép",
        ),
        (
            "reporters = [\"a\" ‸\"b\"]\n".to_string(),
            "",
            "lỗi cú pháp TOML: thiếu dấu phẩy giữa các phần tử của danh sách; cần `,`",
        ),
        (
            "include = ‸3\n".to_string(),
            "include",
            "cần danh sách đường dẫn, gặp số nguyên",
        ),
        (
            with("\n[[unit]]\nid = \"x\"\nname = \"X\"\nactive_from = ‸2026-06-20\n"),
            "unit \"x\": active_from",
            "sai kiểu giá trị: gặp một ngày giờ TOML (viết không có dấu ngoặc kép), cần một chuỗi",
        ),
    ];
    for (text, key, message) in cases {
        let (clean, line, col) = marked(&text);
        let (errors, _) = errors_of("t.toml", &clean);
        let d = errors
            .iter()
            .find(|d| d.key == key && (d.line, d.column) == (line, col))
            .unwrap_or_else(|| panic!("no error for {key:?} at {line}:{col}: {errors:?}"));
        assert_eq!(d.message, message, "{d}");
        for english in ["expected", "invalid", "duplicate", "integer", "sequence"] {
            assert!(!d.to_string().contains(english), "{english}: {d}");
        }
    }
    // An unknown key is named in Vietnamese with the valid keys (already so).
    let d = err(
        &with("\n[[unit]]\nid = \"x\"\n‸nmae = \"X\"\n"),
        "unit \"x\": nmae",
        "khóa không được hỗ trợ",
    );
    assert!(d.hint.unwrap().contains("có phải ý là `name`?"));
}

fn fixture(p: &str) -> PathBuf {
    repo(&format!("tests/fixtures/config/encoding/{p}"))
}

/// A file saved in another encoding than UTF-8 is reported on its own path
/// (not on the include line), naming the encoding and how to save it as
/// UTF-8, with no follow-on errors about the ids it declares. The units of
/// each fixture are the same text; its main file is UTF-8.
#[test]
fn files_not_in_utf8_are_reported_on_their_own_path() {
    // (encoding, what the message says, iconv's name)
    let cases = [
        ("windows-1258", "Windows-1258", "WINDOWS-1258"),
        ("utf16le-bom", "UTF-16 LE có BOM", "UTF-16"),
        ("utf16be-bom", "UTF-16 BE có BOM", "UTF-16"),
        ("utf16le", "UTF-16 LE không có BOM", "UTF-16LE"),
        ("utf16be", "UTF-16 BE không có BOM", "UTF-16BE"),
    ];
    for (enc, says, iconv) in cases {
        let main = fixture(&format!("main-{enc}.toml"));
        let e = load(&main).expect_err(enc);
        assert_eq!(e.errors.len(), 1, "{enc}: {e}");
        assert!(e.warnings.is_empty(), "{enc}: {:?}", e.warnings);
        let d = &e.errors[0];
        assert_eq!(d.file, fixture(&format!("units-{enc}.toml")), "{enc}: {d}");
        assert!(d.message.contains("không được lưu ở bảng mã UTF-8"), "{d}");
        assert!(d.message.contains(says), "{enc}: {d}");
        let hint = d.hint.as_deref().unwrap();
        assert!(
            hint.contains(&format!("iconv -f {iconv} -t UTF-8 ")),
            "{enc}: {hint}"
        );
        assert!(
            hint.contains("Notepad") && hint.contains("LibreOffice"),
            "{hint}"
        );
    }
    // Windows-1258: the first byte that is not UTF-8, "á" of "Các" on line 1.
    let e = load(&fixture("main-windows-1258.toml")).unwrap_err();
    assert_eq!((e.errors[0].line, e.errors[0].column), (1, 4));
    // A UTF-8 byte-order mark is fine.
    let loaded = load(&fixture("main-utf8-bom.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.units.len(), 3);
    // A file that is missing altogether: no follow-on errors either.
    let text = "include = [‸\"khong-co.toml\"]\n[[obligation]]\nid = \"bc\"\ntitle = \"BC\"\nreporters = [\"so-yte\"]\nrecipient = \"ubnd-tinh\"\ncycle = \"annual\"\ndue = \"ngày 20\"\n";
    let d = err(text, "include", "không đọc được tệp: không tìm thấy tệp");
    let (clean, _, _) = marked(text);
    let e = load_str("t.toml", &clean).unwrap_err();
    assert_eq!(e.errors.len(), 1, "{e}");
    assert!(d.to_string().contains("khong-co.toml"));
}

/// `hanbao check` counts every warning it prints: the confirmation-link
/// warning (printed outside the configuration's own warnings) is one.
#[test]
fn check_counts_every_warning_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let cfg = dir.path().join("hanbao.toml");
    let text = format!(
        "[daemon]\nstate_dir = \"{}\"\npublic_url = \"https://baocao.quangngai.example\"\n{BASE}",
        state.display()
    );
    std::fs::write(&cfg, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hanbao"))
        .arg("--config")
        .arg(&cfg)
        .arg("check")
        .env_remove("HANBAO_STATE_DIR")
        .env_remove("HANBAO_DATABASE")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Cảnh báo về liên kết xác nhận"), "{stdout}");
    assert!(stdout.trim_end().ends_with("; 1 cảnh báo."), "{stdout}");
}

/// A unit that reports must have a mailbox, unless it is marked
/// `emailed = false`; a unit marked so must not have one.
#[test]
fn reporter_without_mailbox_is_an_error_unless_marked() {
    let unit = |extra: &str| {
        with(&format!(
            "\n‸[[unit]]\nid = \"so-gddt\"\nname = \"Sở GD&ĐT\"\ngroups = [\"so-nganh\"]\n{extra}\n"
        ))
    };
    // (unit keys, Some(error needle) or None when valid)
    let cases = [
        (
            "",
            Some("đơn vị báo cáo cho nghĩa vụ \"bc-nam\" nhưng không có email"),
        ),
        ("emailed = true", Some("không có email")),
        ("emailed = false", None),
        ("email = \"vanthu@sogddt.example\"", None),
        ("email = \"vanthu@sogddt.example\"\nemailed = true", None),
    ];
    for (extra, want) in cases {
        let text = unit(extra);
        match want {
            Some(needle) => {
                let d = err(&text, "unit \"so-gddt\"", needle);
                assert!(
                    d.hint.as_deref().unwrap().contains("emailed = false"),
                    "{d}"
                );
            }
            None => {
                let (clean, _, _) = marked(&text);
                let loaded = load_str("t.toml", &clean).unwrap_or_else(|e| panic!("{extra}: {e}"));
                assert!(loaded.warnings.is_empty(), "{extra}: {:?}", loaded.warnings);
            }
        }
    }
    // Marked as not emailed but given a mailbox: say which to drop.
    let d = err(
        &with(
            "\n[[unit]]\nid = \"so-gddt\"\nname = \"Sở GD&ĐT\"\ngroups = [\"so-nganh\"]\nemail = \"vanthu@sogddt.example\"\nemailed = ‸false\n",
        ),
        "unit \"so-gddt\": emailed",
        "emailed = false nhưng vẫn có email",
    );
    assert!(d.hint.unwrap().contains("\"vanthu@sogddt.example\""));
    // A unit that reports nothing may have no mailbox.
    let loaded = load_str(
        "t.toml",
        &with("\n[[unit]]\nid = \"hdnd\"\nname = \"HĐND tỉnh\"\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        loaded.warnings.iter().all(|w| !w.message.contains("email")),
        "{:?}",
        loaded.warnings
    );
}

/// `daemon.outbox_retention_days`: two years by default, at least the
/// planner's look-back with a margin (100 days), at most a hundred years.
#[test]
fn outbox_retention_is_checked() {
    let c = load_str("t.toml", BASE).unwrap().config;
    assert_eq!(c.daemon.outbox_retention_days, 730);
    for good in [100, 365, 36_500] {
        let text = format!("[daemon]\noutbox_retention_days = {good}\n{BASE}");
        let c = load_str("t.toml", &text).unwrap().config;
        assert_eq!(c.daemon.outbox_retention_days, good);
    }
    for bad in ["99", "0", "-1", "36501", "4294967297"] {
        let d = err(
            &format!("[daemon]\noutbox_retention_days = ‸{bad}\n"),
            "daemon.outbox_retention_days",
            "phải từ 100 đến 36500",
        );
        assert!(d.to_string().contains("lịch sử nộp báo cáo"), "{d}");
    }
}

/// `daemon.file_max_mb` and `daemon.files_per_submission`: 25 MB and
/// 10 files by default, each in its range.
#[test]
fn file_limits_are_checked() {
    let c = load_str("t.toml", BASE).unwrap().config;
    assert_eq!(c.daemon.files.max_bytes, 25 * 1024 * 1024);
    assert_eq!(c.daemon.files.max_count, 10);
    let text = format!("[daemon]\nfile_max_mb = 2\nfiles_per_submission = 3\n{BASE}");
    let c = load_str("t.toml", &text).unwrap().config;
    assert_eq!(c.daemon.files.max_bytes, 2 * 1024 * 1024);
    assert_eq!(c.daemon.files.max_count, 3);
    for bad in ["0", "-5", "1025"] {
        err(
            &format!("[daemon]\nfile_max_mb = ‸{bad}\n"),
            "daemon.file_max_mb",
            "dung lượng tối đa của một tệp (MB) phải từ 1 đến 1024",
        );
    }
    for bad in ["0", "101"] {
        err(
            &format!("[daemon]\nfiles_per_submission = ‸{bad}\n"),
            "daemon.files_per_submission",
            "số tệp gửi kèm một lần phải từ 1 đến 100",
        );
    }
}

/// A `[[directive]]` with all it needs, for the cases below.
const DIRECTIVE: &str = r#"
[[directive]]
id = "cv4040"
kind = "Công văn"
number = "4040/UBND-KGVX"
date = "28/08/2020"
issuer = "UBND tỉnh Quảng Ngãi"
about = "triển khai thực hiện Nghị quyết số 121/2020/QH14"
sender = { agency = "ubnd-tinh", office = "Văn phòng" }
contact = { name = "Bà Nguyễn Thị Hoa", phone = "0255 3822 123" }
submission = { to = "UBND tỉnh", how = "văn bản điện tử" }
"#;

/// `[[directive]]`: the only directive speaks for every obligation; an
/// obligation's own blocks replace its directive's; `short_title`.
#[test]
fn directives_say_who_speaks() {
    let text = format!(
        "{}\n[obligation.submission]\nto = \"Sở Y tế\"\nhow = \"bản giấy\"\n{DIRECTIVE}",
        BASE.replace(
            "title = \"Báo cáo năm\"",
            "title = \"Báo cáo năm\"\nshort_title = \"BC năm\""
        ),
    );
    let loaded = load_str("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let cfg = loaded.config;
    assert_eq!(cfg.directives.len(), 1);
    let d = &cfg.directives[0];
    assert_eq!(
        (d.basis.kind.as_str(), d.basis.number.as_str(), d.basis.date),
        ("Công văn", "4040/UBND-KGVX", date(2020, 8, 28))
    );
    let ob = &cfg.obligations[0];
    assert_eq!(ob.short_title.as_deref(), Some("BC năm"));
    assert_eq!(ob.voice.directive.as_deref(), Some("cv4040"));
    assert_eq!(ob.voice.sender.as_ref().unwrap().agency, "ubnd-tinh");
    assert_eq!(ob.voice.contact.as_ref().unwrap().name, "Bà Nguyễn Thị Hoa");
    assert_eq!(ob.voice.submission.as_ref().unwrap().to, "Sở Y tế");
    // Without a directive, nothing is required and nothing is said.
    let plain = load_str("t.toml", BASE).unwrap().config;
    assert_eq!(plain.obligations[0].voice, Default::default());
}

#[test]
fn directive_errors() {
    let d = DIRECTIVE;
    // A missing block, with how to write it.
    err(
        &with(
            &d.replace(
                "contact = { name = \"Bà Nguyễn Thị Hoa\", phone = \"0255 3822 123\" }\n",
                "",
            )
            .replace("[[directive]]", "‸[[directive]]"),
        ),
        "directive \"cv4040\": contact",
        "thiếu [directive.contact]",
    );
    // An agency that is no unit, with the nearest id.
    let e = err(
        &with(&d.replace("agency = \"ubnd-tinh\"", "agency = ‸\"ubnd-tnh\"")),
        "directive \"cv4040\": sender.agency",
        "không có unit với id này",
    );
    assert!(e.hint.unwrap().contains("ubnd-tinh"));
    // A contact nobody can reach.
    err(
        &with(&d.replace(
            "contact = { name = \"Bà Nguyễn Thị Hoa\", phone = \"0255 3822 123\" }",
            "contact = ‸{ name = \"Bà Nguyễn Thị Hoa\" }",
        )),
        "directive \"cv4040\": contact",
        "ít nhất số điện thoại hoặc địa chỉ email",
    );
    err(
        &with(&d.replace("date = \"28/08/2020\"", "date = ‸\"28/13/2020\"")),
        "directive \"cv4040\": date",
        "",
    );
    err(
        &with(&d.replace("number = \"4040/UBND-KGVX\"", "number = ‸\" \"")),
        "directive \"cv4040\": number",
        "không được để trống",
    );
    // An obligation naming a directive that does not exist.
    err(
        &format!(
            "{}{d}",
            BASE.replace(
                "title = \"Báo cáo năm\"",
                "title = \"Báo cáo năm\"\ndirective = ‸\"cv404\""
            )
        ),
        "obligation \"bc-nam\": directive",
        "không có directive với id này",
    );
    // Two directives: each obligation says which.
    err(
        &format!(
            "{}{d}{}",
            BASE.replace("[[obligation]]", "‸[[obligation]]"),
            d.replace("cv4040", "kh12")
        ),
        "obligation \"bc-nam\": directive",
        "có nhiều [[directive]]",
    );
    // A short title that would not leave room in a subject.
    err(
        &with("").replace(
            "title = \"Báo cáo năm\"",
            "title = \"Báo cáo năm\"\nshort_title = ‸\"Báo cáo năm về tình hình thực hiện các nhiệm vụ trọng tâm\"",
        ),
        "obligation \"bc-nam\": short_title",
        "tối đa 45",
    );
}

/// `[daemon]`'s HTTP server limits: defaults, accepted values, and each
/// key out of range reported at its value.
#[test]
fn http_server_limits_are_checked() {
    use std::time::Duration;
    let c = load_str("t.toml", BASE).unwrap().config;
    assert_eq!(c.daemon.http.max_connections, 512);
    assert_eq!(c.daemon.http.header_timeout, Duration::from_secs(20));
    assert_eq!(c.daemon.http.request_timeout, Duration::from_secs(30));
    let text = format!(
        "[daemon]\nhttp_max_connections = 64\nhttp_header_timeout_secs = 5\n\
         http_request_timeout_secs = 3600\n{BASE}"
    );
    let c = load_str("t.toml", &text).unwrap().config;
    assert_eq!(c.daemon.http.max_connections, 64);
    assert_eq!(c.daemon.http.header_timeout, Duration::from_secs(5));
    assert_eq!(c.daemon.http.request_timeout, Duration::from_secs(3600));
    for bad in ["0", "65536", "-1"] {
        err(
            &format!("[daemon]\nhttp_max_connections = ‸{bad}\n"),
            "daemon.http_max_connections",
            "từ 1 đến 65535",
        );
    }
    assert!(c.daemon.http.trusted_proxies.is_empty());
    let text =
        format!("[daemon]\ntrusted_proxies = [\"127.0.0.1\", \"::1\", \"10.1.2.3/16\"]\n{BASE}");
    let c = load_str("t.toml", &text).unwrap().config;
    let nets: Vec<String> = c
        .daemon
        .http
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(nets, ["127.0.0.1/32", "::1/128", "10.1.0.0/16"]);
    for bad in ["localhost", "10.0.0.0/33", "1.2.3"] {
        err(
            &format!("[daemon]\ntrusted_proxies = [\"127.0.0.1\", ‸\"{bad}\"]\n"),
            "daemon.trusted_proxies",
            "không phải địa chỉ IP hoặc dải CIDR",
        );
    }
    warn(
        &format!("[daemon]\ntrusted_proxies = [‸\"0.0.0.0/0\"]\n{BASE}"),
        "daemon.trusted_proxies",
        "tin mọi địa chỉ",
    );
    for key in ["http_header_timeout_secs", "http_request_timeout_secs"] {
        for bad in ["0", "3601", "-5"] {
            err(
                &format!("[daemon]\n{key} = ‸{bad}\n"),
                &format!("daemon.{key}"),
                "từ 1 đến 3600 giây",
            );
        }
    }
}

#[test]
fn public_urls_are_absolute_http_with_a_host() {
    for (text, want) in [
        (
            "https://baocao.quangngai.example",
            "https://baocao.quangngai.example",
        ),
        (
            "https://baocao.quangngai.example/",
            "https://baocao.quangngai.example",
        ),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("HTTPS://x.example/hanbao/", "HTTPS://x.example/hanbao"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("http://[::1]", "http://[::1]"),
        ("https://sở.example", "https://sở.example"),
        (" https://x.example ", "https://x.example"),
    ] {
        assert_eq!(
            hanbao::config::values::parse_public_url(text).as_deref(),
            Ok(want),
            "{text}"
        );
    }
    for bad in [
        "",
        "x.example",
        "ftp://x.example",
        "https://",
        "https:///path",
        "https://x.example?x=1",
        "https://x.example/#a",
        "https://user:pw@x.example",
        "https://x.example:0",
        "https://x.example:99999",
        "https://x.example:",
        "https://x .example",
        "https://x..example",
        "http://[::1",
        "http://[nope]",
        "http://[::1]x",
        "http://::1:80",
        "//x.example",
    ] {
        assert!(
            hanbao::config::values::parse_public_url(bad).is_err(),
            "{bad}"
        );
    }
}

/// `[intake]`: absent, no mailbox; present, TLS on 993 and INBOX by
/// default, a password source required and never a literal password,
/// no encryption only towards this machine, a move folder other than the
/// watched one, numbers within their bounds.
#[test]
fn intake_section() {
    use hanbao::config::model::{AfterIntake, ImapSecurity, SecretSource};
    assert!(load_str("t.toml", BASE).unwrap().config.intake.is_none());
    let c = load_str(
        "t.toml",
        "[intake]\nhost = \"imap.so.example\"\nusername = \"baocao\"\npassword_file = \"/etc/hanbao/imap-password\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .config;
    let i = c.intake.unwrap();
    assert_eq!((i.security, i.port), (ImapSecurity::Tls, 993));
    assert_eq!(i.mailbox, "INBOX");
    assert_eq!(i.after, AfterIntake::MarkSeen);
    assert_eq!(
        i.password,
        SecretSource::File("/etc/hanbao/imap-password".into())
    );
    assert_eq!(
        (i.poll_secs, i.max_message_bytes, i.max_attachments),
        (60, 25 << 20, 10),
        "at most daemon.files_per_submission attachments by default"
    );
    assert!(!format!("{i:?}").contains("***"));

    let c = load_str(
        "t.toml",
        "[intake]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\nport = 1143\nusername = \"u\"\npassword_env = \"HANBAO_IMAP_PASSWORD\"\nmailbox = \"Bao cao\"\nmove_to = \"Da xu ly\"\npoll_secs = 10\nmax_message_mb = 30\nmax_attachments = 5\n",
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .config;
    let i = c.intake.unwrap();
    assert_eq!((i.security, i.port), (ImapSecurity::None, 1143));
    assert_eq!(i.after, AfterIntake::MoveTo("Da xu ly".into()));
    assert_eq!((i.mailbox.as_str(), i.poll_secs), ("Bao cao", 10));
    assert_eq!((i.max_message_bytes, i.max_attachments), (30 << 20, 5));

    let ok =
        "host = \"imap.so.example\"\nusername = \"u\"\npassword_credential = \"imap-password\"\n";
    let d = err(
        &format!("[intake]\n{ok}security = ‸\"none\"\n"),
        "intake.security",
        "không mã hóa chỉ được dùng với máy chủ trên chính máy này",
    );
    assert!(d.hint.as_deref().unwrap().contains("\"tls\""), "{d}");
    err(
        &format!("[intake]\n{ok}security = ‸\"starttls\"\n"),
        "intake.security",
        "không có kiểu bảo mật này",
    );
    let d = err(
        &format!("[intake]\n{ok}password = ‸\"hunter2\"\n"),
        "intake.password",
        "không được ghi mật khẩu trực tiếp",
    );
    assert!(!d.to_string().contains("hunter2"), "{d}");
    err(
        "‸[intake]\nhost = \"imap.so.example\"\nusername = \"u\"\n",
        "intake",
        "thiếu nguồn mật khẩu",
    );
    err(
        "‸[intake]\nusername = \"u\"\npassword_env = \"P\"\n",
        "intake.host",
        "thiếu tên máy chủ IMAP",
    );
    err(
        &format!("[intake]\n{ok}password_file = ‸\"imap-password\"\n"),
        "intake.password_file",
        "phải là đường dẫn tuyệt đối",
    );
    err(
        "[intake]\nhost = \"h.example\"\nusername = \"u\"\npassword_file = \"/etc/p\"\npassword_env = ‸\"P\"\n",
        "intake",
        "chỉ được chọn một nguồn mật khẩu",
    );
    err(
        &format!("[intake]\n{ok}move_to = ‸\"INBOX\"\n"),
        "intake.move_to",
        "trùng với hộp thư đang theo dõi",
    );
    err(
        &format!("[intake]\n{ok}poll_secs = ‸5\n"),
        "intake.poll_secs",
        "phải từ 10 đến 3600",
    );
    err(
        &format!("[intake]\n{ok}max_message_mb = ‸0\n"),
        "intake.max_message_mb",
        "phải từ 1 đến 100",
    );
    for bad in ["*", ""] {
        err(
            &format!("[intake]\n{ok}mailbox = ‸\"{bad}\"\n"),
            "intake.mailbox",
            "không phải tên thư mục thư",
        );
    }
    // A name with diacritics travels in IMAP's modified UTF-7, which the
    // mailbox does not write: refused, saying so.
    for key in ["mailbox", "move_to"] {
        let d = err(
            &format!("[intake]\n{ok}{key} = ‸\"Đã xử lý\"\n"),
            &format!("intake.{key}"),
            "tên thư mục có chữ có dấu hoặc ký tự ngoài bảng ASCII: chưa hỗ trợ",
        );
        assert!(d.hint.as_deref().unwrap().contains("Da xu ly"), "{d}");
    }
    // One rule for the files of a message and of any other submission.
    let c = load_str(
        "t.toml",
        &format!("[daemon]\nfiles_per_submission = 4\n[intake]\n{ok}"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .config;
    assert_eq!(c.intake.unwrap().max_attachments, 4);
    let d = err(
        &format!("[daemon]\nfiles_per_submission = 4\n[intake]\n{ok}max_attachments = ‸5\n"),
        "intake.max_attachments",
        "mâu thuẫn với daemon.files_per_submission = 4",
    );
    assert!(d.hint.as_deref().unwrap().contains("từ 1 đến 4"), "{d}");
}
