//! `hanbao simulate`: a season through the real pipeline on a virtual clock
//! (what `hanbao run` started at 00:00 of `--from` would send, the digest
//! and the confirmation links included: `outbox::simulate`), with a
//! throwaway SQLite database; messages go to .eml files in `--out`
//! (plus `index.tsv`: send time, recipients, subject, file), only to
//! `index.tsv` with `--index-only` (still rendered, never kept), or, with
//! `--deliver`, to the configured transport. It never touches the
//! configured database: by design, a simulation starts from an empty
//! database of its own (in the system's temporary directory, removed at the
//! end), whatever `--database` or `HANBAO_STATE_DIR` say.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use jiff::civil::Date;

use crate::calendar::WorkCalendar;
use crate::config::model::{Config, Transport};
use crate::mail::Mailer;
use crate::outbox::SentMessage;
use crate::outbox::simulate::simulate as simulate_season;
use crate::store::{Key, NewSubmission, Source};

use super::{Context, block_on, parse_date};

/// `simulate`'s flags.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// First day (YYYY-MM-DD or dd/mm/yyyy)
    #[arg(long, value_parser = parse_date)]
    pub from: Date,
    /// Last day, inclusive
    #[arg(long, value_parser = parse_date)]
    pub to: Date,
    /// CSV of submissions (obligation,period,unit,received_on) recorded on their day
    #[arg(long, value_name = "FILE.csv")]
    pub submissions: Option<PathBuf>,
    /// Where the .eml files and index.tsv go
    #[arg(long, value_name = "DIR", default_value = "hanbao-simulate")]
    pub out: PathBuf,
    /// Send through the configured transport instead of writing files
    #[arg(long, conflicts_with = "index_only")]
    pub deliver: bool,
    /// Render every message but write only index.tsv, no .eml files
    #[arg(long)]
    pub index_only: bool,
}

/// `hanbao simulate`. With `--verbose`, says on stderr that the configured
/// database is not used.
pub fn run(ctx: &Context, opts: Options) -> Result<ExitCode> {
    let (cfg, places) = ctx.load()?;
    if ctx.verbose {
        eprintln!(
            "Cơ sở dữ liệu: tạm thời, riêng cho simulate (không dùng {})",
            places.database_shown()
        );
    }
    print!("{}", block_on(simulate(cfg, opts))??);
    Ok(ExitCode::SUCCESS)
}

/// Reads `obligation,period,unit,received_on` rows (header required;
/// dates as YYYY-MM-DD or dd/mm/yyyy).
pub fn read_submissions(path: &Path) -> Result<Vec<NewSubmission>> {
    let mut rdr = csv::Reader::from_path(path)
        .with_context(|| format!("không đọc được {}", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: dòng {}", path.display(), i + 2))?;
        let field = |n: usize| rec.get(n).unwrap_or("").trim().to_string();
        let on = crate::config::values::parse_date(&field(3))
            .map_err(|e| anyhow::anyhow!("{}: dòng {}: received_on: {e}", path.display(), i + 2))?;
        out.push(NewSubmission {
            key: Key::new(field(0), field(1), field(2)),
            received_on: on,
            received_at: None,
            reference: None,
            note: None,
            actor: "simulate".into(),
            source: Source::Import,
            correction: false,
        });
    }
    Ok(out)
}

/// When a daemon started at 00:00 of `from` sends the digest up to the end
/// of `to`: the cron times of `daemon.digest`, on the zone's offset at the
/// start, as the daemon's scheduler does.
pub fn digest_instants(cfg: &Config, from: Date, to: Date) -> Result<Vec<jiff::Timestamp>> {
    let tz = &cfg.daemon.time_zone;
    let local = |d: Date| {
        tz.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .context("ngày nằm ngoài phạm vi của múi giờ")
    };
    let start = local(from)?;
    let end = local(to.tomorrow().unwrap_or(to))? - jiff::SignedDuration::from_secs(1);
    let offset = tz.to_offset(start).seconds();
    Ok(crate::daemon::schedule::occurrences(
        &cfg.daemon.digest,
        offset,
        start,
        end,
        100_000,
    )?)
}

/// One line of `index.tsv` (the subject, text from templates and the
/// configuration, as a spreadsheet cell that is never a formula).
pub fn index_line(m: &SentMessage, tz: &jiff::tz::TimeZone) -> String {
    format!(
        "{}\t{}\t{}\t{}\n",
        tz.to_datetime(m.sent_at).strftime("%Y-%m-%d %H:%M"),
        m.recipients.join(","),
        crate::escape::spreadsheet(&m.subject),
        m.detail
    )
}

/// Runs the simulation; returns a summary for the terminal.
pub async fn simulate(mut cfg: Config, opts: Options) -> Result<String> {
    if opts.to < opts.from {
        bail!(
            "--to {} trước --from {}: ngày cuối phải từ ngày đầu trở đi",
            crate::tracking::dmy(opts.to),
            crate::tracking::dmy(opts.from)
        );
    }
    if opts.deliver && opts.index_only {
        bail!("không dùng --deliver cùng với --index-only: chọn một trong hai");
    }
    if !opts.deliver {
        cfg.mail.transport = Transport::File {
            dir: opts.out.clone(),
        };
    }
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    let submissions = match &opts.submissions {
        Some(p) => read_submissions(p)?,
        None => Vec::new(),
    };
    // The index is written as the messages go out, not kept in memory.
    let index_path = opts.out.join("index.tsv");
    let file = std::fs::File::create(&index_path)
        .with_context(|| format!("cannot write {}", index_path.display()))?;
    let mut index = std::io::BufWriter::new(file);
    index
        .write_all(b"sent_at\trecipients\tsubject\tdetail\n")
        .with_context(|| format!("cannot write {}", index_path.display()))?;
    let tz = cfg.daemon.time_zone.clone();
    let mut by_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut write_error: Option<std::io::Error> = None;
    // On a terminal, how far the virtual clock has come, in days.
    let days = opts.from.until(opts.to).map(|s| s.get_days()).unwrap_or(0);
    let bar =
        crate::progress::Progress::items(u64::try_from(days).unwrap_or(0) + 1, "Mô phỏng (ngày)");
    let mut each = |m: SentMessage| {
        let day = m.sent_at.to_zoned_datetime(tz.clone()).date();
        if let Ok(span) = opts.from.until(day) {
            bar.set(u64::try_from(span.get_days()).unwrap_or(0));
        }
        *by_kind.entry(m.kind).or_default() += 1;
        if write_error.is_none()
            && let Err(e) = index.write_all(index_line(&m, &tz).as_bytes())
        {
            write_error = Some(e);
        }
    };
    let db_dir = std::env::temp_dir().join(format!(
        "hanbao-simulate-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    ));
    let result = async {
        let store = crate::store::open(&format!("sqlite://{}/sim.db", db_dir.display())).await?;
        let cal = WorkCalendar::new(&cfg.calendar);
        let composer = crate::outbox::composer(&cfg)?;
        let digests = digest_instants(&cfg, opts.from, opts.to)?;
        let mailer = if opts.index_only {
            Mailer::discard()
        } else {
            Mailer::new(&cfg.mail)?
        };
        let count = simulate_season(
            &store,
            &cfg,
            &cal,
            &composer,
            &mailer,
            opts.from,
            opts.to,
            submissions,
            &digests,
            &mut each,
        )
        .await?;
        crate::store::Store::close(&store).await;
        anyhow::Ok(count)
    }
    .await;
    bar.finish();
    let _ = std::fs::remove_dir_all(&db_dir);
    let count = result?;
    if let Some(e) = write_error {
        return Err(e).with_context(|| format!("cannot write {}", index_path.display()));
    }
    index
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", index_path.display()))?;
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "{} thư từ {} đến {}; danh sách: {}",
        count,
        crate::tracking::dmy(opts.from),
        crate::tracking::dmy(opts.to),
        index_path.display()
    );
    for (kind, n) in &by_kind {
        let _ = writeln!(
            summary,
            "  {}: {n}",
            crate::outbox::report::kind_words(kind)
        );
    }
    Ok(summary)
}
