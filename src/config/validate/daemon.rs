//! `[daemon]`: time zone, state directory, database URL, sending hours,
//! listen address, public URL, the digest's cron expression and the limits
//! on files sent with reports, each with
//! its default when absent.

use std::net::SocketAddr;
use std::path::PathBuf;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde_spanned::Spanned;

use super::{
    DEFAULT_DIGEST, DEFAULT_HTTP_LISTEN, DEFAULT_STATE_DIR, DEFAULT_TIME_ZONE, at, is_absolute,
    parsed,
};
use crate::config::cron::{self, CronError};
use crate::config::load::Item;
use crate::config::model::{
    DEFAULT_FILE_MAX_MB, DEFAULT_FILES_PER_SUBMISSION, DEFAULT_OUTBOX_RETENTION_DAYS, Daemon,
    FILE_MAX_MB_RANGE, FILES_PER_SUBMISSION_RANGE, FileLimits, MAX_OUTBOX_RETENTION_DAYS,
    MIN_OUTBOX_RETENTION_DAYS, SendingHours,
};
use crate::config::raw::RawDaemon;
use crate::config::report::{Problem, Reporter, quote};
use crate::config::values::{self, TIME_RANGE_FORMS};

pub(super) fn daemon(item: Option<&Item<RawDaemon>>, rep: &mut Reporter) -> Daemon {
    let file = item.map_or(usize::MAX, |i| i.loc.file);
    let raw = item.map(|i| &i.value);
    let key = |get: fn(&RawDaemon) -> Option<&Spanned<String>>| raw.and_then(get);
    let (time_zone_name, time_zone) = time_zone(rep, file, key(|r| r.time_zone.as_ref()));
    let state_dir = state_dir(rep, file, key(|r| r.state_dir.as_ref()));
    let database_url = database_url(rep, file, key(|r| r.database.as_ref()), &state_dir);
    let mut sending_hours = SendingHours {
        start: Time::constant(7, 30, 0, 0),
        end: Time::constant(11, 0, 0, 0),
    };
    if let Some(s) = key(|r| r.sending_hours.as_ref())
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
    let http_listen = http_listen(rep, file, key(|r| r.http_listen.as_ref()));
    let public_url = key(|r| r.public_url.as_ref()).and_then(|s| {
        parsed(
            rep,
            file,
            "daemon.public_url",
            s,
            values::parse_public_url,
            "URL tuyệt đối http:// hoặc https:// mà các đơn vị mở được, \
             ví dụ \"https://baocao.quangngai.example\" hoặc \"https://quangngai.example/hanbao\"",
        )
    });
    let digest = digest(rep, file, key(|r| r.digest.as_ref()));
    Daemon {
        time_zone_name,
        time_zone,
        database_url,
        state_dir,
        sending_hours,
        http_listen,
        public_url,
        digest,
        http: super::http::settings(raw, file, rep),
        outbox_retention_days: outbox_retention_days(
            rep,
            file,
            raw.and_then(|r| r.outbox_retention_days.as_ref()),
        ),
        files: file_limits(raw, file, rep),
    }
}

/// `daemon.file_max_mb` and `daemon.files_per_submission`.
fn file_limits(raw: Option<&RawDaemon>, file: usize, rep: &mut Reporter) -> FileLimits {
    let mut limits = FileLimits::default();
    let Some(raw) = raw else {
        return limits;
    };
    if let Some(v) = &raw.file_max_mb {
        let (lo, hi) = FILE_MAX_MB_RANGE;
        match u64::try_from(*v.get_ref()) {
            Ok(mb) if (lo..=hi).contains(&mb) => limits.max_bytes = mb * 1024 * 1024,
            _ => rep.report(
                Problem::error(
                    &at(file, v),
                    "daemon.file_max_mb",
                    format!("dung lượng tối đa của một tệp (MB) phải từ {lo} đến {hi}"),
                )
                .value(v.get_ref().to_string())
                .hint(format!(
                    "{DEFAULT_FILE_MAX_MB} (mặc định); tệp lớn hơn bị từ chối, không lưu gì"
                )),
            ),
        }
    }
    if let Some(v) = &raw.files_per_submission {
        let (lo, hi) = FILES_PER_SUBMISSION_RANGE;
        match usize::try_from(*v.get_ref()) {
            Ok(n) if (lo..=hi).contains(&n) => limits.max_count = n,
            _ => rep.report(
                Problem::error(
                    &at(file, v),
                    "daemon.files_per_submission",
                    format!("số tệp gửi kèm một lần phải từ {lo} đến {hi}"),
                )
                .value(v.get_ref().to_string())
                .hint(format!("{DEFAULT_FILES_PER_SUBMISSION} (mặc định)")),
            ),
        }
    }
    limits
}

/// `daemon.outbox_retention_days`: longer than the planner's look-back.
fn outbox_retention_days(rep: &mut Reporter, file: usize, v: Option<&Spanned<i64>>) -> u32 {
    let range = MIN_OUTBOX_RETENTION_DAYS..=MAX_OUTBOX_RETENTION_DAYS;
    let Some(v) = v else {
        return DEFAULT_OUTBOX_RETENTION_DAYS;
    };
    match u32::try_from(*v.get_ref()) {
        Ok(days) if range.contains(&days) => days,
        _ => {
            rep.report(
                Problem::error(
                    &at(file, v),
                    "daemon.outbox_retention_days",
                    format!(
                        "số ngày giữ thư đã xong trong hàng đợi phải từ {} đến {}",
                        range.start(),
                        range.end()
                    ),
                )
                .value(v.get_ref().to_string())
                .hint(format!(
                    "{DEFAULT_OUTBOX_RETENTION_DAYS} (mặc định, hai năm); ít nhất \
                     {MIN_OUTBOX_RETENTION_DAYS} vì hanbao lập lịch lại thư của 92 ngày gần nhất \
                     và dựa vào các dòng đã gửi để không gửi lại; lịch sử nộp báo cáo không bao \
                     giờ bị xóa"
                )),
            );
            DEFAULT_OUTBOX_RETENTION_DAYS
        }
    }
}

/// `daemon.time_zone`: its name and the zone.
fn time_zone(rep: &mut Reporter, file: usize, s: Option<&Spanned<String>>) -> (String, TimeZone) {
    let default = || {
        (
            DEFAULT_TIME_ZONE.to_string(),
            TimeZone::get(DEFAULT_TIME_ZONE).unwrap_or(TimeZone::UTC),
        )
    };
    let Some(s) = s else { return default() };
    match TimeZone::get(s.get_ref()) {
        Ok(tz) => (s.get_ref().clone(), tz),
        Err(_) => {
            rep.report(
                Problem::error(
                    &at(file, s),
                    "daemon.time_zone",
                    "không có múi giờ IANA này",
                )
                .quoted(s.get_ref())
                .hint(format!("ví dụ {}", quote(DEFAULT_TIME_ZONE))),
            );
            default()
        }
    }
}

fn state_dir(rep: &mut Reporter, file: usize, s: Option<&Spanned<String>>) -> PathBuf {
    match s {
        Some(s) if is_absolute(s.get_ref()) => PathBuf::from(s.get_ref()),
        Some(s) => {
            rep.report(
                Problem::error(
                    &at(file, s),
                    "daemon.state_dir",
                    "phải là đường dẫn tuyệt đối",
                )
                .quoted(s.get_ref())
                .hint(format!("ví dụ {}", quote(DEFAULT_STATE_DIR))),
            );
            PathBuf::from(DEFAULT_STATE_DIR)
        }
        None => PathBuf::from(DEFAULT_STATE_DIR),
    }
}

/// `daemon.database`; by default the SQLite file in the state directory.
/// A refused URL is shown with its password hidden.
fn database_url(
    rep: &mut Reporter,
    file: usize,
    s: Option<&Spanned<String>>,
    state_dir: &std::path::Path,
) -> String {
    let default = format!("sqlite://{}/hanbao.db", state_dir.display());
    let Some(s) = s else { return default };
    let url = s.get_ref();
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        return url.clone();
    }
    rep.report(
        Problem::error(
            &at(file, s),
            "daemon.database",
            "không phải URL cơ sở dữ liệu được hỗ trợ",
        )
        .quoted(&crate::primitives::redact_url(url))
        .hint("\"sqlite:///var/lib/hanbao/hanbao.db\" hoặc \"postgres://hanbao@localhost/hanbao\""),
    );
    default
}

fn http_listen(rep: &mut Reporter, file: usize, s: Option<&Spanned<String>>) -> SocketAddr {
    let default = DEFAULT_HTTP_LISTEN
        .parse()
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    let Some(s) = s else { return default };
    match s.get_ref().parse() {
        Ok(a) => a,
        Err(_) => {
            rep.report(
                Problem::error(
                    &at(file, s),
                    "daemon.http_listen",
                    "không phải địa chỉ IP:cổng",
                )
                .quoted(s.get_ref())
                .hint(format!(
                    "ví dụ {} hoặc \"[::1]:8080\"",
                    quote(DEFAULT_HTTP_LISTEN)
                )),
            );
            default
        }
    }
}

/// `daemon.digest`: a cron expression checked by `config::cron`.
fn digest(rep: &mut Reporter, file: usize, s: Option<&Spanned<String>>) -> String {
    let Some(s) = s else {
        return DEFAULT_DIGEST.to_string();
    };
    let message = match cron::validate(s.get_ref()) {
        Ok(()) => return s.get_ref().trim().to_string(),
        Err(CronError::FieldCount { fields, .. }) => format!("biểu thức cron có {fields} trường"),
        Err(CronError::Invalid { reason, .. }) => {
            format!("không phải biểu thức cron hợp lệ ({reason})")
        }
    };
    rep.report(
        Problem::error(&at(file, s), "daemon.digest", message)
            .quoted(s.get_ref())
            .hint(
                "năm trường \"phút giờ ngày tháng thứ\", ví dụ \"0 8 * * Mon\" (8 giờ sáng thứ Hai, mặc định) \
                 hoặc \"30 7 * * Mon-Fri\"; hoặc sáu trường với giây đứng đầu",
            ),
    );
    DEFAULT_DIGEST.to_string()
}
