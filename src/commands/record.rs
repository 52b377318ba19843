//! `hanbao submit`, `revoke`, `extend`, `waive` and `history`: record what
//! the coordinator learns and show what was recorded.
//!
//! The edge: validates ids through `tracking::resolve`, writes through the
//! `Store`, and turns outcomes into Vietnamese messages and exit codes.
//! The functions that record never read the clock: [`Ctx`] carries `now`
//! and `today` (built by `commands::Context::tracking`). Each command's
//! clap arguments are its own struct here; its `run_*` function loads the
//! configuration and opens the database through `commands::Context`.
//!
//! Exit codes: 0 done (or already recorded), 1 refused (unknown id, not
//! owed, a rule of `input` broken, conflict, nothing to revoke), 2 usage
//! (clap), 78 configuration.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use jiff::Timestamp;
use jiff::civil::{Date, Time};

use crate::calendar::WorkCalendar;
use crate::config::model::Config;
use crate::environment::Access;
use crate::escape::terminal as shown;
use crate::input;
use crate::status::{self, Tracking};
use crate::store::{
    Action, Event, HistoryFilter, Key, NewExtension, NewSubmission, NewWaiver, Recorded,
    Revocation, Source, Store, StoreError, Subject,
};
use crate::tracking::{self, TrackingError, dmy};

use super::{Context, block_on, finish, parse_date};
use crate::store::Records;

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
/// The (obligation, period, unit) a recording command is about: its three
/// positional arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Owed {
    /// Obligation id, e.g. nq121-6thang
    pub obligation: String,
    /// Period key, e.g. 2026-H1
    pub period: String,
    /// Unit id, e.g. ubnd-binhson
    pub unit: String,
}

fn resolved(ctx: &Ctx<'_>, owed: &Owed) -> Result<(Key, status::Schedule)> {
    let (ob, period, unit) = (&*owed.obligation, &*owed.period, &*owed.unit);
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

/// Who records: `--by` (checked by `input::actor`), else the default.
fn who(ctx: &Ctx<'_>, by: Option<String>) -> Result<String> {
    let by = input::actor(by.as_deref()).map_err(|p| anyhow!("{p}"))?;
    Ok(by.unwrap_or_else(|| ctx.default_actor.clone()))
}

/// The local time of an instant, as people read it.
pub fn local(cfg: &Config, t: Timestamp) -> String {
    t.to_zoned_datetime(cfg.daemon.time_zone.clone())
        .strftime("%d/%m/%Y %H:%M")
        .to_string()
}

fn unit_name<'c>(cfg: &'c Config, id: &str) -> std::borrow::Cow<'c, str> {
    shown(cfg.unit(id).map(|u| u.name.as_str()).unwrap_or(""))
}

/// Explains a store refusal in Vietnamese.
pub fn store_message(cfg: &Config, e: &StoreError) -> String {
    match e {
        StoreError::Conflict { key, existing } => format!(
            "{key}: đã có một báo cáo khác được ghi nhận (nhận ngày {}, số văn bản {}, do {} ghi lúc {}); nếu cần thay bằng báo cáo mới, chạy lại với --correct",
            existing.received_on.map(dmy).unwrap_or_default(),
            shown(existing.reference.as_deref().unwrap_or("không có")),
            shown(&existing.actor),
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
    let now = status::Moment::local(ctx.now, &ctx.cfg.daemon.time_zone);
    let s = status::classify(now, schedule, tracking, &ctx.cal);
    let mut out = format!("Trạng thái: {} (hạn {}", s.state.label_vi(), dmy(s.due));
    match s.days_late {
        // A deadline with a time of day passed earlier today.
        Some(0) if s.state == status::StateName::Overdue => {
            out.push_str(", đã quá giờ hạn hôm nay");
        }
        Some(d) => {
            let _ = write!(
                out,
                ", trễ {d} ngày, {} ngày làm việc",
                s.working_days_late.unwrap_or(0)
            );
        }
        None => {}
    }
    out.push_str(").");
    out
}

/// Arguments of `hanbao submit`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub owed: Owed,
    /// Day the report arrived [default: today]
    #[arg(long, value_parser = parse_date)]
    pub on: Option<Date>,
    /// Local time it arrived, HH:MM
    #[arg(long, value_parser = parse_time)]
    pub at: Option<Time>,
    /// Document number (số văn bản)
    #[arg(long = "ref")]
    pub reference: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
    /// Who records it [default: $SUDO_USER, then $USER]
    #[arg(long)]
    pub by: Option<String>,
    /// Replace the submission already recorded
    #[arg(long)]
    pub correct: bool,
}

pub async fn submit(store: &Store, ctx: &Ctx<'_>, a: SubmitArgs) -> Result<Outcome> {
    let (key, schedule) = resolved(ctx, &a.owed)?;
    let typed = input::submission(
        input::Submission {
            received_on: a.on.unwrap_or(ctx.today),
            reference: a.reference.as_deref(),
            note: a.note.as_deref(),
        },
        schedule.opens,
        ctx.today,
    )
    .map_err(|p| anyhow!("{p}"))?;
    let actor = who(ctx, a.by)?;
    let on = typed.received_on;
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
        reference: typed.reference,
        note: typed.note,
        actor,
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
            shown(&e.actor),
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
        let _ = write!(out, ", số văn bản {}", shown(r));
    }
    out
}

/// Arguments of `hanbao revoke`.
#[derive(clap::Args, Debug, Clone)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub owed: Owed,
    /// What to withdraw
    #[arg(long, default_value = "submission", value_parser = subject_parser())]
    pub what: Subject,
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub by: Option<String>,
}

pub async fn revoke(store: &Store, ctx: &Ctx<'_>, a: RevokeArgs) -> Result<Outcome> {
    let (key, _) = resolved(ctx, &a.owed)?;
    let reason = input::revocation(a.reason.as_deref()).map_err(|p| anyhow!("{p}"))?;
    let actor = who(ctx, a.by)?;
    let rec = store
        .revoke(
            Revocation {
                key: key.clone(),
                subject: a.what,
                reason,
                actor,
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
            shown(&e.actor),
            local(ctx.cfg, e.recorded_at)
        ),
    }))
}

/// Arguments of `hanbao extend`.
#[derive(clap::Args, Debug, Clone)]
pub struct ExtendArgs {
    #[command(flatten)]
    pub owed: Owed,
    /// The new due day
    #[arg(long, value_parser = parse_date)]
    pub until: Date,
    #[arg(long)]
    pub reason: String,
    #[arg(long)]
    pub by: Option<String>,
}

pub async fn extend(store: &Store, ctx: &Ctx<'_>, a: ExtendArgs) -> Result<Outcome> {
    let (key, schedule) = resolved(ctx, &a.owed)?;
    let typed = input::extension(a.until, schedule.due, ctx.today, &a.reason)
        .map_err(|p| anyhow!("{p}"))?;
    let actor = who(ctx, a.by)?;
    let rec = store
        .grant_extension(
            NewExtension {
                key: key.clone(),
                until: typed.until,
                reason: typed.reason,
                actor,
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
            shown(&e.actor),
            local(ctx.cfg, e.recorded_at)
        ),
    }))
}

/// Arguments of `hanbao waive`.
#[derive(clap::Args, Debug, Clone)]
pub struct WaiveArgs {
    #[command(flatten)]
    pub owed: Owed,
    /// Why the unit is excused
    #[arg(long)]
    pub reason: String,
    /// Who records it [default: $SUDO_USER, then $USER]
    #[arg(long)]
    pub by: Option<String>,
}

pub async fn waive(store: &Store, ctx: &Ctx<'_>, a: WaiveArgs) -> Result<Outcome> {
    let (key, _) = resolved(ctx, &a.owed)?;
    let reason = input::waiver(&a.reason).map_err(|p| anyhow!("{p}"))?;
    let new = NewWaiver {
        key: key.clone(),
        reason,
        actor: who(ctx, a.by)?,
        source: Source::Cli,
    };
    let rec = store.grant_waiver(new, ctx.now).await;
    let rec = rec.map_err(|e| anyhow!("{}", store_message(ctx.cfg, &e)))?;
    Ok(Outcome::ok(match rec {
        Recorded::New(_) => format!("Đã miễn nộp {key}.\n"),
        Recorded::AlreadyRecorded(e) => format!(
            "Miễn nộp {key} đã được ghi nhận trước đó (do {} lúc {}); không ghi thêm.\n",
            shown(&e.actor),
            local(ctx.cfg, e.recorded_at)
        ),
    }))
}

/// Marker shown after an id the configuration no longer has.
pub const ARCHIVED: &str = "(đã lưu trữ)";

/// Whether `id` (if given) is configured or archived (in the database,
/// not in the configuration); if neither, the id and the nearest ids.
fn known_id<'k>(
    id: Option<&str>,
    configured: impl Iterator<Item = &'k str> + Clone,
    archived: &'k std::collections::BTreeSet<String>,
) -> Result<(), (String, Vec<String>)> {
    let Some(id) = id else { return Ok(()) };
    if configured.clone().any(|c| c == id) || archived.contains(id) {
        return Ok(());
    }
    let ids = configured.chain(archived.iter().map(String::as_str));
    Err((id.to_string(), tracking::nearest(id, ids)))
}

/// `hanbao history`: every event matching the filter, oldest first, in
/// local time. Ids may be archived (in the database, not in the config);
/// an id in neither is refused with the nearest ids.
pub async fn history(store: &Store, cfg: &Config, filter: HistoryFilter) -> Result<Outcome> {
    let known = store.known_ids().await?;
    let obligations = cfg.obligations.iter().map(|x| x.id.as_str());
    known_id(
        filter.obligation.as_deref(),
        obligations,
        &known.obligations,
    )
    .map_err(|(id, nearest)| refused(TrackingError::UnknownObligation { id, nearest }))?;
    let units = cfg.units.iter().map(|x| x.id.as_str());
    known_id(filter.unit.as_deref(), units, &known.units)
        .map_err(|(id, nearest)| refused(TrackingError::UnknownUnit { id, nearest }))?;
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
            detail.push(format!("số {}", shown(r)));
        }
        if let Some(d) = e.due_on {
            detail.push(format!("đến {}", dmy(d)));
        }
        if let Some(n) = &e.note {
            detail.push(format!("\"{}\"", shown(n)));
        }
        let _ = writeln!(
            out,
            "{}  {ob} / {} / {unit}  {action}  {}  {} ({})",
            local(cfg, e.recorded_at),
            shown(&e.key.period),
            detail.join(", "),
            shown(&e.actor),
            e.source
        );
    }
    Ok(Outcome::ok(out))
}

fn mark(id: &str, configured: bool) -> String {
    if configured {
        shown(id).into_owned()
    } else {
        format!("{} {ARCHIVED}", shown(id))
    }
}

/// Arguments of `hanbao history`: which records to list.
pub type HistoryArgs = super::status::Which;

// --- the commands ------------------------------------------------------------

/// Loads the configuration, opens the database for `access` and runs one
/// recording command; `by` is the default actor when given (`import --by`).
pub fn recording<F>(ctx: &Context, access: Access, by: Option<&str>, f: F) -> Result<ExitCode>
where
    F: for<'c> AsyncFnOnce(&'c Store, &'c Ctx<'c>) -> Result<Outcome>,
{
    let (cfg, places) = ctx.load()?;
    let c = ctx.tracking(&cfg, by);
    let outcome = block_on(async {
        let store = ctx.open_store(&places, access).await?;
        let out = f(&store, &c).await;
        store.close().await;
        out
    })??;
    Ok(finish(outcome))
}

/// `writing! { run_x(Args) => x; .. }`: `run_x`, the command as `main`
/// calls it: [`recording`] around `x`, with the database opened for
/// writing.
macro_rules! writing {
    ($($(#[$doc:meta])* $run:ident($args:ty) => $body:ident;)*) => {$(
        $(#[$doc])*
        pub fn $run(ctx: &Context, args: $args) -> Result<ExitCode> {
            recording(ctx, Access::Write, None, async |s, c| $body(s, c, args).await)
        }
    )*};
}

writing! {
    /// `hanbao submit`.
    run_submit(SubmitArgs) => submit;
    /// `hanbao revoke`.
    run_revoke(RevokeArgs) => revoke;
    /// `hanbao extend`.
    run_extend(ExtendArgs) => extend;
    /// `hanbao waive`.
    run_waive(WaiveArgs) => waive;
}

/// `hanbao history`: reads only, so it never creates a database.
pub fn run_history(ctx: &Context, a: HistoryArgs) -> Result<ExitCode> {
    let filter = HistoryFilter {
        obligation: a.obligation,
        period: a.period,
        unit: a.unit,
    };
    recording(ctx, Access::Read, None, async |s, c| {
        history(s, c.cfg, filter).await
    })
}

/// `--what` of `hanbao revoke`: submission, extension or waiver.
fn subject_parser() -> impl clap::builder::TypedValueParser<Value = Subject> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["submission", "extension", "waiver"])
        .map(|s| Subject::parse(&s).unwrap_or(Subject::Submission))
}

/// A local time on the command line, `HH:MM`.
pub fn parse_time(s: &str) -> Result<Time, String> {
    let bad = || format!("\"{s}\" không phải giờ HH:MM");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    match (h.parse::<i8>(), m.parse::<i8>()) {
        (Ok(h), Ok(m)) if m.to_string().len() <= 2 => Time::new(h, m, 0, 0).map_err(|_| bad()),
        _ => Err(bad()),
    }
}
