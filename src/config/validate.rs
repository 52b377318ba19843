//! Raw configuration -> validated [`model::Config`], collecting every problem.
//!
//! Checks values (through the pure parsers in `values`), defaults, and every
//! cross-reference: unknown or duplicate ids (with the nearest existing id as
//! a suggestion), supervisor and `depends_on` loops, successors, reminders
//! that are not before the deadline, overrides whose period key does not fit
//! the cycle, SMTP settings. Warnings (things that are legal but probably not
//! meant) are collected apart. No IO and no clock: the file reading is done
//! by `load` before this runs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde_spanned::Spanned;

use super::load::{Collected, Item, Loc, Reporter, join, nearest, quote};
use super::model::{
    CalendarSettings, Config, ConfiguredDay, Cycle, Daemon, DayUnit, DueRule, EscalationStage,
    EscalationTarget, Language, Mail, Obligation, Offset, Person, Recipient, Repeat, SecretSource,
    SendingHours, Smtp, SmtpSecurity, Transport, Unit, WindowStyle,
};
use super::raw::{RawCalendar, RawDaemon, RawMail, RawObligation, RawUnit};
use super::values::{
    self, DATE_FORMS, DUE_FORMS, DueSpec, ID_FORMS, OFFSET_FORMS, PERIOD_KEY_FORMS,
    TIME_RANGE_FORMS, format_date,
};
use crate::period::{PeriodKey, periods_of_year};

pub(crate) const DEFAULT_TIME_ZONE: &str = "Asia/Ho_Chi_Minh";
pub(crate) const DEFAULT_STATE_DIR: &str = "/var/lib/hanbao";
pub(crate) const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8080";
pub(crate) const DEFAULT_FROM: &str = "hanbao@localhost";
/// Upper bound of `[mail.smtp] connections`.
pub(crate) const MAX_SMTP_CONNECTIONS: usize = 16;
/// The coordinator's digest: Monday 08:00 local.
pub const DEFAULT_DIGEST: &str = "0 8 * * Mon";
pub(crate) const RECIPIENT_COUNCIL: &str = "reporter.council";
pub(crate) const RECIPIENT_SUPERVISOR: &str = "reporter.supervisor";

const CYCLES: [(&str, &str); 7] = [
    ("monthly", "hang thang"),
    ("quarterly", "hang quy"),
    ("six-monthly", "6 thang"),
    ("six-monthly-first-half", "6 thang dau nam"),
    ("nine-monthly", "9 thang"),
    ("annual", "hang nam"),
    ("once", "mot lan"),
];
const NOTIFY: [&str; 4] = ["unit", "head", "supervisor", "recipient"];

/// Validates everything collected from the files. Returns the model when no
/// error was reported (warnings may have been).
pub fn validate(col: &Collected, rep: &mut Reporter) -> Option<Config> {
    let errors_before = rep
        .diags
        .iter()
        .filter(|d| d.severity == super::Severity::Error)
        .count();
    let daemon = daemon(col.daemon.as_ref(), rep);
    let mail = mail(col.mail.as_ref(), &daemon.state_dir, rep);
    let calendar = calendar(col.calendar.as_ref(), rep);
    let mut v = Validator {
        rep,
        col,
        units: Vec::new(),
        unit_locs: HashMap::new(),
        unit_pos: HashMap::new(),
        groups: BTreeMap::new(),
    };
    v.units_and_groups();
    let obligations = v.obligations();
    v.unit_links();
    v.warnings_about_usage(&obligations);
    let groups = v
        .groups
        .iter()
        .map(|(k, g)| (k.clone(), g.members.clone()))
        .collect();
    let units = std::mem::take(&mut v.units);
    let errors_after = rep
        .diags
        .iter()
        .filter(|d| d.severity == super::Severity::Error)
        .count();
    if errors_after > errors_before {
        return None;
    }
    Some(Config {
        daemon,
        mail,
        calendar,
        units,
        obligations,
        groups,
        files: rep.files.iter().map(|f| f.path.clone()).collect(),
    })
}

fn at<T>(item_file: usize, s: &Spanned<T>) -> Loc {
    Loc {
        file: item_file,
        span: s.span(),
    }
}

/// The value of `key` read by `parse`, or `None` after reporting why it
/// does not parse, with `hint` saying what would be valid.
fn parsed<T>(
    rep: &mut Reporter,
    file: usize,
    key: &str,
    s: &Spanned<String>,
    parse: impl FnOnce(&str) -> Result<T, String>,
    hint: impl Into<String>,
) -> Option<T> {
    match parse(s.get_ref()) {
        Ok(v) => Some(v),
        Err(why) => {
            rep.error(
                &at(file, s),
                key,
                Some(quote(s.get_ref())),
                why,
                Some(hint.into()),
            );
            None
        }
    }
}

/// A date key: parses it or reports it.
fn date(rep: &mut Reporter, file: usize, key: &str, s: Option<&Spanned<String>>) -> Option<Date> {
    parsed(rep, file, key, s?, values::parse_date, DATE_FORMS)
}

/// `active_from` and `active_until` of the unit or obligation `label`:
/// parses both (reporting bad dates) and reports an `active_until` before
/// `active_from`, with `hint`. Returns the dates and whether they are in order.
fn active_span(
    rep: &mut Reporter,
    file: usize,
    label: &str,
    from: Option<&Spanned<String>>,
    until: Option<&Spanned<String>>,
    hint: Option<&str>,
) -> (Option<Date>, Option<Date>, bool) {
    let active_from = date(rep, file, &join(label, "active_from"), from);
    let active_until = date(rep, file, &join(label, "active_until"), until);
    if let (Some(f), Some(u), Some(s)) = (active_from, active_until, until)
        && u < f
    {
        rep.error(
            &at(file, s),
            &join(label, "active_until"),
            Some(quote(s.get_ref())),
            format!("trước active_from ({})", format_date(f)),
            hint.map(String::from),
        );
        return (active_from, active_until, false);
    }
    (active_from, active_until, true)
}

fn is_absolute(p: &str) -> bool {
    Path::new(p).is_absolute()
}

fn daemon(item: Option<&Item<RawDaemon>>, rep: &mut Reporter) -> Daemon {
    let file = item.map_or(usize::MAX, |i| i.loc.file);
    let raw = item.map(|i| &i.value);
    let mut time_zone_name = DEFAULT_TIME_ZONE.to_string();
    let mut time_zone = TimeZone::get(DEFAULT_TIME_ZONE).unwrap_or(TimeZone::UTC);
    if let Some(s) = raw.and_then(|r| r.time_zone.as_ref()) {
        match TimeZone::get(s.get_ref()) {
            Ok(tz) => {
                time_zone_name = s.get_ref().clone();
                time_zone = tz;
            }
            Err(_) => rep.error(
                &at(file, s),
                "daemon.time_zone",
                Some(quote(s.get_ref())),
                "không có múi giờ IANA này",
                Some(format!("ví dụ {}", quote(DEFAULT_TIME_ZONE))),
            ),
        }
    }
    let mut state_dir = PathBuf::from(DEFAULT_STATE_DIR);
    if let Some(s) = raw.and_then(|r| r.state_dir.as_ref()) {
        if is_absolute(s.get_ref()) {
            state_dir = PathBuf::from(s.get_ref());
        } else {
            rep.error(
                &at(file, s),
                "daemon.state_dir",
                Some(quote(s.get_ref())),
                "phải là đường dẫn tuyệt đối",
                Some(format!("ví dụ {}", quote(DEFAULT_STATE_DIR))),
            );
        }
    }
    let mut database_url = format!("sqlite://{}/hanbao.db", state_dir.display());
    if let Some(s) = raw.and_then(|r| r.database.as_ref()) {
        let url = s.get_ref();
        if url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
        {
            database_url = url.clone();
        } else {
            rep.error(
                &at(file, s),
                "daemon.database",
                Some(quote(&crate::primitives::redact_url(url))),
                "không phải URL cơ sở dữ liệu được hỗ trợ",
                Some("\"sqlite:///var/lib/hanbao/hanbao.db\" hoặc \"postgres://hanbao@localhost/hanbao\"".into()),
            );
        }
    }
    let mut sending_hours = SendingHours {
        start: Time::constant(7, 30, 0, 0),
        end: Time::constant(11, 0, 0, 0),
    };
    if let Some(s) = raw.and_then(|r| r.sending_hours.as_ref())
        && let Some((start, end)) = parsed(
            rep,
            file,
            "daemon.sending_hours",
            s,
            values::parse_time_range,
            TIME_RANGE_FORMS,
        )
    {
        sending_hours = SendingHours { start, end };
    }
    let mut http_listen: SocketAddr = DEFAULT_HTTP_LISTEN
        .parse()
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    if let Some(s) = raw.and_then(|r| r.http_listen.as_ref()) {
        match s.get_ref().parse() {
            Ok(a) => http_listen = a,
            Err(_) => rep.error(
                &at(file, s),
                "daemon.http_listen",
                Some(quote(s.get_ref())),
                "không phải địa chỉ IP:cổng",
                Some(format!(
                    "ví dụ {} hoặc \"[::1]:8080\"",
                    quote(DEFAULT_HTTP_LISTEN)
                )),
            ),
        }
    }
    let mut public_url = None;
    if let Some(s) = raw.and_then(|r| r.public_url.as_ref()) {
        public_url = parsed(
            rep,
            file,
            "daemon.public_url",
            s,
            values::parse_public_url,
            "URL tuyệt đối http:// hoặc https:// mà các đơn vị mở được, \
             ví dụ \"https://baocao.quangngai.example\" hoặc \"https://quangngai.example/hanbao\"",
        );
    }
    let mut digest = DEFAULT_DIGEST.to_string();
    if let Some(s) = raw.and_then(|r| r.digest.as_ref()) {
        // The cron parser is pure (no IO, no clock); it lives with the
        // scheduler so that only `daemon::schedule` imports the cron crate.
        use crate::daemon::schedule::{ScheduleError, validate_cron};
        let hint = "năm trường \"phút giờ ngày tháng thứ\", ví dụ \"0 8 * * Mon\" (8 giờ sáng thứ Hai, mặc định) \
                    hoặc \"30 7 * * Mon-Fri\"; hoặc sáu trường với giây đứng đầu";
        match validate_cron(s.get_ref()) {
            Ok(()) => digest = s.get_ref().trim().to_string(),
            Err(e) => {
                let message = match e {
                    ScheduleError::FieldCount { fields, .. } => {
                        format!("biểu thức cron có {fields} trường")
                    }
                    ScheduleError::Invalid { reason, .. } => {
                        format!("không phải biểu thức cron hợp lệ ({reason})")
                    }
                    ScheduleError::Scheduler(reason) => reason,
                };
                rep.error(
                    &at(file, s),
                    "daemon.digest",
                    Some(quote(s.get_ref())),
                    message,
                    Some(hint.into()),
                );
            }
        }
    }
    Daemon {
        time_zone_name,
        time_zone,
        database_url,
        state_dir,
        sending_hours,
        http_listen,
        public_url,
        digest,
    }
}

/// Whether an SMTP host is this machine (127.0.0.0/8, ::1 or localhost).
fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn mailbox(rep: &mut Reporter, file: usize, key: &str, s: &Spanned<String>) -> Option<String> {
    parsed(
        rep,
        file,
        key,
        s,
        |t| values::parse_mailbox(t).map(|_| t.to_string()),
        "\"Tên đơn vị <dia-chi@ten-mien.example>\" hoặc chỉ địa chỉ",
    )
}

fn mail(item: Option<&Item<RawMail>>, state_dir: &Path, rep: &mut Reporter) -> Mail {
    let default_dir = state_dir.join("outbox-mail");
    let Some(item) = item else {
        return Mail {
            transport: Transport::File { dir: default_dir },
            from: DEFAULT_FROM.into(),
            reply_to: None,
            templates: None,
            language: Language::Vi,
        };
    };
    let file = item.loc.file;
    let raw = &item.value;
    let from = raw
        .from
        .as_ref()
        .and_then(|s| mailbox(rep, file, "mail.from", s))
        .unwrap_or(DEFAULT_FROM.into());
    let reply_to = raw
        .reply_to
        .as_ref()
        .and_then(|s| mailbox(rep, file, "mail.reply_to", s));
    let mut templates = None;
    if let Some(s) = &raw.templates {
        if is_absolute(s.get_ref()) {
            templates = Some(PathBuf::from(s.get_ref()));
        } else {
            rep.error(
                &at(file, s),
                "mail.templates",
                Some(quote(s.get_ref())),
                "phải là đường dẫn tuyệt đối",
                Some("ví dụ \"/etc/hanbao/templates\" (chứa vi/ và en/)".into()),
            );
        }
    }
    let mut language = Language::Vi;
    if let Some(s) = &raw.language {
        match s.get_ref().trim() {
            "vi" => language = Language::Vi,
            "en" => language = Language::En,
            other => rep.error(
                &at(file, s),
                "mail.language",
                Some(quote(other)),
                "không có ngôn ngữ thư này",
                Some("\"vi\" (tiếng Việt, mặc định) hoặc \"en\" (tiếng Anh)".into()),
            ),
        }
    }
    let done = |transport: Transport| Mail {
        transport,
        from: from.clone(),
        reply_to: reply_to.clone(),
        templates: templates.clone(),
        language,
    };
    let kind = match raw.transport.as_ref() {
        None => "file",
        Some(s) => match s.get_ref().as_str() {
            "file" => "file",
            "smtp" => "smtp",
            other => {
                rep.error(
                    &at(file, s),
                    "mail.transport",
                    Some(quote(other)),
                    "không có kiểu gửi thư này",
                    Some("\"file\" (ghi tệp .eml) hoặc \"smtp\"".into()),
                );
                "file"
            }
        },
    };
    let mut dir = default_dir;
    if let Some(f) = &raw.file
        && let Some(s) = &f.get_ref().dir
    {
        if is_absolute(s.get_ref()) {
            dir = PathBuf::from(s.get_ref());
        } else {
            rep.error(
                &at(file, s),
                "mail.file.dir",
                Some(quote(s.get_ref())),
                "phải là đường dẫn tuyệt đối",
                None,
            );
        }
    }
    if kind == "file" {
        if let Some(smtp) = &raw.smtp {
            rep.warning(
                &at(file, smtp),
                "mail.smtp",
                None,
                "bảng [mail.smtp] bị bỏ qua vì transport là \"file\"",
                Some("đặt transport = \"smtp\" để gửi qua máy chủ SMTP".into()),
            );
        }
        if raw
            .smtp
            .as_ref()
            .is_none_or(|s| s.get_ref().password.is_none())
        {
            return done(Transport::File { dir });
        }
    }
    let Some(smtp) = &raw.smtp else {
        let loc = raw
            .transport
            .as_ref()
            .map_or(item.loc.clone(), |s| at(file, s));
        rep.error(
            &loc,
            "mail.transport",
            Some(quote("smtp")),
            "thiếu bảng [mail.smtp]",
            Some("thêm [mail.smtp] với host = \"mail.ten-mien.example\"".into()),
        );
        return done(Transport::File { dir });
    };
    let sloc = at(file, smtp);
    let s = smtp.get_ref();
    if let Some(p) = &s.password {
        rep.error(
            &at(file, p),
            "mail.smtp.password",
            Some("\"***\"".into()),
            "không được ghi mật khẩu trực tiếp trong tệp cấu hình",
            Some(
                "dùng password_file = \"/etc/hanbao/smtp-password\" (quyền 600), password_env = \"HANBAO_SMTP_PASSWORD\" \
                 hoặc password_credential = \"smtp-password\" (LoadCredential= của systemd)"
                    .into(),
            ),
        );
    }
    if kind == "file" {
        return done(Transport::File { dir });
    }
    if raw.from.is_none() {
        rep.error(
            &item.loc,
            "mail.from",
            None,
            "gửi qua SMTP cần địa chỉ người gửi",
            Some("from = \"Sở LĐ-TB&XH <baocao@soldtbxh.quangngai.example>\"".into()),
        );
    }
    let host = match &s.host {
        Some(h) if !h.get_ref().trim().is_empty() => h.get_ref().trim().to_string(),
        Some(h) => {
            rep.error(
                &at(file, h),
                "mail.smtp.host",
                Some(quote(h.get_ref())),
                "tên máy chủ rỗng",
                None,
            );
            String::new()
        }
        None => {
            rep.error(
                &sloc,
                "mail.smtp.host",
                None,
                "thiếu tên máy chủ SMTP",
                Some("host = \"mail.ten-mien.example\"".into()),
            );
            String::new()
        }
    };
    let security = match s.security.as_ref() {
        None => SmtpSecurity::StartTls,
        Some(v) => match v.get_ref().as_str() {
            "starttls" => SmtpSecurity::StartTls,
            "tls" => SmtpSecurity::Tls,
            "none" if host.is_empty() || is_loopback_host(&host) => SmtpSecurity::None,
            "none" => {
                rep.error(
                    &at(file, v),
                    "mail.smtp.security",
                    Some(quote("none")),
                    format!("kết nối không mã hóa chỉ được dùng với máy chủ trên chính máy này, không với {}", quote(&host)),
                    Some("\"starttls\" (cổng 587) hoặc \"tls\" (cổng 465); \"none\" chỉ cho host = \"127.0.0.1\", \"::1\" hoặc \"localhost\"".into()),
                );
                SmtpSecurity::StartTls
            }
            other => {
                rep.error(
                    &at(file, v),
                    "mail.smtp.security",
                    Some(quote(other)),
                    "không có kiểu bảo mật này",
                    Some("\"starttls\" (cổng 587), \"tls\" (cổng 465) hoặc \"none\" (chỉ cho máy chủ 127.0.0.1/localhost)".into()),
                );
                SmtpSecurity::StartTls
            }
        },
    };
    let mut port = match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    };
    if let Some(p) = &s.port {
        match u16::try_from(*p.get_ref()) {
            Ok(n) if n > 0 => port = n,
            _ => rep.error(
                &at(file, p),
                "mail.smtp.port",
                Some(p.get_ref().to_string()),
                "không phải cổng",
                Some("1–65535".into()),
            ),
        }
    }
    let mut connections = 1;
    if let Some(c) = &s.connections {
        match usize::try_from(*c.get_ref()) {
            Ok(n @ 1..=MAX_SMTP_CONNECTIONS) => connections = n,
            _ => rep.error(
                &at(file, c),
                "mail.smtp.connections",
                Some(c.get_ref().to_string()),
                "số kết nối SMTP dùng cùng lúc phải từ 1 đến 16",
                Some("1 (mặc định) cho máy chủ thư gần; 4–8 cho máy chủ ở xa hoặc chậm".into()),
            ),
        }
    }
    let mut sources = Vec::new();
    if let Some(f) = &s.password_file {
        if is_absolute(f.get_ref()) {
            sources.push((SecretSource::File(PathBuf::from(f.get_ref())), at(file, f)));
        } else {
            rep.error(
                &at(file, f),
                "mail.smtp.password_file",
                Some(quote(f.get_ref())),
                "phải là đường dẫn tuyệt đối",
                Some("ví dụ \"/etc/hanbao/smtp-password\"".into()),
            );
        }
    }
    if let Some(e) = &s.password_env {
        let name = e.get_ref();
        let ok = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            sources.push((SecretSource::Env(name.clone()), at(file, e)));
        } else {
            rep.error(
                &at(file, e),
                "mail.smtp.password_env",
                Some(quote(name)),
                "không phải tên biến môi trường",
                Some("chữ, số và '_', ví dụ \"HANBAO_SMTP_PASSWORD\"".into()),
            );
        }
    }
    if let Some(c) = &s.password_credential {
        let name = c.get_ref();
        if !name.is_empty() && !name.contains('/') && name != "." && name != ".." {
            sources.push((SecretSource::Credential(name.clone()), at(file, c)));
        } else {
            rep.error(
                &at(file, c),
                "mail.smtp.password_credential",
                Some(quote(name)),
                "không phải tên credential của systemd",
                Some("ví dụ \"smtp-password\" (LoadCredential=smtp-password:/etc/hanbao/smtp-password)".into()),
            );
        }
    }
    if sources.len() > 1 {
        rep.error(
            &sources[1].1,
            "mail.smtp",
            None,
            "chỉ được chọn một nguồn mật khẩu",
            Some("giữ một trong password_file, password_env, password_credential".into()),
        );
    }
    let password = sources.into_iter().next().map(|(s, _)| s);
    let username = s.username.as_ref().map(|u| u.get_ref().clone());
    match (&username, &password) {
        (Some(_), None) if s.password.is_none() => rep.error(
            &sloc,
            "mail.smtp.username",
            username.as_deref().map(quote),
            "có tên đăng nhập nhưng không có nguồn mật khẩu",
            Some("thêm password_file, password_env hoặc password_credential".into()),
        ),
        (None, Some(_)) => rep.error(
            &sloc,
            "mail.smtp.username",
            None,
            "có nguồn mật khẩu nhưng thiếu tên đăng nhập",
            Some("thêm username = \"...\"".into()),
        ),
        _ => {}
    }
    done(Transport::Smtp(Smtp {
        host,
        port,
        security,
        connections,
        username,
        password,
    }))
}

fn calendar(item: Option<&Item<RawCalendar>>, rep: &mut Reporter) -> CalendarSettings {
    let mut out = CalendarSettings {
        makeup_saturday_counts: false,
        culture_day: true,
        ..Default::default()
    };
    let Some(item) = item else { return out };
    let file = item.loc.file;
    let raw = &item.value;
    if let Some(b) = &raw.makeup_saturday_counts {
        out.makeup_saturday_counts = *b.get_ref();
    }
    if let Some(b) = &raw.culture_day {
        out.culture_day = *b.get_ref();
    }
    let mut seen: HashMap<Date, String> = HashMap::new();
    for (list, name, working) in [
        (&raw.days_off, "days_off", false),
        (&raw.working_days, "working_days", true),
    ] {
        for (i, day) in list.iter().enumerate() {
            let key = format!("calendar.{name}[{i}]");
            let dloc = at(file, day);
            let d = day.get_ref();
            let reason = match &d.reason {
                Some(r) if !r.get_ref().trim().is_empty() => r.get_ref().trim().to_string(),
                _ => {
                    rep.error(
                        &dloc,
                        &format!("{key}.reason"),
                        None,
                        "thiếu lý do",
                        Some("reason = \"Nghỉ Tết Nguyên đán\"".into()),
                    );
                    String::new()
                }
            };
            let Some(first) = (match &d.date {
                Some(s) => date(rep, file, &format!("{key}.date"), Some(s)),
                None => {
                    rep.error(
                        &dloc,
                        &format!("{key}.date"),
                        None,
                        "thiếu ngày",
                        Some(DATE_FORMS.into()),
                    );
                    None
                }
            }) else {
                continue;
            };
            let last = match d.until.as_ref() {
                Some(u) => match date(rep, file, &format!("{key}.until"), Some(u)) {
                    Some(l) if l < first => {
                        rep.error(
                            &at(file, u),
                            &format!("{key}.until"),
                            Some(quote(u.get_ref())),
                            format!("trước ngày bắt đầu {}", format_date(first)),
                            Some("until là ngày cuối (tính cả ngày đó), không trước date".into()),
                        );
                        continue;
                    }
                    Some(l) if (l - first).get_days() > 60 => {
                        rep.error(
                            &at(file, u),
                            &format!("{key}.until"),
                            Some(quote(u.get_ref())),
                            "khoảng ngày dài quá 60 ngày",
                            Some("kiểm tra lại năm của date và until".into()),
                        );
                        continue;
                    }
                    Some(l) => l,
                    None => continue,
                },
                None => first,
            };
            let mut cur = first;
            loop {
                if let Some(prev) = seen.insert(cur, key.clone()) {
                    rep.error(
                        &dloc,
                        &key,
                        None,
                        format!("ngày {} đã được khai báo ở {prev}", format_date(cur)),
                        Some(
                            "mỗi ngày chỉ khai báo một lần, là ngày nghỉ hoặc ngày làm việc".into(),
                        ),
                    );
                }
                let c = ConfiguredDay {
                    date: cur,
                    reason: reason.clone(),
                };
                if working {
                    out.extra_working_days.push(c);
                } else {
                    out.extra_days_off.push(c);
                }
                match cur.tomorrow() {
                    Ok(n) if n <= last => cur = n,
                    _ => break,
                }
            }
        }
    }
    out.extra_days_off.sort_by_key(|c| c.date);
    out.extra_working_days.sort_by_key(|c| c.date);
    out
}

struct GroupInfo {
    loc: Loc,
    members: Vec<String>,
    set: HashSet<String>,
}

struct Validator<'a> {
    rep: &'a mut Reporter,
    col: &'a Collected,
    units: Vec<Unit>,
    /// unit id -> (index in `col.units`, location of the element)
    unit_locs: HashMap<String, (usize, Loc)>,
    /// unit id -> index in `units`
    unit_pos: HashMap<String, usize>,
    groups: BTreeMap<String, GroupInfo>,
}

/// Approximate calendar days of an offset (working days × 7/5), for warnings.
fn approx_days(o: Offset) -> i64 {
    match o.unit {
        DayUnit::Days => i64::from(o.amount),
        DayUnit::WorkingDays => i64::from(o.amount) * 7 / 5,
    }
}

/// The unrolled due day of a period, approximating working days.
fn approx_due(due: &DueRule, end: Date) -> Date {
    match *due {
        DueRule::After(o) => end
            .checked_add(jiff::Span::new().days(approx_days(o)))
            .unwrap_or(end),
        DueRule::DayOfMonth { day, next_month } => {
            let month_start = end.first_of_month();
            let m = if next_month {
                month_start
                    .checked_add(jiff::Span::new().months(1))
                    .unwrap_or(month_start)
            } else {
                month_start
            };
            let d = i8::try_from(day).unwrap_or(1).min(m.days_in_month());
            Date::new(m.year(), m.month(), d).unwrap_or(m)
        }
    }
}

impl<'a> Validator<'a> {
    fn unit_by_id(&self, id: &str) -> Option<&Unit> {
        self.unit_pos.get(id).and_then(|&i| self.units.get(i))
    }

    fn id_ok(&mut self, file: usize, key: &str, s: &Spanned<String>) -> bool {
        if values::is_valid_id(s.get_ref()) {
            return true;
        }
        self.rep.error(
            &at(file, s),
            key,
            Some(quote(s.get_ref())),
            "id không hợp lệ",
            Some(ID_FORMS.into()),
        );
        false
    }

    /// Checks the id of a group or unit (`kind`): its form, and that no
    /// group or unit before it has taken it. Records it in `ids` (id ->
    /// kind and place) and returns its location; `None` after reporting.
    fn claim_id(
        &mut self,
        ids: &mut HashMap<String, (&'static str, Loc)>,
        kind: &'static str,
        file: usize,
        label: &str,
        id: &Spanned<String>,
    ) -> Option<Loc> {
        if !self.id_ok(file, &join(label, "id"), id) {
            return None;
        }
        let loc = at(file, id);
        if let Some((first_kind, first)) = ids.get(id.get_ref()) {
            let first = self.rep.place(first);
            self.rep.error(
                &loc,
                label,
                Some(quote(id.get_ref())),
                format!("trùng id: đã khai báo là {first_kind} tại {first}"),
                Some("mỗi id chỉ dùng một lần".into()),
            );
            return None;
        }
        ids.insert(id.get_ref().clone(), (kind, loc.clone()));
        Some(loc)
    }

    fn unit_ids(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let col: &'a Collected = self.col;
        col.units
            .iter()
            .filter_map(|u| u.value.id.as_ref())
            .map(|s| s.get_ref().as_str())
    }

    fn group_ids(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let col: &'a Collected = self.col;
        col.groups
            .iter()
            .filter_map(|g| g.value.id.as_ref())
            .map(|s| s.get_ref().as_str())
    }

    /// Reports an unknown reference with a suggestion; silent for ids whose
    /// element could not be read at all (already reported).
    fn unknown(&mut self, loc: &Loc, key: &str, value: &str, what: &str, candidates: Vec<&str>) {
        if self.col.broken_ids.iter().any(|b| b == value) {
            return;
        }
        let hint = match nearest(value, candidates.iter().copied()) {
            Some(n) => Some(format!("có phải ý là {}?", quote(n))),
            None if candidates.is_empty() => Some(format!("chưa khai báo {what} nào")),
            None => Some(format!(
                "khai báo nó bằng [[{}]] hoặc dùng một id đã có",
                what.split(' ').next().unwrap_or(what)
            )),
        };
        self.rep.error(
            loc,
            key,
            Some(quote(value)),
            format!("không có {what} với id này"),
            hint,
        );
    }

    fn units_and_groups(&mut self) {
        let col = self.col;
        let mut ids: HashMap<String, (&'static str, Loc)> = HashMap::new();
        for g in &col.groups {
            let file = g.loc.file;
            let label = g.value.id.as_ref().map_or("group".to_string(), |i| {
                format!("group {}", quote(i.get_ref()))
            });
            let Some(id) = &g.value.id else {
                self.rep.error(
                    &g.loc,
                    &label,
                    None,
                    "thiếu id",
                    Some("id = \"so-nganh\"".into()),
                );
                continue;
            };
            let Some(loc) = self.claim_id(&mut ids, "group", file, &label, id) else {
                continue;
            };
            self.groups.insert(
                id.get_ref().clone(),
                GroupInfo {
                    loc,
                    members: Vec::new(),
                    set: HashSet::new(),
                },
            );
        }
        for (idx, u) in col.units.iter().enumerate() {
            let file = u.loc.file;
            let Some(id) = &u.value.id else {
                self.rep.error(
                    &u.loc,
                    &format!("unit[{idx}]"),
                    None,
                    "thiếu id",
                    Some("id = \"so-ldtbxh\"".into()),
                );
                continue;
            };
            let label = format!("unit {}", quote(id.get_ref()));
            if self.claim_id(&mut ids, "unit", file, &label, id).is_none() {
                continue;
            }
            let unit = self.unit(&u.value, file, &label, &u.loc);
            self.unit_locs.insert(unit.id.clone(), (idx, u.loc.clone()));
            self.unit_pos.insert(unit.id.clone(), self.units.len());
            self.units.push(unit);
        }
        // Group membership: the group's `members` and the units' `groups`, in file order.
        for g in &col.groups {
            let Some(gid) = g.value.id.as_ref().map(|i| i.get_ref().clone()) else {
                continue;
            };
            if !self.groups.contains_key(&gid) {
                continue;
            }
            for (i, m) in g.value.members.iter().enumerate() {
                let key = join(&format!("group {}", quote(&gid)), &format!("members[{i}]"));
                if self.unit_locs.contains_key(m.get_ref()) {
                    if let Some(g) = self.groups.get_mut(&gid)
                        && g.set.insert(m.get_ref().clone())
                    {
                        g.members.push(m.get_ref().clone());
                    }
                } else if self.groups.contains_key(m.get_ref()) {
                    self.rep.error(
                        &at(g.loc.file, m),
                        &key,
                        Some(quote(m.get_ref())),
                        "là một nhóm; thành viên của nhóm phải là đơn vị",
                        None,
                    );
                } else {
                    let cands: Vec<&str> = self.unit_ids().collect();
                    self.unknown(&at(g.loc.file, m), &key, m.get_ref(), "unit", cands);
                }
            }
        }
        for u in &col.units {
            let Some(uid) = u.value.id.as_ref().map(|i| i.get_ref().clone()) else {
                continue;
            };
            if self.unit_locs.get(&uid).is_none_or(|(_, l)| *l != u.loc) {
                continue;
            }
            for (i, gs) in u.value.groups.iter().enumerate() {
                let key = join(&format!("unit {}", quote(&uid)), &format!("groups[{i}]"));
                match self.groups.get_mut(gs.get_ref()) {
                    Some(g) => {
                        if g.set.insert(uid.clone()) {
                            g.members.push(uid.clone());
                        }
                    }
                    None => {
                        let cands: Vec<&str> = self.group_ids().collect();
                        self.unknown(&at(u.loc.file, gs), &key, gs.get_ref(), "group", cands);
                    }
                }
            }
        }
        let empty: Vec<(String, Loc)> = self
            .groups
            .iter()
            .filter(|(_, g)| g.members.is_empty())
            .map(|(k, g)| (k.clone(), g.loc.clone()))
            .collect();
        for (id, loc) in empty {
            self.rep.warning(
                &loc,
                &format!("group {}", quote(&id)),
                None,
                "nhóm không có thành viên nào",
                Some("thêm members = [...] hoặc groups = [...] trong các [[unit]]".into()),
            );
        }
    }

    fn unit(&mut self, raw: &RawUnit, file: usize, label: &str, loc: &Loc) -> Unit {
        let id = raw
            .id
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default();
        let name = match &raw.name {
            Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().trim().to_string(),
            _ => {
                self.rep.error(
                    loc,
                    &join(label, "name"),
                    None,
                    "thiếu tên đơn vị",
                    Some("name = \"Sở Y tế\"".into()),
                );
                String::new()
            }
        };
        let mut emails = Vec::new();
        if let Some(e) = &raw.email {
            for (i, addr) in e.get_ref().0.iter().enumerate() {
                let key = if e.get_ref().0.len() == 1 {
                    "email".to_string()
                } else {
                    format!("email[{i}]")
                };
                if values::is_valid_email(addr) {
                    emails.push(addr.clone());
                } else {
                    self.rep.error(
                        &at(file, e),
                        &join(label, &key),
                        Some(quote(addr)),
                        "không phải địa chỉ email",
                        Some("ví dụ \"vanthu@soyte.quangngai.example\"".into()),
                    );
                }
            }
        }
        let head = raw.head.as_ref().and_then(|h| {
            let hloc = at(file, h);
            let h = h.get_ref();
            let name = h
                .name
                .as_ref()
                .map(|n| n.get_ref().trim().to_string())
                .filter(|n| !n.is_empty());
            if name.is_none() {
                self.rep.error(
                    &hloc,
                    &join(label, "head.name"),
                    None,
                    "thiếu tên người đứng đầu",
                    Some("head = { name = \"...\", email = \"...\" }".into()),
                );
            }
            let email = match &h.email {
                Some(e) if values::is_valid_email(e.get_ref()) => Some(e.get_ref().clone()),
                Some(e) => {
                    self.rep.error(
                        &at(file, e),
                        &join(label, "head.email"),
                        Some(quote(e.get_ref())),
                        "không phải địa chỉ email",
                        Some("ví dụ \"giamdoc@soyte.quangngai.example\"".into()),
                    );
                    None
                }
                None => {
                    self.rep.error(
                        &hloc,
                        &join(label, "head.email"),
                        None,
                        "thiếu email của người đứng đầu",
                        Some("head = { name = \"...\", email = \"...\" }".into()),
                    );
                    None
                }
            };
            Some(Person {
                name: name?,
                email: email?,
            })
        });
        let (active_from, active_until, _) = active_span(
            self.rep,
            file,
            label,
            raw.active_from.as_ref(),
            raw.active_until.as_ref(),
            Some("active_until là ngày cuối cùng đơn vị hoạt động, không trước active_from"),
        );
        Unit {
            id,
            name,
            emails,
            head,
            groups: raw.groups.iter().map(|g| g.get_ref().clone()).collect(),
            supervisor: raw.supervisor.as_ref().map(|s| s.get_ref().clone()),
            council: raw.council.as_ref().map(|s| s.get_ref().clone()),
            active_from,
            active_until,
            successor: raw.successor.as_ref().map(|s| s.get_ref().clone()),
        }
    }

    /// supervisor / council / successor references, supervisor loops, successor windows.
    fn unit_links(&mut self) {
        let col = self.col;
        for u in &col.units {
            let Some(uid) = u.value.id.as_ref().map(|i| i.get_ref().clone()) else {
                continue;
            };
            if self.unit_locs.get(&uid).is_none_or(|(_, l)| *l != u.loc) {
                continue;
            }
            let label = format!("unit {}", quote(&uid));
            for (key, r) in [
                ("supervisor", &u.value.supervisor),
                ("council", &u.value.council),
                ("successor", &u.value.successor),
            ] {
                let Some(r) = r else { continue };
                let loc = at(u.loc.file, r);
                if r.get_ref() == &uid {
                    self.rep.error(
                        &loc,
                        &join(&label, key),
                        Some(quote(r.get_ref())),
                        "đơn vị không thể tham chiếu chính nó",
                        None,
                    );
                } else if !self.unit_locs.contains_key(r.get_ref()) {
                    let cands: Vec<&str> = self.unit_ids().collect();
                    self.unknown(&loc, &join(&label, key), r.get_ref(), "unit", cands);
                }
            }
            if let Some(s) = &u.value.successor
                && let Some(pred) = self.units.iter().find(|x| x.id == uid)
                && let Some(succ) = self.units.iter().find(|x| &x.id == s.get_ref())
            {
                let loc = at(u.loc.file, s);
                match pred.active_until {
                    None => self.rep.error(
                        &loc,
                        &join(&label, "successor"),
                        Some(quote(s.get_ref())),
                        "có đơn vị kế nhiệm nhưng thiếu active_until",
                        Some("thêm active_until = ngày cuối cùng đơn vị này hoạt động".into()),
                    ),
                    Some(until) => {
                        if let Ok(next) = until.tomorrow()
                            && !succ.active_on(next)
                        {
                            self.rep.error(&loc, &join(&label, "successor"), Some(quote(s.get_ref())), format!("đơn vị kế nhiệm không hoạt động vào {} (ngày sau active_until)", format_date(next)), Some(format!("active_from của {} phải không muộn hơn {}", quote(s.get_ref()), format_date(next))));
                        }
                    }
                }
            }
        }
        // Supervisor loops: follow each chain; report each loop once.
        let sup: HashMap<&str, &str> = self
            .units
            .iter()
            .filter_map(|u| u.supervisor.as_deref().map(|s| (u.id.as_str(), s)))
            .collect();
        let mut reported: HashSet<Vec<String>> = HashSet::new();
        let mut errors = Vec::new();
        for u in &self.units {
            let mut chain = vec![u.id.as_str()];
            let mut cur = u.id.as_str();
            while let Some(&next) = sup.get(cur) {
                if let Some(pos) = chain.iter().position(|&c| c == next) {
                    let cycle: Vec<String> = chain[pos..].iter().map(|s| s.to_string()).collect();
                    let mut key = cycle.clone();
                    key.sort();
                    if next != cur && reported.insert(key) {
                        let mut shown = cycle.clone();
                        shown.push(next.to_string());
                        errors.push((cycle[0].clone(), shown.join(" → ")));
                    }
                    break;
                }
                chain.push(next);
                cur = next;
            }
        }
        for (id, chain) in errors {
            let Some((idx, loc)) = self.unit_locs.get(&id).cloned() else {
                continue;
            };
            let loc = col.units[idx]
                .value
                .supervisor
                .as_ref()
                .map_or(loc, |s| at(col.units[idx].loc.file, s));
            let value = self
                .units
                .iter()
                .find(|u| u.id == id)
                .and_then(|u| u.supervisor.clone());
            self.rep.error(
                &loc,
                &format!("unit {}: supervisor", quote(&id)),
                value.as_deref().map(quote),
                format!("vòng lặp cấp trên: {chain}"),
                Some("chuỗi supervisor phải kết thúc ở một đơn vị không có cấp trên".into()),
            );
        }
    }

    fn obligations(&mut self) -> Vec<Obligation> {
        let col = self.col;
        let mut out: Vec<Obligation> = Vec::new();
        let mut locs: HashMap<String, (usize, Loc)> = HashMap::new();
        for (idx, item) in col.obligations.iter().enumerate() {
            let file = item.loc.file;
            let Some(id) = &item.value.id else {
                self.rep.error(
                    &item.loc,
                    &format!("obligation[{idx}]"),
                    None,
                    "thiếu id",
                    Some("id = \"nq121-6thang\"".into()),
                );
                continue;
            };
            let label = format!("obligation {}", quote(id.get_ref()));
            if !self.id_ok(file, &join(&label, "id"), id) {
                continue;
            }
            if let Some((_, first)) = locs.get(id.get_ref()) {
                let first = self.rep.place(first);
                self.rep.error(
                    &at(file, id),
                    &label,
                    Some(quote(id.get_ref())),
                    format!("trùng id: nghĩa vụ này đã khai báo tại {first}"),
                    Some("mỗi id chỉ dùng một lần".into()),
                );
                continue;
            }
            locs.insert(id.get_ref().clone(), (idx, at(file, id)));
            if let Some(o) = self.obligation(&item.value, file, &label, &item.loc) {
                out.push(o);
            }
        }
        // depends_on: references and loops.
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
                    self.rep.error(
                        &at(item.loc.file, d),
                        &key,
                        Some(quote(d.get_ref())),
                        "nghĩa vụ không thể phụ thuộc chính nó",
                        None,
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
                        let mut c: Vec<String> =
                            stack[pos..].iter().map(|s| s.to_string()).collect();
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
        for o in &out {
            if !state.contains_key(o.id.as_str()) {
                let mut stack = Vec::new();
                dfs(o.id.as_str(), &deps, &mut state, &mut stack, &mut cycles);
            }
        }
        for c in cycles {
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
            self.rep.error(
                &loc,
                &format!("obligation {}: depends_on", quote(&c[0])),
                Some(quote(&c[1])),
                format!("vòng lặp phụ thuộc: {}", c.join(" → ")),
                Some("một báo cáo tổng hợp không thể chờ chính nó".into()),
            );
        }
        out
    }

    fn obligation(
        &mut self,
        raw: &RawObligation,
        file: usize,
        label: &str,
        loc: &Loc,
    ) -> Option<Obligation> {
        let id = raw
            .id
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default();
        let mut ok = true;
        let title = match &raw.title {
            Some(t) if !t.get_ref().trim().is_empty() => t.get_ref().trim().to_string(),
            _ => {
                self.rep.error(
                    loc,
                    &join(label, "title"),
                    None,
                    "thiếu tiêu đề",
                    Some("title = \"Báo cáo 6 tháng ...\"".into()),
                );
                ok = false;
                String::new()
            }
        };
        // Reporters: units and groups, expanded, file order, no duplicates.
        let mut reporters: Vec<String> = Vec::new();
        let mut seen_reporters: HashSet<String> = HashSet::new();
        match &raw.reporters {
            None => {
                self.rep.error(
                    loc,
                    &join(label, "reporters"),
                    None,
                    "thiếu danh sách đơn vị báo cáo",
                    Some("reporters = [\"so-nganh\", \"ubnd-huyen\"] (id đơn vị hoặc nhóm)".into()),
                );
                ok = false;
            }
            Some(list) if list.get_ref().is_empty() => {
                self.rep.error(
                    &at(file, list),
                    &join(label, "reporters"),
                    Some("[]".into()),
                    "danh sách đơn vị báo cáo rỗng",
                    Some("ghi ít nhất một id đơn vị hoặc nhóm".into()),
                );
                ok = false;
            }
            Some(list) => {
                for (i, r) in list.get_ref().iter().enumerate() {
                    let key = join(label, &format!("reporters[{i}]"));
                    let members: Vec<String> = if self.unit_locs.contains_key(r.get_ref()) {
                        vec![r.get_ref().clone()]
                    } else if let Some(g) = self.groups.get(r.get_ref()) {
                        g.members.clone()
                    } else {
                        let cands: Vec<&str> = self.unit_ids().chain(self.group_ids()).collect();
                        self.unknown(&at(file, r), &key, r.get_ref(), "unit hay group", cands);
                        ok = false;
                        Vec::new()
                    };
                    for m in members {
                        if seen_reporters.insert(m.clone()) {
                            reporters.push(m);
                        }
                    }
                }
            }
        }
        let recipient = match &raw.recipient {
            None => {
                self.rep.error(
                    loc,
                    &join(label, "recipient"),
                    None,
                    "thiếu nơi nhận báo cáo",
                    Some(format!(
                        "id một đơn vị, {} hoặc {}",
                        quote(RECIPIENT_COUNCIL),
                        quote(RECIPIENT_SUPERVISOR)
                    )),
                );
                ok = false;
                None
            }
            Some(r) => {
                let rloc = at(file, r);
                let key = join(label, "recipient");
                let (rec, lacking): (Recipient, Vec<&str>) = match r.get_ref().as_str() {
                    RECIPIENT_COUNCIL => (
                        Recipient::ReporterCouncil,
                        reporters
                            .iter()
                            .filter(|u| self.unit_by_id(u).is_some_and(|x| x.council.is_none()))
                            .map(String::as_str)
                            .collect(),
                    ),
                    RECIPIENT_SUPERVISOR => (
                        Recipient::ReporterSupervisor,
                        reporters
                            .iter()
                            .filter(|u| self.unit_by_id(u).is_some_and(|x| x.supervisor.is_none()))
                            .map(String::as_str)
                            .collect(),
                    ),
                    other => {
                        if !self.unit_locs.contains_key(other) {
                            let cands: Vec<&str> = self
                                .unit_ids()
                                .chain([RECIPIENT_COUNCIL, RECIPIENT_SUPERVISOR])
                                .collect();
                            self.unknown(&rloc, &key, other, "unit", cands);
                            ok = false;
                        }
                        (Recipient::Unit(other.to_string()), Vec::new())
                    }
                };
                if !lacking.is_empty() {
                    let what = if rec == Recipient::ReporterCouncil {
                        "council"
                    } else {
                        "supervisor"
                    };
                    self.rep.error(&rloc, &key, Some(quote(r.get_ref())), format!("các đơn vị báo cáo sau không có {what}: {}", lacking.join(", ")), Some(format!("thêm {what} = \"...\" vào các [[unit]] đó, hoặc chọn nơi nhận là một đơn vị")));
                    ok = false;
                }
                Some(rec)
            }
        };
        // Cycle.
        let cycle_name = match &raw.cycle {
            None => {
                self.rep.error(
                    loc,
                    &join(label, "cycle"),
                    None,
                    "thiếu chu kỳ báo cáo",
                    Some(cycle_hint()),
                );
                return None;
            }
            Some(c) => {
                let f = values::fold(c.get_ref());
                match CYCLES.iter().find(|(en, vi)| *en == f || *vi == f) {
                    Some((en, _)) => *en,
                    None => {
                        let hint = match nearest(&f, CYCLES.iter().map(|(en, _)| *en)) {
                            Some(n) => format!("có phải ý là {}? {}", quote(n), cycle_hint()),
                            None => cycle_hint(),
                        };
                        self.rep.error(
                            &at(file, c),
                            &join(label, "cycle"),
                            Some(quote(c.get_ref())),
                            "không có chu kỳ này",
                            Some(hint),
                        );
                        return None;
                    }
                }
            }
        };
        let window = match &raw.window {
            None => WindowStyle::Calendar,
            Some(w) => match values::fold(w.get_ref()).as_str() {
                "calendar" => WindowStyle::Calendar,
                "decree09" | "nd09" => WindowStyle::Decree09,
                _ => {
                    self.rep.error(&at(file, w), &join(label, "window"), Some(quote(w.get_ref())), "không có kiểu kỳ này", Some("\"calendar\" (1/1–30/6…) hoặc \"decree09\" (chốt số liệu từ ngày 15 tháng trước đến ngày 14, Nghị định 09/2019)".into()));
                    ok = false;
                    WindowStyle::Calendar
                }
            },
        };
        let once = cycle_name == "once";
        if !once {
            for (key, v) in [
                ("period_start", &raw.period_start),
                ("period_end", &raw.period_end),
            ] {
                if let Some(v) = v {
                    self.rep.error(
                        &at(file, v),
                        &join(label, key),
                        Some(quote(v.get_ref())),
                        "chỉ dùng cho cycle = \"once\"",
                        Some("với chu kỳ định kỳ, kỳ báo cáo suy ra từ cycle và window".into()),
                    );
                    ok = false;
                }
            }
        }
        // Due rule.
        let mut overrides: BTreeMap<String, Date> = BTreeMap::new();
        let Some(due_s) = &raw.due else {
            self.rep.error(
                loc,
                &join(label, "due"),
                None,
                "thiếu quy tắc hạn nộp",
                Some(DUE_FORMS.into()),
            );
            return None;
        };
        let due_loc = at(file, due_s);
        let due_key = join(label, "due");
        let spec = parsed(
            self.rep,
            file,
            &due_key,
            due_s,
            values::parse_due,
            DUE_FORMS,
        )?;
        let period_start = date(
            self.rep,
            file,
            &join(label, "period_start"),
            raw.period_start.as_ref(),
        );
        let period_end = date(
            self.rep,
            file,
            &join(label, "period_end"),
            raw.period_end.as_ref(),
        );
        let cycle = match cycle_name {
            "monthly" => Cycle::Monthly,
            "quarterly" => Cycle::Quarterly,
            "six-monthly" => Cycle::SixMonthly {
                first_half_only: false,
            },
            "six-monthly-first-half" => Cycle::SixMonthly {
                first_half_only: true,
            },
            "nine-monthly" => Cycle::NineMonthly,
            "annual" => Cycle::Annual,
            _ => {
                let end = match (period_end, spec) {
                    (Some(e), _) => e,
                    (None, DueSpec::Date(d)) => d,
                    (None, _) => {
                        if raw.period_end.is_none() {
                            self.rep.error(
                                loc,
                                &join(label, "period_end"),
                                None,
                                "nghĩa vụ một lần cần ngày cuối kỳ (hoặc due là một ngày cụ thể)",
                                Some(
                                    "period_end = \"30/09/2026\" hoặc due = \"15/10/2026\"".into(),
                                ),
                            );
                        }
                        return None;
                    }
                };
                if let (Some(s), Some(raw_s)) = (period_start, &raw.period_start)
                    && s > end
                {
                    self.rep.error(
                        &at(file, raw_s),
                        &join(label, "period_start"),
                        Some(quote(raw_s.get_ref())),
                        format!("sau ngày cuối kỳ {}", format_date(end)),
                        None,
                    );
                    ok = false;
                }
                if let Some(w) = &raw.window {
                    self.rep.warning(
                        &at(file, w),
                        &join(label, "window"),
                        Some(quote(w.get_ref())),
                        "bị bỏ qua với cycle = \"once\"",
                        None,
                    );
                }
                Cycle::Once {
                    start: period_start,
                    end,
                }
            }
        };
        let last_months: Vec<i8> = match &cycle {
            Cycle::Once { end, .. } => vec![end.month()],
            c => periods_of_year(c, window, 2000)
                .iter()
                .map(|p| p.window.end.month())
                .collect(),
        };
        let due = match spec {
            DueSpec::After(o) => DueRule::After(o),
            DueSpec::DayOfMonth { day, next_month } => DueRule::DayOfMonth { day, next_month },
            DueSpec::DayMonth { day, month } => {
                let m = month as i8;
                if last_months.iter().all(|&l| l == m) {
                    DueRule::DayOfMonth {
                        day,
                        next_month: false,
                    }
                } else if last_months.iter().all(|&l| l % 12 + 1 == m) {
                    DueRule::DayOfMonth {
                        day,
                        next_month: true,
                    }
                } else {
                    let ends: Vec<String> = last_months.iter().map(|m| format!("{m}")).collect();
                    self.rep.error(&due_loc, &due_key, Some(quote(due_s.get_ref())), format!("các kỳ của chu kỳ {} kết thúc vào tháng {}, không phải tháng {month} hay tháng trước đó", quote(cycle_name), ends.join(", ")), Some(format!("viết \"ngày {day}\" (ngày {day} của tháng cuối kỳ) hoặc \"ngày {day} tháng sau\"")));
                    return None;
                }
            }
            DueSpec::Date(d) => {
                if !once {
                    self.rep.error(&due_loc, &due_key, Some(quote(due_s.get_ref())), "một ngày cụ thể chỉ dùng cho cycle = \"once\"", Some(format!("dùng quy tắc lặp lại ({DUE_FORMS}); hạn riêng cho một kỳ ghi trong [obligation.overrides]")));
                    return None;
                }
                overrides.insert(id.clone(), d);
                DueRule::After(Offset {
                    amount: 0,
                    unit: DayUnit::Days,
                })
            }
        };
        // Overrides.
        if let Some(ov) = &raw.overrides {
            for (k, v) in ov.get_ref() {
                let key = join(label, &format!("overrides.\"{}\"", k.get_ref()));
                let kloc = at(file, k);
                let pk = match values::parse_period_key(k.get_ref()) {
                    Ok(pk) => pk,
                    Err(why) => {
                        self.rep.error(
                            &kloc,
                            &key,
                            Some(quote(v.get_ref())),
                            format!("mã kỳ {}: {why}", quote(k.get_ref())),
                            Some(PERIOD_KEY_FORMS.into()),
                        );
                        ok = false;
                        continue;
                    }
                };
                let fits = match (&cycle, &pk) {
                    (Cycle::Once { .. }, PeriodKey::Once(o)) => **o == *id,
                    (c, k) => k.in_cycle(c),
                };
                if !fits {
                    self.rep.error(
                        &kloc,
                        &key,
                        Some(quote(v.get_ref())),
                        format!(
                            "mã kỳ {} không thuộc chu kỳ {}",
                            quote(k.get_ref()),
                            quote(cycle_name)
                        ),
                        Some(period_key_hint(&cycle, &id)),
                    );
                    ok = false;
                    continue;
                }
                let Some(d) = date(self.rep, file, &key, Some(v)) else {
                    ok = false;
                    continue;
                };
                let period = match &cycle {
                    Cycle::Once { start, end } => Some((start.unwrap_or(*end), *end)),
                    c => periods_of_year(c, window, pk.year().unwrap_or(2000))
                        .into_iter()
                        .find(|p| p.key == pk)
                        .map(|p| (p.window.start, p.window.end)),
                };
                if let Some((s, e)) = period
                    && (d < s || (d - e).get_days() > 366)
                {
                    self.rep.warning(
                        &at(file, v),
                        &key,
                        Some(quote(v.get_ref())),
                        format!(
                            "hạn nộp không nằm gần kỳ {pk} ({}–{})",
                            format_date(s),
                            format_date(e)
                        ),
                        Some("kiểm tra lại năm của ngày hạn".into()),
                    );
                }
                overrides.insert(pk.to_string(), d);
            }
        }
        let roll_to_working_day = raw
            .roll_to_working_day
            .as_ref()
            .is_none_or(|b| *b.get_ref());
        // Reminders.
        let mut reminders: Vec<Offset> = Vec::new();
        for (i, r) in raw.reminders.iter().enumerate() {
            let key = join(label, &format!("reminders[{i}]"));
            let text = r.get_ref().trim();
            match values::parse_offset(text) {
                Ok(o) => {
                    if reminders.contains(&o) {
                        self.rep.warning(
                            &at(file, r),
                            &key,
                            Some(quote(r.get_ref())),
                            "nhắc hạn bị lặp lại",
                            None,
                        );
                    } else {
                        reminders.push(o);
                    }
                }
                Err(_) if text.starts_with('+') => {
                    self.rep.error(&at(file, r), &key, Some(quote(r.get_ref())), "nhắc hạn nằm sau hạn nộp; reminders là khoảng thời gian trước hạn", Some(format!("bỏ dấu '+', ví dụ {}; việc nhắc sau hạn ghi trong [[obligation.escalation]]", quote(text.trim_start_matches('+').trim()))));
                    ok = false;
                }
                Err(_) if text.starts_with('-') => {
                    self.rep.error(
                        &at(file, r),
                        &key,
                        Some(quote(r.get_ref())),
                        "không ghi dấu '-': reminders luôn tính trước hạn nộp",
                        Some(format!(
                            "viết {}",
                            quote(text.trim_start_matches('-').trim())
                        )),
                    );
                    ok = false;
                }
                Err(why) => {
                    self.rep.error(
                        &at(file, r),
                        &key,
                        Some(quote(r.get_ref())),
                        why,
                        Some(format!("{OFFSET_FORMS} (trước hạn nộp)")),
                    );
                    ok = false;
                }
            }
        }
        reminders
            .sort_by_key(|o| std::cmp::Reverse((approx_days(*o), o.unit == DayUnit::WorkingDays)));
        // A reminder that would come before the period even starts.
        let sample: Vec<(Date, Date)> = match &cycle {
            Cycle::Once { start, end } => start.map(|s| vec![(s, *end)]).unwrap_or_default(),
            c => periods_of_year(c, window, 2026)
                .into_iter()
                .map(|p| (p.window.start, p.window.end))
                .collect(),
        };
        for (i, r) in raw.reminders.iter().enumerate() {
            let Ok(o) = values::parse_offset(r.get_ref()) else {
                continue;
            };
            if sample
                .iter()
                .any(|&(s, e)| i64::from((approx_due(&due, e) - s).get_days()) < approx_days(o))
            {
                self.rep.warning(
                    &at(file, r),
                    &join(label, &format!("reminders[{i}]")),
                    Some(quote(r.get_ref())),
                    "nhắc hạn rơi vào trước khi kỳ báo cáo bắt đầu",
                    Some("chọn khoảng nhắc ngắn hơn độ dài kỳ".into()),
                );
            }
        }
        // Escalation ladder.
        let mut escalation = Vec::new();
        for (i, st) in raw.escalation.iter().enumerate() {
            let skey = join(label, &format!("escalation[{i}]"));
            let sloc = at(file, st);
            let s = st.get_ref();
            let after = match &s.after {
                None => {
                    self.rep.error(
                        &sloc,
                        &format!("{skey}.after"),
                        None,
                        "thiếu thời điểm nhắc sau hạn",
                        Some("after = \"1 ngày làm việc\" (0 ngày = sáng hôm sau ngày hạn)".into()),
                    );
                    ok = false;
                    None
                }
                Some(a) => {
                    let after = parsed(
                        self.rep,
                        file,
                        &format!("{skey}.after"),
                        a,
                        values::parse_offset,
                        format!("{OFFSET_FORMS} (sau hạn nộp)"),
                    );
                    ok &= after.is_some();
                    after
                }
            };
            let mut notify = Vec::new();
            if s.notify.is_empty() {
                self.rep.error(
                    &sloc,
                    &format!("{skey}.notify"),
                    None,
                    "thiếu người nhận",
                    Some(notify_hint()),
                );
                ok = false;
            }
            for (j, n) in s.notify.iter().enumerate() {
                let nkey = format!("{skey}.notify[{j}]");
                let t = match n.get_ref().as_str() {
                    "unit" => EscalationTarget::Unit,
                    "head" => EscalationTarget::Head,
                    "supervisor" => EscalationTarget::Supervisor,
                    "recipient" => EscalationTarget::Recipient,
                    a if a.contains('@') && values::is_valid_email(a) => {
                        EscalationTarget::Address(a.to_string())
                    }
                    a if a.contains('@') => {
                        self.rep.error(
                            &at(file, n),
                            &nkey,
                            Some(quote(a)),
                            "không phải địa chỉ email",
                            Some(notify_hint()),
                        );
                        ok = false;
                        continue;
                    }
                    other => {
                        let hint = match nearest(other, NOTIFY) {
                            Some(x) => format!("có phải ý là {}? {}", quote(x), notify_hint()),
                            None => notify_hint(),
                        };
                        self.rep.error(
                            &at(file, n),
                            &nkey,
                            Some(quote(other)),
                            "không phải người nhận hợp lệ",
                            Some(hint),
                        );
                        ok = false;
                        continue;
                    }
                };
                let lacking: Vec<&str> = match t {
                    EscalationTarget::Head => reporters
                        .iter()
                        .filter(|u| self.unit_by_id(u).is_some_and(|x| x.head.is_none()))
                        .map(String::as_str)
                        .collect(),
                    EscalationTarget::Supervisor => reporters
                        .iter()
                        .filter(|u| self.unit_by_id(u).is_some_and(|x| x.supervisor.is_none()))
                        .map(String::as_str)
                        .collect(),
                    _ => Vec::new(),
                };
                if !lacking.is_empty() {
                    let shown: Vec<&str> = lacking.iter().take(5).copied().collect();
                    let more = if lacking.len() > 5 {
                        format!(" và {} đơn vị khác", lacking.len() - 5)
                    } else {
                        String::new()
                    };
                    self.rep.warning(
                        &at(file, n),
                        &nkey,
                        Some(quote(n.get_ref())),
                        format!(
                            "{} đơn vị báo cáo không có {}: {}{more}",
                            lacking.len(),
                            n.get_ref(),
                            shown.join(", ")
                        ),
                        None,
                    );
                }
                if !notify.contains(&t) {
                    notify.push(t);
                }
            }
            let repeat = s.repeat.as_ref().and_then(|rp| {
                let rloc = at(file, rp);
                let r = rp.get_ref();
                let every = match &r.every {
                    None => {
                        self.rep.error(
                            &rloc,
                            &format!("{skey}.repeat.every"),
                            None,
                            "thiếu khoảng lặp lại",
                            Some("repeat = { every = \"5 ngày làm việc\", limit = 3 }".into()),
                        );
                        None
                    }
                    Some(e) => match values::parse_offset(e.get_ref()) {
                        Ok(o) if o.amount > 0 => Some(o),
                        Ok(_) => {
                            self.rep.error(
                                &at(file, e),
                                &format!("{skey}.repeat.every"),
                                Some(quote(e.get_ref())),
                                "khoảng lặp lại phải lớn hơn 0",
                                None,
                            );
                            None
                        }
                        Err(why) => {
                            self.rep.error(
                                &at(file, e),
                                &format!("{skey}.repeat.every"),
                                Some(quote(e.get_ref())),
                                why,
                                Some(OFFSET_FORMS.into()),
                            );
                            None
                        }
                    },
                };
                let limit = match &r.limit {
                    None => {
                        self.rep.error(
                            &rloc,
                            &format!("{skey}.repeat.limit"),
                            None,
                            "thiếu số lần lặp lại tối đa",
                            Some("limit = 3".into()),
                        );
                        None
                    }
                    Some(l) if (1..=100).contains(l.get_ref()) => Some(*l.get_ref() as u32),
                    Some(l) => {
                        self.rep.error(
                            &at(file, l),
                            &format!("{skey}.repeat.limit"),
                            Some(l.get_ref().to_string()),
                            "ngoài khoảng cho phép",
                            Some("một số từ 1 đến 100".into()),
                        );
                        None
                    }
                };
                if every.is_none() || limit.is_none() {
                    ok = false;
                }
                Some(Repeat {
                    every: every?,
                    limit: limit?,
                })
            });
            if let Some(after) = after {
                escalation.push((
                    EscalationStage {
                        after,
                        notify,
                        repeat,
                    },
                    i,
                ));
            }
        }
        for w in escalation.windows(2) {
            let (a, b) = (&w[0].0, &w[1].0);
            if a.after.unit == b.after.unit && b.after.amount <= a.after.amount {
                let st = &raw.escalation[w[1].1];
                let l = st
                    .get_ref()
                    .after
                    .as_ref()
                    .map_or(at(file, st), |s| at(file, s));
                self.rep.warning(
                    &l,
                    &join(label, &format!("escalation[{}].after", w[1].1)),
                    st.get_ref().after.as_ref().map(|s| quote(s.get_ref())),
                    "không muộn hơn bậc trước",
                    Some("các bậc nhắc sau hạn nên xếp theo thứ tự thời gian tăng dần".into()),
                );
            }
        }
        let (active_from, active_until, in_order) = active_span(
            self.rep,
            file,
            label,
            raw.active_from.as_ref(),
            raw.active_until.as_ref(),
            None,
        );
        ok &= in_order;
        // No reporter active while the duty applies.
        if !reporters.is_empty()
            && let Some(rl) = &raw.reporters
        {
            let overlaps = |u: &Unit| {
                active_from.is_none_or(|f| u.active_until.is_none_or(|uu| f <= uu))
                    && active_until.is_none_or(|t| u.active_from.is_none_or(|uf| uf <= t))
            };
            if !reporters
                .iter()
                .any(|r| self.unit_by_id(r).is_some_and(overlaps))
            {
                self.rep.warning(
                    &at(file, rl),
                    &join(label, "reporters"),
                    None,
                    "không có đơn vị báo cáo nào hoạt động trong thời gian nghĩa vụ có hiệu lực",
                    Some("kiểm tra active_from/active_until của nghĩa vụ và các đơn vị".into()),
                );
            }
        }
        if !ok {
            return None;
        }
        Some(Obligation {
            id,
            title,
            legal_basis: raw
                .legal_basis
                .as_ref()
                .map(|s| s.get_ref().trim().to_string()),
            reporters,
            recipient: recipient?,
            cycle,
            window,
            due,
            overrides,
            roll_to_working_day,
            reminders,
            escalation: escalation.into_iter().map(|(s, _)| s).collect(),
            active_from,
            active_until,
            depends_on: raw.depends_on.iter().map(|d| d.get_ref().clone()).collect(),
        })
    }

    /// Warnings: reporters without email, units that take part in nothing.
    fn warnings_about_usage(&mut self, obligations: &[Obligation]) {
        let mut used: HashSet<&str> = HashSet::new();
        let mut reporting: HashSet<&str> = HashSet::new();
        for o in obligations {
            for r in &o.reporters {
                used.insert(r);
                reporting.insert(r);
            }
            if let Recipient::Unit(u) = &o.recipient {
                used.insert(u);
            }
        }
        for u in &self.units {
            for r in [&u.supervisor, &u.council, &u.successor]
                .into_iter()
                .flatten()
            {
                used.insert(r);
            }
        }
        // Raw reporters count as use too (an obligation with another error must not make its units "unused").
        let mut raw_used: HashSet<String> = HashSet::new();
        for o in &self.col.obligations {
            if let Some(rl) = &o.value.reporters {
                for r in rl.get_ref() {
                    raw_used.insert(r.get_ref().clone());
                    if let Some(g) = self.groups.get(r.get_ref()) {
                        raw_used.extend(g.members.iter().cloned());
                    }
                }
            }
            if let Some(r) = &o.value.recipient {
                raw_used.insert(r.get_ref().clone());
            }
        }
        let mut warnings = Vec::new();
        for u in &self.units {
            let Some((_, loc)) = self.unit_locs.get(&u.id) else {
                continue;
            };
            if reporting.contains(u.id.as_str()) && u.emails.is_empty() {
                warnings.push((
                    loc.clone(),
                    u.id.clone(),
                    "đơn vị báo cáo không có email nên sẽ không nhận được nhắc hạn",
                    "thêm email = \"vanthu@...\"",
                ));
            }
            if !used.contains(u.id.as_str()) && !raw_used.contains(&u.id) {
                warnings.push((loc.clone(), u.id.clone(), "đơn vị không tham gia nghĩa vụ nào (không báo cáo, không nhận, không là cấp trên)", "thêm nó vào reporters của một nghĩa vụ hoặc xóa khai báo"));
            }
        }
        for (loc, id, msg, hint) in warnings {
            self.rep.warning(
                &loc,
                &format!("unit {}", quote(&id)),
                None,
                msg,
                Some(hint.into()),
            );
        }
    }
}

fn cycle_hint() -> String {
    let names: Vec<String> = CYCLES.iter().map(|(en, _)| quote(en)).collect();
    format!("chu kỳ hợp lệ: {}", names.join(", "))
}

fn notify_hint() -> String {
    "\"unit\" (đơn vị), \"head\" (thủ trưởng), \"supervisor\" (cấp trên), \"recipient\" (nơi nhận) hoặc một địa chỉ email".into()
}

fn period_key_hint(cycle: &Cycle, id: &str) -> String {
    match cycle {
        Cycle::Monthly => "chu kỳ tháng dùng mã \"2026-01\" … \"2026-12\"".into(),
        Cycle::Quarterly => "chu kỳ quý dùng mã \"2026-Q1\" … \"2026-Q4\"".into(),
        Cycle::SixMonthly {
            first_half_only: true,
        } => "chu kỳ 6 tháng đầu năm chỉ có mã \"2026-H1\"".into(),
        Cycle::SixMonthly {
            first_half_only: false,
        } => "chu kỳ 6 tháng dùng mã \"2026-H1\" hoặc \"2026-H2\"".into(),
        Cycle::NineMonthly => "chu kỳ 9 tháng dùng mã \"2026-9M\"".into(),
        Cycle::Annual => "chu kỳ năm dùng mã \"2026\"".into(),
        Cycle::Once { .. } => format!("nghĩa vụ một lần chỉ có mã {}", quote(id)),
    }
}
