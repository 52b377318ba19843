//! `hanbao submit`, `revoke`, `extend`, `waive` and `history`: record what
//! the coordinator learns and show what was recorded.
//!
//! The edge: validates ids through `tracking::resolve`, writes through the
//! `Store`, and turns outcomes into Vietnamese messages and exit codes.
//! It never reads the clock itself: the caller passes `now` and `today`.
//!
//! Exit codes: 0 done (or already recorded), 1 refused (unknown id, not
//! owed, conflict, nothing to revoke), 2 usage (clap), 78 configuration.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use jiff::Timestamp;
use jiff::civil::{Date, Time};

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::status::{self, Tracking};
use crate::store::{
    Action, Event, HistoryFilter, Key, NewExtension, NewSubmission, NewWaiver, Recorded, Records,
    Revocation, Source, Store, StoreError, Subject,
};
use crate::tracking::{self, TrackingError, dmy};

/// The database URL: `HANBAO_DATABASE` (passed in by the caller) over the
/// configured `daemon.database`. A value without a scheme is a SQLite file.
pub fn database_url(configured: &str, env_override: Option<&str>) -> String {
    match env_override.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) if v.contains(':') && !v.starts_with('/') && !v.starts_with('.') => v.to_owned(),
        Some(path) => format!("sqlite://{path}"),
        None => configured.to_owned(),
    }
}

/// The file of a SQLite URL (`sqlite://PATH`, `sqlite:PATH`, query string
/// dropped); `None` for other backends or an in-memory database.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// What every recording command needs.
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub cal: WorkCalendar,
    /// The moment of the command (stored as the record time).
    pub now: Timestamp,
    /// Today in the configured zone.
    pub today: Date,
    /// Who records, when `--by` is not given.
    pub default_actor: String,
}

/// A command's text and exit code.
#[derive(Debug)]
pub struct Outcome {
    pub text: String,
    pub code: u8,
}

impl Outcome {
    fn ok(text: String) -> Outcome {
        Outcome { text, code: 0 }
    }
}

/// The key of a command line, checked against the configuration.
fn resolved(ctx: &Ctx<'_>, ob: &str, period: &str, unit: &str) -> Result<(Key, status::Schedule)> {
    let d = tracking::resolve(ctx.cfg, &ctx.cal, ob, period, unit).map_err(refused)?;
    let p = crate::planner::Period {
        key: d.period.clone(),
        window: d.window,
    };
    Ok((
        Key::new(ob, period, unit),
        tracking::schedule(d.obligation, &ctx.cal, &p),
    ))
}

fn refused(e: TrackingError) -> anyhow::Error {
    anyhow!("{e}")
}

fn who(ctx: &Ctx<'_>, by: Option<String>) -> String {
    by.filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| ctx.default_actor.clone())
}

/// The local time of an instant, as people read it.
pub fn local(cfg: &Config, t: Timestamp) -> String {
    t.to_zoned_datetime(cfg.daemon.time_zone.clone())
        .strftime("%d/%m/%Y %H:%M")
        .to_string()
}

fn unit_name<'c>(cfg: &'c Config, id: &str) -> &'c str {
    cfg.unit(id).map(|u| u.name.as_str()).unwrap_or("")
}

/// Explains a store refusal in Vietnamese.
pub fn store_message(cfg: &Config, e: &StoreError) -> String {
    match e {
        StoreError::Conflict { key, existing } => format!(
            "{key}: đã có một báo cáo khác được ghi nhận (nhận ngày {}, số văn bản {}, do {} ghi lúc {}); nếu cần thay bằng báo cáo mới, chạy lại với --correct",
            existing.received_on.map(dmy).unwrap_or_default(),
            existing.reference.as_deref().unwrap_or("không có"),
            existing.actor,
            local(cfg, existing.recorded_at)
        ),
        StoreError::NothingToCorrect { key } => {
            format!("{key}: chưa có báo cáo nào để sửa; bỏ --correct để ghi nhận lần đầu")
        }
        StoreError::NothingToRevoke { key, subject } => format!(
            "{key}: không có {} nào đang có hiệu lực để thu hồi",
            subject_vi(*subject)
        ),
        StoreError::Invalid { field, reason } => format!("giá trị {field} không hợp lệ: {reason}"),
        other => format!("lỗi cơ sở dữ liệu: {other}"),
    }
}

fn subject_vi(s: Subject) -> &'static str {
    match s {
        Subject::Submission => "báo cáo đã nộp",
        Subject::Extension => "gia hạn",
        Subject::Waiver => "miễn nộp",
    }
}

fn status_line(ctx: &Ctx<'_>, schedule: &status::Schedule, tracking: &Tracking) -> String {
    let s = status::classify(ctx.today, schedule, tracking, &ctx.cal);
    let mut out = format!("Trạng thái: {} (hạn {}", s.state.label_vi(), dmy(s.due));
    if let Some(d) = s.days_late {
        let _ = write!(
            out,
            ", trễ {d} ngày, {} ngày làm việc",
            s.working_days_late.unwrap_or(0)
        );
    }
    out.push_str(").");
    out
}

/// Arguments of `hanbao submit`.
#[derive(Debug, Clone, Default)]
pub struct SubmitArgs {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub on: Option<Date>,
    pub at: Option<Time>,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub by: Option<String>,
    pub correct: bool,
}

pub async fn submit(store: &Store, ctx: &Ctx<'_>, a: SubmitArgs) -> Result<Outcome> {
    let (key, schedule) = resolved(ctx, &a.obligation, &a.period, &a.unit)?;
    let on = a.on.unwrap_or(ctx.today);
    if on > ctx.today {
        bail!(
            "ngày nhận {} ở tương lai (hôm nay là {})",
            dmy(on),
            dmy(ctx.today)
        );
    }
    let received_at = match a.at {
        Some(t) => Some(
            ctx.cfg
                .daemon
                .time_zone
                .to_timestamp(on.to_datetime(t))
                .map_err(|e| anyhow!("giờ nhận không hợp lệ: {e}"))?,
        ),
        None => None,
    };
    let sub = NewSubmission {
        key: key.clone(),
        received_on: on,
        received_at,
        reference: a.reference,
        note: a.note,
        actor: who(ctx, a.by),
        source: Source::Cli,
        correction: a.correct,
    };
    let rec = store
        .record_submission(sub, ctx.now)
        .await
        .map_err(|e| anyhow!("{}", store_message(ctx.cfg, &e)))?;
    let e = rec.event();
    let tracking = Tracking {
        submitted_on: e.received_on,
        ..Tracking::default()
    };
    let current = store.current_for(&key).await?;
    let tracking = Tracking {
        waived: current.waiver.is_some(),
        extended_until: current.extension.map(|x| x.until),
        ..tracking
    };
    let what = describe_submission(e);
    let head = match (&rec, e.action) {
        (Recorded::New(_), Action::Correct) => format!(
            "Đã sửa báo cáo {key} ({}): {what}.",
            unit_name(ctx.cfg, &key.unit)
        ),
        (Recorded::New(_), _) => format!(
            "Đã ghi nhận báo cáo {key} ({}): {what}.",
            unit_name(ctx.cfg, &key.unit)
        ),
        (Recorded::AlreadyRecorded(_), _) => format!(
            "Báo cáo {key} đã được ghi nhận trước đó ({what}; do {} ghi lúc {}); không ghi thêm.",
            e.actor,
            local(ctx.cfg, e.recorded_at)
        ),
    };
    Ok(Outcome::ok(format!(
        "{head}\n{}\n",
        status_line(ctx, &schedule, &tracking)
    )))
}

fn describe_submission(e: &Event) -> String {
    let mut out = format!("nhận ngày {}", e.received_on.map(dmy).unwrap_or_default());
    if let Some(r) = &e.reference {
        let _ = write!(out, ", số văn bản {r}");
    }
    out
}

/// Arguments of `hanbao revoke`.
#[derive(Debug, Clone)]
pub struct RevokeArgs {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub what: Subject,
    pub reason: Option<String>,
    pub by: Option<String>,
}

pub async fn revoke(store: &Store, ctx: &Ctx<'_>, a: RevokeArgs) -> Result<Outcome> {
    let (key, _) = resolved(ctx, &a.obligation, &a.period, &a.unit)?;
    let rec = store
        .revoke(
            Revocation {
                key: key.clone(),
                subject: a.what,
                reason: a.reason,
                actor: who(ctx, a.by),
                source: Source::Cli,
            },
            ctx.now,
        )
        .await
        .map_err(|e| anyhow!("{}", store_message(ctx.cfg, &e)))?;
    let what = subject_vi(a.what);
    Ok(Outcome::ok(match rec {
        Recorded::New(_) => format!("Đã thu hồi {what} của {key}. Lịch sử vẫn được giữ.\n"),
        Recorded::AlreadyRecorded(e) => format!(
            "{what} của {key} đã được thu hồi trước đó (do {} lúc {}); không ghi thêm.\n",
            e.actor,
            local(ctx.cfg, e.recorded_at)
        ),
    }))
}

/// Arguments of `hanbao extend`.
#[derive(Debug, Clone)]
pub struct ExtendArgs {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub until: Date,
    pub reason: String,
    pub by: Option<String>,
}

pub async fn extend(store: &Store, ctx: &Ctx<'_>, a: ExtendArgs) -> Result<Outcome> {
    let (key, schedule) = resolved(ctx, &a.obligation, &a.period, &a.unit)?;
    if a.until <= schedule.due {
        bail!(
            "ngày gia hạn {} phải sau hạn nộp {} của kỳ này",
            dmy(a.until),
            dmy(schedule.due)
        );
    }
    let rec = store
        .grant_extension(
            NewExtension {
                key: key.clone(),
                until: a.until,
                reason: a.reason,
                actor: who(ctx, a.by),
                source: Source::Cli,
            },
            ctx.now,
        )
        .await
        .map_err(|e| anyhow!("{}", store_message(ctx.cfg, &e)))?;
    Ok(Outcome::ok(match rec {
        Recorded::New(_) => format!(
            "Đã gia hạn {key} đến {} (hạn gốc {}).\n",
            dmy(a.until),
            dmy(schedule.due)
        ),
        Recorded::AlreadyRecorded(e) => format!(
            "Gia hạn {key} đến {} đã được ghi nhận trước đó (do {} lúc {}); không ghi thêm.\n",
            dmy(a.until),
            e.actor,
            local(ctx.cfg, e.recorded_at)
        ),
    }))
}

/// Arguments of `hanbao waive`.
#[derive(Debug, Clone)]
pub struct WaiveArgs {
    pub obligation: String,
    pub period: String,
    pub unit: String,
    pub reason: String,
    pub by: Option<String>,
}

pub async fn waive(store: &Store, ctx: &Ctx<'_>, a: WaiveArgs) -> Result<Outcome> {
    let (key, _) = resolved(ctx, &a.obligation, &a.period, &a.unit)?;
    let rec = store
        .grant_waiver(
            NewWaiver {
                key: key.clone(),
                reason: a.reason,
                actor: who(ctx, a.by),
                source: Source::Cli,
            },
            ctx.now,
        )
        .await
        .map_err(|e| anyhow!("{}", store_message(ctx.cfg, &e)))?;
    Ok(Outcome::ok(match rec {
        Recorded::New(_) => format!("Đã miễn nộp {key}.\n"),
        Recorded::AlreadyRecorded(e) => format!(
            "Miễn nộp {key} đã được ghi nhận trước đó (do {} lúc {}); không ghi thêm.\n",
            e.actor,
            local(ctx.cfg, e.recorded_at)
        ),
    }))
}

/// Marker shown after an id the configuration no longer has.
pub const ARCHIVED: &str = "(đã lưu trữ)";

/// `hanbao history`: every event matching the filter, oldest first, in
/// local time. Ids may be archived (in the database, not in the config);
/// an id in neither is refused with the nearest ids.
pub async fn history(store: &Store, cfg: &Config, filter: HistoryFilter) -> Result<Outcome> {
    let known = store.known_ids().await?;
    if let Some(o) = &filter.obligation
        && cfg.obligation(o).is_none()
        && !known.obligations.contains(o)
    {
        let ids = cfg
            .obligations
            .iter()
            .map(|x| x.id.as_str())
            .chain(known.obligations.iter().map(String::as_str));
        return Err(refused(TrackingError::UnknownObligation {
            id: o.clone(),
            nearest: tracking::nearest(o, ids),
        }));
    }
    if let Some(u) = &filter.unit
        && cfg.unit(u).is_none()
        && !known.units.contains(u)
    {
        let ids = cfg
            .units
            .iter()
            .map(|x| x.id.as_str())
            .chain(known.units.iter().map(String::as_str));
        return Err(refused(TrackingError::UnknownUnit {
            id: u.clone(),
            nearest: tracking::nearest(u, ids),
        }));
    }
    let events = store.history(&filter).await?;
    let mut out = String::new();
    if events.is_empty() {
        out.push_str("Không có bản ghi nào.\n");
        return Ok(Outcome::ok(out));
    }
    let _ = writeln!(
        out,
        "Thời điểm ghi ({})  Nghĩa vụ / Kỳ / Đơn vị  Việc  Chi tiết  Người ghi (nguồn)",
        cfg.daemon.time_zone_name
    );
    for e in &events {
        let ob = mark(
            &e.key.obligation,
            cfg.obligation(&e.key.obligation).is_some(),
        );
        let unit = mark(&e.key.unit, cfg.unit(&e.key.unit).is_some());
        let action = match (e.subject, e.action) {
            (Subject::Submission, Action::Submit) => "nộp",
            (Subject::Submission, Action::Correct) => "sửa",
            (Subject::Extension, Action::Grant) => "gia hạn",
            (Subject::Waiver, Action::Grant) => "miễn nộp",
            (Subject::Submission, _) => "thu hồi báo cáo",
            (Subject::Extension, _) => "thu hồi gia hạn",
            (Subject::Waiver, _) => "thu hồi miễn nộp",
        };
        let mut detail = Vec::new();
        if let Some(d) = e.received_on {
            let time = e
                .received_at
                .map(|t| {
                    t.to_zoned_datetime(cfg.daemon.time_zone.clone())
                        .strftime(" %H:%M")
                        .to_string()
                })
                .unwrap_or_default();
            detail.push(format!("nhận {}{time}", dmy(d)));
        }
        if let Some(r) = &e.reference {
            detail.push(format!("số {r}"));
        }
        if let Some(d) = e.due_on {
            detail.push(format!("đến {}", dmy(d)));
        }
        if let Some(n) = &e.note {
            detail.push(format!("\"{n}\""));
        }
        let _ = writeln!(
            out,
            "{}  {ob} / {} / {unit}  {action}  {}  {} ({})",
            local(cfg, e.recorded_at),
            e.key.period,
            detail.join(", "),
            e.actor,
            e.source
        );
    }
    Ok(Outcome::ok(out))
}

fn mark(id: &str, configured: bool) -> String {
    if configured {
        id.to_owned()
    } else {
        format!("{id} {ARCHIVED}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_override() {
        let cfg = "sqlite:///var/lib/hanbao/hanbao.db";
        assert_eq!(database_url(cfg, None), cfg);
        assert_eq!(database_url(cfg, Some("  ")), cfg);
        assert_eq!(database_url(cfg, Some("/tmp/x.db")), "sqlite:///tmp/x.db");
        assert_eq!(database_url(cfg, Some("./x.db")), "sqlite://./x.db");
        assert_eq!(
            database_url(cfg, Some("postgres://h/db")),
            "postgres://h/db"
        );
        assert_eq!(
            sqlite_file("sqlite:///tmp/a.db?mode=rwc"),
            Some("/tmp/a.db".into())
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
