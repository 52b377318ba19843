//! Mail: turning notices into messages and delivering them.
//!
//! The only module that imports lettre; `render` owns the notices'
//! minijinja environment (the HTML pages have their own, `http::html`).
//! It renders [`Notice`]s with templates (Vietnamese and English built in, overridable
//! from a directory), attaches the deadline as an .ics, and sends through
//! the file transport (one .eml per message) or SMTP, classifying failures
//! as transient or permanent for the outbox.
//!
//! It does not decide what to send or when (the planner and dispatcher do),
//! never reads the clock for message content (the sending instant is part
//! of the notice), and never logs or returns a password.

pub mod ics;
pub mod ids;
pub(crate) mod mime;
pub mod notice;
pub mod render;
mod samples;
pub mod secret;
pub mod templates;
pub mod transport;

pub use notice::{
    AckFile, AckOutcome, Acknowledgement, Addressee, Basis, Contact, Deadline, Digest, Escalation,
    FailedSend, Language, LatePeriod, LateUnit, Notice, NoticeKind, ObligationRef, PastNotice,
    PeriodRef, PeriodSpan, Register, Role, Section, Speaker, Standing, TimeOfDay, UnitRef, cut,
    group_short_periods, short_title,
};
pub use render::{
    ComposeError, Composer, Outgoing, RenderedParts, TemplateError, TemplateErrors, Templates,
    check_templates, dd_mm_yyyy, sample_notices,
};
pub use transport::{
    DEFAULT_SEND_TIMEOUT, FailureKind, Mailer, MailerError, Secret, SecretError, SendError, Sent,
    read_secret, send_test,
};
