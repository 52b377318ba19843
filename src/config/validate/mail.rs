//! `[mail]`: sender and reply mailboxes, templates, language, and the
//! transport: `.eml` files or SMTP (`[mail.smtp]`: host, security, port,
//! connections, and exactly one password source, never a literal password).

use std::path::{Path, PathBuf};

use serde_spanned::Spanned;

use super::{DEFAULT_FROM, MAX_SMTP_CONNECTIONS, at, is_absolute, parsed};
use crate::config::load::Item;
use crate::config::model::{Language, Mail, SecretSource, Smtp, SmtpSecurity, Transport};
use crate::config::raw::{RawMail, RawSmtp};
use crate::config::report::{Loc, Problem, Reporter, quote};
use crate::config::values;

/// Whether an SMTP host is this machine (127.0.0.0/8, ::1 or localhost).
pub(super) fn is_loopback_host(host: &str) -> bool {
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

pub(super) fn mail(item: Option<&Item<RawMail>>, state_dir: &Path, rep: &mut Reporter) -> Mail {
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
            rep.report(
                Problem::error(
                    &at(file, s),
                    "mail.templates",
                    "phải là đường dẫn tuyệt đối",
                )
                .quoted(s.get_ref())
                .hint("ví dụ \"/etc/hanbao/templates\" (chứa vi/ và en/)"),
            );
        }
    }
    let language = language(rep, file, raw.language.as_ref());
    let transport = transport(rep, item, default_dir);
    Mail {
        transport,
        from,
        reply_to,
        templates,
        language,
    }
}

fn language(rep: &mut Reporter, file: usize, s: Option<&Spanned<String>>) -> Language {
    let Some(s) = s else { return Language::Vi };
    match s.get_ref().trim() {
        "vi" => Language::Vi,
        "en" => Language::En,
        other => {
            rep.report(
                Problem::error(&at(file, s), "mail.language", "không có ngôn ngữ thư này")
                    .quoted(other)
                    .hint("\"vi\" (tiếng Việt, mặc định) hoặc \"en\" (tiếng Anh)"),
            );
            Language::Vi
        }
    }
}

/// `mail.transport` with `[mail.file]` and `[mail.smtp]`. A literal SMTP
/// password is reported whatever the transport.
fn transport(rep: &mut Reporter, item: &Item<RawMail>, default_dir: PathBuf) -> Transport {
    let file = item.loc.file;
    let raw = &item.value;
    let kind = match raw.transport.as_ref() {
        None => "file",
        Some(s) => match s.get_ref().as_str() {
            "file" => "file",
            "smtp" => "smtp",
            other => {
                rep.report(
                    Problem::error(&at(file, s), "mail.transport", "không có kiểu gửi thư này")
                        .quoted(other)
                        .hint("\"file\" (ghi tệp .eml) hoặc \"smtp\""),
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
            rep.report(
                Problem::error(&at(file, s), "mail.file.dir", "phải là đường dẫn tuyệt đối")
                    .quoted(s.get_ref()),
            );
        }
    }
    if kind == "file" {
        if let Some(smtp) = &raw.smtp {
            rep.report(
                Problem::warning(
                    &at(file, smtp),
                    "mail.smtp",
                    "bảng [mail.smtp] bị bỏ qua vì transport là \"file\"",
                )
                .hint("đặt transport = \"smtp\" để gửi qua máy chủ SMTP"),
            );
        }
        if raw
            .smtp
            .as_ref()
            .is_none_or(|s| s.get_ref().password.is_none())
        {
            return Transport::File { dir };
        }
    }
    let Some(smtp) = &raw.smtp else {
        let loc = raw
            .transport
            .as_ref()
            .map_or(item.loc.clone(), |s| at(file, s));
        rep.report(
            Problem::error(&loc, "mail.transport", "thiếu bảng [mail.smtp]")
                .quoted("smtp")
                .hint("thêm [mail.smtp] với host = \"mail.ten-mien.example\""),
        );
        return Transport::File { dir };
    };
    if let Some(p) = &smtp.get_ref().password {
        rep.report(
            Problem::error(
                &at(file, p),
                "mail.smtp.password",
                "không được ghi mật khẩu trực tiếp trong tệp cấu hình",
            )
            .value("\"***\"")
            .hint(
                "dùng password_file = \"/etc/hanbao/smtp-password\" (quyền 600), password_env = \"HANBAO_SMTP_PASSWORD\" \
                 hoặc password_credential = \"smtp-password\" (LoadCredential= của systemd)",
            ),
        );
    }
    if kind == "file" {
        return Transport::File { dir };
    }
    if raw.from.is_none() {
        rep.report(
            Problem::error(&item.loc, "mail.from", "gửi qua SMTP cần địa chỉ người gửi")
                .hint("from = \"Sở LĐ-TB&XH <baocao@soldtbxh.quangngai.example>\""),
        );
    }
    Transport::Smtp(self::smtp(rep, file, smtp))
}

/// `[mail.smtp]` when the transport is SMTP.
fn smtp(rep: &mut Reporter, file: usize, smtp: &Spanned<RawSmtp>) -> Smtp {
    let sloc = at(file, smtp);
    let s = smtp.get_ref();
    let host = match &s.host {
        Some(h) if !h.get_ref().trim().is_empty() => h.get_ref().trim().to_string(),
        Some(h) => {
            rep.report(
                Problem::error(&at(file, h), "mail.smtp.host", "tên máy chủ rỗng")
                    .quoted(h.get_ref()),
            );
            String::new()
        }
        None => {
            rep.report(
                Problem::error(&sloc, "mail.smtp.host", "thiếu tên máy chủ SMTP")
                    .hint("host = \"mail.ten-mien.example\""),
            );
            String::new()
        }
    };
    let security = security(rep, file, s.security.as_ref(), &host);
    let mut port = match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::None => 25,
    };
    if let Some(p) = &s.port {
        match u16::try_from(*p.get_ref()) {
            Ok(n) if n > 0 => port = n,
            _ => rep.report(
                Problem::error(&at(file, p), "mail.smtp.port", "không phải cổng")
                    .value(p.get_ref().to_string())
                    .hint("1–65535"),
            ),
        }
    }
    let mut connections = 1;
    if let Some(c) = &s.connections {
        match usize::try_from(*c.get_ref()) {
            Ok(n @ 1..=MAX_SMTP_CONNECTIONS) => connections = n,
            _ => rep.report(
                Problem::error(
                    &at(file, c),
                    "mail.smtp.connections",
                    "số kết nối SMTP dùng cùng lúc phải từ 1 đến 16",
                )
                .value(c.get_ref().to_string())
                .hint("1 (mặc định) cho máy chủ thư gần; 4–8 cho máy chủ ở xa hoặc chậm"),
            ),
        }
    }
    let password = password_source(
        rep,
        file,
        &PasswordKeys {
            table: "mail.smtp",
            file: s.password_file.as_ref(),
            env: s.password_env.as_ref(),
            credential: s.password_credential.as_ref(),
        },
    );
    let username = s.username.as_ref().map(|u| u.get_ref().clone());
    match (&username, &password) {
        (Some(_), None) if s.password.is_none() => rep.report(
            Problem::error(
                &sloc,
                "mail.smtp.username",
                "có tên đăng nhập nhưng không có nguồn mật khẩu",
            )
            .maybe_value(username.as_deref().map(quote))
            .hint("thêm password_file, password_env hoặc password_credential"),
        ),
        (None, Some(_)) => rep.report(
            Problem::error(
                &sloc,
                "mail.smtp.username",
                "có nguồn mật khẩu nhưng thiếu tên đăng nhập",
            )
            .hint("thêm username = \"...\""),
        ),
        _ => {}
    }
    Smtp {
        host,
        port,
        security,
        connections,
        username,
        password,
    }
}

/// `mail.smtp.security`; "none" only towards this machine.
fn security(
    rep: &mut Reporter,
    file: usize,
    v: Option<&Spanned<String>>,
    host: &str,
) -> SmtpSecurity {
    let Some(v) = v else {
        return SmtpSecurity::StartTls;
    };
    match v.get_ref().as_str() {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        "none" if host.is_empty() || is_loopback_host(host) => SmtpSecurity::None,
        "none" => {
            rep.report(
                Problem::error(
                    &at(file, v),
                    "mail.smtp.security",
                    format!(
                        "kết nối không mã hóa chỉ được dùng với máy chủ trên chính máy này, không với {}",
                        quote(host)
                    ),
                )
                .quoted("none")
                .hint(
                    "\"starttls\" (cổng 587) hoặc \"tls\" (cổng 465); \"none\" chỉ cho host = \"127.0.0.1\", \"::1\" hoặc \"localhost\"",
                ),
            );
            SmtpSecurity::StartTls
        }
        other => {
            rep.report(
                Problem::error(&at(file, v), "mail.smtp.security", "không có kiểu bảo mật này")
                    .quoted(other)
                    .hint(
                        "\"starttls\" (cổng 587), \"tls\" (cổng 465) hoặc \"none\" (chỉ cho máy chủ 127.0.0.1/localhost)",
                    ),
            );
            SmtpSecurity::StartTls
        }
    }
}

/// The three keys that may name where a password is read, in one table
/// (`[mail.smtp]` or `[intake]`).
pub(super) struct PasswordKeys<'a> {
    /// The table's key path, for messages: "mail.smtp", "intake".
    pub table: &'static str,
    pub file: Option<&'a Spanned<String>>,
    pub env: Option<&'a Spanned<String>>,
    pub credential: Option<&'a Spanned<String>>,
}

/// The one password source among `password_file`, `password_env` and
/// `password_credential` (the first when several are given, after
/// reporting it).
pub(super) fn password_source(
    rep: &mut Reporter,
    file: usize,
    keys: &PasswordKeys<'_>,
) -> Option<SecretSource> {
    let table = keys.table;
    let secret = if table == "intake" {
        "imap-password"
    } else {
        "smtp-password"
    };
    let mut sources: Vec<(SecretSource, Loc)> = Vec::new();
    if let Some(f) = keys.file {
        if is_absolute(f.get_ref()) {
            sources.push((SecretSource::File(PathBuf::from(f.get_ref())), at(file, f)));
        } else {
            rep.report(
                Problem::error(
                    &at(file, f),
                    format!("{table}.password_file"),
                    "phải là đường dẫn tuyệt đối",
                )
                .quoted(f.get_ref())
                .hint(format!("ví dụ \"/etc/hanbao/{secret}\"")),
            );
        }
    }
    if let Some(e) = keys.env {
        let name = e.get_ref();
        let ok = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            sources.push((SecretSource::Env(name.clone()), at(file, e)));
        } else {
            let example = if table == "intake" {
                "HANBAO_IMAP_PASSWORD"
            } else {
                "HANBAO_SMTP_PASSWORD"
            };
            rep.report(
                Problem::error(
                    &at(file, e),
                    format!("{table}.password_env"),
                    "không phải tên biến môi trường",
                )
                .quoted(name)
                .hint(format!("chữ, số và '_', ví dụ \"{example}\"")),
            );
        }
    }
    if let Some(c) = keys.credential {
        let name = c.get_ref();
        if !name.is_empty() && !name.contains('/') && name != "." && name != ".." {
            sources.push((SecretSource::Credential(name.clone()), at(file, c)));
        } else {
            rep.report(
                Problem::error(
                    &at(file, c),
                    format!("{table}.password_credential"),
                    "không phải tên credential của systemd",
                )
                .quoted(name)
                .hint(format!(
                    "ví dụ \"{secret}\" (LoadCredential={secret}:/etc/hanbao/{secret})"
                )),
            );
        }
    }
    if sources.len() > 1 {
        rep.report(
            Problem::error(&sources[1].1, table, "chỉ được chọn một nguồn mật khẩu")
                .hint("giữ một trong password_file, password_env, password_credential"),
        );
    }
    sources.into_iter().next().map(|(s, _)| s)
}
