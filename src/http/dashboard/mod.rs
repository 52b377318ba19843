//! `/dashboard`: the coordinator's web pages, server-rendered in Vietnamese
//! from auto-escaping templates (`http::html`), usable without JavaScript
//! and on a phone. One file per page, each with its routes beside its
//! handlers:
//!
//! - `login`: `GET|POST /dashboard/login`, `POST /dashboard/logout`.
//! - `summary`: `GET /dashboard`, received X of Y per report-period and
//!   per group, every count a link to the matrix of its units (an old
//!   `/dashboard?<filters>` address is sent on to the matrix).
//! - `matrix`: `GET /dashboard/matrix`, one report-period as a list, or
//!   units × obligation periods, with colours and days late, filtered by
//!   obligation, period, group, state and a search without diacritics,
//!   sorted and paged (GET query).
//! - `export`: `GET /dashboard/export.csv`, the same rows as `hanbao status
//!   --csv` (same function, so the same columns and encoding).
//! - `unit`: `GET /dashboard/units/{unit}`, one unit's current periods and
//!   history.
//! - `report`: `GET /dashboard/units/{unit}/{obligation}/{period}`, one
//!   report, with forms to record a receipt, grant an extension or a waiver
//!   (`POST` to `.../submission`, `.../extension`, `.../waiver`), and the
//!   messages sent or planned for it.
//! - `files`: `POST .../files` from the report page adds files to the
//!   report (multipart), `GET /dashboard/files/{id}` downloads one as an
//!   attachment, `GET /dashboard/files/{obligation}/{period}/all.zip` all
//!   of one report-period, a folder per unit.
//! - `revoke`: `POST .../revoke` from the report page: withdraws the
//!   receipt, extension or waiver in effect, with a required reason, after
//!   a confirmation that writes nothing.
//! - `outbox`: `GET /dashboard/outbox`, every message by status (failed,
//!   pending, sending, sent, skipped, cancelled), filtered and paged, with
//!   reasons and real sending times; `POST /dashboard/outbox/{id}/retry`
//!   puts a failed one back.
//! - `mailbox`: `GET /dashboard/mailbox`, the watched mailbox of replies:
//!   counts, and the refused messages with their reason.
//! - `compliance`: `GET /dashboard/compliance`, compliance over a range of
//!   periods per group and unit (the year-end assessment), printable
//!   (`print=1`), with `compliance.csv` and `compliance.xlsx`.
//!
//! Shared parts: `page` (the frame, the CSP, error pages), `session`
//! (sessions and the `Admin` extractor, the same-origin check), `extract`
//! (the `Owed` key and the `CsrfForm` extractors), `view` (dates, links,
//! cells and the history table as plain values for the templates), `sent`
//! (outbox rows as plain values: kind and period in words, the real
//! sending time).
//!
//! Every page needs an administrator session; every post needs the
//! session's CSRF token and a same-origin request, then redirects
//! (POST-redirect-GET) with a flash message. A form with a date (receipt,
//! extension) is typed as dd/mm/yyyy text and posted twice: first the
//! date is echoed in words (nothing written), then "Xác nhận" records
//! (`http::date_field`). A bad input re-shows the form with a Vietnamese
//! message (422) and writes nothing; the rules are `crate::input`'s,
//! shared with the command line and the API.
//!
//! Must not: send mail, write anything but submissions, extensions, waivers,
//! their revocations, files sent with reports and the retry of a failed outbox row, or build HTML outside the
//! templates.

mod compliance;
mod export;
mod extract;
mod files;
mod login;
mod mailbox;
mod matrix;
mod outbox;
mod page;
mod report;
mod revoke;
mod sent;
pub mod session;
mod summary;
mod unit;
mod view;

use axum::Router;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::get;

use super::AppState;

/// The dashboard's routes (merged into [`super::router`]).
pub fn routes(upload_limit: axum::extract::DefaultBodyLimit) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .merge(login::routes())
        .merge(summary::routes())
        .merge(matrix::routes())
        .merge(export::routes())
        .merge(unit::routes())
        .merge(report::routes(upload_limit))
        .merge(files::routes(upload_limit))
        .merge(revoke::routes())
        .merge(outbox::routes())
        .merge(mailbox::routes())
        // Compliance over time: the page, its printable view and exports.
        .merge(compliance::routes())
        .route_layer(middleware::from_fn(session::reject_cross_origin))
}
