//! `[[directive]]`: the documents the duties come from (kind, number,
//! date, issuer, subject) and who speaks for each in the notices (sender,
//! contact, submission); then, per obligation, its `directive`,
//! `short_title` and own `sender`/`contact`/`submission` blocks resolved
//! into the obligation's `Voice`.

use std::collections::HashSet;

use serde_spanned::Spanned;

use super::obligation::Draft;
use super::{Validator, at, date};
use crate::config::model::{Basis, Contact, Directive, Sender, Submission, Voice};
use crate::config::raw::{RawContact, RawDirective, RawSender, RawSubmission};
use crate::config::report::{Loc, Problem, join, nearest, quote};
use crate::config::values;

/// The longest `short_title`: with the tag, the due day and the period in
/// words, a subject stays within 100 characters.
pub(crate) const MAX_SHORT_TITLE: usize = 45;

const SENDER_HINT: &str = "[directive.sender] với agency = \"so-ldtbxh\" (id đơn vị chủ trì) \
     và office = \"Phòng ...\" (phòng được giao theo dõi, tùy chọn)";
const CONTACT_HINT: &str = "[directive.contact] với name = \"Bà Nguyễn Thị Hoa\", \
     title = \"Chuyên viên ...\" (tùy chọn), phone = \"0255 ...\" và/hoặc email = \"...\"";
const SUBMISSION_HINT: &str = "[directive.submission] với to = \"Sở ... (Phòng ...)\" (nơi nhận) \
     và how = \"văn bản điện tử qua ..., đồng thời gửi tệp về địa chỉ ...\" (cách gửi)";

impl Validator<'_> {
    /// Every `[[directive]]`, checked; ids are unique among directives.
    pub(super) fn directives(&mut self) {
        let col = self.col;
        let mut seen: HashSet<String> = HashSet::new();
        for (idx, item) in col.directives.iter().enumerate() {
            let file = item.loc.file;
            let Some(id) = &item.value.id else {
                self.rep.report(
                    Problem::error(&item.loc, format!("directive[{idx}]"), "thiếu id")
                        .hint("id = \"cv4040\""),
                );
                continue;
            };
            let label = format!("directive {}", quote(id.get_ref()));
            if !self.id_ok(file, &join(&label, "id"), id) {
                continue;
            }
            if !seen.insert(id.get_ref().clone()) {
                self.rep.report(
                    Problem::error(&at(file, id), &label, "trùng id với một [[directive]] khác")
                        .quoted(id.get_ref())
                        .hint("mỗi id chỉ dùng một lần"),
                );
                continue;
            }
            if let Some(d) = self.directive(&item.value, file, &label, &item.loc, id.get_ref()) {
                self.directives.push(d);
            }
        }
    }

    fn directive(
        &mut self,
        raw: &RawDirective,
        file: usize,
        label: &str,
        loc: &Loc,
        id: &str,
    ) -> Option<Directive> {
        let kind = self.required_text(
            file,
            loc,
            &join(label, "kind"),
            raw.kind.as_ref(),
            "kind = \"Công văn\" (hoặc \"Quyết định\", \"Kế hoạch\", ...)",
        );
        let number = self.required_text(
            file,
            loc,
            &join(label, "number"),
            raw.number.as_ref(),
            "number = \"4040/UBND-KGVX\"",
        );
        let issuer = self.required_text(
            file,
            loc,
            &join(label, "issuer"),
            raw.issuer.as_ref(),
            "issuer = \"UBND tỉnh Quảng Ngãi\"",
        );
        let day = match &raw.date {
            Some(_) => date(self.rep, file, &join(label, "date"), raw.date.as_ref()),
            None => {
                self.rep.report(
                    Problem::error(loc, join(label, "date"), "thiếu ngày ban hành")
                        .hint("date = \"28/08/2020\""),
                );
                None
            }
        };
        let about = optional_text(raw.about.as_ref());
        let sender = self.block(loc, label, "sender", raw.sender.as_ref(), SENDER_HINT);
        let sender = sender.and_then(|s| self.sender(file, label, s));
        let contact = self.block(loc, label, "contact", raw.contact.as_ref(), CONTACT_HINT);
        let contact = contact.and_then(|c| self.contact(file, label, c));
        let submission = self.block(
            loc,
            label,
            "submission",
            raw.submission.as_ref(),
            SUBMISSION_HINT,
        );
        let submission = submission.and_then(|s| self.submission(file, label, s));
        Some(Directive {
            id: id.to_string(),
            basis: Basis {
                kind: kind?,
                number: number?,
                date: day?,
                issuer: issuer?,
                about,
            },
            sender: sender?,
            contact: contact?,
            submission: submission?,
        })
    }

    /// A required sub-table of a directive, or an error saying how to write it.
    fn block<'r, T>(
        &mut self,
        loc: &Loc,
        label: &str,
        name: &str,
        raw: Option<&'r Spanned<T>>,
        hint: &str,
    ) -> Option<&'r Spanned<T>> {
        if raw.is_none() {
            self.rep.report(
                Problem::error(
                    loc,
                    join(label, name),
                    format!("thiếu [directive.{name}]: thư nhắc phải nói rõ điều này"),
                )
                .hint(hint),
            );
        }
        raw
    }

    /// A string key that must be there and not blank.
    fn required_text(
        &mut self,
        file: usize,
        loc: &Loc,
        key: &str,
        v: Option<&Spanned<String>>,
        hint: &str,
    ) -> Option<String> {
        match v {
            Some(s) if !s.get_ref().trim().is_empty() => Some(s.get_ref().trim().to_string()),
            Some(s) => {
                self.rep.report(
                    Problem::error(&at(file, s), key, "không được để trống")
                        .quoted(s.get_ref())
                        .hint(hint),
                );
                None
            }
            None => {
                self.rep
                    .report(Problem::error(loc, key, "thiếu khóa bắt buộc").hint(hint));
                None
            }
        }
    }

    fn sender(&mut self, file: usize, label: &str, raw: &Spanned<RawSender>) -> Option<Sender> {
        let loc = at(file, raw);
        let raw = raw.get_ref();
        let key = join(label, "sender.agency");
        let agency = self.required_text(file, &loc, &key, raw.agency.as_ref(), SENDER_HINT)?;
        if !self.unit_locs.contains_key(&agency) {
            let cands: Vec<&str> = self.unit_ids().collect();
            let aloc = raw.agency.as_ref().map_or(loc.clone(), |a| at(file, a));
            self.unknown(&aloc, &key, &agency, "unit", cands);
            return None;
        }
        Some(Sender {
            agency,
            office: optional_text(raw.office.as_ref()),
        })
    }

    fn contact(&mut self, file: usize, label: &str, raw: &Spanned<RawContact>) -> Option<Contact> {
        let loc = at(file, raw);
        let raw = raw.get_ref();
        let name = self.required_text(
            file,
            &loc,
            &join(label, "contact.name"),
            raw.name.as_ref(),
            CONTACT_HINT,
        );
        let phone = optional_text(raw.phone.as_ref());
        let email = match &raw.email {
            Some(e) if values::is_valid_email(e.get_ref().trim()) => {
                Some(e.get_ref().trim().to_string())
            }
            Some(e) => {
                self.rep.report(
                    Problem::error(
                        &at(file, e),
                        join(label, "contact.email"),
                        "không phải địa chỉ email",
                    )
                    .quoted(e.get_ref())
                    .hint("ví dụ \"treem@soldtbxh.quangngai.example\""),
                );
                return None;
            }
            None => None,
        };
        if phone.is_none() && email.is_none() {
            self.rep.report(
                Problem::error(
                    &loc,
                    join(label, "contact"),
                    "người liên hệ cần ít nhất số điện thoại hoặc địa chỉ email",
                )
                .hint("phone = \"0255 3822 123\" và/hoặc email = \"...\""),
            );
            return None;
        }
        Some(Contact {
            name: name?,
            title: optional_text(raw.title.as_ref()),
            phone,
            email,
        })
    }

    fn submission(
        &mut self,
        file: usize,
        label: &str,
        raw: &Spanned<RawSubmission>,
    ) -> Option<Submission> {
        let loc = at(file, raw);
        let raw = raw.get_ref();
        let to = self.required_text(
            file,
            &loc,
            &join(label, "submission.to"),
            raw.to.as_ref(),
            SUBMISSION_HINT,
        );
        let how = self.required_text(
            file,
            &loc,
            &join(label, "submission.how"),
            raw.how.as_ref(),
            SUBMISSION_HINT,
        );
        Some(Submission { to: to?, how: how? })
    }

    /// The obligation's voice: its `directive` (optional when exactly one
    /// is declared) and its own blocks over the directive's.
    pub(super) fn voice(&mut self, d: &mut Draft) -> Voice {
        let raw = d.raw;
        let directive = match &raw.directive {
            Some(id) => match self.directives.iter().find(|x| x.id == *id.get_ref()) {
                Some(x) => Some(x.clone()),
                None => {
                    let declared: Vec<&str> = self
                        .col
                        .directives
                        .iter()
                        .filter_map(|x| x.value.id.as_ref())
                        .map(|s| s.get_ref().as_str())
                        .collect();
                    // A directive that is declared but broken is reported there.
                    if !declared.contains(&id.get_ref().as_str()) {
                        let hint = match nearest(id.get_ref(), declared.iter().copied()) {
                            Some(n) => format!("có phải ý là {}?", quote(n)),
                            None if declared.is_empty() => {
                                "chưa khai báo [[directive]] nào".to_string()
                            }
                            None => format!("các directive đã khai báo: {}", declared.join(", ")),
                        };
                        self.rep.report(
                            Problem::error(
                                &d.at(id),
                                d.key("directive"),
                                "không có directive với id này",
                            )
                            .quoted(id.get_ref())
                            .hint(hint),
                        );
                    }
                    d.ok = false;
                    None
                }
            },
            None => match self.col.directives.len() {
                0 => None,
                1 => self.directives.first().cloned(),
                _ => {
                    let ids: Vec<&str> = self.directives.iter().map(|x| x.id.as_str()).collect();
                    self.rep.report(
                        Problem::error(
                            d.loc,
                            d.key("directive"),
                            "có nhiều [[directive]]: cần chỉ rõ nghĩa vụ này thuộc văn bản nào",
                        )
                        .hint(format!(
                            "directive = \"...\", một trong: {}",
                            ids.join(", ")
                        )),
                    );
                    d.ok = false;
                    None
                }
            },
        };
        let (file, label) = (d.file, d.label.to_string());
        let sender = match &raw.sender {
            Some(s) => {
                let got = self.sender(file, &label, s);
                d.ok &= got.is_some();
                got
            }
            None => directive.as_ref().map(|x| x.sender.clone()),
        };
        let contact = match &raw.contact {
            Some(c) => {
                let got = self.contact(file, &label, c);
                d.ok &= got.is_some();
                got
            }
            None => directive.as_ref().map(|x| x.contact.clone()),
        };
        let submission = match &raw.submission {
            Some(s) => {
                let got = self.submission(file, &label, s);
                d.ok &= got.is_some();
                got
            }
            None => directive.as_ref().map(|x| x.submission.clone()),
        };
        Voice {
            directive: directive.as_ref().map(|x| x.id.clone()),
            basis: directive.map(|x| x.basis),
            sender,
            contact,
            submission,
        }
    }

    /// `short_title`: not blank, at most [`MAX_SHORT_TITLE`] characters.
    pub(super) fn short_title(&mut self, d: &mut Draft) -> Option<String> {
        let s = d.raw.short_title.as_ref()?;
        let text = s.get_ref().trim();
        let n = text.chars().count();
        if text.is_empty() || n > MAX_SHORT_TITLE {
            let why = if text.is_empty() {
                "không được để trống".to_string()
            } else {
                format!(
                    "dài {n} ký tự; tối đa {MAX_SHORT_TITLE} để tiêu đề thư không quá 100 ký tự"
                )
            };
            self.rep.report(
                Problem::error(&d.at(s), d.key("short_title"), why)
                    .quoted(s.get_ref())
                    .hint("tên ngắn dùng trong tiêu đề thư, ví dụ \"Báo cáo NQ 121/2020/QH14\""),
            );
            d.ok = false;
            return None;
        }
        Some(text.to_string())
    }
}

fn optional_text(v: Option<&Spanned<String>>) -> Option<String> {
    v.map(|s| s.get_ref().trim().to_string())
        .filter(|s| !s.is_empty())
}
